"""What a Dask worker runs: NumPy and SciPy alone.

A block's totals and checks for a fit (:func:`summarise`), and its
predictions.

A :class:`BlockPredictor` holds a fitted estimator's NumPy plan, thresholds
and output settings, and computes one of its prediction methods on a block
of rows with the functions the estimator itself uses
(:mod:`sklearn_mlk._plan`, :mod:`sklearn_mlk._decisions`). Unpickling it
imports neither Keras nor scikit-learn: ``import sklearn_mlk`` is lazy, and
this module and those two import NumPy and SciPy only. A worker process
thus predicts in about a hundred megabytes, where importing scikit-learn
alone takes more than that.
"""

import numpy as np
import scipy.sparse as sp

from .._decisions import class_proba, classes_of, indicator, label_proba, margins
from .._meta import input_power
from .._plan import run_plan

# The estimator's prediction methods, and each output column's probability
# (threshold tuning's scores).
# An unknown entry of an encoded target (sklearn_mlk._targets.UNKNOWN, which
# imports scikit-learn; tests/test_dask_fit.py checks that they agree).
UNKNOWN = -1

METHODS = ("predict", "predict_proba", "decision_function", "label_proba")


class BlockPredictor:
    """One prediction method of a fitted estimator, for blocks of rows.

    Parameters
    ----------
    est : KerasMultiLabelClassifier
        Fitted, with a NumPy plan (``est._plan is not None``).
    method : {"predict", "predict_proba", "decision_function", "label_proba"}
    """

    def __init__(self, est, method):
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
        encoder = est._target_encoder
        self.method = method
        self.plan = est._plan
        self.from_probability = est._from_probability
        self.constant = getattr(est, "_constant_labels", None)
        self.thresholds = np.asarray(est.thresholds_)
        self.kind = encoder.kind_
        self.classes = np.asarray(est.classes_)
        self.min_labels, self.max_labels = est.min_labels, est.max_labels
        self.n_features = est.n_features_in_

    def __call__(self, block):
        X = block.tocsr() if sp.issparse(block) else np.asarray(block)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X has shape {X.shape}, but the estimator was fitted on "
                             f"{self.n_features} features.")
        X = X.astype(np.float32, copy=False)
        if not np.isfinite(X.data if sp.issparse(X) else X).all():
            raise ValueError("Input X contains NaN or infinity.")
        outputs = run_plan(self.plan, X)
        if self.kind == "binary" and outputs.shape[1] == 2:
            outputs = outputs[:, 1:]  # a softmax over both classes: the second's
        if self.method == "decision_function":
            margin = margins(outputs, self.thresholds, self.from_probability,
                             self.constant)
            return margin[:, 0] if self.kind == "binary" else margin
        P = label_proba(outputs, self.from_probability, self.constant)
        if self.method == "label_proba":
            return P
        if self.method == "predict":
            return classes_of(indicator(P, self.thresholds, self.kind, self.min_labels,
                                        self.max_labels), self.kind, self.classes)
        return class_proba(P, self.kind)


def apply_to(block, predictor):
    """``predictor(block)``, dense (the function Dask maps over the blocks: it
    lives here, so that the workers import this module alone)."""
    out = predictor(block)
    return out.toarray() if sp.issparse(out) else out


def encoded(Y):
    """A block of the target as float32, NaN and -1 as UNKNOWN."""
    Y = Y.toarray() if sp.issparse(Y) else np.asarray(Y)
    Y = np.asarray(Y, dtype=np.float32)
    return np.where(np.isnan(Y), np.float32(UNKNOWN), Y)


def target_problem(Y):
    """What makes an encoded block of the target unusable, or ""."""
    if np.isin(Y, (0.0, 1.0, UNKNOWN)).all():
        return ""
    return ("y must hold 0 and 1 (NaN or -1 for an unknown entry), got "
            f"{np.setdiff1d(np.unique(Y), (0.0, 1.0, UNKNOWN))[:5].tolist()}")


def summarise(X, Y, w=None):
    """One block's totals, or the problem that makes it unusable first."""
    n, n_labels = Y.shape
    empty = ("", np.zeros(n_labels), np.zeros(n_labels), np.zeros(n_labels, np.int64),
             np.zeros(n_labels, np.int64), 0.0, 0.0)
    if sp.issparse(X):
        X = X.tocsr()
        values = X.data
    else:
        X = values = np.asarray(X, dtype=np.float64)
    power = input_power(X) * n
    if not np.isfinite(values).all():
        return ("X holds NaN or infinity", *empty[1:])
    Y = encoded(Y)
    problem = target_problem(Y)
    if problem:
        return (problem, *empty[1:])
    w = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
    if not np.isfinite(w).all() or (w < 0).any():
        return ("sample_weight must be finite and non-negative", *empty[1:])
    known = Y != UNKNOWN
    positive = Y == 1.0
    return ("", positive.T.astype(np.float64) @ w, known.T.astype(np.float64) @ w,
            positive.sum(axis=0), known.sum(axis=0), power, float(w.sum()))
