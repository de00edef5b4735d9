"""Label formats in and out."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import tiny


def test_dense_in_dense_out(data):
    X, Y = data
    pred = tiny().fit(X, Y).predict(X)
    assert isinstance(pred, np.ndarray) and pred.shape == Y.shape
    assert set(np.unique(pred)) <= {0, 1}


def test_boolean_indicator_equals_integer_indicator(data):
    X, Y = data
    a = tiny().fit(X, Y).predict_proba(X)
    b = tiny().fit(X, Y.astype(bool)).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_sparse_in_sparse_out(data):
    X, Y = data
    clf = tiny().fit(X, sp.csr_matrix(Y))
    pred = clf.predict(X)
    assert sp.issparse(pred) and pred.shape == Y.shape
    np.testing.assert_array_equal(clf.classes_, np.arange(Y.shape[1]))
    np.testing.assert_array_equal(pred.toarray(), tiny().fit(X, Y).predict(X))


def test_dataframe_columns_become_classes(data):
    X, Y = data
    frame = pd.DataFrame(Y, columns=["news", "sport", "tech", "arts"])
    clf = tiny().fit(X, frame)
    assert clf.classes_.tolist() == ["news", "sport", "tech", "arts"]
    assert clf.predict(X).shape == Y.shape


def test_label_sets_in_label_sets_out(data):
    X, Y = data
    names = np.array(["arts", "news", "sport", "tech"])
    label_sets = [list(names[row == 1]) for row in Y]
    clf = tiny().fit(X, label_sets)
    assert clf.classes_.tolist() == sorted(names)
    predicted = clf.predict_label_sets(X)
    indicator = clf.predict(X)
    assert len(predicted) == len(X)
    for labels, row in zip(predicted, indicator):
        assert list(labels) == list(clf.classes_[row == 1])
    np.testing.assert_array_equal(indicator, tiny().fit(X, Y).predict(X))


def test_label_sets_with_empty_sets():
    X = np.random.default_rng(0).normal(size=(6, 3))
    y = [["news", "sport"], [], ["tech"], ["news"], [], ["sport", "tech"]]
    clf = tiny().fit(X, y)
    assert clf.classes_.tolist() == ["news", "sport", "tech"]
    assert 0.0 <= clf.score(X, y) <= 1.0


@pytest.mark.parametrize(
    "y, match",
    [
        (np.array([0.5, 1.5, 1, 0]), "Unknown label type: continuous"),
        (np.array([1, 1, 1, 1]), "only one class"),
        (["a", 1, "b", 2], "a mix of label types"),
        (np.array([[0, 2], [1, 0], [1, 1], [0, 0]]),
         r"only 0 and 1 \(NaN or -1 for unknown entries\), got 2"),
        (np.array([[0.5, 1], [1, 0], [1, 1], [0, 0]]), "continuous"),
        (np.array([[np.inf, 1], [1, 0], [1, 1], [0, 0]]), "infinity"),
        (np.array([[np.nan, 1], [np.nan, 0], [np.nan, 1], [np.nan, 0]]),
         r"label \[0\] unknown in every sample"),
        (np.array([[-1, 1], [1, -1], [1, 1], [-1, -1]]), "-1 and 1 but no 0"),
        (np.array([["a", "b"], ["c", "d"], ["a", "b"], ["c", "d"]], dtype=object),
         "non-numeric"),
        (np.zeros((4, 0)), "0 label columns"),
    ],
)
def test_bad_targets_raise_clear_errors(y, match):
    X = np.ones((4, 2))
    y_before = y.copy()
    with pytest.raises(ValueError, match=match):
        tiny().fit(X, y)
    np.testing.assert_array_equal(y, y_before)


def test_none_target_is_rejected():
    with pytest.raises(ValueError, match="requires y to be passed"):
        tiny().fit(np.ones((4, 2)), None)


def test_score_with_other_formats_matches(data):
    X, Y = data
    clf = tiny().fit(X, Y)
    assert clf.score(X, Y) == clf.score(X, sp.csr_matrix(Y)) == clf.score(X, Y.tolist())

