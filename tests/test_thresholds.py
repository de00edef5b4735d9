"""Learned decision thresholds: exactness of the searches, edge cases, decoding."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import f1_score, fbeta_score, jaccard_score

from sklearn_mlk import FBeta
from sklearn_mlk import _thresholds as T
from sklearn_mlk._decisions import decide


def _counts(s, y, w, t):
    p = s >= t
    tp = w[p & (y == 1)].sum()
    fp = w[p & (y == 0)].sum()
    fn = w[~p & (y == 1)].sum()
    tn = w[~p & (y == 0)].sum()
    return tp, fp, fn, tn


def _brute_force(s, y, w, objective):
    """Best objective over every distinct score as cut, and the empty cut."""
    cuts = list(np.unique(s)) + [np.inf]
    return max(float(objective(*_counts(s, y, w, t))) for t in cuts)


OBJECTIVES = {
    "f1": T._f1,
    "jaccard": T._jaccard,
    "balanced_accuracy": T._balanced_accuracy,
    "fbeta2": FBeta(2),
}


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 25),
    data=st.data(),
    objective=st.sampled_from(sorted(OBJECTIVES)),
)
def test_exact_search_equals_brute_force(n, data, objective):
    # Scores on a coarse grid force ties; integer weights stress the grouping.
    s = data.draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.9, 1.0])))
    y = data.draw(arrays(np.int64, n, elements=st.integers(0, 1)))
    w = data.draw(arrays(np.float64, n, elements=st.sampled_from([0.5, 1.0, 3.0])))
    fn = OBJECTIVES[objective]
    curve = T.label_curves(s[:, None], y[:, None], w)[0]
    cut, value = T.best_cut(curve, fn)
    assert value == pytest.approx(_brute_force(s, y, w, fn), abs=1e-12)
    # The returned cut reproduces the value on the tuning data.
    assert float(fn(*_counts(s, y, w, cut))) == pytest.approx(value, abs=1e-12)
    # The cut sits strictly between scores, never on one, but for the cut that
    # predicts every sample where the lowest score is 0: a probability cut is
    # never below 0.
    assert cut not in set(s.tolist()) or cut == 0.0 == s.min()
    assert cut >= 0.0


def test_search_matches_scikit_learn_metrics():
    rng = np.random.default_rng(0)
    s = np.round(rng.random(300), 2)
    y = (rng.random(300) < s).astype(int)
    w = rng.integers(1, 4, 300).astype(float)
    curve = T.label_curves(s[:, None], y[:, None], w)[0]
    for name, metric in [
        ("f1", lambda p: f1_score(y, p, sample_weight=w)),
        ("jaccard", lambda p: jaccard_score(y, p, sample_weight=w)),
    ]:
        cut, value = T.best_cut(curve, T._PER_LABEL[name])
        assert metric(s >= cut) == pytest.approx(value)
    cut, value = T.best_cut(curve, FBeta(0.5))
    assert fbeta_score(y, s >= cut, beta=0.5, sample_weight=w) == pytest.approx(value)


def _tiny_problem(seed, max_rows, max_labels):
    """Scores on a 0.1 grid (ties), 0/1 targets and integer weights."""
    rng = np.random.default_rng(seed)
    n, n_labels = rng.integers(2, max_rows + 1), rng.integers(2, max_labels + 1)
    S = np.round(rng.random((n, n_labels)), 1)
    Y = (rng.random((n, n_labels)) < 0.4).astype(int)
    return S, Y, rng.integers(1, 4, n).astype(float)


@pytest.mark.parametrize("seed", range(40))
def test_micro_f1_search_equals_exhaustive_search(seed):
    S, Y, w = _tiny_problem(seed, max_rows=6, max_labels=3)
    n_labels = S.shape[1]
    tuned = T.tune(S, Y, w, "micro_f1", min_positives=0)
    got = f1_score(Y, S >= tuned.thresholds, average="micro", sample_weight=w,
                   zero_division=0)
    cuts = [list(np.unique(S[:, k])) + [np.inf] for k in range(n_labels)]
    best = max(
        f1_score(Y, S >= np.array(c), average="micro", sample_weight=w, zero_division=0)
        for c in itertools.product(*cuts)
    )
    assert got == pytest.approx(best, abs=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_samples_f1_search_equals_exhaustive_search(seed):
    S, Y, w = _tiny_problem(seed, max_rows=11, max_labels=4)
    cut, value = T.samples_f1_cut(S, Y, w)

    def samples_f1(t):
        return f1_score(Y, S >= t, average="samples", sample_weight=w, zero_division=0)

    best = max(samples_f1(t) for t in list(np.unique(S)) + [np.inf])
    assert samples_f1(cut) == pytest.approx(best, abs=1e-12)
    assert value == pytest.approx(best, abs=1e-9)


def test_separable_label_gets_threshold_between_classes():
    s = np.array([0.05, 0.2, 0.31, 0.42, 0.6, 0.8, 0.95])
    y = np.array([0, 0, 0, 0, 1, 1, 1])
    tuned = T.tune(s[:, None], y[:, None], np.ones(7), "f1")
    assert 0.42 < tuned.thresholds[0] < 0.6
    assert tuned.scores[0] == 1.0
    assert tuned.status[0] == "tuned"


def test_degenerate_labels_get_a_status_and_no_nan():
    rng = np.random.default_rng(0)
    n = 50
    S = rng.random((n, 5))
    Y = (rng.random((n, 5)) < S).astype(int)
    Y[:, 0] = 0  # no positives
    Y[:, 1] = 1  # no negatives
    S[:, 2] = 0.3  # constant scores
    Y[:, 3] = 0
    Y[:2, 3] = 1  # two positives
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for objective in ("f1", "jaccard", "balanced_accuracy", "micro_f1", FBeta(2)):
            tuned = T.tune(S, Y, np.ones(n), objective, min_positives=3)
            assert np.all(np.isfinite(tuned.thresholds)), objective
            assert np.all(np.isfinite(tuned.scores)), objective
            assert list(tuned.status[:4]) == [
                "fallback: no positives",
                "fallback: no negatives",
                "fallback: constant scores",
                "fallback: 2 positives < min_positives=3",
            ]
            assert tuned.status[4] == "tuned"
            # Fallback labels share the pooled threshold.
            assert len(set(tuned.thresholds[:4])) == 1
        tuned = T.tune(S, Y, np.ones(n), "samples_f1")
        assert np.all(np.isfinite(tuned.thresholds)) and set(tuned.status) == {"shared"}


def test_fbr_floors_weak_labels():
    rng = np.random.default_rng(1)
    n = 200
    S = rng.random((n, 2))
    Y = np.zeros((n, 2), dtype=int)
    Y[:, 0] = S[:, 0] > 0.5  # learnable
    Y[rng.choice(n, 10, replace=False), 1] = 1  # noise: best F1 about 0.1
    tuned = T.tune(S, Y, np.ones(n), "f1", fbr=0.3)
    assert tuned.status.tolist() == ["tuned", "floored"]
    assert tuned.thresholds[1] > S[:, 1].max()
    assert tuned.thresholds[0] < S[:, 0].max()


def test_permuting_labels_permutes_thresholds():
    rng = np.random.default_rng(2)
    S = rng.random((80, 6))
    Y = (rng.random((80, 6)) < S).astype(int)
    w = rng.random(80) + 0.5
    order = rng.permutation(6)
    for objective in ("f1", "micro_f1"):
        a = T.tune(S, Y, w, objective)
        b = T.tune(S[:, order], Y[:, order], w, objective)
        np.testing.assert_allclose(b.thresholds, a.thresholds[order])
        np.testing.assert_array_equal(b.status, a.status[order])


def test_duplicating_rows_equals_weight_two():
    rng = np.random.default_rng(3)
    S = np.round(rng.random((60, 4)), 2)
    Y = (rng.random((60, 4)) < S).astype(int)
    doubled = rng.random(60) < 0.3
    w = np.where(doubled, 2.0, 1.0)
    rows = np.concatenate([np.arange(60), np.flatnonzero(doubled)])
    for objective in ("f1", "balanced_accuracy", "micro_f1", "samples_f1"):
        a = T.tune(S, Y, w, objective)
        b = T.tune(S[rows], Y[rows], np.ones(len(rows)), objective)
        np.testing.assert_allclose(a.thresholds, b.thresholds)
        np.testing.assert_allclose(a.scores, b.scores)


def test_callable_objective_and_bad_ones():
    rng = np.random.default_rng(4)
    S = rng.random((40, 2))
    Y = (rng.random((40, 2)) < S).astype(int)

    def precision_at_recall(tp, fp, fn, tn):  # vectorised over candidates
        recall = T._ratio(tp, tp + fn)
        return np.where(recall >= 0.8, T._ratio(tp, tp + fp), 0.0)

    tuned = T.tune(S, Y, np.ones(40), precision_at_recall, min_positives=0)
    for k in range(2):
        tp, fp, fn, _ = _counts(S[:, k], Y[:, k], np.ones(40), tuned.thresholds[k])
        assert tp / (tp + fn) >= 0.8
    with pytest.raises(ValueError, match="one score per candidate"):
        T.tune(S, Y, np.ones(40), lambda tp, fp, fn, tn: 1.0)
    with pytest.raises(ValueError, match="one of"):
        T.check_objective("f2")
    with pytest.raises(ValueError, match="beta"):
        FBeta(0)


def test_fbeta_is_comparable_and_picklable():
    import pickle

    assert FBeta(2) == pickle.loads(pickle.dumps(FBeta(2)))
    assert FBeta(2) != FBeta(1)
    assert repr(FBeta(0.5)) == "FBeta(beta=0.5)"


@settings(max_examples=60, deadline=None)
@given(
    P=arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(1, 6)),
             elements=st.floats(0, 1)),
    low=st.integers(0, 6),
    extra=st.one_of(st.none(), st.integers(0, 6)),
)
def test_decoding_limits_hold(P, low, extra):
    n_labels = P.shape[1]
    low = min(low, n_labels)
    high = None if extra is None else max(low + extra, 1)
    thresholds = np.full(n_labels, 0.5)
    D = decide(P, thresholds, low, high)
    counts = D.sum(axis=1)
    assert np.all(counts >= low)
    if high is not None:
        assert np.all(counts <= high)
    plain = P >= thresholds
    # Limits only change rows that break them; kept labels are the largest margins.
    plain_counts = plain.sum(axis=1)
    within = (plain_counts >= low) & (plain_counts <= (n_labels if high is None else high))
    np.testing.assert_array_equal(D[within], plain[within])
    margin = P - thresholds
    for i in range(len(P)):
        if D[i].any() and (~D[i]).any():
            assert margin[i][D[i]].min() >= margin[i][~D[i]].max()
    if high is not None and high == low:
        assert np.all(counts == low)


def _rates(s, y, t):
    p = s >= t
    tp = float((p & (y == 1)).sum())
    precision = tp / p.sum() if p.any() else 0.0
    return precision, tp / (y == 1).sum()


@settings(max_examples=150, deadline=None)
@given(
    st.integers(4, 40).flatmap(lambda n: st.tuples(
        arrays(np.float64, n, elements=st.sampled_from([0.05, 0.2, 0.35, 0.5, 0.7, 0.9])),
        arrays(np.int64, n, elements=st.integers(0, 1)),
    )),
    st.sampled_from([0.3, 0.5, 0.8, 1.0]),
)
def test_constrained_objectives_equal_brute_force(case, level):
    from sklearn_mlk import PrecisionAtLeast, RecallAtLeast

    s, y = case
    if not y.any():
        return
    w = np.ones(len(s))
    cuts = list(np.unique(s))
    for objective, floor, best in ((PrecisionAtLeast(level), 0, 1), (RecallAtLeast(level), 1, 0)):
        tuned = T.tune(s[:, None], y[:, None], w, objective, min_positives=0)
        t = tuned.thresholds[0]
        feasible = [c for c in cuts if _rates(s, y, c)[floor] >= level]
        if not feasible:  # only precision can be out of reach: never predicted
            assert floor == 0 and not (s >= t).any()
            assert tuned.status[0] == f"unreachable: precision >= {level:g}"
            continue
        # The floor holds at the chosen cut, and the other rate is the best
        # any feasible cut gives.
        assert _rates(s, y, t)[floor] >= level
        assert _rates(s, y, t)[best] == pytest.approx(
            max(_rates(s, y, c)[best] for c in feasible))
        assert tuned.status[0] == "tuned"


@pytest.mark.parametrize("level", [0, 1.5, -0.1, "0.9", True])
def test_constrained_objectives_reject_bad_levels(level):
    from sklearn_mlk import PrecisionAtLeast

    with pytest.raises(ValueError, match="level in"):
        PrecisionAtLeast(level)


# -- definitions and edge cases, each checked against an independent source ----


def test_named_objectives_equal_scikit_learn_metrics_at_their_best_cut():
    from sklearn.metrics import balanced_accuracy_score

    rng = np.random.default_rng(3)
    s = np.round(rng.random(200), 2)
    y = (rng.random(200) < s).astype(int)
    w = rng.integers(1, 4, 200).astype(float)
    curve = T.label_curves(s[:, None], y[:, None], w)[0]
    metrics = {
        "f1": lambda p: f1_score(y, p, sample_weight=w),
        "jaccard": lambda p: jaccard_score(y, p, sample_weight=w),
        "balanced_accuracy": lambda p: balanced_accuracy_score(y, p, sample_weight=w),
    }
    for name, metric in metrics.items():
        cut, value = T.best_cut(curve, T._PER_LABEL[name])
        best = max(metric(s >= t) for t in list(np.unique(s)) + [np.inf])
        assert value == pytest.approx(best) and metric(s >= cut) == pytest.approx(best)


def test_objective_values_are_floats_for_scalars_and_arrays():
    assert isinstance(FBeta(2)(3.0, 1.0, 1.0, 5.0), float)
    assert FBeta(2)(3, 1, 1, 5) == pytest.approx(5 * 3 / (5 * 3 + 4 * 1 + 1))
    values = FBeta(0.5)(np.array([3, 0]), np.array([1, 0]), np.array([1, 0]), np.array([0, 0]))
    np.testing.assert_allclose(values, [1.25 * 3 / (1.25 * 3 + 0.25 + 1), 0.0])
    level = T.PrecisionAtLeast(0.5)
    assert isinstance(level(3, 1, 1, 5), float)
    assert level(3, 1, 1, 5) == pytest.approx(0.75)  # recall, precision 0.75 holds
    assert level(1, 3, 1, 5) == -1.0  # precision 0.25 fails
    assert T.RecallAtLeast(0.5)(3, 1, 1, 5) == pytest.approx(0.75)  # precision
    assert T.RecallAtLeast(0.9)(3, 1, 1, 5) == -1.0


@pytest.mark.parametrize("beta", [0, -1, float("inf"), float("nan"), "2", None])
def test_fbeta_rejects_bad_beta(beta):
    with pytest.raises(ValueError, match="beta"):
        FBeta(beta)


def test_constrained_objectives_compare_and_hash_by_type_and_level():
    a, b = T.PrecisionAtLeast(0.9), T.PrecisionAtLeast(0.9)
    assert a == b and hash(a) == hash(b)
    assert a != T.PrecisionAtLeast(0.8) and a != T.RecallAtLeast(0.9)
    assert hash(a) != hash(T.RecallAtLeast(0.9)) and a != 0.9
    assert FBeta(2) == FBeta(2.0) and hash(FBeta(2)) == hash(FBeta(2.0))
    assert FBeta(2) != FBeta(1) and hash(FBeta(2)) != hash(FBeta(1))


def test_precision_level_is_not_reached_by_predicting_nothing():
    level = T.PrecisionAtLeast(0.9)
    assert not level.reached(0.0, 0.0, 3.0, 5.0)  # no prediction: precision 0/0
    assert level.reached(3.0, 0.0, 0.0, 5.0)
    assert not level.reached(3.0, 1.0, 0.0, 5.0)  # 0.75 < 0.9
    assert T.RecallAtLeast(0.5).reached(1.0, 0.0, 1.0, 5.0)
    assert not T.RecallAtLeast(0.6).reached(1.0, 0.0, 1.0, 5.0)


def _decide_by_hand(P, thresholds, low, high):
    D = P >= thresholds
    margin = P - thresholds
    for i in range(len(P)):
        order = np.argsort(-margin[i], kind="stable")
        count = D[i].sum()
        if high is not None and count > high:
            D[i] = False
            D[i, order[:high]] = True
        if count < low:
            D[i, order[:low]] = True
    return D


@pytest.mark.parametrize("seed", range(30))
def test_decoding_equals_a_row_by_row_reference(seed):
    rng = np.random.default_rng(seed)
    n, n_labels = rng.integers(1, 9), rng.integers(1, 14)
    P = rng.random((n, n_labels))
    thresholds = rng.random(n_labels)
    P[0, 0] = thresholds[0]  # a probability exactly at its threshold is predicted
    low = int(rng.integers(0, n_labels + 1))
    high = None if seed % 3 == 0 else int(rng.integers(max(low, 1), n_labels + 1))
    np.testing.assert_array_equal(decide(P.copy(), thresholds, low, high),
                                  _decide_by_hand(P, thresholds, low, high))
    assert decide(P, thresholds)[0, 0]
    none = decide(P, thresholds, 0, 0)
    assert none.shape == P.shape and none.dtype == bool and not none.any()


def test_a_label_without_tuning_rows_gets_the_empty_curve():
    curves = T.label_curves(np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0))
    assert len(curves) == 2
    for curve in curves:
        np.testing.assert_array_equal(curve.cut, [1.0])
        np.testing.assert_array_equal(curve.tp, [0.0])
        np.testing.assert_array_equal(curve.fp, [0.0])
        assert (curve.n_pos, curve.n_neg) == (0, 0)
        assert curve.index(0.3) == 0 and curve.index(2.0) == 0


def test_samples_f1_without_scores_or_weight_is_the_neutral_cut():
    assert T.samples_f1_cut(np.zeros((0, 2)), np.zeros((0, 2)), np.zeros(0)) == (0.5, 0.0)
    S, Y = np.array([[0.2, 0.9]]), np.array([[1.0, 0.0]])
    assert T.samples_f1_cut(S, Y, np.zeros(1)) == (0.5, 0.0)
    # Every cut that predicts label 0 (0.2) also predicts label 1 (0.9): 2/3.
    assert T.samples_f1_cut(S, Y, np.ones(1))[1] == pytest.approx(2 / 3)


def test_fbr_floors_only_labels_strictly_below_it():
    s = np.array([0.1, 0.4, 0.6, 0.9])
    y = np.array([0, 1, 0, 1])
    tuned = T.tune(s[:, None], y[:, None], np.ones(4), "f1", min_positives=0)
    score = tuned.scores[0]
    kept = T.tune(s[:, None], y[:, None], np.ones(4), "f1", min_positives=0, fbr=score)
    assert kept.status[0] == T.TUNED and kept.thresholds[0] == tuned.thresholds[0]
    floored = T.tune(s[:, None], y[:, None], np.ones(4), "f1", min_positives=0,
                     fbr=np.nextafter(score, 1))
    assert floored.status[0] == T.FLOORED and floored.thresholds[0] > s.max()


def test_two_distinct_scores_are_enough_to_tune():
    s = np.array([0.2, 0.2, 0.7, 0.7])
    y = np.array([0, 0, 1, 1])
    tuned = T.tune(s[:, None], y[:, None], np.ones(4), "f1", min_positives=2)
    assert tuned.status[0] == T.TUNED and 0.2 < tuned.thresholds[0] < 0.7


def test_scores_are_sorted_in_blocks_of_bounded_size(monkeypatch):
    S, Y, w = _tiny_problem(5, max_rows=30, max_labels=7)
    whole = T.label_curves(S, Y, w)
    monkeypatch.setattr(T, "_BLOCK_CELLS", 2 * S.shape[0])  # two columns a block
    blocks = T.label_curves(S, Y, w)
    assert len(blocks) == len(whole) == S.shape[1]
    for a, b in zip(whole, blocks):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    monkeypatch.setattr(T, "_BLOCK_CELLS", 1)  # fewer cells than rows: one column
    for a, b in zip(whole, T.label_curves(S, Y, w)):
        np.testing.assert_array_equal(a.cut, b.cut)


def test_micro_f1_with_fallback_labels_equals_exhaustive_search():
    # Label 2 has one positive: with min_positives=2 it takes the pooled cut,
    # and the micro-F1 search optimises the others around it.
    S = np.array([[0.9, 0.1, 0.8], [0.7, 0.6, 0.3], [0.2, 0.8, 0.1],
                  [0.4, 0.3, 0.6], [0.6, 0.9, 0.2], [0.1, 0.2, 0.4]])
    Y = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 0], [0, 0, 0], [1, 1, 0], [0, 0, 0]])
    w = np.ones(6)
    tuned = T.tune(S, Y, w, "micro_f1", min_positives=2)
    assert tuned.status[2].startswith("fallback") and set(tuned.status[:2]) == {T.TUNED}
    fixed = tuned.thresholds[2]
    cuts = [list(np.unique(S[:, k])) + [np.inf] for k in range(2)]

    def micro(c):
        return f1_score(Y, S >= np.array([*c, fixed]), average="micro", zero_division=0)

    best = max(micro(c) for c in itertools.product(*cuts))
    assert micro(tuned.thresholds[:2]) == pytest.approx(best)


def test_pooled_fallback_uses_known_entries_only():
    S = np.array([[0.9, 0.8], [0.7, 0.1], [0.2, 0.35], [0.4, 0.3], [0.05, 0.6]])
    Y = np.array([[1, 1], [1, 0], [0, 0], [0, -1], [0, -1]], dtype=float)
    w = np.ones(5)
    known = Y >= 0
    tuned = T.tune(S, Y, w, "f1", min_positives=5)  # every label falls back
    reference = T.best_cut(T.label_curves(S[known][:, None], Y[known][:, None],
                                          np.ones(known.sum()))[0], T._f1)[0]
    np.testing.assert_array_equal(tuned.thresholds, [reference, reference])
    assert reference != T.best_cut(T.pooled_curve(S, np.maximum(Y, 0), w), T._f1)[0]


def test_samples_f1_objective_leaves_out_unknown_entries():
    S = np.array([[0.4, 0.7], [0.3, 0.1], [1.0, 0.6]])
    Y = np.array([[0, 0], [1, -1], [1, 0]], dtype=float)
    tuned = T.tune(S, Y, np.ones(3), "samples_f1")
    cut, _ = T.samples_f1_cut(S, Y, np.ones(3), Y >= 0)
    np.testing.assert_array_equal(tuned.thresholds, [cut, cut])
    assert cut != T.samples_f1_cut(S, np.maximum(Y, 0), np.ones(3))[0]


def test_sparse_targets_tune_as_dense_ones():
    import scipy.sparse as sp

    S, Y, w = _tiny_problem(7, max_rows=20, max_labels=4)
    for objective, min_positives in (("f1", 3), ("micro_f1", 0), ("samples_f1", 0)):
        dense = T.tune(S, Y, w, objective, min_positives=min_positives)
        sparse = T.tune(S, sp.csr_matrix(Y), w, objective, min_positives=min_positives)
        np.testing.assert_array_equal(dense.thresholds, sparse.thresholds)
        np.testing.assert_array_equal(dense.status, sparse.status)


def test_non_finite_objective_values_never_win():
    s = np.array([0.1, 0.4, 0.6, 0.9])
    y = np.array([0, 1, 0, 1])
    curve = T.label_curves(s[:, None], y[:, None], np.ones(4))[0]

    def only_one(tp, fp, fn, tn):
        values = np.full(np.shape(tp), np.nan)
        values[2] = -5.0  # the one finite candidate, however low
        return values

    cut, value = T.best_cut(curve, only_one)
    assert cut == curve.cut[2] and value == -5.0
    cut, value = T.best_cut(curve, lambda tp, fp, fn, tn: np.full(np.shape(tp), np.inf))
    assert value == 0.0


def test_predicting_nothing_cuts_above_every_score_but_within_one():
    s = np.array([0.1, 0.3, 0.5])
    y = np.array([1, 0, 0])  # the only positive scores lowest
    floored = T.tune(s[:, None], y[:, None], np.ones(3), "f1", min_positives=0, fbr=0.9)
    assert floored.status[0] == T.FLOORED
    assert 0.5 < floored.thresholds[0] <= 0.75
    top = T.tune(np.array([[1.0], [0.2]]), np.array([[0], [1]]), np.ones(2), "f1",
                 min_positives=0, fbr=1.0)
    assert top.thresholds[0] == np.nextafter(1.0, 2.0)


def test_samples_f1_of_one_entry():
    cut, value = T.samples_f1_cut(np.array([[0.3]]), np.array([[1.0]]), np.ones(1))
    assert cut < 0.3 and value == 1.0


@pytest.mark.parametrize("seed", range(25))
def test_micro_f1_with_fallbacks_equals_exhaustive_search(seed):
    S, Y, w = _tiny_problem(100 + seed, max_rows=8, max_labels=3)
    tuned = T.tune(S, Y, w, "micro_f1", min_positives=2)
    free = [k for k, status in enumerate(tuned.status) if status == T.TUNED]
    cuts = [list(np.unique(S[:, k])) + [np.inf] if k in free else [tuned.thresholds[k]]
            for k in range(S.shape[1])]

    def micro(c):
        return f1_score(Y, S >= np.array(c), average="micro", sample_weight=w,
                        zero_division=0)

    best = max(micro(c) for c in itertools.product(*cuts))
    assert micro(tuned.thresholds) == pytest.approx(best, abs=1e-12)


def test_fixed_thresholds():
    assert T.is_fixed(0.5) and T.is_fixed([0.2, 0.7]) and T.is_fixed(np.array([0.3]))
    assert not T.is_fixed("f1") and not T.is_fixed(FBeta(2)) and not T.is_fixed(T._f1)
    np.testing.assert_array_equal(T.fixed_thresholds(0.3, 3), [0.3, 0.3, 0.3])
    given = np.array([0.0, 0.4, 1.0])
    values = T.fixed_thresholds(given, 3)
    np.testing.assert_array_equal(values, given)
    values[0] = 0.9
    assert given[0] == 0.0  # a copy
    with pytest.raises(ValueError) as info:
        T.fixed_thresholds([0.2, 0.3], 3)
    assert str(info.value) == ("threshold must be a float or have one value per label, "
                               "shape (3,), got shape (2,).")
    for bad in ([0.2, 1.5, 0.3], [-0.1, 0.5, 0.5]):
        with pytest.raises(ValueError, match=r"^threshold values must lie in \[0, 1\]"):
            T.fixed_thresholds(bad, 3)
    tuned = T.fixed([0.1, 0.9], 2)
    np.testing.assert_array_equal(tuned.thresholds, [0.1, 0.9])
    assert np.isnan(tuned.scores).all() and tuned.scores.shape == (2,)
    assert tuned.status.tolist() == [T.FIXED, T.FIXED]


def test_objective_reprs():
    assert repr(FBeta(2)) == "FBeta(beta=2)"
    assert repr(T.PrecisionAtLeast(0.9)) == "PrecisionAtLeast(0.9)"
    assert repr(T.RecallAtLeast(0.5)) == "RecallAtLeast(0.5)"


def test_any_threshold_selects_the_scores_at_or_above_it():
    s = np.array([0.9, 0.6, 0.4, 0.6])
    y = np.array([1, 0, 1, 1])
    curve = T.label_curves(s[:, None], y[:, None], np.ones(4))[0]
    for threshold in [1.0, 0.95, 0.9, 0.8, 0.62, 0.6, 0.55, 0.45, 0.4, 0.1, 0.0]:
        tp, fp, fn, tn = curve.counts(curve.index(threshold))
        predicted = s >= threshold
        assert (tp, fp) == ((predicted & (y == 1)).sum(), (predicted & (y == 0)).sum())
        assert (fn, tn) == ((~predicted & (y == 1)).sum(), (~predicted & (y == 0)).sum())


def test_fallback_labels_report_their_score_at_the_pooled_threshold():
    # Label 1 has one positive: it takes the pooled cut 0.53, which falls
    # between two of its own cuts (0.63 and 0.445) and predicts 0.71 and 0.55.
    S = np.array([[0.49, 0.23], [0.07, 0.71], [0.81, 0.55], [0.63, 0.17],
                  [0.55, 0.18], [0.51, 0.34]])
    Y = np.array([[0, 0], [1, 1], [0, 0], [1, 0], [1, 0], [0, 0]])
    tuned = T.tune(S, Y, np.ones(6), "f1", min_positives=2)
    assert tuned.status[1].startswith("fallback")
    expected = f1_score(Y[:, 1], S[:, 1] >= tuned.thresholds[1])
    assert expected == pytest.approx(2 / 3)
    assert tuned.scores[1] == pytest.approx(expected)


def test_a_gap_between_classes_is_cut_halfway_on_the_logit_scale():
    # A rare label's tuning scores often leave a wide gap: the cut sits
    # halfway on the network's decision scale, not next to the positives.
    s = np.array([0.001, 0.002, 0.4, 0.9])
    y = np.array([0, 0, 1, 1])
    tuned = T.tune(s[:, None], y[:, None], np.ones(4), "f1")
    logit = np.log(s / (1 - s))
    expected = 1 / (1 + np.exp(-(logit[1] + logit[2]) / 2))
    assert tuned.thresholds[0] == pytest.approx(expected, rel=1e-12)
    assert tuned.thresholds[0] < 0.05  # the probability midpoint is 0.201


def test_scores_of_exactly_one_are_cut_as_the_nearest_float32_probability():
    # logit(1) is infinite: 1 counts as 1 - 2**-24, so the cut is still
    # halfway on the logit scale, close to 1, and never NaN.
    cut = T._halfway(np.array([1.0, 1.0, 0.3]), np.array([0.3, 0.0, 0.0]))
    low = np.log(0.3 / 0.7)
    high = np.log((1 - 2.0**-24) / 2.0**-24)
    assert cut[0] == pytest.approx(1 / (1 + np.exp(-(low + high) / 2)), rel=1e-12)
    assert cut[1] == pytest.approx(0.5, abs=1e-12)  # 2**-24 and 1 - 2**-24
    tiny = np.log(2.0**-24 / (1 - 2.0**-24))
    assert cut[2] == pytest.approx(1 / (1 + np.exp(-(low + tiny) / 2)), rel=1e-12)
    # 1 and the float32 just below it clip to one value: the probability
    # midpoint, the one cut strictly between them.
    below = 1.0 - 2.0**-24
    assert T._halfway(np.array([1.0]), np.array([below]))[0] == (1.0 + below) / 2


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 1.0, width=32), min_size=2, max_size=2, unique=True))
def test_every_cut_lies_strictly_between_its_two_scores(pair):
    high, low = max(pair), min(pair)
    cut = T._halfway(np.array([high], dtype=np.float64), np.array([low], dtype=np.float64))[0]
    assert low < cut < high


def test_predicting_everything_cuts_halfway_to_zero():
    s = np.array([0.1, 0.3, 0.5])
    y = np.array([1, 0, 1])  # F1 0.8 with all three predicted, at most 0.667 else
    tuned = T.tune(s[:, None], y[:, None], np.ones(3), "f1")
    assert tuned.thresholds[0] == pytest.approx(0.05, rel=1e-12)


def test_a_few_positives_label_keeps_its_recall_floor():
    """A label with one positive in the tuning rows falls back to the pooled
    threshold; where that misses a recall floor, its own threshold meets it."""
    from sklearn_mlk import RecallAtLeast

    rng = np.random.default_rng(0)
    S = rng.uniform(0.3, 1.0, size=(60, 2))
    Y = (S > 0.6).astype(float)
    Y[:, 1] = 0
    S[:, 1] = rng.uniform(0.2, 0.9, size=60)
    Y[np.argmin(S[:, 1]), 1] = 1  # its one positive scores lowest of all
    tuned = T.tune(S, Y, np.ones(60), RecallAtLeast(0.9), min_positives=3)
    assert tuned.status[1] == ("fallback: 1 positives < min_positives=3; own threshold "
                               "for recall >= 0.9")
    assert (S[Y[:, 1] == 1, 1] >= tuned.thresholds[1]).all()  # recall 1
    # PrecisionAtLeast cannot reach 0.9 on that label: it stays unreachable.
    tuned = T.tune(S, Y, np.ones(60), T.PrecisionAtLeast(0.9), min_positives=3)
    assert tuned.status[1] == "unreachable: precision >= 0.9"


def test_a_multiclass_fit_marks_its_unused_thresholds_argmax():
    tuned = T.argmax_thresholds(3)
    np.testing.assert_array_equal(tuned.thresholds, [0.5, 0.5, 0.5])
    assert tuned.status.tolist() == ["argmax"] * 3
    assert np.isnan(tuned.scores).all()


@pytest.mark.parametrize("sparse", [False, True])
def test_unit_weight_curves_equal_the_weighted_search(sparse, monkeypatch):
    # Without sample weights the counts come from sorting the scores alone;
    # weights of 2 take the general search, whose counts are then exactly twice.
    import scipy.sparse as sp

    monkeypatch.setattr(T, "_BLOCK_CELLS", 90)  # several blocks of columns
    rng = np.random.default_rng(3)
    S = np.round(rng.random((40, 7)), 1)  # ties
    S[:, 3] = 0.4  # one constant column
    Y = (rng.random((40, 7)) < 0.3).astype(float)
    Y[:, 5] = 0.0  # a label without positives
    Y[:, 6] = 1.0  # and one without negatives
    target = sp.csr_matrix(Y) if sparse else Y
    unit = T.label_curves(S, target, np.ones(40))
    double = T.label_curves(S, target, np.full(40, 2.0))
    assert len(unit) == len(double) == 7
    for a, b in zip(unit, double):
        np.testing.assert_array_equal(a.cut, b.cut)
        np.testing.assert_array_equal(a.scores, b.scores)
        np.testing.assert_array_equal(2 * a.tp, b.tp)
        np.testing.assert_array_equal(2 * a.fp, b.fp)
        assert (a.n_pos, a.n_neg) == (b.n_pos, b.n_neg)
    pooled = T.pooled_curve(S, Y, np.ones(40))
    pooled_double = T.pooled_curve(S, Y, np.full(40, 2.0))
    np.testing.assert_array_equal(pooled.cut, pooled_double.cut)
    np.testing.assert_array_equal(2 * pooled.tp, pooled_double.tp)
    assert pooled.n_pos == Y.sum()


def test_unit_weight_curve_counts_by_hand():
    s = np.array([0.9, 0.2, 0.9, 0.5, 0.2, 0.1])
    y = np.array([1, 0, 0, 1, 1, 0])
    (curve,) = T.label_curves(s[:, None], y[:, None], np.ones(6))
    np.testing.assert_array_equal(curve.scores, [0.9, 0.5, 0.2, 0.1])
    np.testing.assert_array_equal(curve.tp, [0, 1, 2, 3, 3])
    np.testing.assert_array_equal(curve.fp, [0, 1, 1, 2, 3])
    assert (curve.n_pos, curve.n_neg) == (3, 3)


def test_only_unit_weights_take_the_search_by_sorted_scores(monkeypatch):
    calls = []
    real = T._unit_curves

    def spy(s, positive):
        calls.append(s.shape)
        return real(s, positive)

    monkeypatch.setattr(T, "_unit_curves", spy)
    S = np.array([[0.2, 0.7], [0.9, 0.1], [0.4, 0.4]])
    Y = np.array([[0, 1], [1, 0], [1, 1]])
    T.label_curves(S, Y, np.ones(3))
    assert calls == [(3, 2)]
    for w in (np.full(3, 2.0), np.array([1.0, 1.0, 0.5])):
        T.label_curves(S, Y, w)
    assert calls == [(3, 2)]


# -- matched_thresholds: refit="average"'s thresholds ------------------------


def _predicted(scores, thresholds, w):
    return (w[:, None] * (scores >= thresholds)).sum(axis=0)


def _logit(p):
    return np.log(p / (1 - p))


def test_matched_thresholds_predict_each_label_for_the_reference_weight():
    rng = np.random.default_rng(0)
    reference = rng.random((200, 4))
    scores = rng.random((200, 4))
    thresholds = np.array([0.1, 0.5, 0.9, 0.35])
    w = np.ones(200)
    moved = T.matched_thresholds(reference, scores, thresholds, w)
    wanted = _predicted(reference, thresholds, w)
    np.testing.assert_array_equal(_predicted(scores, moved, w), wanted)
    # Halfway on the logit scale between the last score predicted and the next.
    for k in range(4):
        ranked = np.sort(scores[:, k])[::-1]
        c = int(wanted[k])
        np.testing.assert_allclose(_logit(moved[k]),
                                   (_logit(ranked[c - 1]) + _logit(ranked[c])) / 2)


def test_matched_thresholds_count_sample_weights():
    reference = np.array([[0.9], [0.8], [0.1], [0.05]])
    scores = np.array([[0.2], [0.7], [0.6], [0.1]])
    w = np.array([3.0, 0.5, 1.0, 1.0])
    # The reference predicts rows 0 and 1: a weight of 3.5. The scores rank
    # rows 1 (0.5), 2 (1.0), 0 (3.0): the weight reaches 3.5 only with row 0.
    moved = T.matched_thresholds(reference, scores, np.array([0.5]), w)
    np.testing.assert_array_equal(scores[:, 0] >= moved[0], [True, True, True, False])
    # Without row 0's weight the first two rows suffice.
    moved = T.matched_thresholds(reference, scores, np.array([0.5]), np.ones(4))
    np.testing.assert_array_equal(scores[:, 0] >= moved[0], [False, True, True, False])


def test_matched_thresholds_keep_the_predictions_of_a_monotone_transform():
    rng = np.random.default_rng(1)
    reference = rng.random((300, 3))
    scores = 1 / (1 + (reference / (1 - reference)) ** -3.0 * np.e)  # sharper, shifted
    thresholds = np.array([0.2, 0.5, 0.7])
    moved = T.matched_thresholds(reference, scores, thresholds, np.ones(300))
    np.testing.assert_array_equal(scores >= moved, reference >= thresholds)


def test_matched_thresholds_for_a_label_predicted_for_none_or_all():
    reference = np.array([[0.1, 0.9, 0.1], [0.2, 0.8, 0.2], [0.3, 0.7, 0.3]])
    scores = np.array([[0.4, 0.6, 0.4], [1.0, 0.5, 0.9], [0.2, 0.4, 0.2]])
    moved = T.matched_thresholds(reference, scores, np.array([0.5, 0.1, 0.5]), np.ones(3))
    # Above every score: halfway to 1, or just above 1 for a score of 1.
    assert moved[0] > 1.0 and moved[2] == 0.95
    assert not (scores[:, [0, 2]] >= moved[[0, 2]]).any()
    assert moved[1] == 0.2 and (scores[:, 1] >= moved[1]).all()  # halfway to 0


def test_matched_thresholds_count_a_reference_score_at_its_threshold():
    """A score equal to its threshold is predicted, as decisions are made."""
    reference = np.array([[0.5], [0.2], [0.1]])
    scores = np.array([[0.3], [0.9], [0.6]])
    moved = T.matched_thresholds(reference, scores, np.array([0.5]), np.ones(3))
    np.testing.assert_array_equal(scores[:, 0] >= moved[0], [False, True, False])


def test_matched_thresholds_take_a_whole_tie():
    reference = np.array([[0.9], [0.1], [0.1], [0.1]])
    scores = np.array([[0.5], [0.5], [0.5], [0.2]])
    moved = T.matched_thresholds(reference, scores, np.array([0.5]), np.ones(4))
    # One row wanted: the tie of three is predicted, the row below it not.
    np.testing.assert_array_equal(scores[:, 0] >= moved[0], [True, True, True, False])


def test_matched_thresholds_leave_out_rows_of_no_weight():
    reference = np.array([[0.9], [0.8], [0.1]])
    scores = np.array([[0.7], [0.9], [0.3]])
    w = np.array([1.0, 0.0, 1.0])
    # Row 1 weighs nothing: the weight of one row asks for row 0 too.
    moved = T.matched_thresholds(reference, scores, np.array([0.5]), w)
    np.testing.assert_array_equal(scores[:, 0] >= moved[0], [True, True, False])


def test_matched_thresholds_of_a_sum_rounded_below_the_reference_s_weight():
    """Weights whose sums round differently in the two orders still match."""
    reference = np.array([[0.9], [0.8], [0.7], [0.1]])
    scores = np.array([[0.3], [0.2], [0.9], [0.1]])
    w = np.array([0.1, 0.2, 0.6, 1.0])
    moved = T.matched_thresholds(reference, scores, np.array([0.5]), w)
    # The reference's weight sums rows 0, 1, 2; the ranked scores rows 2, 0, 1.
    assert np.cumsum(w[[2, 0, 1]])[-1] < w[:3].sum()
    np.testing.assert_array_equal(scores[:, 0] >= moved[0], [True, True, True, False])


def test_matched_thresholds_of_float32_scores_and_weights_are_computed_in_float64():
    """The estimator's sample weights are float32, and a Keras network's
    scores may be: their sums in two orders differ in float32 by more than
    the rounding the match allows for, and the cut is halfway between the
    float64 values of the two scores around it."""
    reference = np.array([[0.9], [0.8], [0.7], [0.1]])
    scores = np.array([[0.3], [0.2], [0.9], [0.1]], dtype=np.float32)
    w = np.array([0.4, 0.2, 0.09, 0.58], dtype=np.float32)
    assert np.cumsum(w[[2, 0, 1]])[-1] < w[:3].sum()  # in float32
    moved = T.matched_thresholds(reference, scores, np.array([0.5]), w)
    np.testing.assert_array_equal(scores[:, 0] >= moved[0], [True, True, True, False])
    low, high = np.float64(scores[3, 0]), np.float64(scores[1, 0])
    np.testing.assert_allclose(_logit(moved[0]), (_logit(low) + _logit(high)) / 2, rtol=1e-12)



@pytest.mark.parametrize("kind, expected", [
    ("binary", "balanced_accuracy"), ("multiclass", "f1"), ("indicator", "f1"),
    ("sparse", "f1"), ("label_sets", "f1"), ("dataframe", "f1")])
def test_auto_tunes_balanced_accuracy_only_for_a_binary_target(kind, expected):
    assert T.objective_for("auto", kind) == expected


@pytest.mark.parametrize("threshold", ["f1", "micro_f1", "balanced_accuracy", 0.3,
                                       FBeta(2)])
def test_an_objective_other_than_auto_is_kept_for_every_target(threshold):
    for kind in ("binary", "multiclass", "indicator"):
        assert T.objective_for(threshold, kind) is threshold


def test_auto_is_not_a_searchable_objective_by_itself():
    # The estimator resolves it first: tune() on "auto" is a programming error.
    with pytest.raises(ValueError, match="one of"):
        T.tune(np.array([[0.2], [0.8]]), np.array([[0], [1]]), np.ones(2), "auto")


def _two_classes(seed):
    """Scores of 67 positives and 133 negatives (coprime counts, so that no
    two cuts tie on balanced accuracy), and a function giving the rows a
    threshold tuned for an objective predicts."""
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(67, int), np.zeros(133, int)]
    s = 1 / (1 + np.exp(-(y + rng.normal(0, 1.2, y.size))))

    def decide(scores, target, objective):
        tuned = T.tune(scores[:, None], target[:, None], np.ones(y.size), objective)
        return scores >= tuned.thresholds[0]

    return s, y, decide


@pytest.mark.parametrize("seed", range(5))
def test_balanced_accuracy_decides_the_same_whichever_class_is_positive(seed):
    """What ``"auto"`` tunes on a binary target: swapping the classes (the
    scores become 1 - s) gives the complementary decision on every row."""
    s, y, decide = _two_classes(seed)
    np.testing.assert_array_equal(decide(s, y, "balanced_accuracy"),
                                  ~decide(1 - s, 1 - y, "balanced_accuracy"))


def test_f1_decides_differently_whichever_class_is_positive():
    # The reason "auto" does not tune F1 on a binary target.
    s, y, decide = _two_classes(0)
    assert not np.array_equal(decide(s, y, "f1"), ~decide(1 - s, 1 - y, "f1"))
