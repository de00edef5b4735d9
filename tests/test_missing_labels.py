"""Missing labels: unknown entries of an indicator target are left out of the
loss, threshold tuning, the splits and the label frequencies."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score

from conftest import tiny
from sklearn_mlk import KerasMultiLabelClassifier
from sklearn_mlk._targets import UNKNOWN, MultiLabelTargetEncoder, label_totals
from sklearn_mlk._thresholds import samples_f1_cut, tune

Y_TRUE = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]])
# Entries (0, 1) and (2, 2) unknown.
EXPECTED = np.array([[1, -1, 1], [0, 1, 0], [1, 1, -1], [0, 0, 1]], dtype=np.float32)


def _with(value, dtype=None):
    y = Y_TRUE.astype(dtype or np.float64)
    y[0, 1] = y[2, 2] = value
    return y


def _nullable_frame():
    frame = pd.DataFrame(Y_TRUE, columns=["a", "b", "c"]).astype("Int64")
    frame.loc[0, "b"] = pd.NA
    frame.loc[2, "c"] = pd.NA
    return frame


@pytest.mark.parametrize("make", [
    lambda: _with(np.nan),
    lambda: _with(-1, np.int64),
    lambda: _with(-1.0),
    lambda: _with(np.nan).astype(object),
    lambda: pd.DataFrame(_with(np.nan)),
    _nullable_frame,
    lambda: sp.csr_matrix(_with(-1, np.int64)),
    lambda: sp.csr_matrix(_with(np.nan)),
], ids=["nan", "int -1", "float -1", "object nan", "frame nan", "frame pd.NA",
        "sparse -1", "sparse nan"])
def test_every_way_of_marking_unknown_entries_encodes_the_same(make):
    y = make()
    before = y.copy()
    Y = MultiLabelTargetEncoder().fit_transform(y)
    assert isinstance(Y, np.ndarray)  # dense, sparse input included
    np.testing.assert_array_equal(Y, EXPECTED)
    assert UNKNOWN == -1
    # The user's target is not modified.
    if sp.issparse(y):
        np.testing.assert_array_equal(y.toarray(), before.toarray())
    elif isinstance(y, pd.DataFrame):
        pd.testing.assert_frame_equal(y, before)
    else:
        assert y.dtype == before.dtype
        np.testing.assert_array_equal(y.astype(float), before.astype(float))


def test_transform_keeps_unknown_entries_and_known_sparse_stays_sparse():
    encoder = MultiLabelTargetEncoder().fit(sp.csr_matrix(Y_TRUE))
    assert sp.issparse(encoder.transform(sp.csr_matrix(Y_TRUE)))
    np.testing.assert_array_equal(encoder.transform(_with(np.nan)), EXPECTED)


def test_label_totals_count_known_entries_only():
    w = np.array([1.0, 2.0, 3.0, 4.0])
    positives, known = label_totals(EXPECTED, w)
    np.testing.assert_allclose(positives, [4.0, 5.0, 5.0])
    np.testing.assert_allclose(known, [10.0, 9.0, 7.0])
    positives, known = label_totals(sp.csr_matrix(Y_TRUE.astype(np.float32)), w)
    np.testing.assert_allclose(positives, [4.0, 5.0, 5.0])
    np.testing.assert_allclose(known, [10.0, 10.0, 10.0])


@pytest.mark.network
def test_balanced_class_weight_and_prior_ignore_unknown_entries():
    from sklearn_mlk._training._losses import positive_weights

    w = np.ones(4)
    # Label 1: known 0, 1, 1 -> 2 positives, 1 negative; label 2: 1, 0, 1.
    np.testing.assert_allclose(positive_weights("balanced", EXPECTED, np.arange(3), w),
                               [1.0, 0.5, 0.5])
    est = KerasMultiLabelClassifier()
    meta = est._meta(np.zeros((4, 2)), EXPECTED, np.arange(3), w,
                     ("multilabel-indicator", np.arange(3)))
    np.testing.assert_allclose(meta["label_prior_"], [0.5, 2 / 3, 2 / 3])


@pytest.mark.network
@pytest.mark.parametrize("from_logits", [True, False])
def test_masked_loss_leaves_out_unknown_entries(from_logits):
    from keras import ops

    from sklearn_mlk._training._divergence import constant_loss
    from sklearn_mlk._training._losses import weighted_binary_crossentropy

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, (6, 4)).astype(np.float32)
    unknown = rng.random((6, 4)) < 0.4
    y[unknown] = UNKNOWN
    outputs = rng.normal(size=(6, 4)).astype(np.float32)
    if not from_logits:
        outputs = 1 / (1 + np.exp(-outputs))
    pos_weight = np.array([1.0, 2.0, 0.5, 3.0], dtype=np.float32)
    loss = weighted_binary_crossentropy(pos_weight, from_logits, masked=True)
    values = ops.convert_to_numpy(loss(y, outputs))
    # By hand: the mean over all labels of the known entries' terms.
    p = 1 / (1 + np.exp(-outputs)) if from_logits else outputs
    terms = -(pos_weight * y * np.log(p) + (1 - y) * np.log1p(-p))
    expected = np.where(unknown, 0.0, terms).mean(axis=1)
    np.testing.assert_allclose(values, expected, rtol=1e-4)
    # Outputs at unknown entries do not matter.
    moved = np.where(unknown, outputs[::-1], outputs)
    np.testing.assert_allclose(ops.convert_to_numpy(loss(y, moved)), values, rtol=1e-6)
    # The constant-prediction baseline is this loss at each label's frequency.
    frequency = np.array([(y[~unknown[:, j], j]).mean() for j in range(4)])
    constant = np.broadcast_to(frequency, y.shape).astype(np.float32)
    probability_loss = weighted_binary_crossentropy(pos_weight, False, masked=True)
    np.testing.assert_allclose(
        constant_loss(y, np.ones(6), pos_weight),
        ops.convert_to_numpy(probability_loss(y, constant)).mean(), rtol=1e-4)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["f1", "micro_f1", "jaccard"]))
def test_thresholds_are_tuned_on_each_label_known_entries(seed, objective):
    rng = np.random.default_rng(seed)
    n, n_labels = 30, 3
    S = rng.random((n, n_labels)).round(1)  # ties included
    Y = (rng.random((n, n_labels)) < 0.4).astype(np.float64)
    known = rng.random((n, n_labels)) < 0.7
    known[:3] = True  # every label has known entries
    w = rng.integers(1, 4, n).astype(np.float64)
    masked = np.where(known, Y, UNKNOWN)
    result = tune(S, masked, w, objective, min_positives=0)
    if objective == "micro_f1":
        # A joint objective: the same as tuning the known entries, with the
        # unknown ones scored below every threshold and taken as negative...
        # only for per-label objectives can each label be checked alone.
        assert np.all(np.isfinite(result.thresholds))
        return
    for j in range(n_labels):
        rows = known[:, j]
        alone = tune(S[rows, j:j + 1], Y[rows, j:j + 1], w[rows], objective,
                     min_positives=0)
        assert result.thresholds[j] == alone.thresholds[0]
        assert result.scores[j] == pytest.approx(alone.scores[0])


def test_micro_f1_thresholds_ignore_unknown_entries_values():
    rng = np.random.default_rng(1)
    S = rng.random((40, 4))
    Y = (rng.random((40, 4)) < 0.4).astype(np.float64)
    known = rng.random((40, 4)) < 0.7
    masked = np.where(known, Y, UNKNOWN)
    first = tune(S, masked, np.ones(40), "micro_f1", min_positives=0)
    # Scores at unknown entries moved anywhere: the same thresholds.
    moved = np.where(known, S, rng.random((40, 4)))
    second = tune(moved, masked, np.ones(40), "micro_f1", min_positives=0)
    np.testing.assert_array_equal(first.thresholds, second.thresholds)
    # ...whereas taking them as negatives changes them.
    zero = tune(S, np.where(known, Y, 0.0), np.ones(40), "micro_f1", min_positives=0)
    assert not np.array_equal(first.thresholds, zero.thresholds)


def test_samples_f1_counts_each_sample_known_entries():
    S = np.array([[0.9, 0.8, 0.1], [0.7, 0.2, 0.6]])
    Y = np.array([[1.0, UNKNOWN, 0.0], [UNKNOWN, 0.0, 1.0]])
    cut, score = samples_f1_cut(S, Y, np.ones(2), Y != UNKNOWN)
    # Known entries: sample 0 (0.9: 1, 0.1: 0), sample 1 (0.2: 0, 0.6: 1): a cut
    # between 0.6 and 0.2 (or 0.9 and 0.1 for sample 0) gets both right.
    assert 0.2 < cut < 0.6
    assert score == pytest.approx(1.0)


def test_splits_spread_known_positives_and_take_unknown_as_negative():
    from sklearn_mlk._splits import holdout_split, kfold_splits

    rng = np.random.default_rng(0)
    Y = (rng.random((60, 3)) < 0.3).astype(np.float32)
    masked = np.where(rng.random((60, 3)) < 0.3, UNKNOWN, Y)
    as_zero = np.maximum(masked, 0)
    for (a, b), (c, d) in zip(kfold_splits(masked, 3, 0), kfold_splits(as_zero, 3, 0)):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    for a, c in zip(holdout_split(masked, 0.2, 0), holdout_split(as_zero, 0.2, 0)):
        np.testing.assert_array_equal(a, c)


@pytest.mark.smoke
@pytest.mark.network
def test_fit_with_unknown_entries(data):
    X, Y = data
    y = Y.astype(np.float64)
    y[::3, 0] = np.nan
    clf = tiny(threshold="f1", threshold_cv=3, refit=False, epochs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # small data notes
        clf.fit(X, y)
    assert np.isnan(y[::3, 0]).all()  # not filled in place
    assert clf.predict(X).shape == Y.shape
    assert np.all(np.isfinite(clf.thresholds_))
    assert np.all(np.isfinite(clf.history_["loss"]))
    clf.tune_thresholds(X, y)
    assert np.all(np.isfinite(clf.thresholds_))
    with pytest.raises(ValueError, match="unknown entries, and subset accuracy"):
        clf.score(X, y)
    assert clf.score(X, Y) >= 0


@pytest.mark.network
def test_a_label_unknown_everywhere_is_an_error_and_keeps_the_fitted_model(data):
    X, Y = data
    clf = tiny().fit(X, Y)
    before = clf.predict_proba(X)
    y = Y.astype(np.float64)
    y[:, 2] = np.nan
    with pytest.raises(ValueError, match=r"label \[2\] unknown in every sample"):
        clf.fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


@pytest.mark.network
def test_masked_training_beats_unknown_as_negative_on_a_real_set():
    """Digits images with their properties as labels, 30% of the entries
    hidden: predicting the hidden entries of the training rows, masking them
    beats taking them as 0, on every one of three seeds and by a paired
    t-statistic above 2.92 (one-sided 95% with 2 degrees of freedom)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_mlk.datasets import load_digit_properties

    X, Y, _ = load_digit_properties()
    gains = []
    for seed in range(3):
        hidden = np.random.default_rng(seed).random(Y.shape) < 0.3
        figures = []
        for fill in (np.nan, 0.0):
            y = np.where(hidden, fill, Y)
            model = make_pipeline(StandardScaler(), KerasMultiLabelClassifier(
                hidden_layer_sizes=(32,), epochs=30, random_state=seed))
            model.fit(X, y)
            predicted = model.predict(X)
            figures.append(np.mean([f1_score(Y[hidden[:, j], j],
                                             predicted[hidden[:, j], j])
                                    for j in range(Y.shape[1])]))
        gains.append(figures[0] - figures[1])
    gains = np.array(gains)
    assert np.all(gains > 0), gains
    t = gains.mean() / (gains.std(ddof=1) / np.sqrt(len(gains)))
    assert t > 2.92, gains
