"""Render PNG previews of the dashboards from real query results, without Grafana.

    python -m crashloop_dashboards.preview --prometheus http://127.0.0.1:9090            # query a live Prometheus
    python -m crashloop_dashboards.preview --prometheus URL --save-results results.json  # ... and keep the answers
    python -m crashloop_dashboards.preview --results results.json                        # re-render offline

Each panel's queries run as Grafana would run them (instant queries for stats and tables,
/api/v1/query_range for graphs, variables at their All value unless `--var name=value`), and
each dashboard is drawn with matplotlib into `<out>/<uid>.png`, panels placed by their gridPos.

Why: reviewers and the README see what the dashboards show against the demo, and a panel whose
query returns nothing stands out as an empty box. It approximates Grafana (units, thresholds,
value mappings, stacking, table merge/organize/overrides); it is not a reimplementation.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, deterministic file output

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import Bbox

from crashloop_dashboards import targets as tg
from crashloop_exporter.errors import CrashloopError, InputError, QueryError

HERE = Path(__file__).resolve().parents[1]
"""dashboards/, where the JSON this package renders is checked in."""
DEFAULT_OUT = HERE.parent / "docs" / "dashboards"

# Grafana's dark theme and named colours, so the preview reads like the real thing.
BACKGROUND = "#111217"
PANEL_BG = "#181b1f"
BORDER = "#2c3235"
TEXT = "#ccccdc"
MUTED = "#8e8e9e"
NAMED_COLOURS = {
    "green": "#73bf69",
    "red": "#f2495c",
    "dark-red": "#c4162a",
    "orange": "#ff9830",
    "yellow": "#fade2a",
    "blue": "#5794f2",
    "purple": "#b877d9",
    "text": TEXT,
}
PALETTE = [
    "#7eb26d",
    "#eab839",
    "#6ed0e0",
    "#ef843c",
    "#e24d42",
    "#1f78c1",
    "#ba43a9",
    "#705da0",
    "#508642",
    "#cca300",
    "#447ebc",
    "#c15c17",
    "#890f02",
    "#0a437c",
    "#6d1f62",
    "#584477",
    "#b7dbab",
    "#f4d598",
    "#70dbed",
    "#f9ba8f",
]

COLUMN_IN = 0.8
"""Width of one of Grafana's 24 grid columns, in inches."""
ROW_IN = 0.36
"""Height of one grid row (Grafana: 30 px against ~80 px per column on a 1920 px screen)."""
TABLE_ROW_IN = 0.25
"""Height of one table row, in inches (Grafana's rows are about this tall)."""


