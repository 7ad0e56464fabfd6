"""Read the rendered dashboards back: panels, their queries, and variables substituted.

The checked-in JSON is what Grafana runs, so checks (promtool parsing, end-to-end queries against
a real Prometheus) and the preview renderer read the JSON, not the builders. Substitution follows
Grafana: `$var`, `${var}` and `${var:format}` name a template variable; names starting with `__`
are Grafana built-ins (`$__rate_interval`, `${__data.fields.x}`); `$1` in a label_replace
replacement is a regex group, not a variable, and is left alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crashloop_exporter.errors import InputError

DASHBOARDS_DIR = Path(__file__).resolve().parents[1]

_VARIABLE = re.compile(
    r"\$\{(?P<braced>[^}:]+)(?::(?P<format>[^}]*))?\}|\$(?P<plain>\w+)|\[\[(?P<old>\w+)(?::\w+)?\]\]"
)


@dataclass(frozen=True, slots=True)
class Target:
    """One query of one panel, as written in the dashboard (variables not yet substituted)."""

    dashboard_uid: str
    panel_id: int
    panel_title: str
    panel_type: str
    ref_id: str
    expr: str
    legend: str
    instant: bool
    """Evaluated at one instant (stat, table); otherwise over the time range (graphs)."""


def load(directory: Path = DASHBOARDS_DIR) -> list[dict[str, Any]]:
    """Every dashboard JSON in `directory`, sorted by file name."""
    boards = []
    for path in sorted(directory.glob("*.json")):
        try:
            board = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise InputError(f"{path}: not a readable dashboard JSON file: {e}") from e
        if not isinstance(board, dict) or "uid" not in board:
            raise InputError(f"{path}: expected a Grafana dashboard object with a `uid`")
        boards.append(board)
    return boards


def panels(board: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows included, with panels nested in collapsed rows flattened in."""
    for panel in board.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def targets(board: Mapping[str, Any]) -> Iterator[Target]:
    """Every query of every panel of `board`."""
    for panel in panels(board):
        for t in panel.get("targets", []):
            yield Target(
                dashboard_uid=board["uid"],
                panel_id=panel["id"],
                panel_title=panel.get("title", ""),
                panel_type=panel["type"],
                ref_id=t.get("refId", ""),
                expr=t.get("expr", ""),
                legend=t.get("legendFormat", ""),
                instant=bool(t.get("instant")),
            )


def variable_names(text: str) -> set[str]:
    """Names of the template variables `text` refers to, built-ins (`__x`) and `$1` groups excluded."""
    names = set()
    for m in _VARIABLE.finditer(text):
        raw = m.group("braced") or m.group("plain") or m.group("old") or ""
        name = re.split(r"[.\[]", raw, maxsplit=1)[0]
        if name and not name.startswith("__") and not name.isdigit():
            names.add(name)
    return names


def defined_variables(board: Mapping[str, Any]) -> list[str]:
    """Template variable names of `board`, in their order (a variable may use only earlier ones)."""
    return [v["name"] for v in board.get("templating", {}).get("list", [])]


def default_values(board: Mapping[str, Any]) -> dict[str, str]:
    """What each variable of `board` expands to with no selection: the All value where there is
    one, else `.*` (every matcher is a regex, so `.*` selects everything)."""
    values: dict[str, str] = {}
    for v in board.get("templating", {}).get("list", []):
        values[v["name"]] = v.get("allValue") or ".*"
    values["datasource"] = "prometheus"
    return values


def builtin_values(*, range_seconds: float, step_seconds: float, scrape_interval_seconds: float) -> dict[str, str]:
    """Grafana's built-in interval variables, computed the way Grafana does for Prometheus:
    $__rate_interval = max($__interval + scrape interval, 4 x scrape interval)."""
    rate_interval = max(step_seconds + scrape_interval_seconds, 4 * scrape_interval_seconds)
    return {
        "__interval": f"{int(step_seconds)}s",
        "__rate_interval": f"{int(rate_interval)}s",
        "__range": f"{int(range_seconds)}s",
        "__range_s": str(int(range_seconds)),
    }


def substitute(text: str, values: Mapping[str, str]) -> str:
    """`text` with every variable in `values` replaced; unknown ones (`$1`, `${__data...}`) stay."""

    def repl(m: re.Match[str]) -> str:
        name = m.group("braced") or m.group("plain") or m.group("old") or ""
        return values.get(name, m.group(0))

    return _VARIABLE.sub(repl, text)
