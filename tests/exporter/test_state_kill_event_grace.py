"""A death waits (at most `kill_event_grace`) for the Event that explains it; time-only finding changes.

The pod's terminated status and a probe kill's Killing Event come on two watches, in either order:
counted at the death with the status-only cause (sigkill, clean_exit), a liveness kill would be
booked under the wrong cause for good. And a finding that changes with time alone (a crash ten
minutes old) changes with no pod update to trigger it.
"""

from __future__ import annotations

from typing import Any

from crashloop_exporter.state import LogRequest
from tests.support.clusterstate import T0, counts, initial_list, make_state

from .podgen import crashing, pod

GRACE = 1.0


def _killing(probe: str = "liveness", *, at: str = "2024-01-01T00:09:59Z") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "api-1.killing", "namespace": "production", "creationTimestamp": at},
        "involvedObject": {"kind": "Pod", "name": "api-1", "namespace": "production", "uid": "uid-api-1",
                           "fieldPath": "spec.containers{api}"},
        "reason": "Killing",
        "type": "Normal",
        "message": f"Container api failed {probe} probe, will be restarted",
        "count": 1,
        "lastTimestamp": at,
    }


def test_a_kill_event_after_the_death_decides_its_cause_and_it_is_counted_once() -> None:
    state, clock, _ = make_state(grace=GRACE)
    initial_list(state, crashing("api-1", 1, exit_code=137))
    state.event("pods", "MODIFIED", crashing("api-1", 2, exit_code=137))
    assert counts(state) == {}, "an Event may still explain this death"
    assert state.pending_crashes == 1
    state.event("events", "ADDED", _killing())
    assert counts(state) == {("api", "liveness_probe"): 1.0}, "counted as soon as the Event decides it"
    clock.t += GRACE + 1
    state.tick()
    assert counts(state) == {("api", "liveness_probe"): 1.0} and state.pending_crashes == 0


def test_a_clean_exit_killed_by_a_startup_probe_is_not_a_clean_exit() -> None:
    state, _, _ = make_state(grace=GRACE)
    initial_list(state, crashing("api-1", 1, exit_code=0, reason="Completed"))
    state.event("pods", "MODIFIED", crashing("api-1", 2, exit_code=0, reason="Completed"))
    state.event("events", "ADDED", _killing("startup"))
    assert counts(state) == {("api", "startup_probe"): 1.0}


def test_with_no_event_the_death_is_counted_under_its_status_cause_once_the_grace_is_over() -> None:
    state, clock, _ = make_state(grace=GRACE)
    initial_list(state, crashing("api-1", 1, exit_code=137))
    state.event("pods", "MODIFIED", crashing("api-1", 2, exit_code=137))
    clock.t += GRACE / 2
    state.tick()
    assert counts(state) == {}
    clock.t += GRACE
    state.tick()
    assert counts(state) == {("api", "sigkill"): 1.0} and state.pending_crashes == 0
    state.event("events", "ADDED", _killing())  # too late: the count is never moved or doubled
    clock.t += GRACE + 1
    state.tick()
    assert counts(state) == {("api", "sigkill"): 1.0}


def test_an_event_first_or_a_decisive_status_counts_at_once() -> None:
    state, _, _ = make_state(grace=GRACE)
    initial_list(state, crashing("api-1", 1, exit_code=137))
    state.event("events", "ADDED", _killing())
    state.event("pods", "MODIFIED", crashing("api-1", 2, exit_code=137))
    assert counts(state) == {("api", "liveness_probe"): 1.0}
    state.event("pods", "MODIFIED", crashing("api-1", 3, exit_code=137, reason="OOMKilled",
                                             finished="2024-01-01T00:10:30Z"))
    assert counts(state) == {("api", "liveness_probe"): 1.0, ("api", "oomkilled"): 1.0}


def test_grace_zero_counts_at_the_death() -> None:
    state, _, _ = make_state(grace=0.0)
    initial_list(state, crashing("api-1", 1, exit_code=137))
    state.event("pods", "MODIFIED", crashing("api-1", 2, exit_code=137))
    assert counts(state) == {("api", "sigkill"): 1.0}


def test_a_log_answered_within_the_grace_still_waits_for_the_event() -> None:
    state, clock, requests = make_state(grace=GRACE, logs=True)
    initial_list(state, crashing("api-1", 1))
    requests.clear()
    state.event("pods", "MODIFIED", crashing("api-1", 2))
    assert len(requests) == 1
    req: LogRequest = requests[0]
    state.apply_logs(req, "panic: runtime error: index out of range\n")
    assert counts(state) == {} and state.pending_crashes == 1
    state.event("events", "ADDED", _killing())
    assert counts(state) == {("api", "liveness_probe"): 1.0} and state.pending_crashes == 0
    clock.t += GRACE + 1
    state.tick()
    assert counts(state) == {("api", "liveness_probe"): 1.0}


def test_a_log_answered_within_the_grace_is_counted_under_its_cause_when_no_event_comes() -> None:
    state, clock, requests = make_state(grace=GRACE, logs=True)
    initial_list(state, crashing("api-1", 1))
    requests.clear()
    state.event("pods", "MODIFIED", crashing("api-1", 2))
    state.apply_logs(requests[0], "panic: runtime error: index out of range\n")
    clock.t += GRACE + 1
    state.tick()
    assert counts(state) == {("api", "app_crash"): 1.0} and state.pending_crashes == 0


def _failing(state: Any) -> list[tuple[str, bool]]:
    return [(f.cause, f.failing) for f in state.all_findings()]


def test_a_crash_older_than_ten_minutes_stops_failing_without_a_pod_update() -> None:
    state, clock, _ = make_state()
    initial_list(state, pod("api-1", restarts=1, ready=True, last_exit=(137, "OOMKilled")))
    assert _failing(state) == [("oomkilled", True)]
    clock.t = T0 + 599
    state.tick()
    assert _failing(state) == [("oomkilled", True)]
    clock.t = T0 + 601
    state.tick()
    assert [f for _, f in _failing(state)] in ([], [False]), _failing(state)


def test_a_start_stuck_for_ten_minutes_becomes_failing_without_a_pod_update() -> None:
    state, clock, _ = make_state()
    initial_list(state, pod("api-1", waiting=("ContainerCreating", ""), created="2024-01-01T00:09:50Z",
                            phase="Pending"))
    assert not any(f for _, f in _failing(state))
    clock.t = T0 + 590 + 1
    state.tick()
    assert any(f for _, f in _failing(state)), _failing(state)


def test_a_loop_dying_faster_than_the_grace_is_counted_by_the_first_deadline() -> None:
    state, clock, _ = make_state(grace=GRACE)
    initial_list(state, crashing("api-1", 1, exit_code=137))
    state.event("pods", "MODIFIED", crashing("api-1", 2, exit_code=137))
    clock.t += GRACE * 0.6
    state.event("pods", "MODIFIED", crashing("api-1", 3, exit_code=137, finished="2024-01-01T00:10:01Z"))
    clock.t += GRACE * 0.6
    state.tick()
    assert counts(state) == {("api", "sigkill"): 2.0} and state.pending_crashes == 0
