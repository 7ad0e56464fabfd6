"""Structural checks the Grafana SDK does not make: ids, layout, datasources, variables, units,
descriptions, and the catalog-driven tiles, mappings and runbook links."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
from crashloop_dashboards import targets as tg
from crashloop_dashboards.common import EXIT_CODES, SEVERITY_COLOUR, with_runbook_label

from crashloop_exporter.catalog import CAUSES, RUNBOOK_BASE_URL

Board = dict[str, Any]


def _content_panels(board: Board) -> list[dict[str, Any]]:
    return [p for p in tg.panels(board) if p["type"] != "row"]


def _strings(node: object) -> Iterator[str]:
    """Every string anywhere in a JSON value."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _by_uid(boards: list[Board], uid: str) -> Board:
    return next(b for b in boards if b["uid"] == uid)


def test_three_dashboards_tagged(boards: list[Board]) -> None:
    """Each dashboard carries the crashloop-exporter tag (the related-dashboards link uses it)."""
    assert len(boards) == 3
    for board in boards:
        assert board["tags"] == ["crashloop-exporter"], board["uid"]


def test_panel_ids_unique(boards: list[Board]) -> None:
    """Panel ids (rows included) are unique within each dashboard."""
    for board in boards:
        ids = [p["id"] for p in tg.panels(board)]
        assert len(ids) == len(set(ids)), board["uid"]


def test_grid_positions_fit_and_do_not_overlap(boards: list[Board]) -> None:
    """Every panel lies within Grafana's 24 columns and no two panels overlap."""
    for board in boards:
        rects = []
        for p in tg.panels(board):
            g = p["gridPos"]
            assert g["x"] >= 0 and g["y"] >= 0 and g["w"] > 0 and g["h"] > 0, (board["uid"], p["title"])
            assert g["x"] + g["w"] <= 24, (board["uid"], p["title"], g)
            rects.append((p["title"], g))
        for (ta, a), (tb, b) in itertools.combinations(rects, 2):
            apart = (
                a["x"] + a["w"] <= b["x"]
                or b["x"] + b["w"] <= a["x"]
                or a["y"] + a["h"] <= b["y"]
                or b["y"] + b["h"] <= a["y"]
            )
            assert apart, f"{board['uid']}: {ta!r} {a} overlaps {tb!r} {b}"


def test_every_panel_and_target_names_the_datasource_variable(boards: list[Board]) -> None:
    """Every panel and every query uses the `$datasource` Prometheus variable."""
    expected = {"type": "prometheus", "uid": "${datasource}"}
    for board in boards:
        for p in _content_panels(board):
            assert p.get("datasource") == expected, (board["uid"], p["title"])
            assert p.get("targets"), (board["uid"], p["title"])
            for t in p["targets"]:
                assert t.get("datasource") == expected, (board["uid"], p["title"], t.get("refId"))


def test_ref_ids_unique_per_panel(boards: list[Board]) -> None:
    """Each query of a panel has its own refId (tables refer to `Value #<refId>`)."""
    for board in boards:
        for p in _content_panels(board):
            refs = [t["refId"] for t in p["targets"]]
            assert all(refs) and len(refs) == len(set(refs)), (board["uid"], p["title"], refs)


def test_every_variable_used_is_defined(boards: list[Board]) -> None:
    """Every `$var`/`${var}` in queries, legends, links and variable queries is a defined template
    variable (Grafana built-ins `$__x` and regex groups `$1` excepted)."""
    for board in boards:
        defined = set(tg.defined_variables(board))
        used = set()
        for p in tg.panels(board):
            for text in _strings(p):
                used |= tg.variable_names(text)
        missing = used - defined
        assert not missing, f"{board['uid']}: undefined variables {sorted(missing)}"


def test_variable_queries_use_only_earlier_variables(boards: list[Board]) -> None:
    """A variable's query refers only to variables defined before it, so Grafana can resolve the chain."""
    for board in boards:
        earlier: set[str] = set()
        for v in board["templating"]["list"]:
            used = tg.variable_names(str(v.get("query", "")))
            assert used <= earlier, f"{board['uid']}: ${v['name']} uses {sorted(used - earlier)} before defined"
            earlier.add(v["name"])


