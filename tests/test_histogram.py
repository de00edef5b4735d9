"""The threshold search over binned scores, against the exact search."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_mlk import _histogram as H
from sklearn_mlk import _thresholds as T


def _weighted_f1(s, y, w, cut):
    """F1 of predicting ``s >= cut``, counted on the raw rows."""
    pred = s >= cut
    tp = w[pred & (y == 1)].sum()
    fp = w[pred & (y == 0)].sum()
    fn = w[~pred & (y == 1)].sum()
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def _scores(draw_seed, n, kind):
    """Scores of one label: a logit mixture, ties, saturated ends or a gap."""
    rng = np.random.default_rng(draw_seed)
    y = (rng.random(n) < rng.uniform(0.05, 0.7)).astype(float)
    if y.sum() == 0:
        y[0] = 1.0
    logits = rng.normal(0, rng.uniform(0.2, 3), n) + y * rng.uniform(-1, 4)
    if kind == "ties":
        logits = np.round(logits * 2) / 2
    elif kind == "saturated":
        logits = logits * 20
    elif kind == "gap":
        logits = np.where(y == 1, 8 + rng.random(n), -8 - rng.random(n))
    s = (1 / (1 + np.exp(-logits))).astype(np.float32).astype(np.float64)
    w = np.ones(n) if rng.random() < 0.5 else rng.uniform(0.1, 3, n)
    return s, y, w


def _streamed(s, y, w, bins, blocks, objective="f1"):
    hist = H.ScoreHistogram(1, bins)
    for part in np.array_split(np.arange(s.size), blocks):
        hist.add(s[part, None], y[part, None], w[part])
    tuned = T.tune_curves(hist.curves(), hist.pooled_curve, objective, min_positives=0)
    return hist, float(tuned.thresholds[0])


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(5, 400),
       st.sampled_from(["mixture", "ties", "saturated", "gap"]),
       st.sampled_from([4, 16, 128, 4096]), st.integers(1, 5))
def test_streamed_f1_is_within_the_stated_bound_of_the_exact_search(seed, n, kind,
                                                                      bins, blocks):
    s, y, w = _scores(seed, n, kind)
    exact = float(T.tune(s[:, None], y[:, None], w, "f1", min_positives=0).thresholds[0])
    best = _weighted_f1(s, y, w, exact)
    hist, cut = _streamed(s, y, w, bins, blocks)
    got = _weighted_f1(s, y, w, cut)
    # The bound: the weight that shares a bin with the exact optimum's lowest
    # predicted score and falls below its cut, over the positive weight.
    predicted = s >= exact
    slack = 0.0
    if predicted.any():
        lowest = s[predicted].min()
        cell = np.searchsorted(hist.lower, lowest, side="right") - 1
        in_cell = (s >= hist.lower[cell]) & (s < hist.upper[cell]) | (
            (cell == hist.bins - 1) & (s == 1.0))
        slack = w[in_cell & ~predicted].sum() / w[y == 1].sum()
    assert got >= best - slack - 1e-9
    # The counts behind the choice are the raw rows' counts at that cut.
    curve = hist.curves()[0]
    assert T._score_at(curve, T._f1, cut) == pytest.approx(got, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(5, 300), st.integers(1, 4))
def test_one_score_per_bin_makes_the_streamed_search_exact(seed, n, blocks):
    rng = np.random.default_rng(seed)
    hist = H.ScoreHistogram(1, 2048)
    # Each score in its own bin, away from the bins' edges.
    cells = rng.choice(np.arange(1, hist.bins - 1), size=n, replace=False)
    s = (hist.lower[cells] + hist.upper[cells]) / 2
    y = (rng.random(n) < 0.3).astype(float)
    y[0] = 1.0
    w = rng.uniform(0.5, 2, n)
    exact = float(T.tune(s[:, None], y[:, None], w, "f1", min_positives=0).thresholds[0])
    _, cut = _streamed(s, y, w, 2048, blocks)
    assert _weighted_f1(s, y, w, cut) == pytest.approx(_weighted_f1(s, y, w, exact),
                                                       abs=1e-12)


def test_blocks_add_up_to_one_pass_and_unknown_entries_are_left_out():
    rng = np.random.default_rng(0)
    S = rng.random((500, 3))
    Y = (rng.random((500, 3)) < 0.3).astype(float)
    Y[rng.random((500, 3)) < 0.1] = -1  # unknown entries
    w = rng.uniform(0, 2, 500)
    whole = H.ScoreHistogram(3, 512).add(S, Y, w)
    parts = H.ScoreHistogram(3, 512)
    for rows in np.array_split(np.arange(500), 7):
        parts.add(S[rows], Y[rows], w[rows])
    known = Y != -1
    np.testing.assert_allclose(parts.totals, whole.totals)
    np.testing.assert_allclose(parts.positives, whole.positives)
    np.testing.assert_allclose(parts.pooled_totals, whole.pooled_totals)
    np.testing.assert_allclose(parts.pooled_positives, whole.pooled_positives)
    np.testing.assert_array_equal(parts.n_known, whole.n_known)
    np.testing.assert_array_equal(parts.n_pos, whole.n_pos)
    assert whole.pooled_totals.sum() == pytest.approx((w[:, None] * known).sum())
    assert whole.pooled_positives.sum() == pytest.approx((w[:, None] * (Y == 1)).sum())
    # A sparse target counts as its dense form (it holds no unknown entries).
    Y01 = (Y == 1).astype(float)
    dense = H.ScoreHistogram(3, 512).add(S, Y01, w)
    sparse = H.ScoreHistogram(3, 512).add(S, sp.csr_matrix(Y01), w)
    np.testing.assert_allclose(sparse.positives, dense.positives)
    np.testing.assert_allclose(sparse.totals, dense.totals)
    known = Y != -1
    np.testing.assert_array_equal(whole.n_known, known.sum(axis=0))
    np.testing.assert_array_equal(whole.n_pos, (Y == 1).sum(axis=0))
    np.testing.assert_allclose(whole.totals.sum(axis=1), (w[:, None] * known).sum(axis=0))
    np.testing.assert_allclose(whole.positives.sum(axis=1),
                               (w[:, None] * (Y == 1)).sum(axis=0))
    pooled = whole.pooled_curve()
    assert pooled.tp[-1] == pytest.approx(sum(c.tp[-1] for c in whole.curves()))


def test_streamed_search_matches_the_exact_one_on_several_labels_and_objectives():
    rng = np.random.default_rng(1)
    Y = (rng.random((3000, 6)) < [0.02, 0.1, 0.3, 0.5, 0.001, 0.2]).astype(float)
    S = 1 / (1 + np.exp(-(rng.normal(size=Y.shape) + 2.5 * Y - 1)))
    w = np.ones(3000)
    hist = H.ScoreHistogram(6).add(S, Y, w)
    for objective in ("f1", "micro_f1", "balanced_accuracy", T.FBeta(2)):
        exact = T.tune(S, Y, w, objective)
        streamed = T.tune_curves(hist.curves(), hist.pooled_curve, objective)
        np.testing.assert_array_equal(streamed.status, exact.status)
        np.testing.assert_allclose(streamed.scores, exact.scores, atol=1e-3)
    # The rare label (3 positives at most) falls back to the pooled threshold.
    assert exact.status[4].startswith("fallback")
    with pytest.raises(ValueError, match="samples_f1"):
        T.tune_curves(hist.curves(), hist.pooled_curve, "samples_f1")


def test_scores_that_are_not_finite_are_refused():
    hist = H.ScoreHistogram(2, 16)
    with pytest.raises(ValueError, match=r"^The scores to tune thresholds on hold NaN or "
                       r"infinite values; the network's outputs on these samples are "
                       r"meaningless\.$"):
        hist.add(np.array([[0.5, np.nan]]), np.array([[1, 0]]), np.ones(1))
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        hist.add(np.zeros((3, 3)), np.zeros((3, 3)), np.ones(3))


@pytest.mark.parametrize("n_labels, bins", [(1, H.MAX_BINS), (256, H.MAX_BINS),
                                            (1000, 16384), (10**6, 256)])
def test_bins_shrink_with_the_labels_to_bound_the_memory(n_labels, bins):
    assert H.bins_for(n_labels) == bins
    assert H.bins_for(n_labels) * n_labels <= max(H.MAX_CELLS, 256 * n_labels)


def test_saturated_scores_fall_in_the_end_bins():
    hist = H.ScoreHistogram(1, 64).add(np.array([[0.0], [1.0], [1e-30], [1 - 1e-17]]),
                                       np.array([[0], [1], [0], [1]]), np.ones(4))
    assert hist.totals[0, 0] == 2 and hist.totals[0, -1] == 2
    curve = hist.curves()[0]
    # The cut between the two ends predicts exactly the two positives.
    assert T.best_cut(curve, T._f1)[1] == 1.0


def test_the_pooled_search_has_bins_fine_enough_for_every_labels_scores():
    """Many labels on few rows (cal500's shape): rare labels take the pooled
    threshold, whose search sees labels x rows scores; in its own finer bins
    it gives each label the F1 the exact pooled threshold gives."""
    rng = np.random.default_rng(0)
    Y = (rng.random((100, 170)) < rng.uniform(0.01, 0.3, 170)).astype(float)
    S = 1 / (1 + np.exp(-(rng.normal(size=Y.shape) + 1.5 * Y - 1.5)))
    w = np.ones(100)
    exact = T.tune(S, Y, w, "f1", min_positives=10**6)  # every label pooled
    hist = H.ScoreHistogram(170).add(S, Y, w)
    assert hist.bins < H.POOLED_BINS
    streamed = T.tune_curves(hist.curves(), hist.pooled_curve, "f1", min_positives=10**6)
    f1 = [[_weighted_f1(S[:, j], Y[:, j], w, t[j]) for j in range(170)]
          for t in (exact.thresholds, streamed.thresholds)]
    np.testing.assert_allclose(f1[1], f1[0], atol=1e-3)
    # In the per-label bins alone, 17,000 scores would share bins.
    coarse = H.ScoreHistogram(170, pooled_bins=hist.bins).add(S, Y, w)
    assert coarse.pooled_curve().cut.size < hist.pooled_curve().cut.size


def test_the_bins_asked_for_are_the_bins_used_and_two_is_the_least():
    assert H.ScoreHistogram(3, bins=16).bins == 16
    assert H.ScoreHistogram(3, bins=2, pooled_bins=2).pooled_lower.size == 2
    with pytest.raises(ValueError, match=r"^A score histogram needs at least 2 bins, got 1\.$"):
        H.ScoreHistogram(3, bins=1)
    with pytest.raises(ValueError, match="got 1"):
        H.ScoreHistogram(3, bins=8, pooled_bins=1)


def test_a_label_never_known_has_the_empty_curve():
    Y = np.array([[1, -1], [0, -1], [1, -1]])
    hist = H.ScoreHistogram(2, 64).add(np.full((3, 2), 0.4), Y, np.ones(3))
    empty = hist.curves()[1]
    np.testing.assert_array_equal(empty.cut, [1.0])
    np.testing.assert_array_equal(empty.tp, [0.0])
    np.testing.assert_array_equal(empty.fp, [0.0])
    assert (empty.n_pos, empty.n_neg) == (0, 0)
    known = hist.curves()[0]
    assert (known.n_pos, known.n_neg) == (2, 1)


def test_the_curve_ends_above_every_score_and_halfway_below_the_lowest():
    hist = H.ScoreHistogram(1, 64).add(np.array([[0.5], [0.3]]), np.array([[1], [0]]),
                                       np.ones(2))
    curve = hist.curves()[0]
    top = np.searchsorted(hist.lower, 0.5, side="right") - 1
    low = np.searchsorted(hist.lower, 0.3, side="right") - 1
    assert curve.cut[0] == hist.upper[top] and curve.index(curve.cut[0]) == 0
    assert curve.cut[-1] == hist.lower[low] / 2
    assert (curve.tp[0], curve.fp[0]) == (0.0, 0.0)
    assert (curve.tp[-1], curve.fp[-1]) == (1.0, 1.0)
    # A score in the last bin (up to 1 included): nothing is above the first cut.
    ones = H.ScoreHistogram(1, 64).add(np.array([[1.0], [0.2]]), np.array([[1], [0]]),
                                       np.ones(2)).curves()[0]
    assert ones.cut[0] == np.nextafter(1.0, np.inf) and ones.index(ones.cut[0]) == 0
    # In the bin below the last, the first cut is that bin's upper edge.
    hist = H.ScoreHistogram(1, 64)
    below_last = (hist.lower[-2] + hist.upper[-2]) / 2
    curve = hist.add(np.array([[below_last]]), np.array([[1]]), np.ones(1)).curves()[0]
    assert curve.cut[0] == hist.upper[-2] == hist.lower[-1]


def test_scores_in_one_bin_are_constant_scores_for_the_fallback():
    S = np.column_stack([np.full(50, 0.7), np.linspace(0.1, 0.9, 50)])
    Y = np.column_stack([np.arange(50) % 2, np.arange(50) % 2])
    hist = H.ScoreHistogram(2, 256).add(S, Y, np.ones(50))
    assert hist.curves()[0].cut.size == 2  # predict nothing, or the one bin
    tuned = T.tune_curves(hist.curves(), hist.pooled_curve, "f1")
    assert tuned.status[0] == "fallback: constant scores"
    assert tuned.status[1] == "tuned"
