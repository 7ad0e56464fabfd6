"""The exporter's background tasks: a task that dies is logged once and counted, never swallowed.

Watches, the state ticker and log fetches run as asyncio tasks. Before this module a watch that
raised lay dead until shutdown, where its exception was suppressed with the cancellations. Now
every task's end is looked at as it happens: a cancellation is the normal way out; any other
exception is one ERROR log line (with the traceback) and one increment of
`crashloop_exporter_task_failures_total{task}`, whose label is the task's kind, never its name.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Coroutine, Mapping
from typing import Any, Literal

log = logging.getLogger(__name__)

TaskKind = Literal["watch", "tick", "log_fetch"]
TASK_KINDS: tuple[TaskKind, ...] = ("watch", "tick", "log_fetch")
"""The `task` label values: every kind has a series from the start (0 until a task of it dies)."""


class TaskSupervisor:
    """Starts tasks, counts the ones that die, and cancels and awaits them all at shutdown."""

    def __init__(self) -> None:
        self._tasks: dict[asyncio.Task[None], TaskKind] = {}
        self._failures: Counter[TaskKind] = Counter()

    def spawn(self, coro: Coroutine[Any, Any, None], *, kind: TaskKind, name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=name)
        self._tasks[task] = kind
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[None]) -> None:
        kind = self._tasks.pop(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            return
        self._failures[kind] += 1
        log.error("background task %r died: %s", task.get_name(), error, exc_info=error)

    @property
    def running(self) -> int:
        return len(self._tasks)

    def failures(self) -> Mapping[tuple[str, ...], float]:
        """Failures by kind, in the collector's shape: `{("watch",): 0.0, ...}`."""
        return {(kind,): float(self._failures[kind]) for kind in TASK_KINDS}

    async def stop(self) -> None:
        """Cancel every task and wait for each to end; one that raises on its way out is counted too."""
        tasks = list(self._tasks)
        for t in tasks:
            t.cancel()
        # return_exceptions: the outcome of each task is handled by _done, not raised here.
        await asyncio.gather(*tasks, return_exceptions=True)
