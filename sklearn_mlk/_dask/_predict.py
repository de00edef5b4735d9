"""Predictions for Dask collections: lazy Dask arrays, block by block.

Each block of rows is predicted where it is, as
``dask_ml.wrappers.ParallelPostFit`` does, by a
:class:`~sklearn_mlk._dask._worker.BlockPredictor` that holds the fitted
estimator's NumPy plan and thresholds but not its Keras network: the workers
run NumPy alone and import neither Keras nor scikit-learn (a fitted network
without a plan, one of other layers than ``Dense``, travels whole instead).
"""

import numpy as np

from ._blocks import _dask_array
from ._worker import apply_to


class _EstimatorMethod:
    """A prediction method of the whole estimator, for a network without a
    NumPy plan (the workers then import Keras)."""

    def __init__(self, est, method):
        self.est, self.method = est, method

    def __call__(self, block):
        method = "_label_proba" if self.method == "label_proba" else self.method
        return getattr(self.est, method)(block)


def _predictor(est, method):
    """What the workers run on each block: a NumPy-only
    :class:`~sklearn_mlk._dask._worker.BlockPredictor` where the estimator
    has a plan, the estimator itself otherwise."""
    from ._worker import BlockPredictor

    if getattr(est, "_plan", None) is None:
        return _EstimatorMethod(est, method)
    return BlockPredictor(est, method)


def lazily(est, method, X):
    """``est.<method>(X)`` for a Dask collection X, as a lazy Dask array."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(est)
    X, names = _dask_array(X)
    expected = getattr(est, "feature_names_in_", None)
    if expected is not None and names is not None and list(expected) != list(names):
        raise ValueError(f"The feature names of X differ from those seen at fit: "
                         f"{list(names)[:10]} against {list(expected)[:10]}.")
    n_features = est._fitted_input_shape()
    if X.ndim != 2 or tuple(X.shape[1:]) != tuple(n_features):
        raise ValueError(f"X has shape {X.shape[1:]} per sample, but "
                         f"{type(est).__name__} was fitted on {tuple(n_features)}.")
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    if method == "predict" and est._target_encoder.kind_ not in ("binary", "multiclass"):
        est._check_label_limits(len(est.thresholds_))
    predictor = _predictor(est, method)
    # The output's columns and dtype, from one row predicted here.
    sample = apply_to(np.zeros((1, X.shape[1]), dtype=np.float32), predictor)
    if sample.ndim == 1:
        return X.map_blocks(apply_to, predictor, dtype=sample.dtype, drop_axis=1,
                            chunks=(X.chunks[0],), meta=np.empty((0,), sample.dtype))
    return X.map_blocks(apply_to, predictor, dtype=sample.dtype,
                        chunks=(X.chunks[0], (sample.shape[1],)),
                        meta=np.empty((0, 0), sample.dtype))
