"""The rules of a choice among values of alpha (sklearn_mlk._choice), pure
NumPy: no network is built (the estimator's choice: tests/test_choice.py)."""

import warnings

import numpy as np
import pytest
from sklearn.metrics import f1_score

from sklearn_mlk import _choice


def test_values_are_read_from_any_sequence():
    assert _choice.candidates((0, 1.5)) == [0.0, 1.5]
    assert _choice.candidates(np.array([3, 1])) == [3.0, 1.0]
    assert _choice.candidates([np.float32(2), 4]) == [2.0, 4.0]
    assert _choice.candidates(np.array([2.0])) == [2.0]
    assert all(type(v) is float for v in _choice.candidates(np.array([3, 1])))


@pytest.mark.parametrize("alpha", [2.0, 0, np.float64(1.0), np.int64(3), np.array(2.0), "auto"])
def test_one_value_is_no_choice(alpha):
    assert _choice.candidates(alpha) is None


@pytest.mark.parametrize("alpha, shown", [
    ([], r"^alpha=\[\] holds no value to choose from; give one number, 'auto', or a "
         r"list of non-negative numbers\.$"),
    ([0, -1], r"alpha=\[0, -1\] holds -1; a list of alpha holds finite non-negative"),
    ([0, "a"], "holds 'a'"), ([0, np.nan], "holds nan"), ([0, np.inf], "holds inf"),
    ([True], "holds True"), ([np.bool_(False)], "holds False"), ([0, None], "holds None"),
])
def test_a_bad_list_names_its_value(alpha, shown):
    with pytest.raises(ValueError, match=shown):
        _choice.candidates(alpha)


def test_zero_is_a_value():
    assert _choice.candidates([0]) == [0.0]
    assert _choice.candidates([0.0, 1e-12]) == [0.0, 1e-12]


def test_the_shared_seed():
    assert _choice.shared_seed(7) == 7
    assert _choice.shared_seed(np.int64(7)) == 7
    assert _choice.shared_seed(0) == 0
    drawn = _choice.shared_seed(np.random.RandomState(3))
    assert drawn == np.random.RandomState(3).randint(np.iinfo(np.int32).max)
    assert type(drawn) is int
    np.random.seed(5)
    expected = np.random.RandomState(5).randint(np.iinfo(np.int32).max)
    assert _choice.shared_seed(None) == expected


def test_the_score_of_a_fit():
    assert _choice.score([0.2, np.nan, 0.6]) == pytest.approx(0.4)
    assert _choice.score([0.5]) == 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice"
        assert np.isnan(_choice.score([np.nan, np.nan]))


def test_the_score_of_a_multiclass_fit_is_the_macro_f1_of_its_argmax():
    S = np.array([[0.9, 0.1, 0.0], [0.4, 0.6, 0.0], [0.2, 0.8, 0.0], [0.7, 0.3, 0.0]])
    Y = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0]])
    w = np.array([1.0, 1.0, 1.0, 0.0])
    # The third class, never true nor predicted, counts as an F1 of 0.
    expected = f1_score([0, 0, 1], [0, 1, 1], average="macro", labels=[0, 1, 2],
                        zero_division=0)
    assert expected == pytest.approx((2 / 3 + 2 / 3) / 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a class never seen is an F1 of 0, quietly
        assert _choice.score([np.nan] * 3, (S, Y, w)) == pytest.approx(expected)
    assert _choice.score(None, (S, Y, np.ones(4))) == pytest.approx(
        f1_score([0, 0, 1, 1], [0, 1, 1, 0], average="macro", labels=[0, 1, 2],
                 zero_division=0))


def test_the_best_score_wins_the_first_on_a_tie_and_nan_loses():
    assert _choice.best([0.3, 0.5, 0.4]) == 1
    assert _choice.best([0.5, 0.5]) == 0
    assert _choice.best([0.1, 0.5, 0.5]) == 1
    assert _choice.best([np.nan, 0.1]) == 1
    assert _choice.best([-0.5, np.nan]) == 0
    assert _choice.best([np.nan, np.nan]) == 0
    assert _choice.best([0.2]) == 0


def test_the_verbose_line():
    assert _choice.describe([0.0, 3.0, 10.0], [0.5, 0.61234, 0.6], 1) == (
        "alpha=3 chosen, its out-of-fold score 0.6123 the highest "
        "(alpha=0: 0.5000, alpha=10: 0.6000).")

