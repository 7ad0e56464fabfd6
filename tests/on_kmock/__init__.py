"""Smoke tests of the real exporter against kmock, a Kubernetes API fake we did not write."""
