"""Fast `/metrics` rendering for the per-container families of the `families` table.

prometheus-client renders every sample generically (label escaping and validation per sample, per
scrape): ~400 ms for 10k failing containers. A pod's sample lines only change when its findings
change, so they are rendered once, cached by the findings tuple's identity, and a scrape joins
cached strings. The small exporter-health families still go through prometheus-client, which also
does the content negotiation. A test pins this renderer to prometheus-client's own rendering of
the same table entries, byte for byte, in both formats.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.utils import floatToGoString as _untyped_float_to_go

from crashloop_exporter.families import CRASHES, FINDING_FAMILIES, Family
from crashloop_exporter.findings import Finding
from crashloop_exporter.state import ClusterState, CrashKey

OPENMETRICS = "application/openmetrics-text"
floatToGoString = cast(Callable[[float], str], _untyped_float_to_go)
"""prometheus-client's value formatting (typed here), so both render paths format numbers alike."""

PodLines = tuple[str, ...]
"""A pod's sample lines, one string per entry of `FINDING_FAMILIES`."""


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    pairs = sorted(zip(names, values, strict=True))
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in pairs) + "}"


def _pod_lines(findings: tuple[Finding, ...]) -> PodLines:
    lines: list[list[str]] = [[] for _ in FINDING_FAMILIES]
    for f in findings:
        for family, out in zip(FINDING_FAMILIES, lines, strict=True):
            sample = family.sample(f)
            if sample is not None:
                values, value = sample
                out.append(f"{family.name}{_labels(family.labels, values)} {floatToGoString(value)}\n")
    return tuple("".join(out) for out in lines)


def _header(family: Family, *, openmetrics: bool) -> str:
    # OpenMetrics names a counter family without its `_total` suffix; the text format keeps it.
    name = family.name.removesuffix("_total") if openmetrics and family.kind == "counter" else family.name
    return f"# HELP {name} {family.help}\n# TYPE {name} {family.kind}\n"


class FastRenderer:
    """Renders the container families from `ClusterState`, caching each pod's lines."""

    def __init__(self, state: ClusterState, health: CollectorRegistry) -> None:
        self._state = state
        self._health = health
        self._pods: dict[str, tuple[tuple[Finding, ...], PodLines]] = {}
        self._crash_prefix: dict[CrashKey, str] = {}

    def _container_families(self, *, openmetrics: bool) -> str:
        state = self._state
        state.tick()
        fresh: dict[str, tuple[tuple[Finding, ...], PodLines]] = {}
        for uid, findings in state.findings.items():
            cached = self._pods.get(uid)
            if cached is None or cached[0] is not findings:
                cached = (findings, _pod_lines(findings))
            fresh[uid] = cached
        self._pods = fresh
        parts = [_header(CRASHES, openmetrics=openmetrics)]
        for key, value in sorted(state.crashes.snapshot(now=state.now())):
            prefix = self._crash_prefix.get(key)
            if prefix is None:
                prefix = self._crash_prefix[key] = f"{CRASHES.name}{_labels(CRASHES.labels, tuple(key))} "
            parts.append(f"{prefix}{floatToGoString(value)}\n")
        ordered = sorted(fresh.values(), key=lambda v: (v[0][0].namespace, v[0][0].pod) if v[0] else ("", ""))
        for i, family in enumerate(FINDING_FAMILIES):
            parts.append(_header(family, openmetrics=openmetrics))
            parts.extend(lines[i] for _, lines in ordered)
        return "".join(parts)

    def render(self, accept: str) -> tuple[bytes, str]:
        """(body, content type) for an `Accept` header, like prometheus-client's `choose_encoder`."""
        encoder, content_type = choose_encoder(accept)
        openmetrics = content_type.startswith(OPENMETRICS)
        body = self._container_families(openmetrics=openmetrics).encode() + encoder(self._health)
        return body, content_type


__all__ = ["FastRenderer"]
