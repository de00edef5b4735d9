"""Threshold search over scores seen once, block by block, in fixed memory.

The exact search (:mod:`sklearn_mlk._thresholds`) sorts every tuning score of
every label, so it needs them all in memory at once. Data streamed from a
Dask collection gives its out-of-fold scores one block at a time instead:
:class:`ScoreHistogram` adds each block's weighted positives and totals into
a fixed number of bins per label, spaced evenly on the logit scale (the
network's own), and the same searches then run over the bins' edges.

A cut can only fall between two bins, so scores that share a bin are
predicted alike. Against the exact search, this loses at most the weight of
the scores that share the exact optimum's lowest predicted bin and fall below
its cut: including them raises the predicted weight by ``m``, which lowers
F1 by at most ``m / (positive weight)`` (tested in
``tests/test_histogram.py``; measured on the shared sets by
``benchmarks/out_of_core.py``). With :data:`MAX_BINS` bins over logits of
+-:data:`LOGIT_LIMIT` a bin is about 0.0005 logits wide, so it rarely holds
two tuning scores at all. The pooled curve (every label's scores together,
for labels too rare to tune alone) holds as many times more scores as there
are labels, and has :data:`POOLED_BINS` bins of its own.
"""

import numpy as np
import scipy.sparse as sp

from ._thresholds import Curve, _halfway
from ._targets import UNKNOWN

# The bins span logits in [-LOGIT_LIMIT, LOGIT_LIMIT]; the two end bins take
# everything beyond (float32 probabilities reach about +-16.6).
LOGIT_LIMIT = 16.0
MAX_BINS = 1 << 16
# Bins of all labels together at most: up to 256 labels get MAX_BINS each,
# 1000 labels 16,384 (two float64 counts per bin: 256 MiB at most). cal500
# (174 labels, 101 tuning rows whose scores nearly tie) needs MAX_BINS for
# every label's F1 to stay within 0.001 of the exact search's
# (benchmarks/out_of_core.py, "thresholds"; --bins sets fewer).
MAX_CELLS = 1 << 24
# Bins of the pooled histogram (every label's scores together, for the labels
# that fall back to the pooled threshold): it holds labels times as many
# scores as one label's, so it has finer bins of its own (16 MiB of counts).
POOLED_BINS = 1 << 20


def bins_for(n_labels):
    """The bins per label for ``n_labels`` labels: a power of two, at most
    :data:`MAX_BINS`, with at most :data:`MAX_CELLS` in all (and 256 at least)."""
    fit = MAX_CELLS // max(int(n_labels), 1)
    return int(min(MAX_BINS, max(256, 1 << max(fit.bit_length() - 1, 0))))


