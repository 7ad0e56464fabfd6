"""Records keep what a healthy pod does not have out of its own fields, and read the same either way.

At 150k pods every field of a healthy pod's records is ~1 MiB: its one IP is kept bare rather than
in a 1-tuple, the fields only a pod or container with something to explain has (a reason, a
message, a spec, a waiting state, a last run) are one shared instance for all healthy ones, a
running, never restarted container is a template its workload's pods share but for its start
time; what the pods of one workload have alike (namespace,
workload, restart policy, phase) is one instance for all of them.
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec

from crashloop_exporter.model import NO_CONTAINER_DETAIL, NO_POD_DETAIL, ip_key
from crashloop_exporter.parse import parse_pod

from .podgen import crashing, many_containers, pod


def test_a_healthy_pod_shares_its_details_and_its_container_but_for_its_start() -> None:
    """A running, never restarted pod: no detail of its own, its IP bare, and its container a
    template the workload's pods share, read back whole with its own start time."""
    p = pod("api-1", ready=True)
    p["status"]["podIP"] = "10.1.2.3"
    rec, other = parse_pod(p), parse_pod(pod("api-2", ready=True, finished="2024-01-01T00:11:00Z"))
    assert rec.detail is NO_POD_DETAIL and rec.packed_ips == ip_key("10.1.2.3") and rec.pod_ips == ("10.1.2.3",)
    assert rec.all_running and rec.packed_containers is other.packed_containers
    (c,) = rec.containers
    assert (c.name, c.ready, c.restart_count, c.running_since) == ("api", True, 0, rec.since)
    assert isinstance(rec.since, float) and other.containers[0].running_since == rec.since + 60
    assert c.detail is NO_CONTAINER_DETAIL
    assert rec.container("api") == c and rec.container("other") is None
    assert (rec.reason, rec.message, rec.volume_refs, rec.terminating) == ("", "", (), False)


def _running_pod(name: str, count: int) -> dict[str, Any]:
    """Pod `name` with `count` ready containers c0..c{count-1}, started a minute apart."""
    p = pod(name, ready=True)
    spec0, status0 = p["spec"]["containers"][0], p["status"]["containerStatuses"][0]
    p["spec"]["containers"] = [{**spec0, "name": f"c{i}"} for i in range(count)]
    p["status"]["containerStatuses"] = [
        {**status0, "name": f"c{i}", "state": {"running": {"startedAt": f"2024-01-01T00:1{i}:00Z"}}}
        for i in range(count)
    ]
    return p


def test_a_pod_of_several_running_containers_shares_one_tuple_of_templates() -> None:
    """Each container reads back its own start; the templates are one tuple for the workload's pods."""
    a, b = parse_pod(_running_pod("multi-1", 3)), parse_pod(_running_pod("multi-2", 3))
    assert a.all_running and a.packed_containers is b.packed_containers and isinstance(a.since, tuple)
    assert [c.running_since for c in a.containers] == list(a.since)
    assert a.container(a.containers[2].name) == a.containers[2]


def test_pods_of_one_workload_share_what_they_have_alike() -> None:
    """Namespace, workload, restart policy and phase: one instance for a workload's pods, read by name."""
    a, b = parse_pod(pod("api-1", ready=True)), parse_pod(pod("api-2", ready=False))
    assert a.common is b.common
    assert (a.namespace, a.workload_kind, a.workload, a.restart_policy, a.phase) == (
        b.common.namespace, b.common.workload_kind, b.common.workload, b.common.restart_policy, b.common.phase)
    pending = parse_pod(pod("api-3", phase="Pending"))
    assert pending.common is not a.common and (pending.phase, pending.workload) == ("Pending", "api")


def test_a_crashing_pod_reads_its_details_through_the_same_names() -> None:
    """A crashing, terminating, dual-stack pod, and a wide one that restarted, keep their own records."""
    p = crashing("api-1", 2)
    p["metadata"]["deletionTimestamp"] = "2024-01-01T00:11:00Z"
    p["status"].update(podIP="10.1.2.3", podIPs=[{"ip": "10.1.2.3"}, {"ip": "fd00::3"}])
    rec = parse_pod(p)
    c = rec.containers[0]
    assert not rec.all_running and rec.packed_containers is c
    assert rec.terminating and rec.pod_ips == ("10.1.2.3", "fd00::3")
    assert c.detail is not NO_CONTAINER_DETAIL and c.waiting is not None and c.last_terminated is not None
    assert c.spec is not None and c.reported
    wide = parse_pod(many_containers("wide-1", 3, 1))
    assert isinstance(wide.packed_containers, tuple) and len(wide.containers) == 3 and wide.since is None
    first = wide.with_containers(wide.containers[:1])
    assert first.packed_containers == wide.containers[0] and first.containers == wide.containers[:1]


def test_equal_pods_build_equal_records() -> None:
    """Packing is one rule, so a pod parsed twice gives equal records (what `_unchanged` compares)."""
    for p in (pod("api-1", ready=True), crashing("api-1", 2), many_containers("wide-1", 3, 1)):
        assert parse_pod(p) == parse_pod(copy.deepcopy(p))
        assert parse_pod(msgspec.json.encode(p)) == parse_pod(msgspec.json.encode(p))
