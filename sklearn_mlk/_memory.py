"""A fit's memory: its peak estimated before it trains (a fit that cannot
fit in memory is refused), and what it freed handed back to the system once
it ends.

While training, a fit holds each network's weights many times over: the
weights themselves, the optimizer's two Adam moments, the gradients, the
best epoch's weights kept for early stopping, the stacked copy of the fold
networks, and the float64 prediction plan with its fused copy. On wide
sparse input the weights dominate everything else, so the peak grows with
the weights of the networks trained at once. ``benchmarks/memory.py``
measures the peak against this estimate.

A fit allocates and frees many short-lived blocks (batches, gradients, the
backend's temporaries), and glibc's allocator keeps the freed pages for
reuse: a process's resident size then drifts up fit after fit, though what
it holds in use does not. :func:`release_free_memory` hands those pages back
after each fit (``benchmarks/cost.py`` measures both figures).
"""

import ctypes
import functools

# Cap on the values of one densified block of sparse X (64 MiB of float32),
# in training and in prediction.
DENSE_BLOCK_VALUES = 2**24

# Peak bytes per byte of float32 weights of the networks trained at once,
# from ``benchmarks/memory.py`` (results/memory.md): past the backend's
# start-up, the growth per weight byte was at most 9.5 over its cases, rounded up
# here. The start-up itself (about 0.9 GB on TensorFlow, in a fresh process)
# is not counted but for a small allowance: the check is there to refuse
# networks too large for the machine, never a small fit.
PER_WEIGHT_BYTE = 11.0
OVERHEAD = 256 * 2**20


def estimate(n_weights, n_networks):
    """The estimated growth of memory, in bytes, while ``n_networks``
    networks of ``n_weights`` weights each train."""
    return OVERHEAD + PER_WEIGHT_BYTE * 4 * n_weights * n_networks


def size(n_bytes):
    """``n_bytes`` for a message: GiB from 1 GiB, else MiB."""
    if n_bytes >= 2**30:
        return f"{n_bytes / 2**30:.1f} GiB"
    return f"{n_bytes / 2**20:.0f} MiB"


def available():
    """Bytes of memory available to new allocations now, or None if unknown."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency
        return None
    return int(psutil.virtual_memory().available)


def check(n_weights, n_networks, limit, owner):
    """Raise ``MemoryError`` if the fit's estimate exceeds ``limit``.

    ``limit`` is the estimator's ``memory_limit``: ``"auto"`` for the memory
    available now, a number of bytes, or None for no check.
    """
    if limit is None:
        return
    budget = available() if limit == "auto" else limit
    if budget is None:
        return
    needed = estimate(n_weights, n_networks)
    if needed <= budget:
        return
    networks = (f"{n_networks} networks of {n_weights:,} weights" if n_networks > 1
                else f"a network of {n_weights:,} weights")
    raise MemoryError(
        f"{owner} would need about {size(needed)} to train {networks}, but "
        + (f"{size(budget)} is available" if limit == "auto"
           else f"memory_limit is {size(budget)}")
        + ". Train fewer or smaller networks: a hold-out instead of fold networks "
        "(threshold_cv=0.2), or refit=True; smaller hidden_layer_sizes; or fewer input "
        "features (a feature selector in front). To train anyway, set "
        "memory_limit=None (or a larger number of bytes).")


@functools.lru_cache(maxsize=None)
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (musl,
    macOS, Windows)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, TypeError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory():
    """Hand the pages the C allocator holds free back to the system; return
    whether the C library could (glibc only).

    ``malloc_trim(0)`` releases the free memory at the top of each arena and
    the whole free pages inside it, and keeps every block in use: it costs far
    less than a fit, against the drift of a process's resident size over
    many fits. Memory the backend caches for itself is not the allocator's to
    release.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
