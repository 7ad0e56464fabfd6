"""Every dashboard panel's PromQL runs against a real Prometheus scraping the exporter on the simulator.

Prometheus loads the generated recording rules and scrapes the exporter, which watches the
simulator crashing for every cause. Each query (variables substituted as Grafana would) must be
accepted, and the overview's main panels must return data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crashloop_exporter.sim import scenario_names
from tests.dashboards.queries import panel_queries
from tests.e2e.harness import (
    ExporterUnderTest,
    FakeKubeStateMetrics,
    HarnessError,
    Prometheus,
    host_port,
    http_json,
    scrape_config,
    wait_until,
)

pytestmark = pytest.mark.e2e

RULES = Path(__file__).resolve().parents[2] / "rules" / "crashloop-exporter.rules.yaml"
MAIN_OVERVIEW_PANELS = (
    "All failing containers",
    "Failing containers by cause",
    "Crashes by cause",
    "Top workloads by crashes",
    "Failing containers",
    "Last exit codes",
)
"""Panels that must show data whenever anything is crashing (others may be empty by design, e.g.
the kube-state-metrics comparison without kube-state-metrics)."""


def _mirror_into_ksm(ksm: FakeKubeStateMetrics, exporter: ExporterUnderTest) -> None:
    """kube_pod_owner and restart counters for the simulator's pods, as kube-state-metrics exports them."""
    ksm.declare("kube_pod_owner", "gauge", "Information about the Pod's owner.")
    for e in http_json(f"{exporter.api_url}/_sim/expectations"):
        kind = "ReplicaSet" if e["workload_kind"] == "Deployment" else e["workload_kind"]
        owner = e["pod"].rsplit("-", 1)[0] if kind == "ReplicaSet" else e["workload"]
        labels = {
            "namespace": e["namespace"],
            "pod": e["pod"],
            "uid": e["uid"],
            "owner_kind": kind,
            "owner_name": owner,
            "owner_is_controller": "true",
        }
        ksm.set("kube_pod_owner", labels, 1)
        ksm.set_restarts(namespace=e["namespace"], pod=e["pod"], container=e["container"], restarts=0, uid=e["uid"])


def test_every_panel_query_is_valid_and_returns_data(
    exporter_factory: Callable[..., ExporterUnderTest],
    prometheus_factory: Callable[..., Prometheus],
    fake_ksm: FakeKubeStateMetrics,
) -> None:
    """All 59 panel queries evaluate without error, and with kube-state-metrics present every one has data."""
    exporter = exporter_factory(scenarios=scenario_names(), time_scale=30.0, new_series_holdback=1.0)
    _mirror_into_ksm(fake_ksm, exporter)
    prom = prometheus_factory(
        scrape_configs=[
            scrape_config("crashloop-exporter", exporter.metrics_address),
            scrape_config("kube-state-metrics", host_port(fake_ksm.url)),
        ],
        rule_files=[RULES],
    )
    prom.wait_for_targets_up(timeout=30)

    def has(expr: str) -> bool:
        return bool(prom.query(expr))

    wait_until(
        lambda: has("cause:crashloop_crashes:rate5m > 0") or None,
        timeout=60,
        what="crash rates from the recording rules",
    )
    # The dependency-chain scenario's root panel needs api's log read and postgres failing at once.
    wait_until(lambda: has("crashloop_container_dependency_failing") or None, timeout=60,
               what="a dependency chain (api needs the OOMKilled postgres) in Prometheus")
    def sim_restarts() -> dict[str, Any]:
        restarts: dict[str, Any] = http_json(f"{exporter.api_url}/_sim/stats")["restarts"]
        return restarts

    for _ in range(3):  # restarts moving in kube-state-metrics too, for the comparison panel
        seen = sim_restarts()["total"]

        def restarted(seen: int = seen) -> bool:
            return bool(sim_restarts()["total"] > seen)

        wait_until(restarted, timeout=30, what="the simulator to restart containers")
        restarts = sim_restarts()["by_container"]
        for e in http_json(f"{exporter.api_url}/_sim/expectations"):
            key = f"{e['namespace']}/{e['pod']}/{e['container']}"
            fake_ksm.set_restarts(
                namespace=e["namespace"],
                pod=e["pod"],
                container=e["container"],
                restarts=int(restarts.get(key, 0)),
                uid=e["uid"],
            )
        updated = time.time()

        def scraped(updated: float = updated) -> bool:
            return bool(prom.query(f'timestamp(up{{job="kube-state-metrics"}}) > {updated}'))

        wait_until(scraped, timeout=30, what="Prometheus to scrape the updated kube-state-metrics")
    now = time.time()
    queries = panel_queries(range_seconds=60, step_seconds=2, scrape_interval_seconds=1)
    assert len(queries) > 40
    empty: dict[str, list[str]] = {}
    for q in queries:
        try:
            result: list[dict[str, Any]] = (
                prom.query(q.expr, at=now) if q.instant else prom.query_range(q.expr, start=now - 60, end=now, step=2)
            )
        except HarnessError as e:  # a PromQL error: fail naming the panel
            raise AssertionError(f"{q.dashboard_uid} / {q.panel_title} [{q.ref_id}] is invalid: {e}\n{q.expr}") from e
        if not result:
            empty.setdefault(q.dashboard_uid, []).append(q.panel_title)
    overview_empty = [p for p in empty.get("crashloop-overview", []) if p in MAIN_OVERVIEW_PANELS]
    assert not overview_empty, f"overview panels without data: {overview_empty}; all empty: {empty}"
    assert not empty, f"panels without data although kube-state-metrics is present: {empty}"
