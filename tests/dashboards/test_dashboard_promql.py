"""Every panel's PromQL parses: variables substituted, each expression checked by `promtool check rules`.

Debian's promtool 2.42 has no command that parses a bare expression, so each dashboard becomes a
rules file with one recording rule per query; `promtool check rules` parses every `expr`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.dashboards.queries import PanelQuery, panel_queries

# promtool comes with the Debian package prometheus that scripts/install-system-deps.sh installs:
# a missing binary is a broken setup, not a reason to skip.


def _rules_file(path: Path, queries: list[PanelQuery]) -> Path:
    rules = [
        {"record": f"dashboard:query_{i}:check", "expr": q.expr, "labels": {"panel": f"{q.panel_title} [{q.ref_id}]"}}
        for i, q in enumerate(queries)
    ]
    path.write_text(yaml.safe_dump({"groups": [{"name": path.stem, "rules": rules}]}), encoding="utf-8")
    return path


def _promtool_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60)


def _raw_target_count(node: object) -> int:
    """Targets with an expr anywhere in a dashboard's JSON, counted without the dashboards' own walker."""
    if isinstance(node, list):
        return sum(_raw_target_count(v) for v in node)
    if not isinstance(node, dict):
        return 0
    own = sum(1 for t in node.get("targets", []) if isinstance(t, dict) and t.get("expr"))
    return own + sum(_raw_target_count(v) for k, v in node.items() if k != "targets")


def test_queries_cover_every_dashboard_target(boards: list[dict[str, object]]) -> None:
    """panel_queries() returns one entry per target of every dashboard, none with a variable left."""
    from crashloop_dashboards import targets as tg

    queries = panel_queries()
    assert len(queries) == sum(_raw_target_count(b) for b in boards) > 40
    assert {q.dashboard_uid for q in queries} == {b["uid"] for b in boards}
    for q in queries:
        assert not tg.variable_names(q.expr), q
        assert "$__" not in q.expr, q


@pytest.mark.parametrize("uid", ["crashloop-overview", "crashloop-workload", "crashloop-exporter-health"])
def test_every_expression_parses(tmp_path: Path, uid: str) -> None:
    """promtool accepts every query of the dashboard as a recording-rule expression."""
    queries = [q for q in panel_queries() if q.dashboard_uid == uid]
    assert queries
    result = _promtool_check(_rules_file(tmp_path / f"{uid}.yml", queries))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout


def test_overrides_pin_single_values(tmp_path: Path) -> None:
    """Pinning the drill-down's workload and namespace still yields parseable PromQL."""
    queries = panel_queries(overrides={"namespace": "shop", "workload": "payment-service", "container": "app"})
    drill = [q for q in queries if q.dashboard_uid == "crashloop-workload"]
    assert any('workload=~"payment-service"' in q.expr for q in drill)
    result = _promtool_check(_rules_file(tmp_path / "pinned.yml", drill))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rejects_a_broken_expression(tmp_path: Path) -> None:
    """The check is not vacuous: a query with an unbalanced parenthesis fails it."""
    broken = PanelQuery(
        dashboard_uid="x", panel_title="broken", ref_id="A", expr="sum(rate(crashloop_crashes_total[5m])", instant=True
    )
    result = _promtool_check(_rules_file(tmp_path / "broken.yml", [broken]))
    assert result.returncode != 0
