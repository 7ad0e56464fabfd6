"""Services and EndpointSlices, decoded straight into the few fields that resolve an address.

A Service is ~1-2 KiB of JSON (managedFields, annotations, status); resolving `svc.ns:port` needs
its name, cluster IPs, type, whether it has a selector, and its ports. An EndpointSlice needs its
Service's name and, per endpoint, the hostname (a headless Service's `pod-0.svc.ns`) and the
Pod it points at (its IPs come from the pod watch). msgspec decodes JSON bytes (a watch line) or a dict (a
dump file, a YAML document) into these Structs and skips everything else; a wrong type raises
`MalformedObjectError` naming the path, which the caller counts as one skipped object.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import msgspec
from msgspec import Struct, field

from crashloop_exporter.errors import MalformedObjectError

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
"""The label the EndpointSlice controller puts on every slice it manages for a Service."""

# --- wire shapes (only what is read) ------------------------------------------------------------


class _SliceLabels(Struct, frozen=True, gc=False):
    service_name: str = field(default="", name=SERVICE_NAME_LABEL)


class _Meta(Struct, frozen=True, gc=False):
    name: str = ""
    namespace: str = ""


class _SliceMeta(Struct, frozen=True, gc=False):
    name: str = ""
    namespace: str = ""
    labels: _SliceLabels | None = None


class _ServicePort(Struct, frozen=True, gc=False):
    port: int = 0


class _ServiceSpec(Struct, frozen=True, gc=False):
    type: str = "ClusterIP"
    clusterIP: str = ""
    clusterIPs: list[str] | None = None
    selector: dict[str, str] | None = None
    externalName: str = ""
    ports: list[_ServicePort] | None = None


class _Service(Struct, frozen=True, gc=False):
    metadata: _Meta = _Meta()
    spec: _ServiceSpec = _ServiceSpec()


class _TargetRef(Struct, frozen=True, gc=False):
    kind: str = ""
    name: str = ""
    namespace: str = ""


class _Endpoint(Struct, frozen=True, gc=False):
    hostname: str | None = None
    targetRef: _TargetRef | None = None


class _Slice(Struct, frozen=True, gc=False):
    metadata: _SliceMeta = _SliceMeta()
    endpoints: list[_Endpoint] | None = None


# --- compact records -----------------------------------------------------------------------------


class ServiceRecord(Struct, frozen=True, gc=False):
    """One Service, compact (~300 bytes)."""

    namespace: str
    name: str
    cluster_ips: tuple[str, ...]
    """spec.clusterIPs (or clusterIP); empty for a headless (`None`) or ExternalName Service."""
    headless: bool
    selector: tuple[tuple[str, str], ...]
    """spec.selector as sorted pairs; empty for a Service without a selector (its endpoints are
    managed by hand, so which workload serves it is not ours to guess)."""
    external_name: str
    """spec.externalName of an ExternalName Service (a DNS alias out of the cluster)."""
    ports: tuple[int, ...]


class EndpointRecord(Struct, frozen=True, gc=False):
    """One endpoint of a slice that points at a Pod: which pod, and its headless-Service hostname.
    Its addresses are not kept: a pod IP resolves through the pod watch's own index, so a copy per
    endpoint would only cost memory (~120 bytes each at 10k Services)."""

    pod: str
    hostname: str


class SliceRecord(Struct, frozen=True, gc=False):
    """One EndpointSlice: its Service and the endpoints that name a Pod (others are dropped)."""

    namespace: str
    name: str
    service: str
    endpoints: tuple[EndpointRecord, ...]


RawObject = Mapping[str, Any] | bytes | msgspec.Raw | msgspec.Struct
"""An API object as a watch or LIST gives it (bytes) or as a file reader does (a dict); a Struct
is another kind's (`wire`), so malformed here."""

_SERVICE = msgspec.json.Decoder(_Service)
_SLICE = msgspec.json.Decoder(_Slice)


def _decode(raw: RawObject, decoder: msgspec.json.Decoder[Any], kind: type[Any], what: str) -> Any:
    try:
        if isinstance(raw, bytes | msgspec.Raw):
            return decoder.decode(raw)
        if isinstance(raw, msgspec.Struct):
            raise MalformedObjectError(f"{what}: got a decoded {type(raw).__name__}")
        return msgspec.convert(raw, type=kind, strict=True)
    except (msgspec.ValidationError, msgspec.DecodeError) as e:
        raise MalformedObjectError(f"{what}: {e}") from None


