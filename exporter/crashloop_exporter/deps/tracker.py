"""The exporter's side of dependency chains: the index fed by watches, and dependents kept current.

`ClusterState` owns the findings; this object holds what it needs to give each
`dependency_unavailable` finding its `dependency`: the Service/EndpointSlice/pod-IP index, which
pods hold dependents, and which pods the last walk looked at. When one of those pods' findings
change, or the index does, the dependents are re-evaluated at the end of that same watch event,
so a root that recovers clears its dependents' `dependency` on the next event, not on their next
restart.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence

from crashloop_exporter.catalog import CauseId
from crashloop_exporter.deps.chain import BASE_REMEDIATION_FACT, PodView, with_dependency
from crashloop_exporter.deps.index import DependencyIndex, NamedPod
from crashloop_exporter.deps.records import RawObject, parse_service, parse_slice
from crashloop_exporter.findings import Finding
from crashloop_exporter.model import IpKey

log = logging.getLogger(__name__)

RESOURCES = ("services", "endpointslices")
"""The watched resources this module consumes (the `resource` label of the exporter's metrics)."""


class _RecordingView:
    """A PodView that notes every pod a walk looked at."""

    def __init__(self, view: PodView, seen: set[tuple[str, str]]) -> None:
        self._view = view
        self._seen = seen

    def pod_workload(self, namespace: str, pod: str) -> tuple[str, str] | None:
        return self._view.pod_workload(namespace, pod)

    def pod_findings(self, namespace: str, pod: str) -> Sequence[Finding]:
        self._seen.add((namespace, pod))
        return self._view.pod_findings(namespace, pod)


class DependencyTracker:
    """Index plus bookkeeping; `enabled` is False with `--no-dependencies` or without the RBAC."""

    def __init__(self, *, view: PodView, enabled: bool = True) -> None:
        self.index = DependencyIndex()
        self.enabled = enabled
        self._watched: set[tuple[str, str]] = set()
        self._view = _RecordingView(view, self._watched)
        self.dependents: set[str] = set()
        """Pod uids holding at least one dependency_unavailable finding."""
        self._dirty = False

    def disable(self, resource: str) -> None:
        """The API refused to list `resource` (403): degrade to findings without a dependency."""
        if self.enabled:
            log.warning(
                "no RBAC to list %s: dependency chains are off (grant get/list/watch on services and "
                "discovery.k8s.io endpointslices, or pass --no-dependencies)",
                resource,
            )
        self.enabled = False
        self._dirty = True

    # ---- inputs -------------------------------------------------------------------------------

    def apply(self, resource: str, type_: str, raw: RawObject) -> str:
        """One Service or EndpointSlice event; returns its reconciliation key (`ns/name`). Raises
        MalformedObjectError for an object that does not decode."""
        if resource == "services":
            svc = parse_service(raw)
            ns, name = svc.namespace, svc.name
            changed = self.index.delete_service(ns, name) if type_ == "DELETED" else self.index.put_service(svc)
        else:
            s = parse_slice(raw)
            ns, name = s.namespace, s.name
            changed = self.index.delete_slice(ns, name) if type_ == "DELETED" else self.index.put_slice(s)
        self._dirty |= changed
        return f"{ns}/{name}"

    def reconcile(self, resource: str, seen: set[str], *, namespace: str | None) -> None:
        """After a relist: forget what the fresh list did not contain."""
        for ns, name in self.index.keys(resource):
            if f"{ns}/{name}" in seen or (namespace is not None and ns != namespace):
                continue
            if resource == "services":
                self.index.delete_service(ns, name)
            else:
                self.index.delete_slice(ns, name)
            self._dirty = True

    def pod_ips(self, pod: NamedPod, ips: tuple[IpKey, ...], *, old: tuple[IpKey, ...] = ()) -> None:
        self._dirty |= self.index.put_pod_ips(pod, ips, old=old)

    def pod_gone(self, namespace: str, pod: str, ips: tuple[IpKey, ...]) -> None:
        self.index.forget_pod(namespace, pod, ips)
        if (namespace, pod) in self._watched:
            self._dirty = True

    def published(self, uid: str, namespace: str, pod: str, findings: Mapping[str, Finding]) -> None:
        """Pod `uid` got new findings: note it as a dependent or not, and whether a walk looked at it."""
        if any(f.cause == CauseId.DEPENDENCY_UNAVAILABLE for f in findings.values()):
            self.dependents.add(uid)
        else:
            self.dependents.discard(uid)
        if (namespace, pod) in self._watched:
            self._dirty = True

    # ---- outputs ------------------------------------------------------------------------------

    def attach(self, f: Finding) -> Finding:
        """`f` with its dependency as of now (unchanged when it is not a dependent or chains are off)."""
        if f.cause != CauseId.DEPENDENCY_UNAVAILABLE:
            return f
        if not self.enabled:
            return f if f.dependency is None else _without(f)
        return with_dependency(f, index=self.index, view=self._view)

    def refresh(self, found_of: Callable[[str], dict[str, Finding] | None], publish: Callable[[str], None]) -> int:
        """Re-evaluate every dependent when something a walk depends on changed; returns how many
        findings changed. `found_of(uid)` is the pod's findings by container (changed in place),
        `publish(uid)` makes them visible."""
        if not self._dirty:
            return 0
        self._dirty = False
        self._watched.clear()
        changed = 0
        for uid in list(self.dependents):
            found = found_of(uid)
            if not found:
                self.dependents.discard(uid)
                continue
            touched = False
            for name, f in found.items():
                new = self.attach(f)
                if new is not f:
                    found[name] = new
                    touched = True
                    changed += 1
            if touched:
                publish(uid)
        self._dirty = False  # what publish noted is this refresh's own output
        return changed


def _without(f: Finding) -> Finding:
    return dataclasses.replace(
        f,
        dependency=None,
        evidence=tuple(e for e in f.evidence if e.source != "dependency"),
        remediation=f.facts.get(BASE_REMEDIATION_FACT, f.remediation),
    )
