"""Work in steps: generators that yield between chunks of one object's work.

One pod can hold thousands of containers, and the exporter's event loop also answers /healthz:
parsing, classifying and counting such a pod in one call held the loop for a second, long
enough for the liveness probe to kill the exporter (issue 12, defect 1). So the code that
handles one object is written as a generator that yields `None` between chunks of containers, and
leaves the state consistent at every yield. The async watch handler and the /metrics handler
resume it one step per turn of the event loop (`run_steps_yielding`); synchronous callers
(`diagnose`, tests) run all steps at once (`run_steps`).
Pure code stays pure: a step is a plain `yield`, the caller decides what happens in between.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
Steps = Generator[None, None, T]
"""Work that yields between its steps and returns a T at the end."""


def run_steps(steps: Steps[T]) -> T:
    """All steps at once; the work's result."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: T = done.value
            return result


async def run_steps_yielding(steps: Steps[T]) -> T:
    """All steps, with a turn of the event loop between two: `asyncio.sleep(0)` lets every task
    that is ready (a /healthz request, a log answer) run once before the next step."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: T = done.value
            return result
        await asyncio.sleep(0)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size` (none for an empty sequence)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
