"""Fitting on, and predicting for, Dask collections larger than memory.

- :mod:`._blocks`: X, y and sample weights as aligned blocks of rows, their
  totals in one pass, and one block at a time in memory;
- :mod:`._fit`: the fold networks trained over the blocks, and thresholds
  learned from a streamed search (:mod:`sklearn_mlk._histogram`);
- :mod:`._predict`: lazy predictions, block by block, through the NumPy plan.

Dask is imported only when a Dask collection is given.
"""


def is_collection(obj):
    """Whether ``obj`` is a Dask collection (array, DataFrame or Series),
    without importing Dask."""
    module = type(obj).__module__ or ""
    return module.split(".")[0] in ("dask", "dask_expr") and hasattr(obj, "__dask_graph__")
