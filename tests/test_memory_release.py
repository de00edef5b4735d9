"""Every fit hands the memory it freed back to the system (glibc), once,
whether it succeeds or fails; elsewhere the release is a no-op."""

import ctypes

import numpy as np
import psutil
import pytest
from conftest import tiny

from sklearn_mlk import _memory

GLIBC = _memory._malloc_trim() is not None


def _counting(monkeypatch):
    calls = []
    release = _memory.release_free_memory
    monkeypatch.setattr(_memory, "release_free_memory",
                        lambda: calls.append(1) or release())
    return calls


def test_a_fit_releases_free_memory_once(data, monkeypatch):
    X, Y = data
    calls = _counting(monkeypatch)
    clf = tiny().fit(X, Y)
    assert calls == [1]
    clf.predict_proba(X)  # prediction allocates little and releases nothing
    assert calls == [1]


def test_a_failed_fit_releases_free_memory_too(data, monkeypatch):
    X, Y = data
    calls = _counting(monkeypatch)
    with pytest.raises(ValueError, match="sample_weight"):
        tiny().fit(X, Y, sample_weight=-np.ones(len(X)))
    assert calls == [1]


def test_without_malloc_trim_the_release_is_a_no_op(data, monkeypatch):
    X, Y = data
    monkeypatch.setattr(_memory, "_malloc_trim", lambda: None)
    assert _memory.release_free_memory() is False
    assert tiny().fit(X, Y).predict(X).shape == Y.shape


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's")
def test_the_release_returns_free_pages_inside_the_heap():
    # 64 KiB blocks come from the heap (below glibc's mmap threshold); freeing
    # every other one leaves free pages between blocks in use, which the
    # allocator keeps until they are trimmed.
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    size, count = 64 * 2**10, 1024
    blocks = [libc.malloc(size) for _ in range(count)]
    try:
        for block in blocks:
            ctypes.memset(block, 1, size)  # touch every page
        for block in blocks[1::2]:
            libc.free(block)
        freed = size * count // 2
        before = psutil.Process().memory_info().rss
        assert _memory.release_free_memory() is True
        after = psutil.Process().memory_info().rss
        assert before - after > freed // 2
    finally:
        for block in blocks[::2]:
            libc.free(block)