# ---------------------------------------------------------------------------------------------
# Query results


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a query result: labels and points (a single point for instant queries)."""

    labels: dict[str, str]
    times: list[float]
    values: list[float]


@dataclass(frozen=True, slots=True)
class Window:
    """The time range and step every range query uses, and the built-in variables they imply."""

    start: float
    end: float
    step: float
    scrape_interval: float

    def builtins(self) -> dict[str, str]:
        return tg.builtin_values(
            range_seconds=self.end - self.start, step_seconds=self.step, scrape_interval_seconds=self.scrape_interval
        )


class Source(Protocol):
    """Where query answers come from: a live Prometheus or a saved results file."""

    def run(self, expr: str, *, instant: bool, window: Window) -> list[Series]: ...


def _key(expr: str, *, instant: bool) -> str:
    return ("instant " if instant else "range ") + expr


def _parse_data(data: Mapping[str, Any], *, what: str) -> list[Series]:
    """Series from the `data` object of a Prometheus API answer (vector, matrix or scalar)."""
    kind = data.get("resultType")
    result = data.get("result")
    if kind == "scalar" and isinstance(result, list):
        return [Series(labels={}, times=[float(result[0])], values=[float(result[1])])]
    if kind not in ("vector", "matrix") or not isinstance(result, list):
        raise QueryError(f"{what}: unexpected result type {kind!r}")
    out = []
    for item in result:
        points = item["values"] if kind == "matrix" else [item["value"]]
        out.append(
            Series(
                labels={k: v for k, v in item.get("metric", {}).items() if k != "__name__"},
                times=[float(t) for t, _ in points],
                values=[float(v) for _, v in points],
            )
        )
    return out


@dataclass
class PrometheusSource:
    """Runs queries against a Prometheus HTTP API; remembers every answer for `--save-results`."""

    url: str
    timeout: float = 30.0
    answers: dict[str, Any] = field(default_factory=dict)

    def run(self, expr: str, *, instant: bool, window: Window) -> list[Series]:
        if instant:
            path, params = "/api/v1/query", {"query": expr, "time": f"{window.end:.3f}"}
        else:
            path = "/api/v1/query_range"
            params = {
                "query": expr,
                "start": f"{window.start:.3f}",
                "end": f"{window.end:.3f}",
                "step": f"{window.step:g}",
            }
        request = urllib.request.Request(
            self.url.rstrip("/") + path,
            data=urllib.parse.urlencode(params).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:300]
            raise QueryError(f"{self.url}{path}: HTTP {e.code} for `{expr}`: {detail}") from e
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise QueryError(f"{self.url}{path}: query `{expr}` failed: {e}") from e
        if body.get("status") != "success":
            raise QueryError(f"{self.url}{path}: `{expr}`: {body.get('error', body)}")
        self.answers[_key(expr, instant=instant)] = body["data"]
        return _parse_data(body["data"], what=expr)


@dataclass
class ResultsFileSource:
    """Answers from a file written by `--save-results`: {"start", "end", "step", "results": {key: data}}."""

    path: Path
    window: Window
    results: dict[str, Any]

    @classmethod
    def load(cls, path: Path, *, scrape_interval: float) -> ResultsFileSource:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            window = Window(float(raw["start"]), float(raw["end"]), float(raw["step"]), scrape_interval)
            results = dict(raw["results"])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise InputError(
                f"{path}: expected a JSON object with start, end, step and results (as written by --save-results): {e}"
            ) from e
        return cls(path=path, window=window, results=results)

    def run(self, expr: str, *, instant: bool, window: Window) -> list[Series]:
        del window  # the saved answers are for the window they were saved with
        data = self.results.get(_key(expr, instant=instant))
        if data is None:
            # A query the file has no answer for renders as an empty panel, like "No data".
            return []
        return _parse_data(data, what=f"{self.path}: {expr}")


def save_results(path: Path, *, window: Window, answers: Mapping[str, Any]) -> None:
    payload = {"start": window.start, "end": window.end, "step": window.step, "results": dict(answers)}
    path.write_text(json.dumps(payload, sort_keys=True, indent=1) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------
# Grafana field semantics: units, thresholds, value mappings, legends


def colour(name: str | None) -> str:
    if not name:
        return TEXT
    return NAMED_COLOURS.get(name, name)


def format_value(value: float, unit: str | None, decimals: int | None = None) -> str:
    """A value the way Grafana's unit formatters roughly print it."""
    if math.isnan(value):
        return "NaN"
    if unit == "percentunit":
        return f"{value * 100:.0f}%"
    if unit in ("s", "dtdurations"):
        for limit, div, suffix in ((60, 1, "s"), (3600, 60, "min"), (86400, 3600, "h"), (math.inf, 86400, "d")):
            if abs(value) < limit:
                shown = value / div
                return f"{shown:.0f} {suffix}" if div == 1 and abs(value) >= 1 else f"{shown:.3g} {suffix}"
    suffix = " c/s" if unit == "cps" else ""
    if decimals == 0 or float(value).is_integer():
        number = f"{value:.0f}"
        if abs(value) >= 10000:
            number = f"{value / 1000:.1f}K"
    else:
        number = f"{value:.3g}"
    return number + suffix


def threshold_colour(value: float, thresholds: Mapping[str, Any] | None) -> str | None:
    if not thresholds:
        return None
    chosen = None
    for step in thresholds.get("steps", []):
        if step.get("value") is None or value >= step["value"]:
            chosen = step.get("color")
    return chosen


def map_value(raw: str | float, mappings: Sequence[Mapping[str, Any]]) -> tuple[str, str] | None:
    """(text, colour) from the first value mapping that matches `raw`, if any."""
    # Grafana matches numbers by their text: 137.0 is "137".
    key = raw if isinstance(raw, str) else (f"{raw:.0f}" if raw.is_integer() else repr(raw))
    for mapping in mappings:
        if mapping.get("type") == "value" and key in mapping.get("options", {}):
            result = mapping["options"][key]
            return result.get("text", key), result.get("color", "")
    return None


