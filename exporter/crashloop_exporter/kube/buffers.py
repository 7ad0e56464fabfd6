"""Reusable buffers for LIST bodies, so a full LIST does not churn the C allocator.

A full LIST of 150k pods is ~600 bodies of ~1.5 MB. Read into a fresh `bytes` each time, every
body is a new large block: glibc either maps it fresh (a page fault per 4 KiB of every body) or
carves it from the heap, where the holes it leaves between live blocks stay resident at the
memory peak, the end of the first sync. A body read into one of a few kept bytearrays writes
memory that is resident already. Measured on 150k realistic pods against the sim (medians of 3,
alternated in one run): 55k page faults -> 32k, peak RSS 119.4 -> 116.7 MiB; pinning glibc's mmap
threshold instead got 117.4 MiB at 482k faults and 1.6 s of system time.

A decoded page is not copied out of its body: the `msgspec.Raw` fields of its Structs point into
it and hold an export of the buffer. A buffer is taken again only once no export is left (a
bytearray refuses a resize while anything views it, which is the check), so a Raw that outlives
its page keeps its buffer and the next body gets a fresh one: a buffer is never rewritten under
a live Raw.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

POOL_SIZE = 3
"""Buffers kept: the page being applied, the one being fetched, and the last item of the page
before (still bound while the next fetch starts)."""


def _unexported(buf: bytearray) -> bool:
    """True when nothing holds a view of `buf` (a resize is refused while anything does)."""
    try:
        buf.append(0)
    except BufferError:
        return False
    del buf[-1]
    return True


class BodyBuffers:
    """A few bytearrays that LIST bodies are read into, each reused once no view of it is left."""

    def __init__(self) -> None:
        self._idle: list[bytearray] = []

    def _take(self) -> bytearray:
        for i, buf in enumerate(self._idle):
            if _unexported(buf):
                return self._idle.pop(i)
        return bytearray()

    def _give_back(self, buf: bytearray) -> None:
        if len(self._idle) < POOL_SIZE:
            self._idle.append(buf)

    async def read(self, chunks: AsyncIterator[bytes]) -> memoryview:
        """The whole body as a view of one kept buffer (grown when a body outgrows it)."""
        buf = self._take()
        end = 0
        try:
            async for chunk in chunks:
                start, end = end, end + len(chunk)
                if end <= len(buf):
                    buf[start:end] = chunk  # memory that is resident already
                else:
                    buf[start:] = chunk  # grows it to `end`: start <= len(buf) always holds
        finally:
            self._give_back(buf)
        return memoryview(buf)[:end]

    def clear(self) -> None:
        """Forget the kept buffers (after a LIST: their memory goes back once no view is left)."""
        self._idle.clear()
