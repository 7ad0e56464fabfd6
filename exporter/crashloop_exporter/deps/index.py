"""Resolve an address from a log to the pods behind it, the way cluster DNS and kube-proxy would.

Names follow the DNS schema for Services (kubernetes/dns specification): `svc` and `svc.ns` through
the pod's search path, `svc.ns.svc` and `svc.ns.svc.<cluster-domain>` (whatever the domain is:
`cluster.local` is only the default), and a headless Service's per-pod records
`pod.svc.ns.svc.<domain>` (the endpoint's hostname, a StatefulSet pod's name). IPs are a Service's
ClusterIP or a pod's own IP. A Service resolves to the Pods its EndpointSlices name; a Service
without a selector, an ExternalName Service, or an endpoint without a Pod behind it resolves to
nothing, rather than to a guess.

One index serves the exporter (fed by the Service, EndpointSlice and Pod watches) and `diagnose`
(fed from a dump), so both resolve the same address to the same workload.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from crashloop_exporter.deps.address import Target, is_ip
from crashloop_exporter.deps.records import ServiceRecord, SliceRecord
from crashloop_exporter.model import IpKey, ip_key

ServiceKey = tuple[str, str]
"""(namespace, name)."""

V = TypeVar("V")
ByNamespace = dict[str, dict[str, V]]
"""namespace -> name -> value. Nested rather than keyed by `(namespace, name)`: the inner keys are the
records' own (interned) name strings, so no key object is made per Service or slice (a 2-tuple is
56 bytes, three of them per Service and slice were 1.6 MiB at 10k Services)."""


def _get(table: ByNamespace[V], namespace: str, name: str) -> V | None:
    inner = table.get(namespace)
    return inner.get(name) if inner is not None else None


def _put(table: ByNamespace[V], namespace: str, name: str, value: V) -> None:
    inner = table.get(namespace)
    if inner is None:
        table[namespace] = inner = {}
    inner[name] = value


def _pop(table: ByNamespace[V], namespace: str, name: str) -> V | None:
    inner = table.get(namespace)
    if inner is None:
        return None
    value = inner.pop(name, None)
    if not inner:
        del table[namespace]
    return value


class NamedPod(Protocol):
    """What names the pod behind an IP: the state's pod record, or a dump's `PodAddress`.

    The IP index keeps that object itself, which exists anyway, rather than a (namespace, name)
    tuple of its own (56 bytes a pod, 8 MiB at 150k pods)."""

    @property
    def namespace(self) -> str: ...

    @property
    def name(self) -> str: ...


def _names(owner: NamedPod, namespace: str, pod: str) -> bool:
    return owner.name == pod and owner.namespace == namespace


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where an address leads: a Service (or None for a pod IP), its namespace, and its pods."""

    namespace: str
    service: str | None
    pods: tuple[str, ...]


