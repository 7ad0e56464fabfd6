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

from crashloop_exporter.deps.address import Target, is_ip
from crashloop_exporter.deps.records import ServiceRecord, SliceRecord

ServiceKey = tuple[str, str]
"""(namespace, name)."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where an address leads: a Service (or None for a pod IP), its namespace, and its pods."""

    namespace: str
    service: str | None
    pods: tuple[str, ...]


class DependencyIndex:
    """Services, EndpointSlices and pod IPs, by the keys an address can give."""

    def __init__(self) -> None:
        self.services: dict[ServiceKey, ServiceRecord] = {}
        self._by_cluster_ip: dict[str, ServiceKey] = {}
        self.slices: dict[ServiceKey, SliceRecord] = {}
        """By (namespace, slice name)."""
        self._slices_of: dict[ServiceKey, tuple[str, ...]] = {}
        """Slice names per Service: a tuple (a set costs 216 bytes; a Service has one or two slices)."""
        self._pod_by_ip: dict[str, ServiceKey] = {}
        self._ips_of_pod: dict[ServiceKey, tuple[str, ...]] = {}
        self.version = 0
        """Bumped on every change that can change a resolution (dependents are re-evaluated)."""

    # ---- updates ------------------------------------------------------------------------------

    def put_service(self, svc: ServiceRecord) -> bool:
        key = (svc.namespace, svc.name)
        old = self.services.get(key)
        if old == svc:
            return False
        if old is not None:
            self._drop_ips(old, key)
        self.services[key] = svc
        for ip in svc.cluster_ips:
            self._by_cluster_ip[ip] = key
        self.version += 1
        return True

    def delete_service(self, namespace: str, name: str) -> bool:
        key = (namespace, name)
        old = self.services.pop(key, None)
        if old is None:
            return False
        self._drop_ips(old, key)
        self.version += 1
        return True

    def _drop_ips(self, svc: ServiceRecord, key: ServiceKey) -> None:
        for ip in svc.cluster_ips:
            if self._by_cluster_ip.get(ip) == key:
                del self._by_cluster_ip[ip]

    def put_slice(self, s: SliceRecord) -> bool:
        key = (s.namespace, s.name)
        old = self.slices.get(key)
        if old == s:
            return False
        if old is not None:
            self._unlink(old)
        self.slices[key] = s
        names = self._slices_of.get((s.namespace, s.service), ())
        self._slices_of[(s.namespace, s.service)] = (*names, s.name)
        self.version += 1
        return True

    def delete_slice(self, namespace: str, name: str) -> bool:
        old = self.slices.pop((namespace, name), None)
        if old is None:
            return False
        self._unlink(old)
        self.version += 1
        return True

    def _unlink(self, old: SliceRecord) -> None:
        key = (old.namespace, old.service)
        names = tuple(n for n in self._slices_of.get(key, ()) if n != old.name)
        if names:
            self._slices_of[key] = names
        else:
            self._slices_of.pop(key, None)

    def put_pod_ips(self, namespace: str, pod: str, ips: tuple[str, ...]) -> bool:
        key = (namespace, pod)
        old = self._ips_of_pod.get(key, ())
        if old == ips:
            return False
        self.forget_pod(namespace, pod)
        if ips:
            self._ips_of_pod[key] = ips
            for ip in ips:
                self._pod_by_ip[ip] = key
        self.version += 1
        return True

    def forget_pod(self, namespace: str, pod: str) -> None:
        key = (namespace, pod)
        for ip in self._ips_of_pod.pop(key, ()):
            if self._pod_by_ip.get(ip) == key:
                del self._pod_by_ip[ip]

    def keys(self, kind: str) -> Iterable[ServiceKey]:
        """Tracked keys of `services` or `endpointslices`, for reconciliation after a relist."""
        return list(self.services if kind == "services" else self.slices)

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
        key = self._by_cluster_ip.get(ip)
        if key is not None:
            return self._service(key, pod=None)
        pod = self._pod_by_ip.get(ip)
        if pod is not None:
            return Resolved(namespace=pod[0], service=None, pods=(pod[1],))
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
        svc = self.services.get(key)
        if svc is None or svc.external_name or not svc.selector:
            return None
        if pod is not None and not svc.headless:
            return None  # only a headless Service publishes per-pod names
        pods: dict[str, None] = {}
        for name in sorted(self._slices_of.get(key, ())):
            for e in self.slices[(key[0], name)].endpoints:
                if pod is None or pod in (e.hostname, e.pod):
                    pods[e.pod] = None
        if pod is not None and not pods:
            return None
        return Resolved(namespace=key[0], service=key[1], pods=tuple(sorted(pods)))
