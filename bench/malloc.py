"""Keep freed memory in the process: a training step allocates the same large temporaries every time.

glibc returns a freed block of 128 KB or more to the system (mmap, and trimming the heap top), so
the next step's block of the same size comes back as fresh pages that fault in one by one. A
batch-64 step of the LeNet-like CNN (bench/engine_speed.py) allocates about 30 MB of such blocks:
with the defaults it took 21–27 ms, with blocks up to 32 MB served from the heap and a 128 MB
trim threshold 15–17 ms (one backprop, best of 60, 3 runs each, 2026-12-03). Elsewhere than
glibc this does nothing. A script calls it once, at its start; it changes the whole process.
"""
from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3   # from glibc's <malloc.h>
MMAP_THRESHOLD = 32 << 20                      # glibc's largest allowed value
TRIM_THRESHOLD = 128 << 20


def keep_freed_memory() -> bool:
    """Serve blocks up to 32 MB from the heap and keep up to 128 MB of free heap top; True if glibc took it."""
    library = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(library).mallopt if library else None
    except (OSError, AttributeError):
        return False
    return mallopt is not None and mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and \
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
