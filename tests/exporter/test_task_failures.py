"""A background task that dies is logged once and counted in crashloop_exporter_task_failures_total."""

from __future__ import annotations

import asyncio
import logging

import pytest

from crashloop_exporter.families import TASK_FAILURES
from crashloop_exporter.kube import WatchStats
from crashloop_exporter.serve.app import stats_families
from crashloop_exporter.serve.tasks import TASK_KINDS, TaskSupervisor
from tests.support.clusterstate import make_state
from tests.support.wait import wait_for

from .oracle import fast_renderer

WAIT_S = 5.0


async def _wait_for_failures(tasks: TaskSupervisor, kind: str, n: float) -> None:
    async def counted() -> bool:
        return tasks.failures()[(kind,)] >= n

    await wait_for(counted, what=f"{n:g} {kind} task failures", timeout=WAIT_S, interval=0.01,
                   details=lambda: f"failures: {tasks.failures()}")


async def _die() -> None:
    await asyncio.sleep(0)
    raise RuntimeError("watch stream handler bug")


async def _forever() -> None:
    await asyncio.Event().wait()


async def _dies_when_cancelled() -> None:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        raise OSError("socket already closed") from None


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "crashloop_exporter.serve.tasks"]


async def test_a_task_that_dies_is_counted_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    """The failure shows in the counter of its kind and in exactly one ERROR line with the traceback."""
    tasks = TaskSupervisor()
    assert tasks.failures() == {(k,): 0.0 for k in TASK_KINDS}
    tasks.spawn(_die(), kind="watch", name="watch /api/v1/pods")
    tasks.spawn(_forever(), kind="tick", name="tick")
    await _wait_for_failures(tasks, "watch", 1)
    errors = _errors(caplog)
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert "watch /api/v1/pods" in errors[0].getMessage() and "handler bug" in errors[0].getMessage()
    assert errors[0].exc_info is not None
    await tasks.stop()
    # The cancelled ticker is the normal way out: not a failure, and no second line.
    assert tasks.failures() == {("watch",): 1.0, ("tick",): 0.0, ("log_fetch",): 0.0}
    assert len(_errors(caplog)) == 1
    assert tasks.running == 0


async def test_an_error_raised_on_the_way_out_is_counted_not_swallowed(caplog: pytest.LogCaptureFixture) -> None:
    """Shutdown cancels every task; one that raises instead of ending is counted and logged."""
    tasks = TaskSupervisor()
    tasks.spawn(_dies_when_cancelled(), kind="log_fetch", name="log default/api-1 app")
    await asyncio.sleep(0)  # let it start waiting
    await tasks.stop()
    assert tasks.failures()[("log_fetch",)] == 1.0
    [error] = _errors(caplog)
    assert "socket already closed" in error.getMessage()


async def test_the_counter_is_served_on_metrics() -> None:
    """/metrics renders the supervisor's counts, one series per task kind, zeros included."""
    tasks = TaskSupervisor()
    tasks.spawn(_die(), kind="tick", name="tick")
    await _wait_for_failures(tasks, "tick", 1)
    state, _clock, _ = make_state()
    stats = WatchStats()
    body = fast_renderer(state, lambda: stats_families(stats.snapshot(), tasks.failures())).render("")[0].decode()
    lines = [ln for ln in body.splitlines() if ln.startswith(TASK_FAILURES.name)]
    assert lines == [
        f'{TASK_FAILURES.name}{{task="log_fetch"}} 0.0',
        f'{TASK_FAILURES.name}{{task="tick"}} 1.0',
        f'{TASK_FAILURES.name}{{task="watch"}} 0.0',
    ], body