def test_expected_variables(boards: list[Board]) -> None:
    """The overview filters by datasource, cluster, namespace and cause (multi, with All); the drill-down
    by namespace, workload and container; cause is multi-select and includes All."""
    names = {b["uid"]: tg.defined_variables(b) for b in boards}
    assert names["crashloop-overview"] == ["datasource", "cluster", "namespace", "cause"]
    assert names["crashloop-workload"] == ["datasource", "cluster", "namespace", "workload", "container"]
    assert names["crashloop-exporter-health"] == ["datasource", "cluster", "job", "instance"]
    cause = next(v for v in _by_uid(boards, "crashloop-overview")["templating"]["list"] if v["name"] == "cause")
    assert cause["multi"] and cause["includeAll"] and cause["allValue"] == ".*"
    assert cause["query"].split(",") == [c.id for c in CAUSES]


def test_cluster_variable_tolerates_missing_label(boards: list[Board]) -> None:
    """The cluster variable's All is `.*` (matching series without the label) and queries use `=~`."""
    for board in boards:
        cluster = next(v for v in board["templating"]["list"] if v["name"] == "cluster")
        assert cluster["includeAll"] and cluster["allValue"] == ".*"
        for t in tg.targets(board):
            assert 'cluster="' not in t.expr, (board["uid"], t.panel_title)


def test_every_panel_has_description_and_unit(boards: list[Board]) -> None:
    """Every panel explains itself (description) and says what its numbers are (unit)."""
    for board in boards:
        for p in _content_panels(board):
            assert len(p.get("description", "")) > 20, (board["uid"], p["title"])
            assert p["fieldConfig"]["defaults"].get("unit"), (board["uid"], p["title"])


def test_timeseries_legends_name_their_series(boards: list[Board]) -> None:
    """Graph queries have a legend (`{{cause}}`, `p99`), never Prometheus' raw series name, and a
    legend's `{{label}}` is a label the query keeps (its `by (...)` clause)."""
    for board in boards:
        for t in tg.targets(board):
            if t.instant:
                continue
            assert t.legend and t.legend != "__auto", (board["uid"], t.panel_title)
            for label in re.findall(r"\{\{\s*(\w+)\s*\}\}", t.legend):
                grouped = re.search(r"by \(([^)]*)\)", t.expr)
                assert grouped is None or label in grouped.group(1), (board["uid"], t.panel_title, label)


