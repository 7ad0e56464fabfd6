"""Tests of crashloop_exporter.kube against a scripted fake API server."""
