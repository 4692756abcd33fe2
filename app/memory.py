"""Keep the memory that finished sessions used from staying with the server.

glibc gives each new thread its own malloc arena, up to 8 per core, and an arena keeps the memory
its thread freed. Every session has a worker thread, so 20 MNIST sessions that came and went left
the server 234 MB bigger (bench/load.py --workload mnist). With the arenas limited to two, the
workers share them and reuse each other's freed memory, and after each session malloc_trim hands
the free pages back: the same run then ends 32 MB above its start. Elsewhere than glibc (macOS,
musl) both calls do nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util

M_ARENA_MAX = -8  # from glibc's <malloc.h>
ARENAS = 2


def _libc_function(name: str):
    """The C library's function ``name``, or None where there is no such function."""
    library = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(library), name) if library else None
    except (OSError, AttributeError):
        return None


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Ask glibc for at most ``arenas`` arenas (call before the worker threads start).
    True when the C library took the setting."""
    mallopt = _libc_function("mallopt")
    return mallopt is not None and mallopt(M_ARENA_MAX, arenas) == 1


def give_back_free_memory() -> bool:
    """Ask glibc to hand the free pages of every arena back to the system (after a session ends).
    True when the C library has malloc_trim."""
    trim = _libc_function("malloc_trim")
    if trim is None:
        return False
    trim(0)
    return True
