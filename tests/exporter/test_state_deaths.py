"""A crash is counted when the container dies, not a back-off later when the kubelet restarts it
(issue 13): each death once, in the kubelet's real order, across gaps, relists and restarts."""

from __future__ import annotations

import copy
from typing import Any, Literal

import pytest

from crashloop_exporter.catalog import CauseId
from crashloop_exporter.state.cluster import LOG_WAIT_SECONDS
from tests.support.clusterstate import counts, initial_list, make_state

from .podgen import pod

Phase = Literal["running", "terminated", "backoff"]
LOG = "Traceback (most recent call last):\n  File \"app.py\", line 3\nRuntimeError: payment gateway refused the key\n"


def _ts(run: int, *, end: bool) -> str:
    """Run `run` starts at minute 2*run and dies a minute later (each run its own times)."""
    minute = 2 * run + (1 if end else 0)
    return f"2024-01-01T01:{minute:02d}:00Z"


def _term(run: int, exit_code: int = 1) -> dict[str, Any]:
    return {
        "exitCode": exit_code,
        "reason": "Error" if exit_code else "Completed",
        "startedAt": _ts(run, end=False),
        "finishedAt": _ts(run, end=True),
        "containerID": f"containerd://{run:064x}",
    }


def at(run: int, step: Phase, *, init: bool = False, exit_code: int = 1, **kw: Any) -> dict[str, Any]:
    """Pod api-1 with its container's run number `run` (0-based) in the kubelet's order:
    `running` (restartCount run, lastState the run before), `terminated` (the run exited,
    restartCount unchanged, lastState still the run before), `backoff` (waiting CrashLoopBackOff,
    restartCount unchanged, lastState the run that died)."""
    p = pod("api-1", **kw)
    st = p["status"]["containerStatuses"][0]
    st["restartCount"] = run
    st["containerID"] = f"containerd://{run:064x}"
    st["lastState"] = {"terminated": _term(run - 1)} if run else {}
    if step == "running":
        st["state"] = {"running": {"startedAt": _ts(run, end=False)}}
        st["ready"] = not init
    elif step == "terminated":
        st["state"] = {"terminated": _term(run, exit_code)}
    else:
        st["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed"}}
        st["lastState"] = {"terminated": _term(run, exit_code)}
    if init:
        # The same container as the pod's only init container; the app waits for it.
        spec = p["spec"]["containers"][0]
        p["spec"]["initContainers"] = [copy.deepcopy(spec) | {"name": "migrate"}]
        p["status"]["initContainerStatuses"] = [st | {"name": "migrate"}]
        p["status"]["containerStatuses"] = [
            {"name": "api", "restartCount": 0, "ready": False, "image": "api:1",
             "state": {"waiting": {"reason": "PodInitializing"}}}
        ]
        p["status"]["phase"] = "Pending"
    return p


def _ended(exit_code: int, reason: str, message: str) -> dict[str, Any]:
    """Run 0 terminated with `exit_code` on a pod the kubelet ended (phase Failed, its reason)."""
    p = at(0, "terminated", exit_code=exit_code, phase="Failed")
    p["status"]["reason"] = reason
    p["status"]["message"] = message
    return p


def _total(state: Any) -> float:
    return float(state.crashes.total())


def test_a_death_is_counted_when_the_run_exits_not_at_the_restart() -> None:
    """terminated (restartCount unchanged) counts the crash; back-off and restart add nothing."""
    state, _, _ = make_state()
    initial_list(state, at(3, "running"))
    state.event("pods", "MODIFIED", at(3, "terminated"))
    assert counts(state) == {("api", "app_crash"): 1.0}
    state.event("pods", "MODIFIED", at(3, "backoff"))
    state.event("pods", "MODIFIED", at(4, "running"))
    assert counts(state) == {("api", "app_crash"): 1.0}


def test_a_death_seen_first_in_back_off_is_counted_there() -> None:
    """A coalesced update that skips state.terminated: CrashLoopBackOff with lastState = the dead run."""
    state, _, _ = make_state()
    initial_list(state, at(3, "running"))
    state.event("pods", "MODIFIED", at(3, "backoff"))
    assert _total(state) == 1.0
    state.event("pods", "MODIFIED", at(4, "running"))
    assert _total(state) == 1.0


def test_every_state_relisted_repeatedly_counts_each_death_once() -> None:
    """Relists and repeated MODIFIEDs of every state of three deaths count three, never more."""
    state, _, _ = make_state()
    initial_list(state, at(0, "running"))
    for run in range(3):
        for phase in ("terminated", "backoff"):
            initial_list(state, at(run, phase))
            state.event("pods", "MODIFIED", at(run, phase))
            initial_list(state, at(run, phase))
        initial_list(state, at(run + 1, "running"))
        state.event("pods", "MODIFIED", at(run + 1, "running"))
    assert _total(state) == 3.0


