"""Find the lines of a previous-run log that decide a cause, and match log rules against them.

The fatal message is usually near the end, but not always last: a Python traceback ends with the
exception line, a Go panic puts `panic: ...` before the goroutine dump, a Java failure's root is
its last `Caused by:`, and Spring prints "APPLICATION FAILED TO START" above a description. So the
tail is read in two tiers: first the decisive lines (those final exception/panic lines plus the last
few lines), then the rest of the tail. The first tier with any match wins; within a tier, the
catalog priority decides. That keeps a harmless early `ImportError` warning from outranking the
`Connection refused` the program actually died of.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

TAIL_LINES = 60
"""Lines of the log tail examined; the exporter fetches more (`--log-tail-lines`) for `diagnose`."""
LAST_LINES = 6
"""The last lines always belong to the decisive tier."""
MAX_LINE_CHARS = 4096
"""Longer lines (minified JSON, base64 blobs) are cut before matching, to bound regex time."""

_PY_EXCEPTION = re.compile(r"^(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning)\b(?::|$)")
_GO_PANIC = re.compile(r"^(?:panic|fatal error): ")
_JAVA_TOP = re.compile(r"^Exception in thread \"[^\"]*\" |^Caused by: |^Error: (?:Could not|Unable to)")
_NODE_ERROR = re.compile(r"^(?:Uncaught )?(?:[A-Z]\w*)?Error(?: \[[A-Z_]+\])?: ")
_LOG_FATAL = re.compile(r"\b(?:FATAL|CRITICAL|PANIC|EMERG)\b|\blevel=(?:fatal|panic)\b|\"level\":\"(?:fatal|panic)\"")


class PatternMatch(Protocol):
    """What a log rule's match must offer: its named groups."""

    def groupdict(self) -> dict[str, Any]: ...


class LogPattern(Protocol):
    """A compiled log pattern: a catalog `re.Pattern`, or a user rule running on RE2."""

    @property
    def pattern(self) -> str: ...

    def search(self, string: str, /) -> PatternMatch | None: ...


@dataclass(frozen=True, slots=True)
class LogMatch:
    """A log rule that matched: the line, and named groups lifted from it."""

    line: str
    groups: dict[str, str]


def tail_lines(text: str, *, limit: int = TAIL_LINES) -> list[str]:
    """The last `limit` non-blank lines, each cut to MAX_LINE_CHARS, without trailing whitespace."""
    lines = [ln.rstrip()[:MAX_LINE_CHARS] for ln in text.splitlines() if ln.strip()]
    return lines[-limit:]


def _shaped(line: str) -> bool:
    """A line whose shape marks it as what the program died of."""
    return bool(
        _GO_PANIC.match(line)
        or _PY_EXCEPTION.match(line)
        or _NODE_ERROR.match(line)
        or _JAVA_TOP.match(line)
        or _LOG_FATAL.search(line)
    )


def tiers(lines: Sequence[str]) -> tuple[list[str], list[str]]:
    """(decisive lines, other lines), each ordered most relevant first."""
    decisive_idx: list[int] = []
    last_java = -1
    for i, raw in enumerate(lines):
        ln = raw.strip()
        if _GO_PANIC.match(ln) or _PY_EXCEPTION.match(ln) or _NODE_ERROR.match(ln) or _LOG_FATAL.search(ln):
            decisive_idx.append(i)
        elif _JAVA_TOP.match(ln):
            last_java = i
            decisive_idx.append(i)
    if last_java >= 0:  # the root cause of a Java chain is its last "Caused by:", try it first
        decisive_idx.remove(last_java)
        decisive_idx.insert(0, last_java)
    n = len(lines)
    for i in range(n - 1, max(-1, n - 1 - LAST_LINES), -1):
        if i not in decisive_idx:
            decisive_idx.append(i)
    chosen = set(decisive_idx)
    decisive = [lines[i] for i in decisive_idx]
    rest = [lines[i] for i in range(n - 1, -1, -1) if i not in chosen]
    return decisive, rest


def first_match(patterns: Iterable[LogPattern], lines: Sequence[str]) -> LogMatch | None:
    """The first line (in the given order) that any pattern matches, with the named groups of
    every matching line merged in (first value wins): the line that says `Connection refused`
    is often not the one that names the host."""
    compiled = tuple(patterns)
    found: str | None = None
    groups: dict[str, str] = {}
    for ln in lines:
        for p in compiled:
            m = p.search(ln)
            if not m:
                continue
            if found is None:
                found = ln.strip()
            for k, v in m.groupdict().items():
                if v:
                    groups.setdefault(k.rstrip("0123456789"), v)
    return LogMatch(line=found, groups=groups) if found is not None else None


_NON_FATAL_LEVEL = re.compile(r"\b(?:WARN(?:ING)?|INFO|DEBUG|NOTICE)\b|level=(?:warn(?:ing)?|info|debug)\b|"
                              r"\"level\":\"(?:warn(?:ing)?|info|debug)\"", re.IGNORECASE)


def is_non_fatal(line: str) -> bool:
    """A line logged at warning level or below: the program said it and carried on."""
    return bool(_NON_FATAL_LEVEL.search(line))


_ERROR_LEVEL = re.compile(r"^ERROR\b|\bERROR[:\]]|\[error\]|\blevel=error\b|\"level\":\"error\"|\bE\d{4} ")
_ERRORISH = re.compile(r"error|fatal|panic|exception|failed|failure|traceback|killed|abort", re.IGNORECASE)


def last_error_line(text: str) -> str:
    """The most telling line for a human when no rule matched: the first decisive line that reads
    like an error (a final exception, a panic, an `ERROR:`), else the last line of the log."""
    lines = tail_lines(text)
    if not lines:
        return ""
    decisive, _ = tiers(lines)
    for ln in decisive:
        if _shaped(ln.strip()):
            return ln.strip()  # an exception, panic or FATAL line found by its shape
    # Else the first error-level line of the tail: later ones are usually its consequences
    # (PostgreSQL's `ERROR: relation "users" does not exist` before "migration failed").
    for ln in lines:
        if _ERROR_LEVEL.search(ln):
            return ln.strip()
    for ln in decisive:
        if _ERRORISH.search(ln):
            return ln.strip()
    return lines[-1].strip()


def error_lines(text: str) -> list[str]:
    """The root error line and, when it differs and reads as an error, the program's last line:
    `ERROR: relation "users" does not exist` then `migration failed — exiting with code 1`."""
    root = last_error_line(text)
    lines = tail_lines(text)
    if not root or not lines:
        return [root] if root else []
    final = lines[-1].strip()
    return [root, final] if final != root and _ERRORISH.search(final) else [root]
