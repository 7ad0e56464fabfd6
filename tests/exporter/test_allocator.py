"""serve.allocator: glibc's mmap threshold is pinned in the serving process (this machine is glibc)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import ctypes, ctypes.util, sys
from crashloop_exporter.serve.allocator import MMAP_THRESHOLD_BYTES, pin_mmap_threshold
assert pin_mmap_threshold() is True
libc = ctypes.CDLL(ctypes.util.find_library("c"))
size = 4 * MMAP_THRESHOLD_BYTES
# Over the pinned threshold a block is its own mapping, and free gives it back at once: glibc marks
# such a chunk with IS_MMAPPED (bit 1 of the size word just before the pointer).
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = (ctypes.c_size_t,)
libc.free.argtypes = (ctypes.c_void_p,)
for _ in range(3):  # without the pin, the first free would raise the threshold above `size`
    p = libc.malloc(size)
    flags = ctypes.c_size_t.from_address(p - ctypes.sizeof(ctypes.c_size_t)).value & 0x7
    libc.free(p)
    assert flags & 0x2, f"a {size}-byte block came from the heap (flags {flags:#x})"
print("ok")
"""


def test_large_blocks_stay_on_mmap_after_one_is_freed() -> None:
    """After pin_mmap_threshold, every block over the threshold is mmapped, also after a free (glibc
    would otherwise raise its threshold to the freed size and serve the next from the heap)."""
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stdout + result.stderr
