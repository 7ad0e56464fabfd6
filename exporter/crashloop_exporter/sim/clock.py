"""The lifecycle clock and its timer queue.

Kubelet timings (10 s back-off doubling to 5 min, probe periods, 10 min reset) are real seconds
in a cluster but would make tests and demos crawl, so the sim runs them on a *sim clock*: real
monotonic time multiplied by `time_scale`, frozen while paused. Timestamps written into objects
stay wall-clock (`time.time()`), because the exporter compares them with its own `now`.

One task drains one heap of timers, so all lifecycle transitions run in the event loop in a
deterministic order and never race each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class SimClock:
    """Sim seconds = real seconds × time_scale, not advancing while paused."""

    def __init__(self, time_scale: float) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be > 0, got {time_scale}")
        self.time_scale = time_scale
        self._base_real = time.monotonic()
        self._base_sim = 0.0
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    def now(self) -> float:
        if self._paused:
            return self._base_sim
        return self._base_sim + (time.monotonic() - self._base_real) * self.time_scale

    def pause(self) -> None:
        if not self._paused:
            self._base_sim = self.now()
            self._paused = True

    def resume(self) -> None:
        if self._paused:
            self._base_real = time.monotonic()
            self._paused = False

    def set_paused_time(self, sim_now: float) -> None:
        """Move a paused clock to `sim_now` (never backwards): stepping for `SimCluster.advance`."""
        if not self._paused:
            raise RuntimeError("set_paused_time needs a paused clock")
        self._base_sim = max(self._base_sim, sim_now)

    def real_seconds(self, sim_seconds: float) -> float:
        return sim_seconds / self.time_scale


class Scheduler:
    """Timers on the sim clock, run by one task; `after_batch` runs once per batch of timers
    (the engine publishes the pods that changed, one write each)."""

    def __init__(self, clock: SimClock, *, after_batch: Callable[[], None]) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._after_batch = after_batch
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def call_at(self, due: float, callback: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (due, next(self._seq), callback))
        self._wake.set()

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        self.call_at(self.clock.now() + max(delay, 0.0), callback)

    def wake(self) -> None:
        """Re-evaluate now (after resume or a clock change)."""
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="crashloop-sim-lifecycle")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def run_due(self, *, force: bool = False) -> int:
        """Run every timer that is due now (`force`: even on a paused clock); returns how many ran."""
        ran = 0
        now = self.clock.now()
        while self._heap and self._heap[0][0] <= now and (force or not self.clock.paused):
            _, _, callback = heapq.heappop(self._heap)
            try:
                callback()
            except Exception:
                # One broken transition must not stop every other pod's lifecycle.
                log.exception("sim lifecycle timer failed")
            ran += 1
        if ran:
            self._after_batch()
        return ran

    async def _run(self) -> None:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that races
        # with the wake-up, and stop() would then wait for this task forever.
        while not self._stopping:
            self._wake.clear()
            self.run_due()
            if self.clock.paused or not self._heap:
                await self._wake.wait()
                continue
            delay = self.clock.real_seconds(self._heap[0][0] - self.clock.now())
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
