"""Bounded waits on a fact (a query answer, a counter, a log line), never a fixed sleep.

A timeout says what was awaited, the last connection error, and what `details()` shows by then.
"""

from __future__ import annotations

import asyncio
import time
import urllib.error
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A bounded wait ran out; the message names what was awaited and what was seen."""


def _message(what: str, timeout: float, last_error: Exception | None, details: Callable[[], str] | None) -> str:
    detail = f" (last error: {last_error})" if last_error else ""
    extra = ("\n" + details()) if details else ""
    return f"timed out after {timeout:.0f}s waiting for {what}{detail}{extra}"


def wait_until(
    check: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.2,
    on_timeout: Callable[[], str] | None = None,
    error: Callable[[str], Exception] = WaitTimeout,
) -> T:
    """Poll `check` until it returns something truthy (a non-empty query result, True, a match)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = check()
            if result:
                return result
            last_error = None  # answered, just not yet true: an old connection error is not the story
        except (OSError, urllib.error.URLError, ValueError) as e:  # not up yet, or a transient reset
            last_error = e
        if time.monotonic() >= deadline:
            raise error(_message(what, timeout, last_error, on_timeout))
        time.sleep(interval)


async def wait_for(
    check: Callable[[], Awaitable[bool]],
    *,
    what: str,
    timeout: float,
    details: Callable[[], str] | None = None,
    interval: float = 0.2,
) -> None:
    """Await `check()` until it is true, yielding to the event loop between two tries."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if await check():
                return
        except (aiohttp.ClientError, OSError) as e:
            last_error = e  # the server is not listening yet; try again
        await asyncio.sleep(interval)
    raise WaitTimeout(_message(what, timeout, last_error, details))
