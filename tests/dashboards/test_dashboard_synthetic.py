"""Every panel query returns data from a real Prometheus holding synthetic series, and the preview
renders from a live Prometheus and from saved results.

The data follows the metric contract (see synthetic_metrics.py); the lead's end-to-end test does
the same against Prometheus scraping the demo.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from crashloop_exporter.catalog import BY_ID
from tests.dashboards.conftest import DASHBOARDS
from tests.dashboards.queries import panel_queries

pytestmark = pytest.mark.e2e

PREVIEW = DASHBOARDS / "crashloop_dashboards" / "preview.py"


def _query(url: str, expr: str, at: float) -> list[dict[str, Any]]:
    params = urllib.parse.urlencode({"query": expr, "time": at})
    with urllib.request.urlopen(f"{url}/api/v1/query?{params}", timeout=30) as r:
        body = json.loads(r.read())
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def test_every_query_returns_data(synthetic_prometheus: str, synthetic_end: float) -> None:
    """Each panel query, variables at All, returns at least one series at the end of the history."""
    empty = [
        f"{q.dashboard_uid} / {q.panel_title} [{q.ref_id}]"
        for q in panel_queries(range_seconds=3 * 3600, step_seconds=60, scrape_interval_seconds=30)
        if not _query(synthetic_prometheus, q.expr, synthetic_end)
    ]
    assert not empty, "queries without data:\n" + "\n".join(empty)


def test_drill_down_filters_to_one_workload(synthetic_prometheus: str, synthetic_end: float) -> None:
    """With workload=checkout pinned, the drill-down's failing pods are checkout's and nothing else."""
    queries = panel_queries(overrides={"namespace": "shop", "workload": "checkout"}, scrape_interval_seconds=30)
    failing = next(
        q
        for q in queries
        if q.dashboard_uid == "crashloop-workload" and q.panel_title == "Failing pods" and q.ref_id == "A"
    )
    rows = _query(synthetic_prometheus, failing.expr, synthetic_end)
    assert rows
    assert {r["metric"]["workload"] for r in rows} == {"checkout"}


def test_runbook_labels_are_catalog_anchors(synthetic_prometheus: str, synthetic_end: float) -> None:
    """The runbook label Prometheus computes for each failing container is its cause's catalog anchor."""
    table = [q for q in panel_queries() if q.panel_title == "Failing containers" and q.ref_id == "A"]
    assert len(table) == 1
    rows = _query(synthetic_prometheus, table[0].expr, synthetic_end)
    assert len({r["metric"]["cause"] for r in rows}) > 5
    for r in rows:
        assert r["metric"]["runbook"] == BY_ID[r["metric"]["cause"]].anchor


def test_share_of_failing_pods(synthetic_prometheus: str, synthetic_end: float) -> None:
    """ "All replicas or one pod": kube-state-metrics pods are matched to the exporter's workloads."""
    share = next(q for q in panel_queries() if q.panel_title == "All replicas or one pod?" and q.ref_id == "C")
    rows = {
        r["metric"]["workload"]: float(r["value"][1]) for r in _query(synthetic_prometheus, share.expr, synthetic_end)
    }
    # synthetic_metrics.SCENARIOS: checkout 1 of 4 pods, payment-service 3 of 3, redis 1 of 3.
    assert rows["checkout"] == pytest.approx(0.25)
    assert rows["payment-service"] == pytest.approx(1.0)
    assert rows["redis"] == pytest.approx(1 / 3)
    assert "etl-nightly" not in rows  # a CronJob has no replicas to compare


def _png_ok(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    assert len(data) > 30_000, path  # a blank figure is a few kB


def test_preview_renders_live_and_from_saved_results(
    synthetic_prometheus: str, synthetic_end: float, tmp_path: Path
) -> None:
    """preview.py draws one PNG per dashboard from Prometheus, saves the answers, and redraws from them."""
    live, offline, saved = tmp_path / "live", tmp_path / "offline", tmp_path / "results.json"
    subprocess.run(
        [
            sys.executable,
            str(PREVIEW),
            "--prometheus",
            synthetic_prometheus,
            "--out",
            str(live),
            "--end",
            str(synthetic_end),
            "--save-results",
            str(saved),
            "--var",
            "crashloop-workload:workload=checkout",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    names = {"crashloop-overview.png", "crashloop-workload.png", "crashloop-exporter-health.png"}
    assert {p.name for p in live.iterdir()} == names
    for p in live.iterdir():
        _png_ok(p)
    results = json.loads(saved.read_text(encoding="utf-8"))
    assert results["end"] == synthetic_end
    assert any(k.startswith("range ") for k in results["results"])
    assert any(k.startswith("instant ") for k in results["results"])
    subprocess.run(
        [
            sys.executable,
            str(PREVIEW),
            "--results",
            str(saved),
            "--out",
            str(offline),
            "--var",
            "crashloop-workload:workload=checkout",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert {p.name for p in offline.iterdir()} == names
    for p in offline.iterdir():
        _png_ok(p)
