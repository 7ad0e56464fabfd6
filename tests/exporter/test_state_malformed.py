"""One malformed pod update must not change `crashloop_crashes_total` (issue 12, defect 3).

A status the exporter cannot read is not a reset of the restart baseline: the container keeps the
baseline of its last readable status while its pod lives. A restartCount that is not a
non-negative int32 makes the whole object a counted, logged skip. A restartCount that goes
backwards (the kubelet lost its state) is a new baseline, never a negative or huge delta.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.clusterstate import counts, initial_list, make_state

from .podgen import crashing, pod

Mutation = Callable[[dict[str, Any]], None]


def _status_null(p: dict[str, Any]) -> None:
    p["status"] = None


def _status_missing(p: dict[str, Any]) -> None:
    del p["status"]


def _statuses_empty(p: dict[str, Any]) -> None:
    p["status"]["containerStatuses"] = []


def _statuses_missing(p: dict[str, Any]) -> None:
    del p["status"]["containerStatuses"]


def _statuses_null(p: dict[str, Any]) -> None:
    p["status"]["containerStatuses"] = None


UNREADABLE_STATUS: dict[str, Mutation] = {
    "status-null": _status_null,
    "status-missing": _status_missing,
    "containerStatuses-empty": _statuses_empty,
    "containerStatuses-missing": _statuses_missing,
    "containerStatuses-null": _statuses_null,
}

BAD_RESTART_COUNTS: dict[str, object] = {
    "minus-one": -1,
    "int64-max": 2**63 - 1,
    "int32-max-plus-one": 2**31,
    "string": "5",
    "float": 5.0,
    "bool": True,
    "null": None,
}


def _malformed(restarts: int, mutate: Mutation, name: str = "api-1") -> dict[str, Any]:
    p = crashing(name, restarts)
    mutate(p)
    return p


@pytest.mark.parametrize("mutate", UNREADABLE_STATUS.values(), ids=UNREADABLE_STATUS.keys())
def test_unreadable_status_keeps_the_restart_baseline(mutate: Mutation) -> None:
    """After an update without container statuses, the next normal update counts only the new restart."""
    state, _, _ = make_state()
    initial_list(state, crashing("api-1", 3))
    state.event("pods", "MODIFIED", _malformed(3, mutate))
    state.event("pods", "MODIFIED", crashing("api-1", 4))
    assert counts(state) == {("api", "app_crash"): 1.0}


@pytest.mark.parametrize("mutate", UNREADABLE_STATUS.values(), ids=UNREADABLE_STATUS.keys())
def test_unreadable_status_keeps_the_failing_container(mutate: Mutation) -> None:
    """An update without container statuses does not make a crash-looping container look healthy."""
    state, _, _ = make_state()
    initial_list(state, crashing("api-1", 3))
    state.event("pods", "MODIFIED", _malformed(3, mutate))
    [f] = state.all_findings()
    assert f.failing and f.reason == "CrashLoopBackOff" and f.restarts == 3


def test_container_missing_from_one_update_is_not_forgotten() -> None:
    """A sidecar whose status is absent from one update keeps its baseline; its earlier restarts stay uncounted."""
    state, _, _ = make_state()
    two = crashing("api-1", 3)
    sidecar = copy.deepcopy(two["status"]["containerStatuses"][0]) | {"name": "proxy", "restartCount": 6}
    two["spec"]["containers"].append({"name": "proxy", "image": "proxy:1"})
    two["status"]["containerStatuses"].append(sidecar)
    initial_list(state, two)
    only_api = copy.deepcopy(two)
    del only_api["status"]["containerStatuses"][1]
    state.event("pods", "MODIFIED", only_api)
    again = copy.deepcopy(two)
    again["status"]["containerStatuses"][1]["restartCount"] = 7
    state.event("pods", "MODIFIED", again)
    assert {k.container: v for k, v in state.crashes.snapshot(now=state.now())} == {"proxy": 1.0}


@pytest.mark.parametrize("as_bytes", [False, True], ids=["dict", "bytes"])
@pytest.mark.parametrize("value", BAD_RESTART_COUNTS.values(), ids=BAD_RESTART_COUNTS.keys())
def test_restart_count_outside_int32_is_a_counted_skip(
    value: object, as_bytes: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """restartCount must be a non-negative int32: otherwise the pod update is skipped, counted and logged once,
    whether the update comes as the API's bytes (the watch) or as a dict (a dump), and the line says where."""
    state, _, _ = make_state()
    initial_list(state, crashing("api-1", 3))
    bad = crashing("api-1", 3)
    bad["status"]["containerStatuses"][0]["restartCount"] = value
    with caplog.at_level(logging.WARNING, logger="crashloop_exporter.state.cluster"):
        state.event("pods", "MODIFIED", msgspec.json.encode(bad) if as_bytes else bad)
    state.event("pods", "MODIFIED", crashing("api-1", 4))
    assert counts(state) == {("api", "app_crash"): 1.0}
    assert state.skipped[("pods", "malformed")] == 1
    [line] = [r.getMessage() for r in caplog.records]
    assert "production/api-1" in line and "restartCount" in line, line
    # A value of the wrong type is refused by the decoder, which names the path; one out of range
    # by the range check, which names the container.
    assert "container api" in line or "$.status.containerStatuses[0].restartCount" in line, line