def test_one_tile_per_cause_coloured_by_severity(boards: list[Board]) -> None:
    """The overview has one stat tile per catalog cause: its query selects that cause, it turns the
    severity colour when anything fails, and it links to the cause's runbook."""
    overview = _by_uid(boards, "crashloop-overview")
    tiles = {p["title"]: p for p in _content_panels(overview) if p["type"] == "stat" and 'cause="' in str(p)}
    assert len(tiles) == len(CAUSES)
    for c in CAUSES:
        tile = tiles[c.title]
        expr = tile["targets"][0]["expr"]
        assert expr.startswith("sum(namespace_workload_cause:crashloop_container_failing:sum{")
        assert f'cause="{c.id}"' in expr
        steps = tile["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert steps[-1] == {"color": SEVERITY_COLOUR[c.severity], "value": 1}
        assert [link["url"] for link in tile["links"]] == [c.runbook_url]
        assert c.help in tile["description"]


def _mappings(board: Board) -> Iterator[dict[str, Any]]:
    for p in _content_panels(board):
        for o in p["fieldConfig"]["overrides"]:
            for prop in o["properties"]:
                if prop["id"] == "mappings":
                    yield from prop["value"]


def test_cause_value_mapping_covers_the_catalog(boards: list[Board]) -> None:
    """Every cause column maps every catalog cause to its title, coloured by severity."""
    expected = {c.id: (c.title, SEVERITY_COLOUR[c.severity]) for c in CAUSES}
    found = 0
    for board in boards:
        for m in _mappings(board):
            if set(m["options"]) == set(expected):
                found += 1
                assert {k: (v["text"], v["color"]) for k, v in m["options"].items()} == expected
    assert found >= 3  # overview: top workloads + failing containers; drill-down: failing pods


def test_exit_code_mapping_names_the_cheat_sheet(boards: list[Board]) -> None:
    """Exit codes 0, 1, 137, 139 and 143 are shown with their meaning from the seed's cheat sheet."""
    overview = _by_uid(boards, "crashloop-overview")
    texts = [{k: v["text"] for k, v in m["options"].items()} for m in _mappings(overview)]
    want = {str(code): f"{code} {meaning}" for code, meaning, _ in EXIT_CODES}
    assert want in texts
    assert want == {
        "0": "0 clean exit",
        "1": "1 application error",
        "137": "137 SIGKILL/OOM",
        "139": "139 segfault",
        "143": "143 SIGTERM",
    }


def _label_replace_chain(expr: str) -> list[tuple[str, str, str, str]]:
    """(dst, replacement, src, regex) of every label_replace, innermost first."""
    return re.findall(r', "(\w+)", "([^"]*)", "(\w+)", "([^"]*)"\)', expr)


@pytest.mark.parametrize("cause", CAUSES, ids=[c.id for c in CAUSES])
def test_runbook_label_chain_yields_the_catalog_anchor(cause: Any) -> None:
    """Applying the runbook label_replace chain, with Prometheus' semantics, gives the catalog anchor."""
    labels = {"cause": cause.id}
    for dst, replacement, src, regex in _label_replace_chain(with_runbook_label("x")):
        m = re.fullmatch(regex, labels.get(src, ""))
        if m:
            labels[dst] = m.expand(re.sub(r"\$(\d)", r"\\\1", replacement))
    assert labels["runbook"] == cause.anchor
    assert f"{RUNBOOK_BASE_URL}#{labels['runbook']}" == cause.runbook_url


def test_table_links_point_at_runbook_and_drill_down(boards: list[Board]) -> None:
    """Cause cells link to the runbook anchor, workload cells to the drill-down, and the fields the
    links read (runbook, namespace, workload) are labels of the tables' queries."""
    runbook_url = RUNBOOK_BASE_URL + "#${__data.fields.runbook}"
    seen = {"cause": 0, "workload": 0}
    for board in boards:
        for p in _content_panels(board):
            if p["type"] != "table":
                continue
            exprs = " ".join(t["expr"] for t in p["targets"])
            for o in p["fieldConfig"]["overrides"]:
                for prop in o["properties"]:
                    if prop["id"] != "links":
                        continue
                    url = prop["value"][0]["url"]
                    if o["matcher"]["options"] == "cause":
                        assert url == runbook_url
                        assert '"runbook"' in exprs, p["title"]
                        seen["cause"] += 1
                    if o["matcher"]["options"] == "workload":
                        assert url.startswith("/d/crashloop-workload?")
                        assert "workload" in exprs and "namespace" in exprs
                        seen["workload"] += 1
    assert seen["cause"] >= 1 and seen["workload"] >= 1, f"links checked: {seen}"


def test_runbook_column_hidden_not_removed(boards: list[Board]) -> None:
    """The runbook anchor column is hidden by an override, not excluded, so links can still read it."""
    checked = 0
    for board in boards:
        for p in _content_panels(board):
            if any('"runbook"' in t["expr"] for t in p["targets"]):
                checked += 1
                organize = next(t for t in p["transformations"] if t["id"] == "organize")["options"]
                assert "runbook" not in organize["excludeByName"]
                hidden = [o for o in p["fieldConfig"]["overrides"] if o["matcher"]["options"] == "runbook"]
                assert hidden[0]["properties"] == [{"id": "custom.hidden", "value": True}]
    assert checked >= 1, "no panel queries a runbook column"


def test_instant_queries_for_stats_and_tables(boards: list[Board]) -> None:
    """Stats and tables show "now" (instant queries); graphs and timelines query the range."""
    for board in boards:
        for p in _content_panels(board):
            for t in p["targets"]:
                assert t.get("instant", False) == (p["type"] in ("stat", "table")), (board["uid"], p["title"])
                if p["type"] == "table":
                    assert t.get("format") == "table"