def parse_service(raw: RawObject) -> ServiceRecord:
    svc: _Service = _decode(raw, _SERVICE, _Service, "service")
    meta, spec = svc.metadata, svc.spec
    if not meta.name or not meta.namespace:
        raise MalformedObjectError("service has no metadata.name or metadata.namespace")
    ips = tuple(spec.clusterIPs or ([spec.clusterIP] if spec.clusterIP else ()))
    headless = spec.clusterIP == "None"
    return ServiceRecord(
        namespace=sys.intern(meta.namespace),
        name=sys.intern(meta.name),
        cluster_ips=tuple(ip for ip in ips if ip and ip != "None"),
        headless=headless,
        selector=tuple(sorted((sys.intern(k), sys.intern(v)) for k, v in (spec.selector or {}).items())),
        external_name=spec.externalName if spec.type == "ExternalName" else "",
        ports=tuple(p.port for p in spec.ports or () if p.port),
    )


def parse_slice(raw: RawObject) -> SliceRecord:
    s: _Slice = _decode(raw, _SLICE, _Slice, "endpointslice")
    meta = s.metadata
    if not meta.name or not meta.namespace:
        raise MalformedObjectError("endpointslice has no metadata.name or metadata.namespace")
    endpoints = tuple(
        EndpointRecord(pod=e.targetRef.name, hostname=e.hostname or "")
        for e in s.endpoints or ()
        # An endpoint without a Pod behind it (a VM, an external IP) names no workload.
        if e.targetRef is not None and e.targetRef.kind == "Pod" and e.targetRef.name
        and e.targetRef.namespace in ("", meta.namespace)
    )
    service = meta.labels.service_name if meta.labels is not None else ""
    # The Service's name is also the ServiceRecord's and the index's key: one string for all three.
    return SliceRecord(namespace=sys.intern(meta.namespace), name=meta.name, service=sys.intern(service),
                       endpoints=endpoints)


class _PodSpec(Struct, frozen=True, gc=False):
    hostname: str = ""
    subdomain: str = ""


class _PodIP(Struct, frozen=True, gc=False):
    ip: str = ""


class _PodStatus(Struct, frozen=True, gc=False):
    podIP: str = ""
    podIPs: list[_PodIP] | None = None


class _PodMeta(Struct, frozen=True, gc=False):
    name: str = ""
    namespace: str = ""
    labels: dict[str, str] | None = None


class _PodAddress(Struct, frozen=True, gc=False):
    metadata: _PodMeta = _PodMeta()
    spec: _PodSpec = _PodSpec()
    status: _PodStatus = _PodStatus()


class PodAddress(Struct, frozen=True, gc=False):
    """What addresses a pod: its IPs, and (offline, to rebuild EndpointSlices from selectors) its
    labels and hostname/subdomain."""

    namespace: str
    name: str
    ips: tuple[str, ...]
    labels: tuple[tuple[str, str], ...] = ()
    hostname: str = ""
    subdomain: str = ""


def pod_ips(status_pod_ip: str, status_pod_ips: list[str] | None) -> tuple[str, ...]:
    ips = [ip for ip in (status_pod_ips or ()) if ip]
    if status_pod_ip and status_pod_ip not in ips:
        ips.insert(0, status_pod_ip)
    return tuple(ips)


def parse_pod_address(raw: RawObject) -> PodAddress:
    p: _PodAddress = _decode(raw, msgspec.json.Decoder(_PodAddress), _PodAddress, "pod")
    return PodAddress(
        namespace=p.metadata.namespace,
        name=p.metadata.name,
        ips=pod_ips(p.status.podIP, [i.ip for i in p.status.podIPs or ()]),
        labels=tuple(sorted((p.metadata.labels or {}).items())),
        hostname=p.spec.hostname,
        subdomain=p.spec.subdomain,
    )


def slices_from_selectors(services: list[ServiceRecord], pods: list[PodAddress]) -> list[SliceRecord]:
    """The EndpointSlices the controller would publish, for input that has Services and Pods but
    no slices (a `kubectl cluster-info dump` has no endpointslices.json): each Service with a
    selector gets the pods of its namespace that carry every selector label and have an IP, with
    the hostname set where the pod's subdomain names the Service (the controller's own rule)."""
    by_ns: dict[str, list[PodAddress]] = {}
    for p in pods:
        if p.ips:
            by_ns.setdefault(p.namespace, []).append(p)
    out: list[SliceRecord] = []
    for svc in services:
        if not svc.selector or svc.external_name:
            continue
        endpoints = tuple(
            EndpointRecord(
                pod=p.name,
                hostname=p.hostname if p.hostname and p.subdomain == svc.name else "",
            )
            for p in by_ns.get(svc.namespace, ())
            if set(svc.selector) <= set(p.labels)
        )
        out.append(
            SliceRecord(namespace=svc.namespace, name=f"{svc.name}-derived", service=svc.name, endpoints=endpoints)
        )
    return out
