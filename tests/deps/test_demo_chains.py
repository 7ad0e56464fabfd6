"""The demo's live table notes each dependency chain under the causes."""

from __future__ import annotations

from crashloop_exporter.cli.demo import chain_notes
from crashloop_exporter.findings import Dependency, Finding


def _finding(pod: str, dependency: Dependency | None, *, failing: bool = True) -> Finding:
    return Finding(namespace="production", pod=pod, container="app", container_type="regular",
                   workload_kind="Deployment", workload=pod.split("-")[0], failing=failing,
                   cause="dependency_unavailable", reason="CrashLoopBackOff", exit_code=1, restarts=3, evidence=(),
                   remediation="", runbook_url="", dependency=dependency)


def test_notes_name_the_dependency_its_cause_and_the_root() -> None:
    """`ns/pod needs target → Kind/name (cause)`, the root appended for a longer chain; a healthy
    dependency says so; findings without a dependency or not failing add nothing."""
    postgres = Dependency(target="postgres-service.production.svc.cluster.local:5432", namespace="production",
                          service="postgres-service", workload_kind="StatefulSet", workload="postgres", failing=True,
                          cause="oomkilled")
    auth = Dependency(target="auth:8443", namespace="production", service="auth", workload_kind="Deployment",
                      workload="auth", failing=True, cause="missing_secret")
    orders = Dependency(target="10.96.20.7:8080", namespace="production", service="orders",
                        workload_kind="Deployment", workload="orders", failing=True, cause="dependency_unavailable",
                        root=auth)
    cache = Dependency(target="cache:6379", namespace="production", service="cache", workload_kind="Deployment",
                       workload="cache", failing=False, cause=None)
    notes = chain_notes([
        _finding("api-5b7d9c8f4-47ggc", postgres), _finding("reporter-1", orders), _finding("worker-1", cache),
        _finding("mailer-1", None), _finding("old-1", postgres, failing=False),
    ])
    assert notes == [
        "production/api-5b7d9c8f4-47ggc needs postgres-service.production.svc.cluster.local:5432 → "
        "StatefulSet/postgres (oomkilled)",
        "production/reporter-1 needs 10.96.20.7:8080 → Deployment/orders (dependency_unavailable), "
        "root Deployment/auth (missing_secret)",
        "production/worker-1 needs cache:6379 → Deployment/cache (healthy)",
    ]
