"""Records keep what a healthy pod does not have out of its own fields, and read the same either way.

At 150k pods every field of a healthy pod's records is ~1 MiB: its one container is kept bare
rather than in a 1-tuple, its one IP bare too, and the fields only a pod or container with
something to explain has (a reason, a message, a spec, a waiting state, a last run) are one
shared instance for all healthy ones; what the pods of one workload have alike (namespace,
workload, restart policy, phase) is one instance for all of them.
"""

from __future__ import annotations

import copy

import msgspec

from crashloop_exporter.model import NO_CONTAINER_DETAIL, NO_POD_DETAIL, ContainerRecord
from crashloop_exporter.parse import parse_pod

from .podgen import crashing, many_containers, pod


def test_a_healthy_pod_shares_its_details_and_keeps_one_container_and_ip_bare() -> None:
    """A running, never restarted pod: no detail of its own, its container and IP not in tuples."""
    p = pod("api-1", ready=True)
    p["status"]["podIP"] = "10.1.2.3"
    rec = parse_pod(p)
    assert rec.detail is NO_POD_DETAIL and rec.containers[0].detail is NO_CONTAINER_DETAIL
    assert isinstance(rec.packed_containers, ContainerRecord) and rec.packed_ips == "10.1.2.3"
    assert rec.containers == (rec.packed_containers,) and rec.pod_ips == ("10.1.2.3",)
    assert rec.container("api") is rec.packed_containers and rec.container("other") is None
    assert (rec.reason, rec.message, rec.volume_refs, rec.terminating) == ("", "", (), False)


def test_pods_of_one_workload_share_what_they_have_alike() -> None:
    """Namespace, workload, restart policy and phase: one instance for a workload's pods, read by name."""
    a, b = parse_pod(pod("api-1", ready=True)), parse_pod(pod("api-2", ready=False))
    assert a.common is b.common
    assert (a.namespace, a.workload_kind, a.workload, a.restart_policy, a.phase) == (
        b.common.namespace, b.common.workload_kind, b.common.workload, b.common.restart_policy, b.common.phase)
    pending = parse_pod(pod("api-3", phase="Pending"))
    assert pending.common is not a.common and (pending.phase, pending.workload) == ("Pending", "api")


def test_a_crashing_pod_reads_its_details_through_the_same_names() -> None:
    """A crashing, terminating, dual-stack pod of many containers has its own details, read as before."""
    p = crashing("api-1", 2)
    p["metadata"]["deletionTimestamp"] = "2024-01-01T00:11:00Z"
    p["status"].update(podIP="10.1.2.3", podIPs=[{"ip": "10.1.2.3"}, {"ip": "fd00::3"}])
    rec = parse_pod(p)
    c = rec.containers[0]
    assert rec.terminating and rec.pod_ips == ("10.1.2.3", "fd00::3")
    assert c.detail is not NO_CONTAINER_DETAIL and c.waiting is not None and c.last_terminated is not None
    assert c.spec is not None and c.reported
    wide = parse_pod(many_containers("wide-1", 3, 0))
    assert isinstance(wide.packed_containers, tuple) and len(wide.containers) == 3
    assert wide.with_containers(wide.containers[:1]).packed_containers == wide.containers[0]


def test_equal_pods_build_equal_records() -> None:
    """Packing is one rule, so a pod parsed twice gives equal records (what `_unchanged` compares)."""
    for p in (pod("api-1", ready=True), crashing("api-1", 2), many_containers("wide-1", 3, 1)):
        assert parse_pod(p) == parse_pod(copy.deepcopy(p))
        assert parse_pod(msgspec.json.encode(p)) == parse_pod(msgspec.json.encode(p))
