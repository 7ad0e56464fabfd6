"""The C allocator's one setting that matters to a long-running exporter: where mmap starts.

Every LIST page (~1.5-3 MB of JSON), its prefetched successor and aiohttp's read chunks are large
buffers that live for a moment. glibc serves a large block with mmap and returns it on free, but
after the first such free it raises its mmap threshold to that size (up to 32 MiB): later pages
then come from the heap, where freed space between live blocks is not given back to the system.
On 150k pods that kept ~7 MiB of RSS (peak 132 -> 125 MiB with the threshold pinned, measured with
`MALLOC_MMAP_THRESHOLD_`). Pinning it with mallopt keeps large buffers on mmap; the cost is one
mmap/munmap pair per large buffer (microseconds, a few hundred times per full LIST).

Only glibc has mallopt with this meaning; anywhere else (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3
"""glibc's mallopt parameter number for the mmap threshold (malloc.h)."""
MMAP_THRESHOLD_BYTES = 128 * 1024
"""glibc's own default, before its dynamic adjustment moves it."""


def pin_mmap_threshold(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Set glibc's mmap threshold (which also turns its dynamic adjustment off); False where that
    is not possible (not glibc, or the call refused)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        libc = None
    # Only glibc has gnu_get_libc_version; musl's mallopt exists and ignores this parameter.
    if libc is None or not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        log.debug("not glibc: the allocator's mmap threshold is left as it is")
        return False
    mallopt = libc.mallopt
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok: bool = mallopt(M_MMAP_THRESHOLD, threshold) == 1
    if not ok:
        log.debug("mallopt(M_MMAP_THRESHOLD, %d) was refused", threshold)
    return ok
