"""ClusterState per run and per container: a log's verdict stays with its run, and one log answer
costs the same on a pod with 1000 containers as on a pod with one (issue 12, defects 1 and 8)."""

from __future__ import annotations

from typing import Any

import pytest

from crashloop_exporter.classify import engine
from crashloop_exporter.findings import Finding
from tests.support.clusterstate import initial_list, make_state

from .podgen import crashing, many_containers

LOG = "Traceback (most recent call last):\n  File \"app.py\", line 3\nRuntimeError: payment gateway refused the key\n"
LOG_LINE = "RuntimeError: payment gateway refused the key"


def _log_lines(f: Finding) -> list[str]:
    return [e.detail for e in f.evidence if e.source == "log"]


def _event(reason: str, message: str) -> dict[str, Any]:
    return {
        "metadata": {"name": f"api-1.{reason.lower()}", "namespace": "production"},
        "involvedObject": {
            "kind": "Pod",
            "name": "api-1",
            "namespace": "production",
            "uid": "uid-api-1",
            "fieldPath": "spec.containers{api}",
        },
        "reason": reason,
        "message": message,
        "type": "Warning",
        "count": 3,
        "lastTimestamp": "2024-01-01T00:09:59Z",
    }


def _state_after_log() -> Any:
    state, clock, requests = make_state(logs=True)
    initial_list(state, crashing("api-1", 1))
    state.apply_logs(requests[0], LOG)
    [f] = state.all_findings()
    assert f.cause == "app_crash" and LOG_LINE in _log_lines(f)
    return state, clock, requests


def test_relist_of_the_unchanged_pod_keeps_the_log_evidence() -> None:
    """A relist that brings the same pod back keeps the log line the run's log gave."""
    state, _, _ = _state_after_log()
    initial_list(state, crashing("api-1", 1))
    [f] = state.all_findings()
    assert LOG_LINE in _log_lines(f)


def test_modified_event_with_the_same_container_state_keeps_the_log_evidence() -> None:
    """A MODIFIED event of the same run (same restartCount and termination) keeps the log line."""
    state, _, _ = _state_after_log()
    state.event("pods", "MODIFIED", crashing("api-1", 1))
    [f] = state.all_findings()
    assert LOG_LINE in _log_lines(f)


def test_new_event_about_the_pod_keeps_the_log_evidence() -> None:
    """A BackOff Event about the pod reclassifies it without forgetting what the log said."""
    state, _, _ = _state_after_log()
    state.relist_begin("events")
    state.relist_end("events")
    state.event("events", "ADDED", _event("BackOff", "Back-off restarting failed container api in pod api-1"))
    [f] = state.all_findings()
    assert LOG_LINE in _log_lines(f)


def test_a_new_run_drops_the_old_runs_log_evidence() -> None:
    """After the container restarts, the previous run's log line no longer explains the new run."""
    state, _, requests = _state_after_log()
    state.event("pods", "MODIFIED", crashing("api-1", 2))
    [f] = state.all_findings()
    assert LOG_LINE not in _log_lines(f)
    assert requests[-1].restart_count == 2


def test_one_log_answer_classifies_one_container_of_a_1000_container_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    """A log answer on a pod with 1000 crash-looping containers re-evaluates O(1) containers."""
    calls: list[str] = []
    real = engine._classify_container

    def counting(pod: Any, c: Any, **kw: Any) -> Finding | None:
        calls.append(c.name)
        return real(pod, c, **kw)

    monkeypatch.setattr(engine, "_classify_container", counting)
    state, _, requests = make_state(logs=True)
    initial_list(state, many_containers("api-1", 1000, 1))
    assert len(requests) == 1000 and len(state.all_findings()) == 1000
    calls.clear()
    for req in requests:
        state.apply_logs(req, f"{LOG}{req.container}\n")
    assert len(calls) <= 2 * len(requests), f"{len(calls)} container classifications for {len(requests)} answers"
    findings = {f.container: f for f in state.all_findings()}
    assert len(findings) == 1000
    assert all(f.cause == "app_crash" and LOG_LINE in _log_lines(f) for f in findings.values())
    # A pod update in which every container restarted is one classification per container.
    calls.clear()
    state.event("pods", "MODIFIED", many_containers("api-1", 1000, 2))
    assert len(calls) <= 1000
