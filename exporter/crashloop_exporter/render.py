"""How `diagnose` prints findings: `-o json` for scripts, `-o table` for a tired human, `-o wide` for both.

The table answers, per workload, the question the runbook's FAQ says to ask first: do *all*
replicas fail the same way (a spec/config cause shared by every pod: fix the spec, not one pod) or
only some (look at that pod and its node)? Then one row per failing container with the decisive
evidence, and the fix printed once per workload and cause.

Evidence quotes container logs, so everything printed passes through `printable()`: no ANSI
escapes or control characters reach the terminal, whatever the crashed program wrote.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO, TypeVar

from crashloop_exporter.catalog import BY_ID
from crashloop_exporter.deps.chain import needs_line
from crashloop_exporter.findings import INVISIBLE_CHARS, Finding, encode_findings, sort_key
from crashloop_exporter.model import NodeRecord, PodRecord
from crashloop_exporter.render_nodes import node_groups, render_node_groups

# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-byte escapes, and the 8-bit CSI.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
_CONTROL = re.compile(f"[\\x00-\\x1f{INVISIBLE_CHARS}]")

MIN_EVIDENCE_WIDTH = 40
DEFAULT_WIDTH = 120

_SEVERITY_COLOR = {"critical": "31", "warning": "33", "info": "36"}  # red, yellow, cyan


def paint_severity(severity: str, text: str) -> str:
    """`text` in its catalog severity's terminal colour (the caller decides with `use_color`)."""
    return _Style(True)(_SEVERITY_COLOR.get(severity, ""), text) if severity in _SEVERITY_COLOR else text


def printable(text: str) -> str:
    """`text` without ANSI escapes or control characters (each becomes a space), on one line."""
    return _CONTROL.sub(" ", _ANSI.sub("", text))


