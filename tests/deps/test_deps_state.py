"""The exporter's state gives the same `dependency` as `diagnose --dump`, and keeps it current."""

from __future__ import annotations

import copy
from typing import Any

from crashloop_exporter.classify import DEFAULT_RULES
from crashloop_exporter.deps.records import parse_pod_address, parse_service, slices_from_selectors
from crashloop_exporter.settings import Settings
from crashloop_exporter.state import ClusterState, LogRequest
from tests.cli import dumps as k
from tests.deps import chainfixtures as fx

NOW = 1710468900.0  # 2024-03-15T02:15:00Z


def _slice_objects() -> list[dict[str, Any]]:
    svcs = [parse_service(s) for s in fx.services()]
    pods = [parse_pod_address(p) for p in fx.pods()]
    ips = {(p.namespace, p.name): list(p.ips) for p in pods}
    slices = slices_from_selectors(svcs, pods)
    label = "kubernetes.io/service-name"
    return [{"metadata": {"name": s.name, "namespace": s.namespace, "labels": {label: s.service}},
             "addressType": "IPv4",
             "endpoints": [{"addresses": ips[(s.namespace, e.pod)], "hostname": e.hostname or None,
                            "targetRef": {"kind": "Pod", "name": e.pod, "namespace": s.namespace}}
                           for e in s.endpoints]} for s in slices]


def _state() -> ClusterState:
    requests: list[LogRequest] = []
    state = ClusterState(settings=Settings(), rules=DEFAULT_RULES, request_logs=requests.append, clock=lambda: NOW)
    for s in fx.services():
        state.event("services", "ADDED", s)
    for s in _slice_objects():
        state.event("endpointslices", "ADDED", s)
    for p in fx.pods():
        state.event("pods", "ADDED", p)
    logs = fx.logs()
    for req in requests:
        state.apply_logs(req, logs.get((req.namespace, req.pod, req.container)))
    return state


def _deps(state: ClusterState) -> dict[str, Any]:
    return {f.container: f.to_json()["dependency"] for f in state.all_findings() if f.cause == "dependency_unavailable"}


def test_state_gives_the_dump_s_dependencies() -> None:
    """Watched Services/EndpointSlices/pods resolve every fixture to the same dependency as the dump."""
    assert _deps(_state()) == fx.EXPECTED


def test_root_recovering_clears_dependents_on_the_next_event() -> None:
    """auth gets its Secret and runs: orders and reporter no longer point at a failing root, at once."""
    state = _state()
    auth = next(p for p in fx.pods() if p["metadata"]["labels"]["app"] == "auth")
    healthy = copy.deepcopy(auth)
    healthy["status"]["containerStatuses"] = [k.status("auth", ready=True, running_since="2024-03-15T02:14:50Z")]
    state.event("pods", "MODIFIED", healthy)
    deps = _deps(state)
    assert deps["orders"]["failing"] is False and deps["orders"]["cause"] is None
    assert deps["reporter"]["root"] is None
    assert deps["reporter"]["cause"] == "dependency_unavailable"  # orders still crashes until it restarts


def test_no_dependencies_setting_keeps_today_s_findings() -> None:
    """--no-dependencies: dependency null everywhere."""
    state = ClusterState(settings=Settings(no_dependencies=True), rules=DEFAULT_RULES, clock=lambda: NOW)
    for p in fx.pods():
        state.event("pods", "ADDED", p)
    assert all(f.dependency is None for f in state.all_findings())
