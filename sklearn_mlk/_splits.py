"""Splits that keep rare labels on both sides: the threshold-tuning data.

Multi-label targets are split by iterative stratification (Sechidis et al.
2011), giving the splits of the ``iterative-stratification`` package's
``MultilabelStratifiedKFold`` and ``MultilabelStratifiedShuffleSplit`` (with
``shuffle=True``) row for row, from the same seeds (:func:`stratify`); a
single label falls back to scikit-learn's stratified splitters, and a label
too rare to stratify to plain shuffled splits.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit
from sklearn.utils import check_random_state


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
        n_train = n_samples - n_test
        sides = stratify(Yd, np.array([n_train, n_test]) / n_samples, seed)
        train, test = np.flatnonzero(sides == 0), np.flatnonzero(sides == 1)
    else:
        splitter = (StratifiedShuffleSplit if _stratifiable(Yd[:, 0], 2) else ShuffleSplit)(
            1, test_size=n_test, random_state=seed)
        train, test = next(splitter.split(X, Yd[:, 0]))
    if len(train) == 0 or len(test) == 0:  # iterative stratification's rounding
        train, test = next(ShuffleSplit(1, test_size=n_test, random_state=seed).split(X))
    return np.sort(train), np.sort(test)


def holdout_size(n_samples, fraction):
    """Rows in a hold-out of ``fraction``: at least one, and one fewer than all."""
    return min(max(int(round(fraction * n_samples)), 1), max(n_samples - 1, 1))


def kfold_splits(Y, n_folds, seed):
    """List of (train, tuning) row indices of ``n_folds`` shuffled folds."""
    n_samples = Y.shape[0]
    _check_size(n_samples, n_folds, f"Tuning thresholds with threshold_cv={n_folds}",
                _FIXED_HINT)
    Yd = _dense(Y)
    X = np.zeros((n_samples, 1))
    if Yd.shape[1] > 1:
        fold = stratify(Yd, np.full(n_folds, 1 / n_folds), seed)
        folds = [(np.flatnonzero(fold != i), np.flatnonzero(fold == i))
                 for i in range(n_folds)]
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


def stratify(Y, shares, seed):
    """Each row's part (0 to ``len(shares) - 1``) of a multi-label target
    split by iterative stratification into parts of the given ``shares``.

    The parts are those of the ``iterative-stratification`` package's
    splitters from the same ``seed`` (an int, a RandomState or None, as
    scikit-learn's ``check_random_state`` takes it), with the same draws from
    it: the rows are shuffled, then the algorithm of Sechidis et al. (2011)
    hands out the rows of the rarest label left first, each to the part that
    still wants most of that label, ties going to the part that wants most
    rows, then to a random one. Rows without a positive left go last, to the
    parts that want most rows.

    The package's own loop recounts every label's rows left over all rows
    each time it takes up a label, and makes a few NumPy calls per row: on a
    30,000 x 1,000 target that was most of five seconds
    (``benchmarks/splits.py``). Here the counts are kept up to date as rows
    are handed out, and each row's step runs on Python lists.
    """
    Y = np.asarray(Y, dtype=bool)
    rng = check_random_state(seed)
    n_rows = Y.shape[0]
    order = np.arange(n_rows)
    rng.shuffle(order)
    Y = Y[order]
    shares = np.asarray(shares, dtype=np.float64)
    # Rows (and, per label, positives) each part still wants: floats, as the
    # package keeps them, so that equal wants compare equal as they do there.
    wanted = (shares * n_rows).tolist()
    wanted_label = np.outer(shares, Y.sum(axis=0)).T.tolist()  # [label][part]
    left = Y.sum(axis=0)
    labels_of, rows_of = _positions(sp.csr_matrix(Y)), _positions(sp.csc_matrix(Y))
    part = [0] * n_rows
    done = bytearray(n_rows)
    while left.any():
        label = _pick(np.flatnonzero(left == left[left > 0].min()).tolist(), rng)
        wants = wanted_label[label]
        rows = [i for i in rows_of[label] if not done[i]]
        for i in rows:
            top = max(wants)
            best = [j for j, want in enumerate(wants) if want == top]
            if len(best) > 1:
                most = max(wanted[j] for j in best)
                best = [j for j in best if wanted[j] == most]
            j = _pick(best, rng)
            part[i] = j
            done[i] = 1
            wanted[j] -= 1
            for other in labels_of[i]:
                wanted_label[other][j] -= 1
        left -= Y[rows].sum(axis=0)
    for i in range(n_rows):  # rows with no positive left
        if not done[i]:
            top = max(wanted)
            j = _pick([j for j, want in enumerate(wanted) if want == top], rng)
            part[i] = j
            wanted[j] -= 1
    return np.asarray(part)[np.argsort(order)]


def _pick(tied, rng):
    """One of ``tied``, drawn as the package draws it: ``choice(len(tied))``
    of a RandomState is ``randint(0, len(tied))`` of the same stream, at a
    fifth of its cost; nothing is drawn for one."""
    return tied[rng.randint(0, len(tied))] if len(tied) > 1 else tied[0]


def _positions(matrix):
    """The positions of the non-zeros of each row of a CSR matrix (each column
    of a CSC one), ascending, as Python lists."""
    matrix.sort_indices()
    indices, starts = matrix.indices.tolist(), matrix.indptr.tolist()
    return [indices[a:b] for a, b in zip(starts[:-1], starts[1:])]