def trim(text: str, width: int) -> str:
    """At most `width` characters, with an ellipsis when cut."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(width - 1, 0)].rstrip() + "…"


def render_json(findings: Iterable[Finding]) -> str:
    """`-o json`: the findings, sorted, through the one findings encoder (`/causes` uses it too)."""
    return encode_findings(sorted(findings, key=sort_key))


def use_color(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR", "") != "" or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _Style:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and text else text


@dataclass(frozen=True, slots=True)
class WorkloadKey:
    namespace: str
    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.kind}/{self.name}"


def _key(namespace: str, kind: str, name: str) -> WorkloadKey:
    return WorkloadKey(namespace, kind, name)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def workload_summary(key: WorkloadKey, findings: Sequence[Finding], pods: Sequence[PodRecord] | None) -> str:
    """One sentence: how many of the workload's pods fail, and whether it is the spec or one pod.

    All replicas failing with one cause points at what they share (spec, config, image, a
    dependency); a subset points at those pods, their node or their data. `pods` are all pods of
    the workload in the input, healthy ones included, or None when they are not known.
    """
    failing_causes: dict[str, set[str]] = {}
    for f in findings:
        if f.failing:
            failing_causes.setdefault(f.pod, set()).add(f.cause)
    if pods is None:
        causes = ", ".join(sorted({f.cause for f in findings}))
        return f"{_plural(len(failing_causes), 'pod')} failing: {causes} (other replicas not listed)"
    names = {p.name for p in pods} | {f.pod for f in findings}
    total, n_fail = len(names), len(failing_causes)
    node_of = {p.name: p.node_name for p in pods}
    counts = Counter(c for causes in failing_causes.values() for c in causes)
    cause_list = ", ".join(c if n == n_fail or n == 1 else f"{c} ×{n}" for c, n in counts.most_common())
    if n_fail == 0:
        recovered = ", ".join(sorted({f.cause for f in findings}))
        return f"{_plural(total, 'pod')}, none failing now; recovered from: {recovered}"
    if key.kind == "Pod":
        return f"bare pod failing: {cause_list}"
    if total == 1:
        return f"its only pod is failing: {cause_list}"
    failing_nodes = {node_of.get(p, "") for p in failing_causes} - {""}
    healthy_nodes = {node_of.get(p, "") for p in names - set(failing_causes)} - {""}
    if n_fail == total:
        if len(counts) == 1 and all(len(c) == 1 for c in failing_causes.values()):
            every = "both pods fail" if total == 2 else f"all {total} pods fail"
            text = f"{every} with {cause_list} — a cause every replica shares (spec, config, image or a " \
                "dependency), not one bad pod"
        else:
            text = f"{'both' if total == 2 else f'all {total}'} pods failing, causes differ: {cause_list}"
        if len(failing_nodes) == 1:
            text += f"; all on node {next(iter(failing_nodes))}"
        return text
    text = f"{n_fail} of {total} pods failing ({cause_list}), the others are healthy — "
    if len(failing_nodes) == 1 and not (failing_nodes & healthy_nodes):
        node = next(iter(failing_nodes))
        return text + f"look at node {node}: the failing {'pod runs' if n_fail == 1 else 'pods run'} there, " \
            "the healthy ones elsewhere"
    if n_fail == 1:
        node = next(iter(failing_nodes), "")
        return text + "look at that pod" + (f" and its node {node}" if node else "")
    return text + "look at those pods and their nodes or data, not the shared spec"


@dataclass(frozen=True, slots=True)
class _Row:
    finding: Finding
    cells: tuple[str, ...]


def _reason_cell(f: Finding) -> str:
    if f.failing:
        return f.reason or "-"
    return "recovered" if f.reason in ("", "Running") else f"{f.reason} (recovered)"


def render_table(
    findings: Sequence[Finding],
    *,
    pods: Sequence[PodRecord] | None,
    checked: int,
    wide: bool = False,
    color: bool = False,
    width: int = DEFAULT_WIDTH,
    as_of: float | None = None,
    context: Sequence[Finding] | None = None,
    nodes: Mapping[str, NodeRecord] | None = None,
) -> str:
    """`-o table` / `-o wide`. `pods` are the pods in scope (for replica counts), `checked` how many
    were shown, `as_of` the time the input describes (a dump's time), if not now. `context` are the
    findings of every pod in scope, for the per-workload verdict when only one pod's rows are shown
    (default: `findings`). With `pods`, nodes that run two or more failing pods get a section of
    their own, with their pressure conditions from `nodes`."""
    if not findings:
        return f"No failing containers found ({_plural(checked, 'pod')} checked).\n"
    table = _Table(_rows(findings, wide=wide), wide=wide, style=_Style(color), width=width)
    pods_by_workload = _by_workload(pods or (), lambda p: _key(p.namespace, p.workload_kind, p.workload))
    verdict_findings = _by_workload(findings if context is None else context, _finding_key)
    groups = _by_workload(table.rows, lambda r: _finding_key(r.finding))
    out = [_title(findings, groups, checked=checked, as_of=as_of, style=table.style), ""]
    for key in sorted(groups, key=lambda k: (k.namespace, k.name, k.kind)):
        group = groups[key]
        group_findings = verdict_findings.get(key) or [r.finding for r in group]
        summary = workload_summary(key, group_findings, None if pods is None else pods_by_workload.get(key, []))
        out.append(table.style("1", printable(str(key))) + ": " + printable(summary))
        out.append(table.style("2", table.line(table.header_cells())))
        for r in group:
            out.extend(table.row_lines(r))
        out.extend(table.fix_lines(group))
        out.append("")
    if pods is not None:
        section = render_node_groups(node_groups(findings, pods, nodes or {}), indent=_INDENT)
        out.extend(
            table.style("1", printable(ln)) if not ln.startswith(" ") and ln else printable(ln) for ln in section
        )
    return "\n".join(out)


_INDENT = "  "
_T = TypeVar("_T")


def _finding_key(f: Finding) -> WorkloadKey:
    return _key(f.namespace, f.workload_kind, f.workload)


def _by_workload(items: Iterable[_T], key: Callable[[_T], WorkloadKey]) -> dict[WorkloadKey, list[_T]]:
    grouped: dict[WorkloadKey, list[_T]] = {}
    for item in items:
        grouped.setdefault(key(item), []).append(item)
    return grouped


def _headers(wide: bool) -> tuple[str, ...]:
    if wide:
        return ("POD", "CONTAINER", "TYPE", "CAUSE", "REASON", "EXIT", "RESTARTS")
    return ("POD", "CONTAINER", "CAUSE", "REASON", "EXIT", "RESTARTS")


def _rows(findings: Sequence[Finding], *, wide: bool) -> list[_Row]:
    rows: list[_Row] = []
    for f in sorted(findings, key=sort_key):
        exit_code = "-" if f.exit_code is None else str(f.exit_code)
        cells = [printable(f.pod), printable(f.container)]
        if wide:
            cells.append(f.container_type)
        cells += [printable(f.cause), printable(_reason_cell(f)), exit_code, str(f.restarts)]
        rows.append(_Row(f, tuple(cells)))
    return rows


def _title(
    findings: Sequence[Finding],
    groups: Mapping[WorkloadKey, Sequence[_Row]],
    *,
    checked: int,
    as_of: float | None,
    style: _Style,
) -> str:
    n_failing = sum(1 for f in findings if f.failing)
    failing_workloads = sum(1 for g in groups.values() if any(r.finding.failing for r in g))
    when = ""
    if as_of is not None:
        when = ", as of " + datetime.fromtimestamp(as_of, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return style("1", f"{_plural(n_failing, 'failing container')} in {_plural(failing_workloads, 'workload')}") + (
        f" ({_plural(checked, 'pod')} checked{when})"
    )


class _Table:
    """The column layout of one table: widths from every row, evidence inline when it fits."""

    def __init__(self, rows: list[_Row], *, wide: bool, style: _Style, width: int) -> None:
        self.rows = rows
        self.wide = wide
        self.style = style
        self.width = width
        self.headers = _headers(wide)
        self.widths = [max(len(h), *(len(r.cells[i]) for r in rows)) for i, h in enumerate(self.headers)]
        fixed = len(_INDENT) + sum(w + 2 for w in self.widths)
        self.evidence_width = width - fixed
        self.inline_evidence = not wide and self.evidence_width >= MIN_EVIDENCE_WIDTH

    def header_cells(self) -> list[str]:
        return list(self.headers) + (["EVIDENCE"] if self.inline_evidence else [])

    def line(self, cells: Sequence[str], *, cause_code: str = "", dim: bool = False) -> str:
        parts = []
        for i, cell in enumerate(cells):
            padded = cell.ljust(self.widths[i]) if i < len(self.widths) else cell
            if i == self.headers.index("CAUSE") and cause_code:
                padded = self.style(cause_code, padded)
            parts.append(padded)
        text = (_INDENT + "  ".join(parts)).rstrip()
        return self.style("2", text) if dim else text

    def row_lines(self, r: _Row) -> list[str]:
        """One finding's row, its evidence and what it waits on."""
        f = r.finding
        severity = BY_ID[f.cause].severity if f.cause in BY_ID else "info"
        code = _SEVERITY_COLOR.get(severity, "") if f.failing else ""
        evidence = [printable(f"{e.source}: {e.detail}") for e in f.evidence]
        row_cells = list(r.cells)
        if self.inline_evidence:
            row_cells.append(trim(evidence[0], self.evidence_width) if evidence else "")
        out = [self.line(row_cells, cause_code=code, dim=not f.failing)]
        if self.wide:
            out.extend(f"{_INDENT}    {ev}" for ev in evidence)
        elif not self.inline_evidence and evidence:
            out.append(f"{_INDENT}    {trim(evidence[0], max(self.width - len(_INDENT) - 4, MIN_EVIDENCE_WIDTH))}")
        if f.dependency is not None and not self.wide:
            # What the dependent waits on, under it: the runbook's "check the dependency itself".
            out.append(f"{_INDENT}    {self.style('1', printable(needs_line(f.dependency)))}")
        return out

    def fix_lines(self, group: Sequence[_Row]) -> list[str]:
        """The fix once per cause: replicas share a spec, so their remediations differ only in the pod name."""
        out: list[str] = []
        seen: set[str] = set()
        for r in group:
            f = r.finding
            if f.cause in seen:
                continue
            seen.add(f.cause)
            title = BY_ID[f.cause].title if f.cause in BY_ID else f.cause
            label = f"fix for {f.cause} ({title})" + ("" if f.failing else ", recovered") + ":"
            out.append(_INDENT + self.style("36", label))
            # split("\n"), not splitlines(): a stray \r or \x1c inside a line must not start a new one.
            out.extend(f"{_INDENT}    {printable(ln)}".rstrip() for ln in f.remediation.split("\n"))
            if self.wide:
                out.append(f"{_INDENT}    runbook: {printable(f.runbook_url)}")
        return out


__all__ = [
    "WorkloadKey",
    "printable",
    "render_json",
    "render_table",
    "sort_key",
    "trim",
    "use_color",
    "workload_summary",
]
