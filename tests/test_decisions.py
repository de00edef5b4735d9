"""From outputs to answers (sklearn_mlk._decisions), without a network."""

import numpy as np
import pytest
from scipy.special import expit, logit

from sklearn_mlk import _decisions as D


def test_label_proba_applies_the_sigmoid_to_logits_and_pins_constant_labels():
    logits = np.array([[-2.0, 0.0, 3.0], [1.0, -1.0, 0.5]])
    P = D.label_proba(logits.copy(), from_probability=False)
    np.testing.assert_allclose(P, expit(logits))
    probabilities = np.array([[0.2, 0.7, 0.9]])
    np.testing.assert_array_equal(D.label_proba(probabilities.copy(), True), probabilities)
    pinned = D.label_proba(logits.copy(), False, np.array([1.0, np.nan, 0.0]))
    np.testing.assert_array_equal(pinned[:, [0, 2]], [[1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(pinned[:, 1], expit(logits[:, 1]))


@pytest.mark.parametrize("from_probability", [False, True])
def test_margins_are_log_odds_over_the_threshold_and_positive_where_it_is_reached(
        from_probability):
    logits = np.array([[-3.0, 0.2, 2.0], [0.0, -0.5, 4.0]])
    thresholds = np.array([0.3, 0.5, 0.95])
    outputs = expit(logits) if from_probability else logits.copy()
    margin = D.margins(outputs.copy(), thresholds, from_probability)
    np.testing.assert_allclose(margin, logits - logit(thresholds), rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(margin > 0, expit(logits) >= thresholds)


def test_a_probability_at_its_threshold_gets_the_smallest_margin_of_its_side():
    thresholds = np.array([0.25, 0.6])
    margin = D.margins(np.array([[0.25, 0.6 - 1e-17]]), thresholds, True)
    least = np.finfo(np.float64).smallest_subnormal
    assert margin[0, 0] == least  # reaches it: predicted, margin just above 0
    assert margin[0, 1] in (least, -least) and (margin[0, 1] > 0) == (0.6 - 1e-17 >= 0.6)


def test_thresholds_of_zero_and_one_give_infinite_margins():
    margin = D.margins(np.array([[0.0, 5.0], [-4.0, 30.0]]), np.array([0.0, 1.0]), False)
    assert (margin[:, 0] == np.inf).all() and (margin[:, 1] == -np.inf).all()


def test_constant_labels_get_the_extreme_finite_logits():
    margin = D.margins(np.array([[0.0, 0.0, 0.0]]), np.full(3, 0.5), False,
                       np.array([1.0, 0.0, np.nan]))
    info = np.finfo(np.float64)
    np.testing.assert_allclose(margin[0, :2], [logit(1 - info.epsneg), logit(info.tiny)])
    assert margin[0, 2] == info.smallest_subnormal  # p = 0.5 reaches its 0.5: predicted
    margin = D.margins(np.array([[0.3, 0.3]]), np.full(2, 0.5), True, np.array([1.0, 0.0]))
    assert margin[0, 0] > 30 and margin[0, 1] < -700


def test_class_proba_of_each_target_kind():
    P = np.array([[0.2, 0.6], [0.0, 0.0]])
    np.testing.assert_allclose(D.class_proba(P[:, :1].copy(), "binary"),
                               [[0.8, 0.2], [1.0, 0.0]])
    np.testing.assert_allclose(D.class_proba(P.copy(), "multiclass"),
                               [[0.25, 0.75], [0.5, 0.5]])
    np.testing.assert_array_equal(D.class_proba(P, "indicator"), P)


def test_indicator_and_classes_of_each_target_kind():
    P = np.array([[0.2, 0.7, 0.4], [0.9, 0.1, 0.95]])
    cut = np.full(3, 0.5)
    np.testing.assert_array_equal(D.indicator(P, cut, "multiclass"),
                                  [[0, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(D.indicator(P[:, :1], cut[:1], "binary"), [[0], [1]])
    np.testing.assert_array_equal(D.indicator(P, cut, "indicator", min_labels=2),
                                  [[0, 1, 1], [1, 0, 1]])
    np.testing.assert_array_equal(D.indicator(P, cut, "indicator", max_labels=1),
                                  [[0, 1, 0], [0, 0, 1]])
    classes = np.array(["no", "yes"])
    np.testing.assert_array_equal(D.classes_of(np.array([[1], [0]]), "binary", classes),
                                  ["yes", "no"])
    np.testing.assert_array_equal(
        D.classes_of(np.array([[0, 0, 1], [1, 0, 0]]), "multiclass", np.array([4, 5, 6])),
        [6, 4])
    out = D.classes_of(np.array([[True, False]]), "indicator", None)
    assert out.dtype == np.int64 and out.tolist() == [[1, 0]]


def test_saturated_probabilities_keep_finite_margins_of_their_sign():
    margin = D.margins(np.array([[0.0, 1.0]]), np.array([0.3, 0.3]), True)
    assert np.isfinite(margin).all()
    assert margin[0, 0] < -700 and margin[0, 1] > 30


def test_a_logit_whose_probability_rounds_below_its_threshold_is_not_predicted():
    """Where sigmoid(logit(t)) rounds below t, the margin (exactly 0) must say
    'not predicted', as predict does: the smallest negative float."""
    rng = np.random.default_rng(0)
    t = rng.uniform(0.05, 0.95, 10_000)
    o = logit(t)
    below = np.flatnonzero(expit(o) < t)
    assert below.size  # such thresholds exist
    j = below[0]
    margin = D.margins(np.array([[o[j]]]), np.array([t[j]]), False)
    assert margin[0, 0] == -np.finfo(np.float64).smallest_subnormal


def test_the_binary_and_multiclass_indicators_ignore_label_limits():
    P = np.array([[0.5], [0.2]])
    np.testing.assert_array_equal(
        D.indicator(P, np.array([0.5]), "binary", min_labels=1, max_labels=1),
        [[True], [False]])  # a probability at its threshold is predicted
    one_hot = D.indicator(np.array([[0.2, 0.7], [0.9, 0.1]]), np.full(2, 0.5),
                          "multiclass")
    assert one_hot.dtype == bool


def test_without_limits_a_row_may_have_no_label():
    np.testing.assert_array_equal(
        D.indicator(np.array([[0.1, 0.2]]), np.full(2, 0.5), "indicator"), [[False, False]])