def legend_name(legend: str, labels: Mapping[str, str]) -> str:
    if legend:
        out = legend
        for name, value in labels.items():
            out = out.replace("{{" + name + "}}", value).replace("{{ " + name + " }}", value)
        return out
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def override_props(panel: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Properties of the byName overrides that match field `name`."""
    props: dict[str, Any] = {}
    for override in panel.get("fieldConfig", {}).get("overrides", []):
        matcher = override.get("matcher", {})
        if matcher.get("id") == "byName" and matcher.get("options") == name:
            for prop in override.get("properties", []):
                props[prop["id"]] = prop.get("value")
    return props


# ---------------------------------------------------------------------------------------------
# Drawing


@dataclass(frozen=True, slots=True)
class PanelData:
    """A panel with the answers to its queries, (legend, series) per target."""

    panel: dict[str, Any]
    results: list[tuple[str, list[Series]]]
    window: Window

    @property
    def defaults(self) -> dict[str, Any]:
        defaults: dict[str, Any] = self.panel.get("fieldConfig", {}).get("defaults", {})
        return defaults


def _day(t: float) -> float:
    """Unix seconds to matplotlib's date number (days since 1970-01-01)."""
    return t / 86400


def _clock(day: float, _pos: object) -> str:
    """Axis tick label HH:MM (UTC) for a matplotlib date number."""
    return time.strftime("%H:%M", time.gmtime(day * 86400))


def no_data(ax: Axes) -> None:
    ax.text(0.5, 0.5, "No data", color=MUTED, ha="center", va="center", fontsize=10, transform=ax.transAxes)


def draw_stat(ax: Axes, frame: Axes, data: PanelData) -> None:
    ax.set_axis_off()
    defaults = data.defaults
    options = data.panel.get("options", {})
    items = [
        (legend_name(legend, s.labels), s.values[-1]) for legend, series in data.results for s in series if s.values
    ]
    if not items:
        no_data(ax)
        return
    text_mode = options.get("textMode", "auto")
    color_mode = options.get("colorMode", "value")
    n = len(items)
    for i, (name, value) in enumerate(items):
        mapped = map_value(value, defaults.get("mappings", []))
        text = mapped[0] if mapped else format_value(value, defaults.get("unit"), defaults.get("decimals"))
        col = colour(mapped[1] if mapped and mapped[1] else threshold_colour(value, defaults.get("thresholds")))
        y = 1 - (i + 0.5) / n
        if color_mode == "background" and n == 1:
            frame.set_facecolor(col)
            value_colour = "white"
        else:
            value_colour = TEXT if color_mode == "none" else col
        show_name = text_mode in ("name", "value_and_name") or (text_mode == "auto" and n > 1)
        show_value = text_mode != "name"
        size = max(7.0, min(26.0, 30.0 / n))
        if show_name and show_value:
            ax.text(
                0.5,
                y + 0.18 / n,
                name,
                color=value_colour if n == 1 else TEXT,
                ha="center",
                va="center",
                fontsize=size * 0.45,
                transform=ax.transAxes,
            )
            ax.text(
                0.5,
                y - 0.12 / n,
                text,
                color=value_colour,
                ha="center",
                va="center",
                fontsize=size,
                fontweight="bold",
                transform=ax.transAxes,
            )
        else:
            ax.text(
                0.5,
                y,
                name if show_name else text,
                color=value_colour,
                ha="center",
                va="center",
                fontsize=size * (0.6 if show_name else 1.0),
                fontweight="bold",
                transform=ax.transAxes,
            )


def draw_timeseries(ax: Axes, data: PanelData) -> None:
    defaults = data.defaults
    custom = defaults.get("custom", {})
    unit = defaults.get("unit")
    stacked = custom.get("stacking", {}).get("mode") == "normal"
    lines = [(legend_name(legend, s.labels), s) for legend, series in data.results for s in series]
    ax.set_facecolor(PANEL_BG)
    ax.tick_params(colors=MUTED, labelsize=6)
    for spine in ax.spines.values():
        spine.set_color(BORDER)
    ax.grid(True, color=BORDER, linewidth=0.5)
    if not lines:
        no_data(ax)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    colours = []
    for i, (name, _) in enumerate(lines):
        fixed = override_props(data.panel, name).get("color", {})
        colours.append(colour(fixed.get("fixedColor")) if fixed else PALETTE[i % len(PALETTE)])
    if stacked:
        times = sorted({t for _, s in lines for t in s.times})
        grids = [[dict(zip(s.times, s.values, strict=True)).get(t, 0.0) for t in times] for _, s in lines]
        ax.stackplot(
            [_day(t) for t in times], *grids, colors=colours, alpha=0.75, labels=[n for n, _ in lines], linewidth=0.3
        )
    else:
        for (name, s), col in zip(lines, colours, strict=True):
            xs = [_day(t) for t in s.times]
            if custom.get("drawStyle") == "bars":
                ax.bar(xs, s.values, width=0.8 * (xs[1] - xs[0]) if len(xs) > 1 else 0.001, color=col, label=name)
            else:
                ax.plot(xs, s.values, color=col, linewidth=1.0, label=name)
    ax.set_xlim(_day(data.window.start), _day(data.window.end))
    ax.xaxis.set_major_formatter(FuncFormatter(_clock))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_value(v, unit)))
    ax.set_ylim(bottom=0)
    if custom.get("axisLabel"):
        ax.set_ylabel(custom["axisLabel"], color=MUTED, fontsize=6)
    legend = ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=5.5,
        frameon=False,
        labelcolor=TEXT,
        ncol=1 if len(lines) <= 12 else 2,
        handlelength=1.0,
    )
    if legend is not None:
        legend.set_in_layout(False)


