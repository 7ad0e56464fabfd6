"""ClusterState applies one wide pod in steps: the event loop runs between them, what runs in
between sees a whole state, and the counts stay exact (issue 12, defect 1)."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from crashloop_exporter.serve.app import StateHandler
from crashloop_exporter.state import ClusterState
from crashloop_exporter.state.cluster import CONTAINERS_PER_STEP
from tests.support.clusterstate import initial_list, make_state

from .podgen import many_containers

WIDE = 2000
LOG = "Traceback (most recent call last):\n  File \"app.py\", line 3\nConnectionRefusedError: [Errno 111] refused\n"


def _by_cause(state: ClusterState) -> dict[str, float]:
    """Crashes counted, summed over the containers, by cause."""
    out: dict[str, float] = {}
    for key, value in state.crashes.snapshot(now=state.now()):
        out[key.cause] = out.get(key.cause, 0.0) + value
    return out


def _whole(state: ClusterState, *, old: int, new: int) -> tuple[int, float]:
    """Check what a scrape between two steps would read; (findings of the new run, crashes counted)."""
    findings = state.all_findings()
    assert len(findings) == WIDE, "a container lost its finding between two steps"
    assert len({f.container for f in findings}) == WIDE
    runs = [f.restarts for f in findings]
    assert set(runs) <= {old, new}, f"a finding of neither run: {set(runs) - {old, new}}"
    return runs.count(new), sum(_by_cause(state).values())


def _event(name: str, *, container: str = "") -> dict[str, Any]:
    involved: dict[str, Any] = {"kind": "Pod", "name": "api-1", "namespace": "production", "uid": "uid-api-1"}
    if container:
        involved["fieldPath"] = f"spec.containers{{{container}}}"
    return {
        "metadata": {"name": f"api-1.{name}", "namespace": "production"},
        "involvedObject": involved,
        "reason": "BackOff",
        "message": "Back-off restarting failed container",
        "type": "Warning",
        "count": 3,
        "lastTimestamp": "2024-01-01T00:09:59Z",
    }


def test_a_crash_wave_of_a_wide_pod_is_applied_in_steps_with_a_whole_state_between() -> None:
    """A MODIFIED restarting 2000 containers takes many steps; between two, every container has its
    old or its new finding, and exactly the containers showing the new run have been counted."""
    state, _, _ = make_state()
    initial_list(state, many_containers("api-1", WIDE, 1))
    steps = 0
    for _ in state.event_steps("pods", "MODIFIED", many_containers("api-1", WIDE, 2)):
        steps += 1
        shown, counted = _whole(state, old=1, new=2)
        assert counted == shown, f"{counted} crashes counted while {shown} findings show the new run"
    assert steps >= WIDE // CONTAINERS_PER_STEP - 1
    assert _whole(state, old=1, new=2) == (WIDE, WIDE)
    assert _by_cause(state) == {"app_crash": float(WIDE)}


def test_log_answers_between_steps_keep_the_counts_exact() -> None:
    """Log answers arriving while a wide crash wave is applied count every crash once, under the log's cause."""
    state, _, requests = make_state(logs=True)
    initial_list(state, many_containers("api-1", WIDE, 1))
    requests.clear()  # first sight: a baseline, nothing waits for these
    answered = 0
    for _ in state.event_steps("pods", "MODIFIED", many_containers("api-1", WIDE, 2)):
        shown, counted = _whole(state, old=1, new=2)
        assert counted + state.pending_crashes == shown
        for req in requests[answered:]:
            state.apply_logs(req, LOG)
        answered = len(requests)
    for req in requests[answered:]:
        state.apply_logs(req, LOG)
    assert len(requests) == WIDE and state.pending_crashes == 0
    assert _by_cause(state) == {"dependency_unavailable": float(WIDE)}


def test_a_pod_deleted_between_steps_of_a_reclassification_leaves_no_finding() -> None:
    """A pod-wide Event reclassifies a wide pod in steps; deleting the pod meanwhile leaves no ghost series."""
    state, _, _ = make_state()
    state.relist_begin("events")
    state.relist_end("events")
    initial_list(state, many_containers("api-1", WIDE, 1))
    steps = state.event_steps("events", "ADDED", _event("backoff"))
    next(steps)
    state.event("pods", "DELETED", many_containers("api-1", WIDE, 1))
    for _ in steps:
        pass
    assert state.all_findings() == [] and state.findings == {}


def test_one_containers_event_is_one_step() -> None:
    """An Event naming one container of a wide pod re-evaluates that container in one step."""
    state, _, _ = make_state()
    state.relist_begin("events")
    state.relist_end("events")
    initial_list(state, many_containers("api-1", WIDE, 1))
    assert list(state.event_steps("events", "ADDED", _event("c7", container="c7"))) == []
    assert len(state.all_findings()) == WIDE


async def test_the_event_loop_runs_other_tasks_between_the_steps_of_a_wide_pod() -> None:
    """Through the watch handler, another task runs many times during one 2000-container MODIFIED,
    and each time it sees a whole state; the counts are exact at the end."""
    state, _, _ = make_state()
    initial_list(state, many_containers("api-1", WIDE, 1))
    handler = StateHandler(state)
    turns = 0
    done = asyncio.Event()

    async def scraper() -> None:
        nonlocal turns
        while not done.is_set():
            shown, counted = _whole(state, old=1, new=2)
            assert counted == shown
            turns += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(scraper())
    await asyncio.sleep(0)
    before = turns
    await handler.event("pods", "MODIFIED", msgspec.Raw(msgspec.json.encode(many_containers("api-1", WIDE, 2))))
    during = turns - before
    done.set()
    await task
    assert during >= WIDE // CONTAINERS_PER_STEP - 1, f"the loop ran other tasks {during} times"
    assert _by_cause(state) == {"app_crash": float(WIDE)}
