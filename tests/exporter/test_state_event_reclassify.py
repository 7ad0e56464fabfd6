"""Live: an event that explains a failure reclassifies its pod, with or without an earlier finding."""

from __future__ import annotations

from typing import Any

from crashloop_exporter.classify import DEFAULT_RULES
from crashloop_exporter.settings import Settings
from crashloop_exporter.state import ClusterState
from tests.support.clusterstate import Clock

from .podgen import pod

_MOUNT = 'MountVolume.SetUp failed for volume "config" : configmap "api-config" not found'


def _state() -> ClusterState:
    settings = Settings(new_series_holdback=0.0, no_logs=True)
    return ClusterState(settings=settings, rules=DEFAULT_RULES, request_logs=lambda _r: None, clock=Clock())


def _creating() -> dict[str, Any]:
    """Created 10 s before the clock's start."""
    return pod("api-1", waiting=("ContainerCreating", ""), created="2024-01-01T00:09:50Z", phase="Pending")


def _failed_mount(count: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"api-1.{count}", "namespace": "production", "creationTimestamp": "2024-01-01T00:09:55Z"},
        "involvedObject": {"kind": "Pod", "name": "api-1", "namespace": "production", "uid": "uid-api-1"},
        "reason": "FailedMount",
        "type": "Warning",
        "message": _MOUNT,
        "count": count,
        "lastTimestamp": "2024-01-01T00:09:58Z",
    }


def _relist(state: ClusterState, resource: str, *objs: dict[str, Any]) -> None:
    state.relist_begin(resource)
    for o in objs:
        state.relist_item(resource, o)
    state.relist_end(resource)


def _causes(state: ClusterState) -> list[tuple[str, bool, str]]:
    return [(f.cause, f.failing, f.reason) for f in state.all_findings()]


def test_failed_mount_after_the_pod_reclassifies_a_pod_without_a_finding() -> None:
    """A young pod in ContainerCreating has no finding; its first FailedMount makes it missing_configmap."""
    state = _state()
    _relist(state, "events")
    _relist(state, "pods", _creating())
    assert _causes(state) == []
    state.event("events", "ADDED", _failed_mount())
    assert _causes(state) == [("missing_configmap", True, "ContainerCreating")], _causes(state)


def test_failed_mount_before_the_pod_classifies_it_on_arrival() -> None:
    """A FailedMount that arrives before its pod is kept and decides the pod's cause when it arrives."""
    state = _state()
    _relist(state, "pods")
    state.event("events", "ADDED", _failed_mount())
    assert _causes(state) == []
    state.event("pods", "ADDED", _creating())
    assert _causes(state) == [("missing_configmap", True, "ContainerCreating")], _causes(state)


def test_a_healthy_pods_normal_events_do_not_create_findings() -> None:
    """Pulled/Started events of a running pod leave it without a finding."""
    state = _state()
    _relist(state, "events")
    _relist(state, "pods", pod("api-1", ready=True))
    started = {**_failed_mount(), "reason": "Started", "type": "Normal", "message": "Started container api"}
    state.event("events", "ADDED", started)
    assert _causes(state) == []