def test_restart_count_missing_is_a_counted_skip() -> None:
    """The apiserver always writes restartCount (int32, no omitempty); a status without it is skipped."""
    state, _, _ = make_state()
    initial_list(state, crashing("api-1", 3))
    bad = crashing("api-1", 3)
    del bad["status"]["containerStatuses"][0]["restartCount"]
    state.event("pods", "MODIFIED", bad)
    state.event("pods", "MODIFIED", crashing("api-1", 4))
    assert counts(state) == {("api", "app_crash"): 1.0}
    assert state.skipped[("pods", "malformed")] == 1


def test_largest_int32_restart_count_is_accepted() -> None:
    """2**31-1 is still a valid restartCount: the pod is tracked, not skipped."""
    state, _, _ = make_state()
    initial_list(state, crashing("api-1", 2**31 - 1))
    assert state.skipped == {} and len(state.pods) == 1


def test_restart_count_going_backwards_is_a_new_baseline() -> None:
    """restartCount 5 -> 2 for the same containerID counts nothing; 2 -> 3 then counts one crash."""
    state, _, _ = make_state()

    def with_id(p: dict[str, Any]) -> dict[str, Any]:
        p["status"]["containerStatuses"][0]["containerID"] = "containerd://abc"
        return p

    initial_list(state, with_id(crashing("api-1", 5)))
    state.event("pods", "MODIFIED", with_id(crashing("api-1", 2)))
    assert counts(state) == {}
    state.event("pods", "MODIFIED", with_id(crashing("api-1", 3)))
    assert counts(state) == {("api", "app_crash"): 1.0}


def test_malformed_pod_in_a_relist_is_not_taken_for_deleted() -> None:
    """A relist whose copy of a pod is malformed keeps the pod: its crashes during the relist still count."""
    state, _, _ = make_state()
    initial_list(state, crashing("api-1", 3))
    bad = crashing("api-1", 4)
    bad["status"]["containerStatuses"][0]["restartCount"] = -1
    initial_list(state, bad)
    assert set(state.pods) == {"uid-api-1"}
    state.event("pods", "MODIFIED", crashing("api-1", 4))
    assert counts(state) == {("api", "app_crash"): 1.0}


def test_pending_pod_without_statuses_still_counts_its_first_failed_start() -> None:
    """A pod that never had container statuses is unaffected: its first CreateContainerConfigError counts once."""
    state, _, _ = make_state()
    fresh = pod("api-1")
    del fresh["status"]["containerStatuses"]
    initial_list(state, fresh)
    for _ in range(2):
        state.event("pods", "MODIFIED", pod("api-1", waiting=("CreateContainerConfigError", 'secret "db" not found')))
    assert counts(state) == {("api", "missing_secret"): 1.0}


# ---- property: no generated malformed update changes the count -------------------------------


def _set(path: tuple[str | int, ...], value: object) -> Mutation:
    def mutate(p: dict[str, Any]) -> None:
        target: Any = p
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return mutate


def _drop(path: tuple[str | int, ...]) -> Mutation:
    def mutate(p: dict[str, Any]) -> None:
        target: Any = p
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return mutate


