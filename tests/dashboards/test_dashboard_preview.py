"""preview.py without Prometheus: input errors, empty results, and Grafana-like table merging."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dashboards.conftest import DASHBOARDS

PREVIEW = DASHBOARDS / "crashloop_dashboards" / "preview.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(PREVIEW), *args], capture_output=True, text=True, timeout=120)


def test_malformed_results_file_is_one_line_exit_2(tmp_path: Path) -> None:
    """A results file that is not what --save-results writes: one sentence naming it, exit 2."""
    bad = tmp_path / "results.json"
    bad.write_text('{"results": {}}', encoding="utf-8")
    result = _run("--results", str(bad), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert str(bad) in result.stderr and "--save-results" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_var_is_exit_2(tmp_path: Path) -> None:
    """`--var` without `=` is rejected with exit 2."""
    empty = tmp_path / "results.json"
    empty.write_text(json.dumps({"start": 0, "end": 3600, "step": 60, "results": {}}), encoding="utf-8")
    result = _run("--results", str(empty), "--var", "namespace")
    assert result.returncode == 2
    assert "NAME=VALUE" in result.stderr


def test_unreachable_prometheus_is_exit_1(tmp_path: Path) -> None:
    """A Prometheus that does not answer is a QueryError naming the URL, exit 1, no traceback."""
    from tests.dashboards.synthetic_metrics import free_port

    url = f"http://127.0.0.1:{free_port()}"
    result = _run("--prometheus", url, "--out", str(tmp_path), "--only", "crashloop-overview")
    assert result.returncode == 1
    assert url in result.stderr and "Traceback" not in result.stderr


def test_empty_results_render_every_dashboard(tmp_path: Path) -> None:
    """With no answers at all, every panel renders as "No data" and each dashboard still gets a PNG."""
    empty = tmp_path / "results.json"
    empty.write_text(
        json.dumps({"start": 1_700_000_000, "end": 1_700_010_800, "step": 60, "results": {}}), encoding="utf-8"
    )
    result = _run("--results", str(empty), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "crashloop-exporter-health.png",
        "crashloop-overview.png",
        "crashloop-workload.png",
    ]


def test_table_merge_joins_rows_on_labels() -> None:
    """Merged table queries become one row per label set, missing values left empty (left join on A)."""
    from crashloop_dashboards.preview import PanelData, Series, Window, table_rows

    panel = {
        "targets": [{"refId": "A"}, {"refId": "B"}],
        "transformations": [
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"excludeByName": {"Time": True}, "indexByName": {"pod": 0}}},
        ],
        "options": {"sortBy": [{"displayName": "code", "desc": True}]},
        "fieldConfig": {
            "defaults": {},
            "overrides": [
                {
                    "matcher": {"id": "byName", "options": "Value #B"},
                    "properties": [{"id": "displayName", "value": "code"}],
                },
            ],
        },
    }
    a = [Series({"pod": "p1"}, [10.0], [1.0]), Series({"pod": "p2"}, [10.0], [1.0])]
    b = [Series({"pod": "p2"}, [10.0], [137.0])]
    names, rows = table_rows(PanelData(panel=panel, results=[("", a), ("", b)], window=Window(0, 10, 1, 1)))
    assert names == ["pod", "Value #A", "Value #B"]
    assert [(r["pod"], r.get("Value #B")) for r in rows] == [("p2", 137.0), ("p1", None)]


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.25, "percentunit", "25%"),
        (42.0, "s", "42 s"),
        (5400.0, "s", "1.5 h"),
        (3.0, "short", "3"),
        (0.5, "cps", "0.5 c/s"),
    ],
)
def test_units_format_like_grafana(value: float, unit: str, text: str) -> None:
    """Units used by the dashboards print the way Grafana prints them (roughly)."""
    from crashloop_dashboards.preview import format_value

    assert format_value(value, unit) == text