def draw_state_timeline(ax: Axes, data: PanelData) -> None:
    mappings = data.defaults.get("mappings", [])
    lanes = [(legend_name(legend, s.labels), s) for legend, series in data.results for s in series]
    ax.set_facecolor(PANEL_BG)
    ax.tick_params(colors=MUTED, labelsize=6)
    for spine in ax.spines.values():
        spine.set_color(BORDER)
    if not lanes:
        no_data(ax)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    for i, (_, s) in enumerate(lanes):
        for j, (t, v) in enumerate(zip(s.times, s.values, strict=True)):
            t_next = (
                s.times[j + 1] if j + 1 < len(s.times) else t + (s.times[1] - s.times[0] if len(s.times) > 1 else 60)
            )
            mapped = map_value(v, mappings)
            ax.broken_barh(
                [(_day(t), _day(t_next) - _day(t))], (i + 0.1, 0.8), facecolors=colour(mapped[1] if mapped else None)
            )
    ax.set_yticks([i + 0.5 for i in range(len(lanes))], [n for n, _ in lanes], color=TEXT, fontsize=6)
    ax.set_ylim(0, len(lanes))
    ax.set_xlim(_day(data.window.start), _day(data.window.end))
    ax.xaxis.set_major_formatter(FuncFormatter(_clock))


def table_rows(data: PanelData) -> tuple[list[str], list[dict[str, Any]]]:
    """Rows after the panel's transformations (merge, organize), like Grafana's table panel."""
    several = len(data.results) > 1
    frames = []
    for i, (_, series) in enumerate(data.results):
        ref = data.panel["targets"][i].get("refId", "A")
        value_name = f"Value #{ref}" if several else "Value"
        frames.append([{"Time": s.times[-1], **s.labels, value_name: s.values[-1]} for s in series if s.values])
    transforms = {t["id"]: t.get("options", {}) for t in data.panel.get("transformations", [])}
    if "merge" in transforms:
        merged: list[dict[str, Any]] = []
        for frame in frames:
            for row in frame:
                shared = [k for k in row if not k.startswith("Value")]
                for existing in merged:
                    if all(existing.get(k) == row[k] for k in shared if k in existing):
                        existing.update(row)
                        break
                else:
                    merged.append(dict(row))
        rows = merged
    else:
        rows = [row for frame in frames for row in frame]
    organize = transforms.get("organize", {})
    excluded = {k for k, v in organize.get("excludeByName", {}).items() if v}
    order = organize.get("indexByName", {})
    names = sorted({k for row in rows for k in row} - excluded, key=lambda k: (order.get(k, 1000), k))
    names = [n for n in names if not override_props(data.panel, n).get("custom.hidden")]
    sort_by = data.panel.get("options", {}).get("sortBy", [])
    if sort_by:
        display_to_name = {override_props(data.panel, n).get("displayName", n): n for n in names}
        key = display_to_name.get(sort_by[0]["displayName"])
        if key is not None:
            # Grafana puts rows without a value last, whichever the direction.
            present = sorted(
                (r for r in rows if r.get(key) is not None), key=lambda r: r[key], reverse=bool(sort_by[0].get("desc"))
            )
            rows = present + [r for r in rows if r.get(key) is None]
    return names, rows


