"""app/memory.py: the glibc calls are made for real, and do nothing harmful where glibc is absent."""
import ctypes.util

import pytest

from app import memory


@pytest.mark.skipif(not ctypes.util.find_library("c"), reason="no C library to ask")
def test_glibc_takes_the_arena_limit_and_the_trim():
    assert memory.limit_malloc_arenas() is True
    assert memory.give_back_free_memory() is True


def test_without_a_c_library_nothing_happens(monkeypatch):
    monkeypatch.setattr(memory.ctypes.util, "find_library", lambda name: None)
    assert memory.limit_malloc_arenas() is False
    assert memory.give_back_free_memory() is False
