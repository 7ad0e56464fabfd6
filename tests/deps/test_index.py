"""Address resolution: DNS forms of a Service, headless pod names, ClusterIPs, pod IPs, and no guesses."""

from __future__ import annotations

import sys

import pytest

from crashloop_exporter.deps.address import Target
from crashloop_exporter.deps.index import DependencyIndex
from crashloop_exporter.deps.records import (
    EndpointRecord,
    PodAddress,
    ServiceRecord,
    SliceRecord,
    parse_service,
    parse_slice,
)
from crashloop_exporter.model import ip_key, ip_text
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
    ix.put_pod_ips(PodAddress("prod", "pg-0", ("10.244.0.5",)), (ip_key("10.244.0.5"),))
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


def _ip_owner(ix: DependencyIndex, ip: str) -> tuple[str, tuple[str, ...]] | None:
    r = ix.resolve(Target(ip), from_namespace="any")
    return None if r is None else (r.namespace, r.pods)


def test_pod_ip_taken_over_stays_with_the_new_pod() -> None:
    """An IP reused by another pod stays that pod's when the first pod's unchanged IPs come again, and
    goes when that pod is gone, not when the first one is."""
    ix = DependencyIndex()
    first, second = PodAddress("prod", "a-1", ("10.244.0.7",)), PodAddress("prod", "b-1", ("10.244.0.7",))
    ips = (ip_key("10.244.0.7"),)
    ix.put_pod_ips(first, ips)
    ix.put_pod_ips(second, ips)
    assert not ix.put_pod_ips(PodAddress("prod", "a-1", first.ips), ips, old=ips)
    assert _ip_owner(ix, "10.244.0.7") == ("prod", ("b-1",))
    ix.forget_pod("prod", "a-1", ips)
    assert _ip_owner(ix, "10.244.0.7") == ("prod", ("b-1",))
    ix.forget_pod("prod", "b-1", ips)
    assert _ip_owner(ix, "10.244.0.7") is None


def test_unchanged_pod_ips_point_at_the_newest_record() -> None:
    """The index holds the record it was last given for a pod, so a replaced record is not kept alive."""
    ix = DependencyIndex()
    old, new = PodAddress("prod", "a-1", ("10.244.0.7",)), PodAddress("prod", "a-1", ("10.244.0.7",))
    ips = (ip_key("10.244.0.7"),)
    ix.put_pod_ips(old, ips)
    version, held = ix.version, sys.getrefcount(old)
    assert not ix.put_pod_ips(new, ips, old=ips)
    assert ix.version == version
    assert sys.getrefcount(old) == held - 1


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("10.244.0.7", "10.244.0.7"), ("192.168.1.1", "192.168.1.1"), ("fd00:0::3", "fd00::3"),
     ("::10.1.2.3", "::10.1.2.3"), ("010.1.2.3", "010.1.2.3"), ("pg.prod", "pg.prod")],
)
def test_ip_keys_round_trip_and_keep_the_families_apart(text: str, canonical: str) -> None:
    """An IP key reads back as the address (IPv6 canonical), an IPv6 one never equals an IPv4 one,
    and text that is no address stays itself."""
    assert ip_text(ip_key(text)) == canonical
    assert ip_key("::10.1.2.3") != ip_key("10.1.2.3")


def test_a_pod_ip_resolves_however_the_log_spells_it() -> None:
    """The IPv6 address of a pod resolves from any spelling of it; an IPv4 one from its dotted quad."""
    ix = DependencyIndex()
    ix.put_pod_ips(PodAddress("prod", "a-1", ()), (ip_key("10.244.0.7"), ip_key("fd00::7")))
    assert _ip_owner(ix, "fd00:0:0::7") == ("prod", ("a-1",))
    assert _ip_owner(ix, "10.244.0.7") == ("prod", ("a-1",))
