"""How preflight findings are printed: a table for people, JSON for scripts, annotations for GitHub.

`-o github` prints workflow commands (`::error file=...,line=...,title=...::message`), so each
finding appears on the pull request's diff at the line that causes it. Everything that came from
a manifest passes through `render.printable` first, and workflow-command escaping is applied
last, so a crafted name cannot inject a second command or a terminal escape.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Mapping, Sequence

from crashloop_exporter.findings import encode_findings
from crashloop_exporter.preflight.checks import PreflightFinding
from crashloop_exporter.preflight.manifests import STDIN_NAME
from crashloop_exporter.preflight.runner import Result
from crashloop_exporter.render import DEFAULT_WIDTH, printable

FORMATS = ("table", "json", "github")
_SEVERITY_COLOR = {"error": "31", "warning": "33"}


def exit_code(findings: Sequence[PreflightFinding], *, strict: bool) -> int:
    """0: clean (warnings allowed unless `strict`); 1: an error (or, with `strict`, a warning)."""
    if any(f.severity == "error" for f in findings):
        return 1
    if strict and findings:
        return 1
    return 0


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def workload_label(f: PreflightFinding) -> str:
    """`Deployment production/payment-service` (without a namespace when none is known)."""
    ns = f"{f.finding.namespace}/" if f.finding.namespace else ""
    return printable(f"{f.finding.workload_kind} {ns}{f.finding.workload}")


def location(f: PreflightFinding) -> str:
    return printable(f"{f.file}:{f.line}")


def summary(result: Result, *, strict: bool = False) -> str:
    """One line: the verdict and what was checked against what."""
    if result.findings:
        verdict = f"{_plural(result.errors, 'error')}, {_plural(result.warnings, 'warning')}"
        if not result.errors and result.warnings:
            verdict += " (failing: --strict)" if strict else " (passing: warnings only)"
    else:
        verdict = "no problems found"
    scope = f"{_plural(result.workloads, 'workload')}"
    if result.namespaces:
        scope += f" in {', '.join(result.namespaces)}"
    obs = result.observations
    if obs:
        in_input = result.count("found", source="bundle")
        unchecked = result.count("unchecked")
        forbidden = result.count("forbidden")
        looked_up = len(obs) - in_input - unchecked
        details = [f"{in_input} created by the input"] if in_input else []
        if not result.offline:
            details.append(f"{looked_up} looked up in the cluster" + (f", {forbidden} of them forbidden (RBAC)"
                                                                       if forbidden else ""))
        if unchecked:
            details.append(f"{unchecked} not checked" + (" (--offline)" if result.offline else ""))
        objects = "Secret/ConfigMap" if len(obs) == 1 else "Secrets/ConfigMaps"
        scope += f"; {len(obs)} {objects} referenced: {', '.join(details)}"
    elif result.workloads:
        scope += "; no Secret/ConfigMap references"
    return printable(f"crashloop-exporter preflight: {verdict} — {scope}")


# --- table ----------------------------------------------------------------------------------------


def render_table(result: Result, *, color: bool = False, width: int = DEFAULT_WIDTH, strict: bool = False) -> str:
    """Errors first, then warnings; each row, its message wrapped, and the catalog's fix."""

    def style(code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color and text else text

    findings = sorted(result.findings, key=lambda f: (f.severity != "error", f.file, f.line, f.check))
    out: list[str] = []
    if findings:
        headers = ("SEVERITY", "CAUSE", "LOCATION", "WORKLOAD", "CONTAINER", "CHECK")
        rows = [
            (f.severity, printable(f.finding.cause), location(f), workload_label(f),
             printable(f.finding.container) or "-", printable(f.check))
            for f in findings
        ]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

        def line(cells: Sequence[str], *, severity: str = "") -> str:
            padded = [c.ljust(widths[i]) for i, c in enumerate(cells)]
            if severity:
                padded[0] = style(_SEVERITY_COLOR.get(severity, ""), padded[0])
            return "  ".join(padded).rstrip()

        out.append(style("2", line(headers)))
        wrap = max(width - 4, 40)
        seen_fixes: dict[str, str] = {}
        for f, row in zip(findings, rows, strict=True):
            out.append(line(row, severity=f.severity))
            out.extend(textwrap.wrap(printable(f.message), wrap, initial_indent="    ", subsequent_indent="    ",
                                     break_on_hyphens=False))
            fix_key = f.finding.remediation
            if fix_key in seen_fixes:
                out.append(style("36", f"    fix: as for {seen_fixes[fix_key]} above"))
            else:
                seen_fixes[fix_key] = location(f)
                out.append(style("36", "    fix:"))
                out.extend(f"      {printable(ln)}".rstrip() for ln in f.finding.remediation.split("\n"))
                out.append(f"    runbook: {printable(f.finding.runbook_url)}")
            out.append("")
    out.append(style("1", summary(result, strict=strict)))
    return "\n".join(out) + "\n"


# --- json -----------------------------------------------------------------------------------------


def render_json(result: Result) -> str:
    """A JSON array: the `diagnose -o json` finding schema plus phase, severity, file and line."""
    return encode_findings([f.finding for f in result.findings], extras=[f.json_extra() for f in result.findings])


# --- GitHub Actions workflow commands ---------------------------------------------------------------


def escape_data(text: str) -> str:
    """Escape a workflow command's message (after `::`): %, CR and LF."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command property value (file, title): also `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def repo_path(file: str, *, environ: Mapping[str, str] | None = None) -> str:
    """An absolute path under the workspace ($GITHUB_WORKSPACE, else the current directory) made
    relative to it, since annotations name files relative to the repository root."""
    if not os.path.isabs(file):
        return file
    env = os.environ if environ is None else environ
    root = env.get("GITHUB_WORKSPACE") or os.getcwd()
    try:
        relative = os.path.relpath(file, root)
    except ValueError:  # another drive on Windows
        return file
    return file if relative.startswith("..") else relative


def github_annotation(f: PreflightFinding) -> str:
    """`::error file=PATH,line=N,title=crashloop-exporter preflight (CAUSE)::MESSAGE`, with the fix.

    Input read from stdin has no file in the repository, so its annotations carry no file/line
    properties (GitHub shows them on the run) and name the line in the message instead.
    """
    command = "error" if f.severity == "error" else "warning"
    props = []
    where = ""
    if f.file == STDIN_NAME:
        where = f"{STDIN_NAME} line {f.line}: "
    else:
        props += [f"file={escape_property(printable(repo_path(f.file)))}", f"line={f.line}"]
    props.append(f"title={escape_property(printable(f'crashloop-exporter preflight ({f.finding.cause})'))}")
    container = f", container {printable(f.finding.container)}" if f.finding.container else ""
    lines = [
        f"{where}{workload_label(f)}{container}: {printable(f.message)}",
        "",
        "Fix:",
        *(printable(ln) for ln in f.finding.remediation.split("\n")),
        f"Runbook: {printable(f.finding.runbook_url)}",
    ]
    return f"::{command} {','.join(props)}::{escape_data(chr(10).join(lines))}"


def render_github(result: Result) -> str:
    """One annotation per finding, errors first; stdout of a workflow step."""
    findings = sorted(result.findings, key=lambda f: (f.severity != "error", f.file, f.line, f.check))
    return "".join(github_annotation(f) + "\n" for f in findings)


__all__ = [
    "FORMATS",
    "escape_data",
    "escape_property",
    "exit_code",
    "github_annotation",
    "location",
    "render_github",
    "render_json",
    "render_table",
    "repo_path",
    "summary",
    "workload_label",
]
