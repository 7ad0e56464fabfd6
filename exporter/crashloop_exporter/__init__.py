"""crashloop-exporter: tells Prometheus *why* Kubernetes containers crash, not only that they do."""

__version__ = "0.1.0"
