"""The rules pack's knobs, in one dataclass per output, like kubernetes-mixin's `_config`.

A site that scrapes the exporter under another job name, keeps kube-state-metrics elsewhere or
labels clusters differently changes a field here (or a `rules generate` flag) instead of editing
generated YAML. Tests use the same fields to build a copy of the pack with short `for`s, so the
end-to-end run exercises the very code path that writes the checked-in files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crashloop_exporter.catalog import RUNBOOK_BASE_URL
from crashloop_exporter.errors import InputError

_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
_DURATION_UNITS = (7 * 86400.0, 86400.0, 3600.0, 60.0, 1.0, 0.001)
_EQUALITY_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$')
_MATCHER = re.compile(r'^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*$')
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def duration_seconds(value: str) -> float:
    """A Prometheus duration (`5m`, `1h30m`, `0m`, `500ms`) in seconds; InputError if malformed."""
    m = _DURATION.match(value)
    if not value or not m or not any(m.groups()):
        raise InputError(f"duration {value!r}: expected a Prometheus duration such as 30s, 5m or 1h30m")
    return sum(float(n) * unit for n, unit in zip(m.groups(), _DURATION_UNITS, strict=True) if n)


def split_matchers(selector: str) -> list[str]:
    """`a="x", b=~"y|z"` as its matchers; commas inside quoted values do not split."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in selector:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def equality_labels(selector: str) -> dict[str, str] | None:
    """The labels a series needs to match `selector`, when it is only `name="value"` matchers;
    None when it uses regex or negative matchers (no single series is implied)."""
    labels: dict[str, str] = {}
    for part in split_matchers(selector):
        m = _EQUALITY_MATCHER.match(part)
        if not m:
            return None
        labels[m.group(1)] = m.group(2).replace('\\"', '"').replace("\\\\", "\\")
    return labels


@dataclass(frozen=True, slots=True)
class RulesConfig:
    """What varies between sites running the same rules pack."""

    exporter_selector: str = 'job="crashloop-exporter"'
    """Matchers (without braces) selecting this exporter's series, e.g. `job="crashloop-exporter"`."""
    ksm_selector: str = 'job="kube-state-metrics"'
    """Matchers selecting kube-state-metrics' series, for the seed's restart and Failed-phase alerts."""
    cluster_label: str = "cluster"
    """Label naming the cluster when one Prometheus (or Thanos/Mimir ruler) sees several. Rules
    aggregate `by (<cluster_label>, ...)`: where the label is absent it simply stays absent, so
    the same pack works on a single-cluster Prometheus. Empty: leave it out of every `by`."""
    runbook_base_url: str = RUNBOOK_BASE_URL
    """Per-cause alerts link to `<this>#<cause anchor>` (docs/causes.md, generated from the catalog)."""
    pack_docs_url: str = RUNBOOK_BASE_URL.rsplit("/docs/", 1)[0] + "/rules/README.md"
    """Alerts that are not about one cause (exporter health, pod Failed) link to `<this>#<alertname>`."""
    restart_window: str = "15m"
    """Window of the restart-increase alerts; the seed's 15m (see `rules.py`)."""
    restart_threshold: int = 3
    """Restart-increase alerts fire above this many restarts in `restart_window` (the seed's `> 3`)."""
    for_override: str | None = None
    """Cap every alert's `for` at this duration. Only for test copies of the pack (the e2e run uses
    5s so it ends within seconds); the checked-in files never set it."""

    def __post_init__(self) -> None:
        for name, selector in (("exporter_selector", self.exporter_selector), ("ksm_selector", self.ksm_selector)):
            if any(ch in selector for ch in "{}`"):
                raise InputError(f"{name} {selector!r}: give matchers without braces or backquotes, e.g. job=\"x\"")
            bad = [p for p in split_matchers(selector) if not _MATCHER.match(p)]
            if bad:
                raise InputError(f"{name} {selector!r}: {bad[0]!r} is not a matcher like job=\"x\" or job=~\"x|y\"")
        if self.cluster_label and not _LABEL_NAME.match(self.cluster_label):
            raise InputError(f"cluster_label {self.cluster_label!r}: expected a Prometheus label name")
        if self.restart_threshold < 0:
            raise InputError(f"restart_threshold {self.restart_threshold}: expected 0 or more")
        duration_seconds(self.restart_window)
        if self.for_override is not None:
            duration_seconds(self.for_override)

    def effective_for(self, declared: str) -> str:
        """The `for` an alert gets: its declared one, capped by `for_override`."""
        if self.for_override is None or duration_seconds(declared) <= duration_seconds(self.for_override):
            return declared
        return self.for_override


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """The Alertmanager example's timing and where its webhooks point."""

    webhook_url: str = "https://alertmanager-webhooks.example.com/{receiver}"
    """Webhook URL of each receiver; `{receiver}` becomes its name. The checked-in example keeps
    this placeholder; a site points it at its chat/paging bridge, the e2e test at its own server."""
    group_wait: str = "30s"
    """Wait before the first notification of a new group, to batch the alerts of one rollout."""
    group_interval: str = "5m"
    """Wait before notifying a group again about new alerts in it."""
    repeat_interval: str = "4h"
    """Re-send a still-firing group this often."""

    def __post_init__(self) -> None:
        if "{receiver}" not in self.webhook_url:
            raise InputError(f"webhook_url {self.webhook_url!r}: must contain {{receiver}}")
        for name in ("group_wait", "group_interval", "repeat_interval"):
            duration_seconds(getattr(self, name))
