"""Findings: what the classifier says about one container, and their one JSON encoder.

The JSON shape is a public contract shared by `diagnose -o json`, the exporter's `/causes` and
`preflight -o json` (which adds phase, severity, file and line). All three go through
`encode_findings`, so they agree on key order and on escaping: evidence quotes container logs, and
a log can hold a bidi override (U+202E) or a zero-width character that makes a JSON viewer or a
terminal `jq` show something other than what is there. Those are written as `\\u` escapes, as JSON
already does for C0 controls (ESC, NUL), so the text stays the same once decoded.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from crashloop_exporter.model import ContainerType

EvidenceSource = Literal["status", "event", "log", "spec", "node", "dependency"]

JSON_KEYS = (
    "namespace",
    "pod",
    "container",
    "container_type",
    "workload_kind",
    "workload",
    "failing",
    "cause",
    "reason",
    "exit_code",
    "restarts",
    "evidence",
    "remediation",
    "runbook_url",
    "dependency",
)
"""The keys of one finding in `diagnose -o json` and `/causes`, in order (the spec's schema)."""

INVISIBLE_CHARS = (
    "\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
)
"""A regex class body of the characters a terminal or viewer may act on or hide, beyond C0: every
Unicode control (Cc) and format (Cf) character, the line and paragraph separators, and lone
surrogates (which no UTF-8 output can hold). That is DEL and C1, the soft hyphen, bidi marks,
embeddings, overrides and isolates, zero-width characters, the BOM, and the plane-14 tags that can
hide ASCII text. `render.printable` blanks them together with C0 for the table."""
_JSON_UNSAFE = re.compile(f"[{INVISIBLE_CHARS}]")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One signal that decided (or supports) a cause, quoted, trimmed and redacted."""

    source: EvidenceSource
    detail: str


@dataclass(frozen=True, slots=True)
class Dependency:
    """The workload behind the address a `dependency_unavailable` log could not reach (`deps`)."""

    target: str
    """`host:port` as the log names it."""
    namespace: str
    service: str | None
    workload_kind: str
    workload: str
    failing: bool
    cause: str | None
    """The dependency's own cause while it is failing; None when it is healthy."""
    pod: str = ""
    """The dependency's pod that decided `failing` (its failing pod, else its first); not in the JSON."""
    root: Dependency | None = None
    """Where the chain ends when the dependency itself waits on another failing one (A needs B
    needs C: C); None when this dependency is the root."""
    remediation: str = field(default="", compare=False)
    """The dependency's own fix (the root's, for the dependent's remediation); not in the JSON."""

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "namespace": self.namespace,
            "service": self.service,
            "workload_kind": self.workload_kind,
            "workload": self.workload,
            "failing": self.failing,
            "cause": self.cause,
            "root": None if self.root is None else self.root.to_json(),
        }

    @property
    def chain_root(self) -> Dependency:
        """The end of the chain: `root`, or this dependency."""
        return self.root or self


@dataclass(frozen=True, slots=True)
class Finding:
    """The classification of one container of one pod."""

    namespace: str
    pod: str
    container: str
    container_type: ContainerType
    workload_kind: str
    workload: str
    failing: bool
    cause: str
    reason: str
    """The kubelet's own reason (CrashLoopBackOff, CreateContainerConfigError, OOMKilled, ...)."""
    exit_code: int | None
    restarts: int
    evidence: tuple[Evidence, ...]
    remediation: str
    runbook_url: str
    pod_uid: str = ""
    last_termination: float | None = None
    """Epoch seconds of the last termination, for the timestamp gauge; not in the JSON."""
    facts: dict[str, str] = field(default_factory=dict, compare=False)
    """Names lifted from the evidence (secret, key, env_var, host, ...); not in the JSON."""
    dependency: Dependency | None = None
    """For `dependency_unavailable`: what the address resolves to in the cluster (`deps`)."""

    def to_json(self, **extra: Any) -> dict[str, Any]:
        """The `diagnose -o json` / `/causes` object: the spec's keys in JSON_KEYS order, then `extra`
        (preflight's phase, severity, file, line), which may not redefine a schema key."""
        data: dict[str, Any] = {key: getattr(self, key) for key in JSON_KEYS}
        data["evidence"] = [{"source": e.source, "detail": e.detail} for e in self.evidence]
        data["dependency"] = None if self.dependency is None else self.dependency.to_json()
        clash = extra.keys() & set(JSON_KEYS)
        if clash:
            raise ValueError(f"extra keys {sorted(clash)} would overwrite the finding schema")
        data.update(extra)
        return data


def sort_key(f: Finding) -> tuple[str, str, str, str, str]:
    """namespace, workload, pod, container (workload kind breaks ties between same-named owners):
    the order of `diagnose` and of `/causes`."""
    return (f.namespace, f.workload, f.workload_kind, f.pod, f.container)


def encode_findings(findings: Iterable[Finding], *, extras: Sequence[Mapping[str, Any]] | None = None) -> str:
    """A JSON array of `Finding.to_json()` objects in the given order, indented, UTF-8 kept readable,
    INVISIBLE_CHARS escaped, newline-terminated. `extras[i]` adds keys to the i-th finding."""
    items = list(findings)
    if extras is not None and len(extras) != len(items):
        raise ValueError(f"{len(extras)} extras for {len(items)} findings")
    # msgspec writes INVISIBLE_CHARS raw and cannot write a lone surrogate (a log decoded with
    # surrogateescape) at all, so such strings go in as placeholders and come out escaped by hand.
    escaped: dict[str, str] = {}
    objects = [_placeheld(f.to_json(**(extras[i] if extras is not None else {})), escaped) for i, f in enumerate(items)]
    text = msgspec.json.format(msgspec.json.encode(objects), indent=2).decode()
    for placeholder, literal in escaped.items():
        text = text.replace(f'"{placeholder}"', literal, 1)
    return text + "\n"


def _placeheld(value: Any, escaped: dict[str, str]) -> Any:
    """`value` with every string holding an INVISIBLE_CHARS character replaced by a unique
    placeholder; `escaped` maps each placeholder to the string's JSON literal with `\\uXXXX` escapes."""
    if isinstance(value, str):
        if not _JSON_UNSAFE.search(value):
            return value
        unsafe = iter(_JSON_UNSAFE.findall(value))
        literal = "".join(
            (_json_escape_char(next(unsafe)) if i else "") + msgspec.json.encode(part).decode()[1:-1]
            for i, part in enumerate(_JSON_UNSAFE.split(value))
        )
        placeholder = f"{_PLACEHOLDER}{len(escaped)}"
        escaped[placeholder] = f'"{literal}"'
        return placeholder
    if isinstance(value, Mapping):
        return {k: _placeheld(v, escaped) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_placeheld(v, escaped) for v in value]
    return value


_PLACEHOLDER = f"crashloop-escaped-{uuid.uuid4().hex}-"


def _json_escape_char(char: str) -> str:
    """`\\uXXXX`, or a UTF-16 surrogate pair for a character beyond the BMP (JSON has no other way)."""
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
