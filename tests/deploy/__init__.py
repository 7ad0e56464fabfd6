"""Deploy manifest tests (a package so its helper module imports cleanly under pytest and mypy)."""
