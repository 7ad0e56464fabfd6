"""Dashboard tests (a package so `tests.dashboards.queries` imports cleanly for the e2e tests)."""