class ScoreHistogram:
    """Weighted positives and totals of each label's scores, in fixed bins.

    Parameters
    ----------
    n_labels : int
        Columns of the scores.
    bins : int, default=None
        Bins per label; None gives :func:`bins_for`.

    Attributes
    ----------
    lower : ndarray of shape (bins,)
        Each bin's lowest probability: bin ``b`` holds the scores in
        ``[lower[b], lower[b + 1])``, the last one up to 1 included.
    positives, totals : ndarray of shape (n_labels, bins)
        Weight of the positive rows, and of all known rows, in each bin.
    n_pos, n_known : ndarray of shape (n_labels,)
        Unweighted positive and known rows of each label.
    """

    def __init__(self, n_labels, bins=None, pooled_bins=POOLED_BINS):
        bins = bins_for(n_labels) if bins is None else int(bins)
        if min(bins, pooled_bins) < 2:
            raise ValueError(f"A score histogram needs at least 2 bins, got "
                             f"{min(bins, pooled_bins)}.")
        self.lower, self.upper = _edges(bins)
        self.pooled_lower, self.pooled_upper = _edges(pooled_bins)
        self.positives = np.zeros((n_labels, bins))
        self.totals = np.zeros((n_labels, bins))
        self.pooled_positives = np.zeros(pooled_bins)
        self.pooled_totals = np.zeros(pooled_bins)
        self.n_pos = np.zeros(n_labels, dtype=np.int64)
        self.n_known = np.zeros(n_labels, dtype=np.int64)

    @property
    def n_labels(self):
        return self.positives.shape[0]

    @property
    def bins(self):
        return self.lower.size

    def add(self, S, Y, w):
        """Count one block: scores S (rows, n_labels), its encoded target Y
        (0/1, UNKNOWN for an unknown entry; dense or sparse) and row weights w."""
        S = np.asarray(S, dtype=np.float64)
        if S.ndim != 2 or S.shape[1] != self.n_labels:
            raise ValueError(f"Expected scores of shape (n, {self.n_labels}), got {S.shape}.")
        if not np.isfinite(S).all():
            raise ValueError(
                "The scores to tune thresholds on hold NaN or infinite values; the "
                "network's outputs on these samples are meaningless.")
        Y = np.asarray(Y.toarray() if sp.issparse(Y) else Y, dtype=np.float64)
        w = np.asarray(w, dtype=np.float64)
        known = Y != UNKNOWN
        cells = np.searchsorted(self.lower, S, side="right") - 1
        cells += np.arange(self.n_labels) * self.bins
        weights = np.broadcast_to(w[:, None], S.shape)
        size = self.positives.size
        self.totals += np.bincount(cells[known], weights[known],
                                   minlength=size).reshape(self.totals.shape)
        positive = known & (Y > 0)
        self.positives += np.bincount(cells[positive], weights[positive],
                                      minlength=size).reshape(self.totals.shape)
        self.n_pos += positive.sum(axis=0)
        self.n_known += known.sum(axis=0)
        pooled = np.searchsorted(self.pooled_lower, S[known], side="right") - 1
        size = self.pooled_totals.size
        self.pooled_totals += np.bincount(pooled, weights[known], minlength=size)
        self.pooled_positives += np.bincount(pooled, np.where(positive, weights, 0.0)[known],
                                             minlength=size)
        return self

    def curves(self):
        """One :class:`~sklearn_mlk._thresholds.Curve` per label, its
        candidates the cuts between non-empty bins."""
        return [_curve(self.lower, self.upper, self.positives[j], self.totals[j],
                       self.n_pos[j], self.n_known[j]) for j in range(self.n_labels)]

    def pooled_curve(self):
        """The curve of every label's scores together, in the finer pooled bins."""
        return _curve(self.pooled_lower, self.pooled_upper, self.pooled_positives,
                      self.pooled_totals, int(self.n_pos.sum()), int(self.n_known.sum()))


def _edges(bins):
    """The lowest and highest probability of each of ``bins`` bins, evenly
    spaced on the logit scale within +-LOGIT_LIMIT (the end bins take the rest)."""
    logits = np.linspace(-LOGIT_LIMIT, LOGIT_LIMIT, bins - 1)
    lower = np.concatenate(([0.0], 1.0 / (1.0 + np.exp(-logits))))
    return lower, np.append(lower[1:], 1.0)


def _curve(lower, upper, positives, totals, n_pos, n_known):
    """The :class:`~sklearn_mlk._thresholds.Curve` of one histogram's counts
    in the bins with edges ``lower`` and ``upper``: its candidates are the
    cuts between non-empty bins."""
    n_pos, n_known = int(n_pos), int(n_known)
    full = np.flatnonzero(totals > 0)[::-1]  # non-empty bins, highest first
    if full.size == 0:
        zero = np.zeros(1)
        return Curve(np.array([1.0]), zero, zero, n_pos, n_known - n_pos)
    # A bin counts as one score, its lowest probability: a cut at or
    # below it predicts the whole bin. Between two non-empty bins the cut
    # is halfway on the logit scale from the upper one's lowest score to
    # the lower one's highest, as the exact search cuts between scores.
    low, high = lower[full], upper[full]
    top = full[0]
    none = upper[top] if top < len(lower) - 1 else np.nextafter(1.0, np.inf)
    between = _halfway(low[:-1], high[1:])
    below = low[-1] / 2
    tp = np.concatenate(([0.0], np.cumsum(positives[full], dtype=np.float64)))
    fp = np.concatenate(([0.0], np.cumsum(totals[full], dtype=np.float64))) - tp
    np.maximum(fp, 0.0, out=fp)
    return Curve(np.concatenate(([none], between, [below])), tp, fp,
                 n_pos, n_known - n_pos, low)