def test_a_death_seen_only_as_last_state_after_a_gap() -> None:
    """The death and its restart both fell in a watch gap: the relist shows only lastState."""
    state, _, _ = make_state()
    initial_list(state, at(3, "running"))
    initial_list(state, at(4, "running"))
    assert _total(state) == 1.0


def test_a_death_and_its_restart_inside_one_gap_and_the_next_death() -> None:
    """Before the gap: running; after it: dead again after a restart. Two deaths, counted once each."""
    state, _, _ = make_state()
    initial_list(state, at(3, "running"))
    initial_list(state, at(4, "backoff"))
    assert _total(state) == 2.0
    state.event("pods", "MODIFIED", at(5, "running"))
    assert _total(state) == 2.0


def test_a_counted_death_then_its_restart_and_the_next_death_in_one_gap() -> None:
    """Seen dead, then the gap hides the restart and the next run's death: one more, not two."""
    state, _, _ = make_state()
    initial_list(state, at(3, "running"))
    state.event("pods", "MODIFIED", at(3, "backoff"))
    initial_list(state, at(4, "terminated"))
    assert _total(state) == 2.0


def test_a_run_already_dead_at_first_sight_is_a_baseline() -> None:
    """Dead runs before the exporter first saw the pod are never counted, nor is their restart."""
    state, _, _ = make_state()
    initial_list(state, at(7, "backoff"))
    state.event("pods", "MODIFIED", at(8, "running"))
    assert _total(state) == 0.0
    state.event("pods", "MODIFIED", at(8, "terminated"))
    assert _total(state) == 1.0


def test_a_pod_deleted_while_dead_keeps_its_count_and_adds_nothing() -> None:
    """Dead, then deleted (deletionTimestamp, the kubelet's kill, DELETED): the death once, the kill never."""
    state, _, _ = make_state()
    initial_list(state, at(2, "running"))
    state.event("pods", "MODIFIED", at(2, "backoff"))
    assert _total(state) == 1.0
    dying = at(2, "terminated", exit_code=137)
    dying["metadata"]["deletionTimestamp"] = "2024-01-01T01:30:00Z"
    state.event("pods", "MODIFIED", dying)
    state.event("pods", "DELETED", dying)
    assert counts(state) == {("api", "app_crash"): 1.0}


def test_a_terminating_pods_killed_containers_are_never_counted() -> None:
    """A rollout deletes a running pod: its containers exit 143/137 while terminating, no crash."""
    state, _, _ = make_state()
    initial_list(state, at(0, "running"))
    dying = at(0, "terminated", exit_code=143)
    dying["metadata"]["deletionTimestamp"] = "2024-01-01T01:30:00Z"
    state.event("pods", "MODIFIED", dying)
    initial_list(state, dying)
    assert _total(state) == 0.0


def test_an_init_container_death_is_counted_at_death_and_its_completion_never() -> None:
    """An init container that fails, waits in back-off, restarts and then completes: one crash."""
    state, _, _ = make_state()
    initial_list(state, at(0, "running", init=True))
    state.event("pods", "MODIFIED", at(0, "terminated", init=True))
    assert counts(state) == {("api", "init_container_failed"): 1.0}
    [key] = [k for k, _ in state.crashes.snapshot(now=state.now())]
    assert (key.container, key.container_type) == ("migrate", "init")
    state.event("pods", "MODIFIED", at(0, "backoff", init=True))
    state.event("pods", "MODIFIED", at(1, "running", init=True))
    state.event("pods", "MODIFIED", at(1, "terminated", init=True, exit_code=0))
    assert _total(state) == 1.0


def test_a_first_clean_exit_under_always_is_counted_as_clean_exit_when_it_dies() -> None:
    """restartCount 0, exit 0 (Completed) under restartPolicy Always: the kubelet restarts it, so
    the death is a `clean_exit` crash at once and the container is failing (it used to be counted
    as `unknown`, with no finding, until a second exit); the restart adds nothing."""
    state, _, _ = make_state()
    initial_list(state, at(0, "running"))
    state.event("pods", "MODIFIED", at(0, "terminated", exit_code=0))
    assert counts(state) == {("api", CauseId.CLEAN_EXIT): 1.0}
    [finding] = state.all_findings()
    assert (finding.cause, finding.failing, finding.reason, finding.exit_code) == (
        CauseId.CLEAN_EXIT, True, "Completed", 0)
    state.event("pods", "MODIFIED", at(1, "running"))
    assert _total(state) == 1.0


