"""From a network's outputs to the estimator's answers: NumPy and SciPy alone.

Probabilities with constant labels pinned, margins to the thresholds, label
indicators under the per-sample limits and the classes of a 1-D target. The
estimator's prediction methods and the Dask workers' block predictor
(:mod:`sklearn_mlk._dask._worker`) share these, and neither Keras nor
scikit-learn is imported here.
"""

import numpy as np
from scipy.special import logit

from ._plan import sigmoid_


def label_proba(outputs, from_probability, constant=None):
    """Each output column's probability (``outputs`` may be logits, and is
    overwritten); exactly 1 or 0 for the labels ``constant`` pins (finite
    entries)."""
    P = outputs if from_probability else sigmoid_(outputs)
    if constant is not None:
        pinned = np.isfinite(constant)
        P[:, pinned] = constant[pinned]
    return P


def class_proba(P, kind):
    """``predict_proba``'s answer from each output column's probability P:
    ``[1 - p, p]`` for a binary target, the classes' probabilities normalised
    (as ``OneVsRestClassifier``'s) for a multiclass one, P itself otherwise."""
    if kind == "binary":
        return np.hstack([1.0 - P, P])
    if kind == "multiclass":
        total = P.sum(axis=1, keepdims=True)
        return np.divide(P, total, out=np.full_like(P, 1.0 / P.shape[1]),
                         where=total > 0)
    return P


def margins(outputs, thresholds, from_probability, constant=None):
    """``logit(p) - logit(threshold)`` of each output (overwritten), positive
    exactly where the probability reaches its threshold."""
    if constant is not None:  # a label present in every sample, or in none
        pinned = np.isfinite(constant)
        if from_probability:
            outputs[:, pinned] = constant[pinned]
        else:  # the extreme finite logits, as probabilities 1 and 0 give below
            info = np.finfo(outputs.dtype)
            outputs[:, pinned] = np.where(constant[pinned] == 1.0,
                                          logit(1 - info.epsneg), logit(info.tiny))
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = logit(np.clip(thresholds, 0.0, 1.0)).astype(outputs.dtype)
        if from_probability:
            tiny = np.finfo(outputs.dtype).tiny
            margin = logit(np.clip(outputs, tiny, 1 - np.finfo(outputs.dtype).epsneg))
            proba = outputs
        else:
            margin = outputs.copy()
            proba = sigmoid_(outputs)
        margin -= cut
    passed = proba >= thresholds
    # fmax and fmin also replace the NaN of infinite logits at infinite cuts.
    least = np.finfo(margin.dtype).smallest_subnormal
    np.fmax(margin, least, out=margin, where=passed)
    np.fmin(margin, -least, out=margin, where=~passed)
    return margin


def indicator(P, thresholds, kind, min_labels=0, max_labels=None):
    """Boolean indicator: thresholds, then the per-sample label limits; the
    most probable class for a multiclass target (``kind``)."""
    if kind == "multiclass":
        return np.eye(P.shape[1], dtype=bool)[P.argmax(axis=1)]
    if kind == "binary":
        return P >= thresholds
    return decide(P, thresholds, min_labels, max_labels)


def classes_of(indicator, kind, classes):
    """A 1-D target's class of each row of a 0/1 indicator; the indicator, as
    int64, for any other target."""
    indicator = np.asarray(indicator).astype(np.int64)
    if kind == "binary":
        return classes[indicator[:, 0]]
    if kind == "multiclass":
        return classes[indicator.argmax(axis=1)]
    return indicator


def decide(P, thresholds, min_labels=0, max_labels=None):
    """Boolean label indicator from probabilities, thresholds and limits.

    A label is predicted when its probability reaches its threshold. Rows with
    fewer than ``min_labels`` labels are topped up, and rows with more than
    ``max_labels`` cut back, by the margin (probability minus threshold).
    """
    D = P >= thresholds
    n, n_labels = P.shape
    if n == 0 or (min_labels == 0 and max_labels is None):
        return D
    margin = P - thresholds
    if max_labels is not None and max_labels < n_labels:
        if max_labels == 0:
            return np.zeros_like(D)
        over = D.sum(axis=1) > max_labels
        if over.any():
            m = margin[over]
            top = np.argpartition(-m, max_labels - 1, axis=1)[:, :max_labels]
            keep = np.zeros_like(m, dtype=bool)
            keep[np.arange(len(m))[:, None], top] = True
            D[over] &= keep
    if min_labels > 0:
        k = min(min_labels, n_labels)
        under = D.sum(axis=1) < k
        if under.any():
            m = margin[under]
            top = np.argpartition(-m, k - 1, axis=1)[:, :k]
            sub = D[under]
            sub[np.arange(len(m))[:, None], top] = True
            D[under] = sub
    return D
