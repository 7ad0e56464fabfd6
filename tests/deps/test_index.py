"""Address resolution: DNS forms of a Service, headless pod names, ClusterIPs, pod IPs, and no guesses."""

from __future__ import annotations

import pytest

from crashloop_exporter.deps.address import Target
from crashloop_exporter.deps.index import DependencyIndex
from crashloop_exporter.deps.records import EndpointRecord, ServiceRecord, SliceRecord, parse_service, parse_slice
from tests.deps import chainfixtures as fx


def index() -> DependencyIndex:
    ix = DependencyIndex()
    ix.put_service(ServiceRecord("prod", "pg", ("10.96.0.5",), False, (("app", "pg"),), "", (5432,)))
    ix.put_service(ServiceRecord("data", "kafka-hl", (), True, (("app", "kafka"),), "", (9092,)))
    ix.put_service(ServiceRecord("prod", "manual", ("10.96.0.9",), False, (), "", (80,)))
    ix.put_service(ServiceRecord("prod", "alias", (), False, (), "db.example.com", ()))
    ix.put_slice(SliceRecord("prod", "pg-abc", "pg", (EndpointRecord("pg-0", ""),)))
    ix.put_slice(SliceRecord("data", "kafka-hl-x", "kafka-hl", (
        EndpointRecord("kafka-0", "kafka-0"), EndpointRecord("kafka-1", "kafka-1"))))
    ix.put_slice(SliceRecord("prod", "manual-1", "manual", (EndpointRecord("vm", ""),)))
    ix.put_pod_ips("prod", "pg-0", ("10.244.0.5",))
    return ix


@pytest.mark.parametrize(
    ("host", "ns", "want"),
    [
        ("pg", "prod", ("prod", "pg", ("pg-0",))),
        ("pg.prod", "web", ("prod", "pg", ("pg-0",))),
        ("pg.prod.svc", "web", ("prod", "pg", ("pg-0",))),
        ("pg.prod.svc.cluster.local", "web", ("prod", "pg", ("pg-0",))),
        ("pg.prod.svc.corp.example", "web", ("prod", "pg", ("pg-0",))),
        ("kafka-1.kafka-hl.data.svc.cluster.local", "shop", ("data", "kafka-hl", ("kafka-1",))),
        ("kafka-0.kafka-hl.data", "shop", ("data", "kafka-hl", ("kafka-0",))),
        ("10.96.0.5", "web", ("prod", "pg", ("pg-0",))),
        ("10.244.0.5", "web", ("prod", None, ("pg-0",))),
        ("pg", "web", None),  # a short name only resolves in the pod's own namespace
        ("manual", "prod", None),  # no selector: not ours to guess
        ("alias", "prod", None),  # ExternalName
        ("db.example.com", "prod", None),
        ("kafka-9.kafka-hl.data", "shop", None),
    ],
)
def test_resolve(host: str, ns: str, want: tuple[str, str | None, tuple[str, ...]] | None) -> None:
    """Each DNS form and IP resolves to its Service's pods, or to nothing."""
    r = index().resolve(Target(host), from_namespace=ns)
    assert (None if r is None else (r.namespace, r.service, r.pods)) == want


def test_wire_objects_decode_into_records() -> None:
    """A Service and an EndpointSlice as the API sends them become compact records; targetless endpoints drop."""
    svc = parse_service(fx.service("pg", "prod", selector={"app": "pg"}, cluster_ip="10.96.0.5", port=5432))
    assert (svc.cluster_ips, svc.selector, svc.headless) == (("10.96.0.5",), (("app", "pg"),), False)
    s = parse_slice({"metadata": {"name": "pg-x", "namespace": "prod", "labels": {"kubernetes.io/service-name": "pg"}},
                     "addressType": "IPv4",
                     "endpoints": [{"addresses": ["10.244.0.5"], "targetRef": {"kind": "Pod", "name": "pg-0"}},
                                   {"addresses": ["10.0.0.1"]}]})
    assert s.service == "pg" and [e.pod for e in s.endpoints] == ["pg-0"]