@pytest.mark.parametrize("policy", ["OnFailure", "Never"])
def test_an_exit_0_that_is_not_restarted_is_no_crash_and_no_finding(policy: str) -> None:
    """The same exit 0 of a Job's container (OnFailure, Never): it completed, nothing to count."""
    state, _, _ = make_state()
    running = at(0, "running")
    running["spec"]["restartPolicy"] = policy
    done = at(0, "terminated", exit_code=0)
    done["spec"]["restartPolicy"] = policy
    initial_list(state, running)
    state.event("pods", "MODIFIED", done)
    assert _total(state) == 0.0 and not list(state.all_findings())


def test_an_exit_0_of_a_pod_a_node_shutdown_ended_is_no_crash() -> None:
    """Graceful node shutdown (the kubelet's own wording): the pod is Failed, Always or not, and
    its containers are never run again, so their exit 0 is not a `clean_exit` loop."""
    state, _, _ = make_state()
    initial_list(state, at(0, "running"))
    shut = _ended(0, "Terminated", "Pod was terminated in response to imminent node shutdown.")
    state.event("pods", "MODIFIED", shut)
    initial_list(state, shut)
    assert _total(state) == 0.0 and not [f for f in state.all_findings() if f.failing]


def test_an_eviction_counts_the_live_runs_it_kills_once() -> None:
    """Evicted while running: one node_pressure crash, however often the evicted pod is relisted."""
    state, _, _ = make_state()
    initial_list(state, at(0, "running"))
    evicted = _ended(137, "Evicted", "The node was low on resource: memory.")
    state.event("pods", "MODIFIED", evicted)
    initial_list(state, evicted)
    assert counts(state) == {("api", "node_pressure"): 1.0}


def test_the_dead_runs_log_is_fetched_at_death_as_the_current_log_once() -> None:
    """While state.terminated the dead run's log is the *current* log; its verdict then holds
    through the back-off and the restart, with no second fetch."""
    state, _, requests = make_state(logs=True)
    initial_list(state, at(3, "running"))
    requests.clear()  # the first sight of a container that crashed minutes ago
    state.event("pods", "MODIFIED", at(3, "terminated"))
    assert [(r.previous, r.run) for r in requests] == [(False, 4)]
    assert state.pending_crashes == 1 and _total(state) == 0.0
    state.apply_logs(requests[0], LOG)
    assert _total(state) == 1.0
    state.event("pods", "MODIFIED", at(3, "backoff"))
    state.event("pods", "MODIFIED", at(4, "running"))
    assert len(requests) == 1, requests
    [f] = state.all_findings()
    assert any("payment gateway" in e.detail for e in f.evidence if e.source == "log"), f.evidence


def test_a_current_log_fetch_still_out_at_the_restart_is_asked_again_as_previous() -> None:
    """The current-log answer may read the new run once it started: the previous log is asked for
    and the earlier answer is ignored; the crash is counted once, under the previous log's cause."""
    state, _, requests = make_state(logs=True)
    initial_list(state, at(3, "running"))
    requests.clear()
    state.event("pods", "MODIFIED", at(3, "terminated"))
    state.event("pods", "MODIFIED", at(4, "running"))
    assert [(r.previous, r.run) for r in requests] == [(False, 4), (True, 4)]
    state.apply_logs(requests[0], "starting up\n")  # stale: it may be the new run's
    assert state.pending_crashes == 1 and _total(state) == 0.0
    state.apply_logs(requests[1], "panic: DATABASE_URL environment variable is not set\n")
    assert counts(state) == {("api", "bad_config"): 1.0}
    assert state.pending_crashes == 0


def test_a_superseded_fetch_that_never_answers_is_still_counted() -> None:
    """Neither answer comes: the crash is flushed with the status cause after the log wait."""
    state, clock, requests = make_state(logs=True)
    initial_list(state, at(3, "running"))
    state.event("pods", "MODIFIED", at(3, "terminated"))
    state.event("pods", "MODIFIED", at(4, "running"))
    assert len(requests) == 3, "first sight, the death, the restart"
    clock.t += LOG_WAIT_SECONDS + 1
    state.tick()
    assert counts(state) == {("api", "app_crash"): 1.0}


def test_a_clean_exit_under_restart_policy_always_is_a_death_with_its_cause() -> None:
    """Exit 0 of a Deployment's container is a death (it will be restarted), counted as clean_exit."""
    state, _, _ = make_state()
    initial_list(state, at(1, "running"))
    state.event("pods", "MODIFIED", at(1, "terminated", exit_code=0))
    assert counts(state) == {("api", "clean_exit"): 1.0}
    state.event("pods", "MODIFIED", at(1, "backoff", exit_code=0))
    state.event("pods", "MODIFIED", at(2, "running"))
    assert counts(state) == {("api", "clean_exit"): 1.0}
