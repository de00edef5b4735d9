"""Splits that keep rare labels on both sides: the threshold-tuning data.

Multi-label targets are split by iterative stratification (Sechidis et al.
2011, as implemented by the ``iterative-stratification`` package); a single
label falls back to scikit-learn's stratified splitters, and a label too rare
to stratify to plain shuffled splits.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit


def _dense(Y):
    """The positives of Y as int8; unknown entries (below 0) count as not
    positive, so that only known positives are spread over the splits."""
    return (np.asarray(Y.toarray() if sp.issparse(Y) else Y) > 0).astype(np.int8)


_FIXED_HINT = " Use a fixed threshold (e.g. threshold=0.5) to train on fewer."


def _check_size(n_samples, needed, what, hint=""):
    if n_samples < needed:
        raise ValueError(
            f"{what} needs at least {needed} samples, got {n_samples} "
            f"sample{'s' if n_samples != 1 else ''}.{hint}"
        )


def holdout_split(Y, fraction, seed, purpose=None):
    """(train, held-out) row indices, the held-out share about ``fraction``.

    ``purpose`` names what the hold-out is for in the too-few-samples error;
    by default, threshold tuning.
    """
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    n_samples = Y.shape[0]
    if purpose is None:
        _check_size(n_samples, 2, f"Tuning thresholds on a hold-out of {fraction}",
                    _FIXED_HINT)
    else:
        _check_size(n_samples, 2, f"{purpose} of {fraction}")
    n_test = holdout_size(n_samples, fraction)
    Yd = _dense(Y)
    X = np.zeros((n_samples, 1))
    if Yd.shape[1] > 1:
        splitter = MultilabelStratifiedShuffleSplit(1, test_size=n_test, random_state=seed)
    elif _stratifiable(Yd[:, 0], 2):
        splitter = StratifiedShuffleSplit(1, test_size=n_test, random_state=seed)
    else:
        splitter = ShuffleSplit(1, test_size=n_test, random_state=seed)
    train, test = next(splitter.split(X, Yd if Yd.shape[1] > 1 else Yd[:, 0]))
    if len(train) == 0 or len(test) == 0:  # iterative stratification's rounding
        train, test = next(ShuffleSplit(1, test_size=n_test, random_state=seed).split(X))
    return np.sort(train), np.sort(test)


def holdout_size(n_samples, fraction):
    """Rows in a hold-out of ``fraction``: at least one, and one fewer than all."""
    return min(max(int(round(fraction * n_samples)), 1), max(n_samples - 1, 1))


def kfold_splits(Y, n_folds, seed):
    """List of (train, tuning) row indices of ``n_folds`` shuffled folds."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    n_samples = Y.shape[0]
    _check_size(n_samples, n_folds, f"Tuning thresholds with threshold_cv={n_folds}",
                _FIXED_HINT)
    Yd = _dense(Y)
    X = np.zeros((n_samples, 1))
    if Yd.shape[1] > 1:
        splits = MultilabelStratifiedKFold(n_folds, shuffle=True, random_state=seed)
        folds = list(splits.split(X, Yd))
    elif _stratifiable(Yd[:, 0], n_folds):
        folds = list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(X, Yd[:, 0]))
    else:
        folds = []
    if not folds or any(len(train) == 0 or len(test) == 0 for train, test in folds):
        folds = list(KFold(n_folds, shuffle=True, random_state=seed).split(X))
    return [(np.sort(train), np.sort(test)) for train, test in folds]


def _stratifiable(y, n_folds):
    counts = np.bincount(y, minlength=2)
    return bool(np.all(counts >= n_folds))
