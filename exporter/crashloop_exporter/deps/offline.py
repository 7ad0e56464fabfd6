"""Dependency chains for `diagnose`: the same index and walk as the exporter, built from a snapshot.

A `kubectl cluster-info dump` carries each namespace's `services.json` and the pods (with
status.podIP/podIPs and their labels) but no EndpointSlices, so the slices are rebuilt from the
Services' selectors the way the EndpointSlice controller builds them (`slices_from_selectors`);
slices given in the input (`-f` files from `kubectl get endpointslices -o json`) are used as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from crashloop_exporter.deps.index import DependencyIndex
from crashloop_exporter.deps.records import PodAddress, ServiceRecord, SliceRecord, slices_from_selectors
from crashloop_exporter.deps.tracker import DependencyTracker
from crashloop_exporter.findings import Finding
from crashloop_exporter.model import PodRecord, ip_key


def build_index(
    services: Sequence[ServiceRecord], slices: Sequence[SliceRecord], pods: Sequence[PodAddress]
) -> DependencyIndex:
    index = DependencyIndex()
    for svc in services:
        index.put_service(svc)
    given = {(s.namespace, s.service) for s in slices}
    missing = [svc for svc in services if (svc.namespace, svc.name) not in given]
    for s in [*slices, *slices_from_selectors(missing, list(pods))]:
        index.put_slice(s)
    for p in pods:
        index.put_pod_ips(p, tuple(map(ip_key, p.ips)))
    return index


class _SnapshotView:
    """Findings by pod: those already classified, and the others classified when first asked for."""

    def __init__(
        self,
        pods: Sequence[PodRecord],
        known: Sequence[Finding],
        classified: Sequence[PodRecord],
        classify: Callable[[PodRecord], list[Finding]],
    ) -> None:
        self._pods = {(p.namespace, p.name): p for p in pods}
        self._findings: dict[tuple[str, str], list[Finding]] = {(p.namespace, p.name): [] for p in classified}
        for f in known:
            self._findings.setdefault((f.namespace, f.pod), []).append(f)
        self._classify = classify

    def pod_workload(self, namespace: str, pod: str) -> tuple[str, str] | None:
        rec = self._pods.get((namespace, pod))
        return (rec.workload_kind, rec.workload) if rec is not None else None

    def pod_findings(self, namespace: str, pod: str) -> Sequence[Finding]:
        key = (namespace, pod)
        if key not in self._findings:
            rec = self._pods.get(key)
            self._findings[key] = self._classify(rec) if rec is not None else []
        return self._findings[key]


def attach_offline(
    findings: Sequence[Finding],
    *,
    index: DependencyIndex,
    pods: Sequence[PodRecord],
    classify: Callable[[PodRecord], list[Finding]],
    in_scope: Sequence[PodRecord],
) -> list[Finding]:
    """`findings` with their dependencies. `pods` are every pod of the input (a dependency may be
    outside the namespace shown); `in_scope` those whose findings `findings` already holds, so a
    pod outside it is classified only when a walk reaches it."""
    view = _SnapshotView(pods, findings, in_scope, classify)
    tracker = DependencyTracker(view=view)
    tracker.index = index
    return [tracker.attach(f) for f in findings]
