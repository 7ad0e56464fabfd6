"""Every dashboard query, with its variables substituted, ready to send to a real Prometheus.

For the end-to-end test (tests/e2e/) that runs each panel's PromQL against a Prometheus scraping
the demo and asserts non-empty results:

    from tests.dashboards.queries import panel_queries   # or load this file by path
    for q in panel_queries():
        ...  # GET /api/v1/query?query=q.expr (all of them work as instant queries too)

Variables default to "everything" (`.*`, the All value), which is what makes results non-empty
without knowing the demo's namespaces; pass `overrides={"workload": "payment-service"}` to pin one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from crashloop_dashboards import targets as _targets

_DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"


@dataclass(frozen=True, slots=True)
class PanelQuery:
    """One panel query with variables substituted."""

    dashboard_uid: str
    panel_title: str
    ref_id: str
    expr: str
    instant: bool
    """True for stat/table queries (evaluated at one instant), False for graphs (query_range)."""


def panel_queries(
    *,
    overrides: Mapping[str, str] | None = None,
    range_seconds: float = 3600,
    step_seconds: float = 60,
    scrape_interval_seconds: float = 15,
    directory: Path = _DASHBOARDS,
) -> list[PanelQuery]:
    """(dashboard uid, panel title, expr) for every query of every checked-in dashboard.

    `$__rate_interval`, `$__interval` and `$__range` are computed as Grafana would for the given
    range, step and scrape interval; every other variable gets its All value (`.*`) unless
    `overrides` names it.
    """
    builtins = _targets.builtin_values(
        range_seconds=range_seconds, step_seconds=step_seconds, scrape_interval_seconds=scrape_interval_seconds
    )
    out = []
    for board in _targets.load(directory):
        values = {**_targets.default_values(board), **builtins, **(overrides or {})}
        for t in _targets.targets(board):
            out.append(
                PanelQuery(
                    dashboard_uid=t.dashboard_uid,
                    panel_title=t.panel_title,
                    ref_id=t.ref_id,
                    expr=_targets.substitute(t.expr, values),
                    instant=t.instant,
                )
            )
    return out


if __name__ == "__main__":
    for q in panel_queries():
        print(f"{q.dashboard_uid} | {q.panel_title} [{q.ref_id}] | {q.expr}")
