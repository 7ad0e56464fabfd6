"""Findings: what the classifier says about one container, and their JSON form.

The JSON shape is a public contract shared by `diagnose -o json`, the exporter's `/causes` and
`preflight -o json` (which adds `"phase": "preflight"`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from crashloop_exporter.model import ContainerType

EvidenceSource = Literal["status", "event", "log", "spec", "node"]

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
)
"""The keys of one finding in `diagnose -o json` and `/causes`, in order (the spec's schema)."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """One signal that decided (or supports) a cause, quoted, trimmed and redacted."""

    source: EvidenceSource
    detail: str


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

    def to_json(self) -> dict[str, Any]:
        """The `diagnose -o json` / `/causes` object, exactly the spec's keys."""
        return {
            "namespace": self.namespace,
            "pod": self.pod,
            "container": self.container,
            "container_type": self.container_type,
            "workload_kind": self.workload_kind,
            "workload": self.workload,
            "failing": self.failing,
            "cause": self.cause,
            "reason": self.reason,
            "exit_code": self.exit_code,
            "restarts": self.restarts,
            "evidence": [{"source": e.source, "detail": e.detail} for e in self.evidence],
            "remediation": self.remediation,
            "runbook_url": self.runbook_url,
        }
