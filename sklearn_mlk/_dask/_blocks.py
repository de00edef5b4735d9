"""X, y and sample weights of a fit as aligned blocks of rows.

A fit on Dask collections holds one block of rows at a time (and the next
one, computing while the current one trains): the blocks are the chunks of
X along its rows, and y and the sample weights are cut the same way. Their
totals (rows, each label's positives and known entries, the mean squared
row norm) come from one pass in which only those totals leave the workers.
"""

from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ._worker import encoded, summarise, target_problem


class Summary(NamedTuple):
    """The totals of one pass over the blocks."""

    rows: np.ndarray  # rows of each block
    positives: np.ndarray  # each label's weight of positive entries
    known: np.ndarray  # each label's weight of known entries
    n_pos: np.ndarray  # each label's positive entries (unweighted)
    n_known: np.ndarray  # each label's known entries (unweighted)
    power: float  # the mean squared norm of the rows of X

    @property
    def totals(self):
        return self.positives, self.known

    @property
    def n_rows(self):
        return int(self.rows.sum())

    def constant_labels(self):
        """Each label's constant probability, NaN where it varies
        (:func:`sklearn_mlk._targets.constant_of`)."""
        from .._targets import constant_of

        return constant_of(self.n_pos, self.n_known)


def _dask_array(obj, rows_like=None):
    """``obj`` as a Dask array with known chunk sizes, and its column names
    (a DataFrame's) or None. In-memory ``obj`` is cut as ``rows_like``."""
    import dask.array as da

    from . import is_collection

    names = None
    if is_collection(obj) and hasattr(obj, "to_dask_array"):  # DataFrame, Series
        names = list(obj.columns) if hasattr(obj, "columns") else None
        obj = obj.to_dask_array(lengths=True)
    elif not is_collection(obj):
        if hasattr(obj, "columns"):
            names = list(obj.columns)
        obj = np.asarray(obj)
        chunks = (rows_like.chunks[0],) + tuple((s,) for s in obj.shape[1:])
        return da.from_array(obj, chunks=chunks), names
    if not isinstance(obj, da.Array):
        raise TypeError(f"Expected a Dask array or DataFrame, got {type(obj).__name__}.")
    if any(np.isnan(size) for sizes in obj.chunks for size in sizes):
        obj = obj.compute_chunk_sizes()
    return obj, names


class Blocks:
    """Aligned row blocks of X, the target Y and the sample weights w.

    Parameters
    ----------
    X : Dask array or DataFrame of shape (n_samples, n_features)
    y : Dask array or DataFrame, or an in-memory array, of shape
        (n_samples, n_labels): a 0/1 indicator, NaN or -1 for an unknown entry
    sample_weight : Dask array, array of shape (n_samples,) or None
    """

    def __init__(self, X, y, sample_weight=None):
        X, self.feature_names = _dask_array(X)
        if X.ndim != 2:
            raise ValueError(f"A Dask X must be 2-D (n_samples, n_features), got "
                             f"{X.ndim} dimensions.")
        if X.dtype.kind not in "biuf":
            raise ValueError(f"Dask X must be numeric, got dtype {X.dtype}.")
        if X.numblocks[1] > 1:
            X = X.rechunk({1: -1})  # a block holds whole rows
        Y, self.label_names = _dask_array(y, X)
        if Y.ndim != 2:
            raise ValueError(
                "A fit on Dask collections takes a 2-D target: a 0/1 indicator "
                f"(n_samples, n_labels), as a Dask array or DataFrame; got {Y.ndim} "
                "dimensions. For a 1-D target, fit in memory or through "
                "dask_ml.wrappers.Incremental.")
        if Y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {Y.shape[0]}.")
        self.X = X
        self.Y = Y.rechunk((X.chunks[0], (Y.shape[1],)))
        self.w = None
        if sample_weight is not None:
            w, _ = _dask_array(sample_weight, X)
            if w.ndim != 1 or w.shape[0] != X.shape[0]:
                raise ValueError(f"sample_weight must have shape ({X.shape[0]},), "
                                 f"got {w.shape}.")
            self.w = w.rechunk((X.chunks[0],))
        self.rows = np.asarray(X.chunks[0], dtype=np.int64)

    def at_least(self, n_blocks):
        """These blocks, rows cut into at least ``n_blocks`` (rechunked if fewer)."""
        if self.n_blocks >= n_blocks:
            return self
        self.X = self.X.rechunk({0: -(-int(self.rows.sum()) // n_blocks)})
        self.Y = self.Y.rechunk((self.X.chunks[0], (self.n_labels,)))
        if self.w is not None:
            self.w = self.w.rechunk((self.X.chunks[0],))
        self.rows = np.asarray(self.X.chunks[0], dtype=np.int64)
        return self

    @property
    def n_blocks(self):
        return len(self.rows)

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def n_labels(self):
        return self.Y.shape[1]

    def _parts(self, i):
        parts = [self.X.blocks[i], self.Y.blocks[i]]
        return parts if self.w is None else parts + [self.w.blocks[i]]

    def summary(self):
        """The :class:`Summary` of every block, computed where the blocks are."""
        import dask

        parts = [dask.delayed(summarise)(*self._parts(i)) for i in range(self.n_blocks)]
        results = dask.compute(*parts)
        for i, (problem, *_) in enumerate(results):
            if problem:
                start = int(self.rows[:i].sum())
                raise ValueError(f"{problem} (block {i}: rows {start} to "
                                 f"{start + int(self.rows[i]) - 1}).")
        _, positives, known, n_pos, n_known, power, weight = zip(*results)
        total_weight = float(np.sum(weight))
        if total_weight <= 0:
            raise ValueError("sample_weight must not be all zero.")
        return Summary(self.rows, np.sum(positives, axis=0), np.sum(known, axis=0),
                       np.sum(n_pos, axis=0), np.sum(n_known, axis=0),
                       float(np.sum(power)) / max(int(self.rows.sum()), 1))

    def load(self, i):
        """Block ``i`` in memory: X (float32, or CSR), the encoded Y (float32,
        UNKNOWN for unknown entries) and the weights (float32)."""
        import dask

        values = dask.compute(*self._parts(i))
        X = values[0]
        X = X.tocsr().astype(np.float32) if sp.issparse(X) else np.asarray(X, np.float32)
        Y = encoded(values[1])
        problem = target_problem(Y)
        if problem:
            raise ValueError(f"{problem} (block {i}).")
        w = (np.ones(len(Y), dtype=np.float32) if self.w is None
             else np.asarray(values[2], dtype=np.float32))
        return X, Y, w

    def stream(self, indices):
        """Yield ``(i, X, Y, w)`` for the blocks ``indices`` in turn; the next
        block computes (on the workers, or in a thread) while the caller works
        on the current one."""
        indices = list(indices)
        if not indices:
            return
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(self.load, indices[0])
            for position, i in enumerate(indices):
                block = pending.result()
                if position + 1 < len(indices):
                    pending = pool.submit(self.load, indices[position + 1])
                yield (i, *block)