def draw_table(ax: Axes, data: PanelData, *, height_rows: int) -> None:
    ax.set_axis_off()
    names, rows = table_rows(data)
    if not rows:
        no_data(ax)
        return
    # As many rows as fit below the title and header; Grafana would scroll the rest.
    shown = rows[: max(1, int((height_rows * ROW_IN - 0.3) / TABLE_ROW_IN) - 1)]
    headers, cells, colours_ = [], [], []
    for name in names:
        headers.append(override_props(data.panel, name).get("displayName", name))
    for row in shown:
        texts, cols = [], []
        for name in names:
            props = override_props(data.panel, name)
            raw = row.get(name)
            if raw is None:
                texts.append("")
                cols.append(TEXT)
                continue
            mapped = map_value(raw, props.get("mappings", []))
            if mapped:
                text, col = mapped
            elif isinstance(raw, float):
                text = format_value(raw, props.get("unit", data.defaults.get("unit")))
                col = threshold_colour(raw, props.get("thresholds")) or ""
            else:
                text, col = str(raw), ""
            colourful = props.get("custom.cellOptions", {}).get("type") in ("color-text", "gauge")
            texts.append(text)
            cols.append(colour(col) if colourful and col else TEXT)
        cells.append(texts)
        colours_.append(cols)
    # Rows about as tall as Grafana's (~0.25 in), the table as wide as the panel.
    row_frac = min(1.0 / (len(shown) + 1), TABLE_ROW_IN / (height_rows * ROW_IN))
    table_h = row_frac * (len(shown) + 1)
    table = ax.table(
        cellText=cells,
        colLabels=headers,
        cellLoc="left",
        colLoc="left",
        bbox=Bbox.from_bounds(0.0, 1.0 - table_h, 1.0, table_h),
    )
    table.auto_set_font_size(False)
    table.set_fontsize(6)
    widths = [max(len(h), *(len(row[c]) for row in cells)) + 2 for c, h in enumerate(headers)]
    for (r, c), cell in table.get_celld().items():
        cell.set_edgecolor(BORDER)
        cell.set_facecolor(PANEL_BG if r else "#22252b")
        cell.get_text().set_color(TEXT if r == 0 else colours_[r - 1][c])
        cell.set_width(widths[c] / sum(widths))
    if len(rows) > len(shown):
        ax.text(
            1.0, 0.0, f"{len(rows) - len(shown)} more rows", color=MUTED, fontsize=5, ha="right", transform=ax.transAxes
        )


def _panel_title(frame: Axes, data: PanelData, *, x: float, y: float, fontsize: float) -> None:
    """A panel's (or a row's) title in bold at (x, y) of its frame."""
    frame.text(x, y, data.panel.get("title", ""), color=TEXT, fontsize=fontsize, fontweight="bold", va="center",
               transform=frame.transAxes)


def draw_panel(fig: Figure, data: PanelData, *, total_rows: int) -> None:
    pos = data.panel["gridPos"]
    height = total_rows * ROW_IN
    left, width = pos["x"] / 24, pos["w"] / 24
    bottom = 1 - (pos["y"] + pos["h"]) * ROW_IN / height
    top_h = pos["h"] * ROW_IN / height
    pad_x, pad_y = 0.003, 0.004
    frame = fig.add_axes((left + pad_x, bottom + pad_y, width - 2 * pad_x, top_h - 2 * pad_y))
    frame.set_xticks([])
    frame.set_yticks([])
    panel_type = data.panel["type"]
    if panel_type == "row":
        frame.set_facecolor(BACKGROUND)
        for spine in frame.spines.values():
            spine.set_visible(False)
        _panel_title(frame, data, x=0.0, y=0.5, fontsize=10)
        frame.axhline(0.05, color=BORDER, linewidth=1)
        return
    frame.set_facecolor(PANEL_BG)
    for spine in frame.spines.values():
        spine.set_color(BORDER)
    title_frac = min(0.35, 0.28 / (pos["h"] * ROW_IN))
    _panel_title(frame, data, x=0.01, y=1 - title_frac / 2, fontsize=7)
    inner_h = top_h - 2 * pad_y
    content = (left + pad_x, bottom + pad_y, width - 2 * pad_x, inner_h * (1 - title_frac))
    if panel_type == "stat":
        ax = fig.add_axes(content)
        ax.patch.set_alpha(0)
        draw_stat(ax, frame, data)
    elif panel_type == "table":
        ax = fig.add_axes(content)
        ax.patch.set_alpha(0)
        draw_table(ax, data, height_rows=pos["h"])
    else:
        # Leave room for tick labels on the left and the legend on the right.
        legend_w = min(0.3, 3.2 / (pos["w"] * COLUMN_IN)) * content[2]
        margin_l = 0.45 / (24 * COLUMN_IN)
        margin_b = 0.22 / (total_rows * ROW_IN)
        ax = fig.add_axes(
            (
                content[0] + margin_l,
                content[1] + margin_b,
                content[2] - margin_l - legend_w,
                content[3] - margin_b - 0.005,
            )
        )
        if panel_type == "state-timeline":
            draw_state_timeline(ax, data)
        else:
            draw_timeseries(ax, data)