class DependencyIndex:
    """Services, EndpointSlices and pod IPs, by the keys an address can give."""

    def __init__(self) -> None:
        self._services: ByNamespace[ServiceRecord] = {}
        self._by_cluster_ip: dict[str, ServiceRecord] = {}
        self._slices: ByNamespace[SliceRecord] = {}
        """By namespace and slice name."""
        self._slices_of: ByNamespace[tuple[str, ...]] = {}
        """Slice names by namespace and Service name: a tuple (a set costs 216 bytes; a Service has
        one or two slices)."""
        self._pod_by_ip: dict[IpKey, NamedPod] = {}
        """A pod's IPs are kept once, in its record: the caller hands the old ones back on a
        change (150k pods: a second map of them cost ~280 bytes a pod)."""
        self.version = 0
        """Bumped on every change that can change a resolution (dependents are re-evaluated)."""

    # ---- updates ------------------------------------------------------------------------------

    def put_service(self, svc: ServiceRecord) -> bool:
        old = _get(self._services, svc.namespace, svc.name)
        if old == svc:
            return False
        if old is not None:
            self._drop_ips(old)
        _put(self._services, svc.namespace, svc.name, svc)
        for ip in svc.cluster_ips:
            self._by_cluster_ip[ip] = svc
        self.version += 1
        return True

    def delete_service(self, namespace: str, name: str) -> bool:
        old = _pop(self._services, namespace, name)
        if old is None:
            return False
        self._drop_ips(old)
        self.version += 1
        return True

    def _drop_ips(self, svc: ServiceRecord) -> None:
        for ip in svc.cluster_ips:
            if self._by_cluster_ip.get(ip) is svc:
                del self._by_cluster_ip[ip]

    def put_slice(self, s: SliceRecord) -> bool:
        old = _get(self._slices, s.namespace, s.name)
        if old == s:
            return False
        if old is not None:
            self._unlink(old)
        _put(self._slices, s.namespace, s.name, s)
        names = _get(self._slices_of, s.namespace, s.service) or ()
        _put(self._slices_of, s.namespace, s.service, (*names, s.name))
        self.version += 1
        return True

    def delete_slice(self, namespace: str, name: str) -> bool:
        old = _pop(self._slices, namespace, name)
        if old is None:
            return False
        self._unlink(old)
        self.version += 1
        return True

    def _unlink(self, old: SliceRecord) -> None:
        names = tuple(n for n in _get(self._slices_of, old.namespace, old.service) or () if n != old.name)
        if names:
            _put(self._slices_of, old.namespace, old.service, names)
        else:
            _pop(self._slices_of, old.namespace, old.service)

    def put_pod_ips(self, pod: NamedPod, ips: tuple[IpKey, ...], *, old: tuple[IpKey, ...] = ()) -> bool:
        """The pod `pod` names now has `ips` (it had `old`), as `ip_key`s: the very objects of its
        record, so the index adds no key of its own; whether anything changed.

        Its IPs are pointed at `pod` even when they did not change: a newer record of the same
        pod replaces the one the index held, which would otherwise stay alive (an IP another pod
        has taken over meanwhile stays that pod's)."""
        namespace, name = pod.namespace, pod.name
        if old == ips:
            for ip in ips:
                owner = self._pod_by_ip.get(ip)
                if owner is not None and owner is not pod and _names(owner, namespace, name):
                    self._pod_by_ip[ip] = pod
            return False
        self.forget_pod(namespace, name, old)
        for ip in ips:
            self._pod_by_ip[ip] = pod
        self.version += 1
        return True

    def forget_pod(self, namespace: str, pod: str, ips: tuple[IpKey, ...]) -> None:
        """Pod `namespace/pod`, whose IPs were `ips`, is gone (an IP already reused by another pod stays)."""
        for ip in ips:
            owner = self._pod_by_ip.get(ip)
            if owner is not None and _names(owner, namespace, pod):
                del self._pod_by_ip[ip]

    def keys(self, kind: str) -> Iterable[ServiceKey]:
        """Tracked keys of `services` or `endpointslices`, for reconciliation after a relist."""
        table: ByNamespace[ServiceRecord] | ByNamespace[SliceRecord] = (
            self._services if kind == "services" else self._slices)
        return [(ns, name) for ns, inner in table.items() for name in inner]

    # ---- resolution ---------------------------------------------------------------------------

    def resolve(self, target: Target, *, from_namespace: str) -> Resolved | None:
        """Where `target` leads, as seen from a pod in `from_namespace`; None when the address
        names nothing in the cluster (an external host, a typo, a Service without a selector)."""
        for host in (target.host, target.ip):
            if not host:
                continue
            r = self._resolve_ip(host) if is_ip(host) else self._resolve_name(host, from_namespace)
            if r is not None:
                return r
        return None

    def _resolve_ip(self, ip: str) -> Resolved | None:
        svc = self._by_cluster_ip.get(ip)
        if svc is not None:
            return self._service((svc.namespace, svc.name), pod=None)
        pod = self._pod_by_ip.get(ip_key(ip))
        if pod is not None:
            return Resolved(namespace=pod.namespace, service=None, pods=(pod.name,))
        return None

    def _resolve_name(self, host: str, from_namespace: str) -> Resolved | None:
        labels = host.split(".")
        # (service, namespace, pod hostname) readings of the name, most specific first.
        readings: list[tuple[str, str, str | None]] = []
        if len(labels) >= 3 and labels[2] == "svc":
            readings.append((labels[0], labels[1], None))  # svc.ns.svc[.<domain>]
        if len(labels) >= 4 and labels[3] == "svc":
            readings.append((labels[1], labels[2], labels[0]))  # pod.svc.ns.svc[.<domain>]
        if len(labels) == 1:
            readings.append((labels[0], from_namespace, None))  # svc (search path: ns.svc.<domain>)
        elif len(labels) == 2:
            readings.append((labels[0], labels[1], None))  # svc.ns
            readings.append((labels[1], from_namespace, labels[0]))  # pod.svc
        elif len(labels) == 3:
            readings.append((labels[1], labels[2], labels[0]))  # pod.svc.ns
        for svc, ns, pod in readings:
            r = self._service((ns, svc), pod=pod)
            if r is not None:
                return r
        return None

    def _service(self, key: ServiceKey, *, pod: str | None) -> Resolved | None:
        svc = _get(self._services, *key)
        if svc is None or svc.external_name or not svc.selector:
            return None
        if pod is not None and not svc.headless:
            return None  # only a headless Service publishes per-pod names
        pods: dict[str, None] = {}
        slices = self._slices.get(key[0], {})
        names: tuple[str, ...] = _get(self._slices_of, *key) or ()
        for name in sorted(names):
            for e in slices[name].endpoints:
                if pod is None or pod in (e.hostname, e.pod):
                    pods[e.pod] = None
        if pod is not None and not pods:
            return None
        return Resolved(namespace=key[0], service=key[1], pods=tuple(sorted(pods)))
