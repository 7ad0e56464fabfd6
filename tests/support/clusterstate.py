"""A ClusterState on a test clock, and the calls the watch layer makes into it.

The state tests (tests/exporter) and the decoder tests (tests/kube) drive the same ClusterState
the exporter runs, with logs off and the hold-back and kill-event grace at 0 unless a test sets
them, so that a counting rule shows at the death that triggers it.
"""

from __future__ import annotations

from typing import Any

from crashloop_exporter.classify import DEFAULT_RULES
from crashloop_exporter.parse import RawObject
from crashloop_exporter.settings import Settings
from crashloop_exporter.state import ClusterState, LogRequest

T0 = 1704067800.0  # 2024-01-01T00:10:00Z, just after the crash of tests/exporter/podgen.py's pods


class Clock:
    """The state's clock: `t` is set by the test."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def make_state(
    *, holdback: float = 0.0, logs: bool = False, grace: float = 0.0, **kw: Any
) -> tuple[ClusterState, Clock, list[LogRequest]]:
    """`grace`: `kill_event_grace`, 0 here so that the counting rules show at the death; the
    grace itself is tested in tests/exporter/test_state_kill_event_grace.py."""
    clock = Clock()
    requests: list[LogRequest] = []
    settings = Settings(new_series_holdback=holdback, no_logs=not logs, kill_event_grace=grace, **kw)
    state = ClusterState(settings=settings, rules=DEFAULT_RULES, request_logs=requests.append, clock=clock)
    return state, clock, requests


def initial_list(state: ClusterState, *pods: RawObject) -> None:
    """A pods LIST: the relist that starts (or restarts) a watch."""
    state.relist_begin("pods")
    for p in pods:
        state.relist_item("pods", p)
    state.relist_end("pods")


def counts(state: ClusterState) -> dict[tuple[str, str], float]:
    """crashes_total now, as (workload, cause) -> value."""
    return {(k.workload, k.cause): v for k, v in state.crashes.snapshot(now=state.now())}