def render_dashboard(
    board: Mapping[str, Any], *, source: Source, window: Window, overrides: Mapping[str, str], out: Path
) -> Path:
    """Run every query of `board` and draw it into `<out>/<uid>.png`; returns the path."""
    values = {**tg.default_values(board), **window.builtins(), **overrides}
    panel_list = list(tg.panels(board))
    total_rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panel_list) + 2
    fig = plt.figure(figsize=(24 * COLUMN_IN, total_rows * ROW_IN), facecolor=BACKGROUND)
    fig.text(
        0.005,
        1 - 0.5 / total_rows,
        board.get("title", board["uid"]),
        color=TEXT,
        fontsize=13,
        fontweight="bold",
        va="center",
    )
    chosen = ", ".join(f"{k}={v}" for k, v in sorted(values.items()) if not k.startswith("__") and k != "datasource")
    fig.text(0.995, 1 - 0.5 / total_rows, chosen, color=MUTED, fontsize=7, ha="right", va="center")
    for panel in panel_list:
        shifted = {**panel, "gridPos": {**panel["gridPos"], "y": panel["gridPos"]["y"] + 2}}
        results = [
            (
                t.get("legendFormat", ""),
                source.run(tg.substitute(t["expr"], values), instant=bool(t.get("instant")), window=window),
            )
            for t in panel.get("targets", [])
        ]
        draw_panel(fig, PanelData(panel=shifted, results=results, window=window), total_rows=total_rows)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{board['uid']}.png"
    fig.savefig(path, dpi=100, facecolor=BACKGROUND)
    plt.close(fig)
    return path


def _duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)
    except (ValueError, IndexError) as e:
        raise InputError(f"expected a duration like 3h, 90m or 30s, got {text!r}") from e


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--prometheus", metavar="URL", help="Prometheus base URL, e.g. http://127.0.0.1:9090")
    src.add_argument("--results", type=Path, metavar="FILE", help="query results saved by --save-results")
    parser.add_argument("--save-results", type=Path, metavar="FILE", help="with --prometheus: also save the answers")
    parser.add_argument("--dashboards", type=Path, default=HERE, help="directory of dashboard JSON (%(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the PNGs go (%(default)s)")
    parser.add_argument("--range", default="3h", help="time range of graphs, ending now (%(default)s)")
    parser.add_argument("--end", type=float, help="end of the range, Unix seconds (default: now)")
    parser.add_argument("--scrape-interval", default="30s", help="for $__rate_interval (%(default)s)")
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="[UID:]NAME=VALUE",
        help="set a template variable, in every dashboard or only in dashboard UID",
    )
    parser.add_argument("--only", action="append", default=[], metavar="UID", help="render only these dashboards")
    args = parser.parse_args(argv)
    try:
        overrides: dict[str, dict[str, str]] = {}
        for item in args.var:
            name, sep, value = item.partition("=")
            uid, _, name = name.rpartition(":")
            if not sep or not name:
                raise InputError(f"--var expects NAME=VALUE or UID:NAME=VALUE, got {item!r}")
            overrides.setdefault(uid, {})[name] = value
        scrape = _duration(args.scrape_interval)
        source: Source
        if args.results is not None:
            file_source = ResultsFileSource.load(args.results, scrape_interval=scrape)
            window, source = file_source.window, file_source
        else:
            end = args.end if args.end is not None else time.time()
            span = _duration(args.range)
            # About 240 points per graph, on whole seconds, never under the scrape interval.
            window = Window(end - span, end, max(scrape, float(round(span / 240))), scrape)
            source = PrometheusSource(args.prometheus)
        for board in tg.load(args.dashboards):
            if args.only and board["uid"] not in args.only:
                continue
            chosen = {**overrides.get("", {}), **overrides.get(board["uid"], {})}
            print(f"wrote {render_dashboard(board, source=source, window=window, overrides=chosen, out=args.out)}")
        if args.save_results is not None and isinstance(source, PrometheusSource):
            save_results(args.save_results, window=window, answers=source.answers)
            print(f"wrote {args.save_results}")
    except InputError as e:
        print(f"preview: {e}", file=sys.stderr)
        return 2
    except CrashloopError as e:
        print(f"preview: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
