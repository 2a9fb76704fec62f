"""Keep freed memory in the process for reuse, instead of handing it back to the OS.

Every training step allocates and frees the same large arrays (layer outputs, gradients,
temporaries of NumPy expressions). glibc's malloc serves arrays above its mmap threshold
with fresh pages from the kernel and gives freed memory back when the top of the heap
holds more than its trim threshold, so each step pays again for the kernel to map and
zero those pages (benchmarks/README.md has the measurements). Raising both thresholds
once lets malloc reuse the memory: the same steps then cause no page faults.

This changes a process-wide malloc setting, so tlkit never does it: the benchmarks call
``keep_freed_memory()``, as may any process that does nothing but train. It applies only
on Linux with glibc; ``TLKIT_MALLOC=default`` in the environment
makes the call a no-op.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # mallopt parameter numbers, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's maximum: arrays up to 32 MiB come from the reusable heap
TRIM_THRESHOLD = 256 << 20  # keep up to 256 MiB of freed memory at the top of the heap


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds; True if both settings were taken."""
    if os.environ.get("TLKIT_MALLOC", "").lower() == "default" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the C library Python runs on (no ldconfig lookup)
    except (OSError, AttributeError):  # a C library without mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1