_STATUS = ("status",)
_STATUSES = ("status", "containerStatuses")
_FIRST = ("status", "containerStatuses", 0)
_junk = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=4), st.just([]), st.just({}))
_bad_count = st.one_of(
    st.integers(max_value=-1),
    st.integers(min_value=2**31),
    st.just(2**63 - 1),
    st.floats(),
    st.booleans(),
    st.none(),
    st.text(max_size=6),
)
_bad_entry: st.SearchStrategy[object] = st.one_of(
    st.none(), st.integers(), st.text(max_size=4), st.just({}), st.just({"name": "api"})
)
MALFORMED: st.SearchStrategy[Mutation] = st.one_of(
    st.sampled_from(list(UNREADABLE_STATUS.values())),
    _junk.filter(lambda v: not isinstance(v, dict)).map(lambda v: _set(_STATUS, v)),
    _junk.filter(lambda v: v is not None and not isinstance(v, list)).map(lambda v: _set(_STATUSES, v)),
    _bad_entry.map(lambda v: _set(_STATUSES, [v])),
    _bad_count.map(lambda v: _set((*_FIRST, "restartCount"), v)),
    st.just(_drop((*_FIRST, "restartCount"))),
    _junk.filter(lambda v: v is not None and not isinstance(v, dict)).map(lambda v: _set((*_FIRST, "state"), v)),
    _junk.filter(lambda v: v is not None and not isinstance(v, dict)).map(lambda v: _set((*_FIRST, "lastState"), v)),
)
"""Mutations of a good pod's status fields that leave no readable restartCount for its container."""


@st.composite
def _history(draw: st.DrawFn) -> tuple[int, list[tuple[int, list[Mutation], bool, bool]]]:
    """(dead runs at first sight, [(deaths added, malformed updates before it, running?, relist?)])."""
    base = draw(st.integers(0, 50))
    steps = draw(
        st.lists(
            st.tuples(st.integers(0, 3), st.lists(MALFORMED, max_size=3), st.booleans(), st.booleans()),
            max_size=10,
        )
    )
    return base, steps


def _good(dead: int, *, running: bool) -> dict[str, Any]:
    """The container after `dead` deaths: restarted and running again, or waiting in back-off
    after the last one (restartCount one less: the kubelet raises it at the restart)."""
    if running or not dead:
        return pod("api-1", restarts=dead, ready=True, last_exit=(1, "Error") if dead else None)
    return crashing("api-1", dead - 1)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_history())
def test_malformed_updates_never_change_the_crash_count(history: tuple[int, list[Any]]) -> None:
    """Valid updates of a container that dies N times, interleaved with malformed ones, count exactly N."""
    base, steps = history
    state, _, _ = make_state()
    initial_list(state, _good(base, running=False))
    dead = base
    for added, malformed, running, relist in steps:
        for mutate in malformed:
            bad = _good(dead, running=running)
            mutate(bad)
            if relist:
                initial_list(state, bad)
            else:
                state.event("pods", "MODIFIED", bad)
        dead += added
        if relist:
            initial_list(state, _good(dead, running=running))
        else:
            state.event("pods", "MODIFIED", _good(dead, running=running))
    assert state.crashes.total() == dead - base
    assert set(state.pods) == {"uid-api-1"}


@pytest.mark.parametrize("mutate", UNREADABLE_STATUS.values(), ids=UNREADABLE_STATUS.keys())
def test_unreadable_status_of_a_healthy_pod_keeps_its_running_container(mutate: Mutation) -> None:
    """A healthy pod (its container kept as a shared template) keeps its running container through an
    update without statuses, and its crashes after it count as if that update never came."""
    counted = []
    for blank_update in (False, True):
        state, _, _ = make_state()
        healthy = pod("api-1", ready=True)
        initial_list(state, healthy)
        before = state.pods["uid-api-1"].containers
        if blank_update:
            blank = copy.deepcopy(healthy)
            mutate(blank)
            state.event("pods", "MODIFIED", blank)
            assert state.pods["uid-api-1"].containers == before
        state.event("pods", "MODIFIED", crashing("api-1", 1))
        counted.append(counts(state))
    assert counted[0] == counted[1] != {}
