"""The target encoder on its own (pure NumPy, no network)."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from sklearn_mlk._targets import MultiLabelTargetEncoder, known_entries

Y = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 0]])


def encode(y):
    encoder = MultiLabelTargetEncoder()
    return encoder, encoder.fit_transform(y)


def test_dense_indicator():
    encoder, out = encode(Y)
    assert out.dtype == np.float32 and isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, Y)
    assert encoder.kind_ == "indicator"
    np.testing.assert_array_equal(encoder.classes_, [0, 1, 2])
    np.testing.assert_array_equal(encoder.labels_, [0, 1, 2])
    np.testing.assert_array_equal(encoder.inverse_transform(out), Y)
    assert encoder.inverse_transform(out).dtype == np.int64
    assert known_entries(out) is None


def test_boolean_and_list_indicators():
    np.testing.assert_array_equal(encode(Y.astype(bool))[1], Y)
    encoder, out = encode(Y.tolist())  # rectangular numeric lists: an indicator
    assert encoder.kind_ == "indicator"
    np.testing.assert_array_equal(out, Y)


def test_sparse_indicator_sums_duplicates_and_drops_explicit_zeros():
    matrix = sp.coo_matrix(([1, 0, 1, 1], ([0, 1, 2, 2], [0, 1, 1, 2])), shape=(3, 3))
    encoder, out = encode(matrix)
    assert sp.isspmatrix_csr(out) and out.dtype == np.float32
    assert encoder.kind_ == "sparse"
    assert out.nnz == 3  # the explicit zero is gone
    np.testing.assert_array_equal(out.toarray(), [[1, 0, 0], [0, 0, 0], [0, 1, 1]])
    back = encoder.inverse_transform(out.toarray())
    assert sp.issparse(back)
    duplicated = sp.coo_matrix(([1, 1], ([0, 0], [0, 0])), shape=(2, 2))
    with pytest.raises(ValueError, match="only 0 and 1.*got 2"):
        encode(duplicated)


def test_dataframe_columns_are_classes_and_transform_reorders():
    frame = pd.DataFrame(Y, columns=["c", "a", "b"])
    encoder, out = encode(frame)
    assert encoder.kind_ == "dataframe"
    np.testing.assert_array_equal(encoder.classes_, ["c", "a", "b"])
    np.testing.assert_array_equal(encoder.transform(frame[["b", "c", "a"]]), Y)
    with pytest.raises(ValueError, match=r"missing label columns seen at fit: \['b'\]"):
        encoder.transform(frame[["c", "a"]])
    with pytest.raises(ValueError, match="unique names"):
        encode(pd.DataFrame(Y, columns=["a", "a", "b"]))


def test_label_sets_are_sorted_and_decoded():
    y = [["b", "a"], [], ("c",), {"a"}]
    encoder, out = encode(y)
    assert encoder.kind_ == "label_sets"
    np.testing.assert_array_equal(encoder.classes_, ["a", "b", "c"])
    np.testing.assert_array_equal(out, [[1, 1, 0], [0, 0, 0], [0, 0, 1], [1, 0, 0]])
    assert encoder.label_sets(out) == [("a", "b"), (), ("c",), ("a",)]
    with pytest.warns(UserWarning, match=r"not seen at fit: \['z'\]"):
        np.testing.assert_array_equal(encoder.transform([["z", "a"]]), [[1, 0, 0]])
    # Integer label sets of equal length are sets too when one is a set.
    encoder, out = encode([{3, 1}, {2, 1}])
    np.testing.assert_array_equal(encoder.classes_, [1, 2, 3])
    np.testing.assert_array_equal(out, [[1, 0, 1], [1, 1, 0]])


def test_ragged_numeric_lists_are_label_sets():
    encoder, out = encode([[0, 2], [1], []])
    assert encoder.kind_ == "label_sets"
    np.testing.assert_array_equal(out, [[1, 0, 1], [0, 1, 0], [0, 0, 0]])


@pytest.mark.parametrize("y, error, match", [
    ([["a", ["b"]]], TypeError, r"sample 0 has the label \['b'\] of type list"),
    ([["a", 1], ["b"]], TypeError, r"mutually comparable.*\['int', 'str'\]"),
    ("abc", TypeError, "y must be array-like, got str"),
    (5, TypeError, "y must be array-like, got int"),
    (None, ValueError, "requires y to be passed"),
    (np.zeros((2, 2, 2)), ValueError, r"must be 2-D.*shape \(2, 2, 2\)"),
    (np.zeros((3, 0)), ValueError, "0 label columns"),
    (np.array([[0, 0.5], [1, 0]]), ValueError, r"continuous \(got 0.5\)"),
    (np.array([[0, 2], [3, 4]]), ValueError, r"got 2, 3, 4\."),
    (np.array([[0, 2], [3, 4], [5, 6], [7, 8]]), ValueError, r"got 2, 3, 4, 5, 6 \.\.\."),
    (np.array([[0, np.inf], [1, 0]]), ValueError, "infinity"),
    (np.array([["a", "b"], ["c", "d"]], dtype=object), ValueError, "non-numeric"),
])
def test_bad_targets(y, error, match):
    with pytest.raises(error, match=match):
        encode(y)


def test_binary_target():
    encoder, out = encode(np.array(["spam", "ham", "ham", "spam"]))
    assert encoder.kind_ == "binary"
    np.testing.assert_array_equal(encoder.classes_, ["ham", "spam"])
    np.testing.assert_array_equal(encoder.labels_, ["spam"])
    np.testing.assert_array_equal(out, [[1], [0], [0], [1]])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(encoder.inverse_transform(out),
                                  ["spam", "ham", "ham", "spam"])
    np.testing.assert_array_equal(encoder.transform(np.array([["ham"], ["spam"]])),
                                  [[0], [1]])  # a column, as at fit
    with pytest.raises(ValueError, match=r"classes not seen at fit: \['eggs'\]"):
        encoder.transform(["eggs", "ham"])
    with pytest.raises(ValueError, match="1-D target of class labels, as at fit; got a "
                                         "indicator"):
        encoder.transform(np.array([[0, 1], [1, 0]]))


def test_multiclass_target_and_column_vector():
    encoder, out = encode(np.array([[2], [0], [1], [2]]))  # a column of classes
    assert encoder.kind_ == "multiclass"
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(encoder.labels_, [0, 1, 2])
    np.testing.assert_array_equal(encoder.inverse_transform(out), [2, 0, 1, 2])
    series = pd.Series([1.0, 3.0, 2.0])
    encoder, out = encode(series)
    assert encoder.kind_ == "multiclass" and out.shape == (3, 3)


def test_a_column_of_zeros_and_ones_is_binary_as_one_vs_rest_takes_it():
    encoder, out = encode(np.array([[0], [1], [1]]))
    assert encoder.kind_ == "binary" and out.shape == (3, 1)
    np.testing.assert_array_equal(encoder.classes_, [0, 1])
    encoder, out = encode(np.array([[0], [np.nan], [1]]))  # NaN: unknown entry
    assert encoder.kind_ == "indicator"
    np.testing.assert_array_equal(out, [[0], [-1], [1]])
    encoder, out = encode(np.array([[0], [-1], [1]]))  # -1: a class here
    assert encoder.kind_ == "multiclass"
    # One label as a multi-label problem: a one-column DataFrame, a sparse
    # column or label sets.
    for one_label in (pd.DataFrame({"spam": [0, 1, 1]}), sp.csr_matrix([[0], [1], [1]]),
                      [[], ["spam"], ["spam"]]):
        encoder, out = encode(one_label)
        assert encoder.kind_ not in ("binary", "multiclass") and out.shape == (3, 1)


@pytest.mark.parametrize("y, match", [
    (np.array([0.5, 1.5, 1.0]), "Unknown label type: continuous"),
    ([1.0, np.nan, 0.0], "NaN or infinity"),
    (["a", 1, "b"], r"a mix of label types \['int', 'str'\]"),
    (np.array([1, 1, 1]), r"only one class, \[1\]"),
])
def test_bad_one_dimensional_targets(y, match):
    with pytest.raises(ValueError, match=match):
        encode(y)


def test_whole_floats_are_class_labels():
    encoder, out = encode(np.array([1.0, 2.0, 1.0]))
    assert encoder.kind_ == "binary"
    np.testing.assert_array_equal(encoder.classes_, [1.0, 2.0])


def test_transform_checks_the_format_seen_at_fit():
    encoder = MultiLabelTargetEncoder().fit(Y)
    with pytest.raises(ValueError, match="1-D target, but the estimator was fitted"):
        encoder.transform(np.array([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="2 label columns, but 3 were seen at fit"):
        encoder.transform(Y[:, :2])
    np.testing.assert_array_equal(encoder.transform(sp.csr_matrix(Y)).toarray(), Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encoder.transform(Y)


def test_array_likes_with_only_array_interface():
    class Wrapped:
        def __array__(self, dtype=None, copy=None):
            return Y

    encoder, out = encode(Wrapped())
    np.testing.assert_array_equal(out, Y)


def test_unfitted_encoder_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MultiLabelTargetEncoder().transform(Y)


HINT = ("Pass a 2-D indicator matrix of shape (n_samples, n_labels) with values in "
        "{0, 1} (dense, scipy sparse or a DataFrame of 0/1 columns), or a sequence "
        "of label sets such as [['news', 'sport'], [], ['tech']]; "
        "sklearn.preprocessing.MultiLabelBinarizer converts other layouts.")


@pytest.mark.parametrize("y, message", [
    (np.zeros((2, 2, 2)), "y must be 2-D (n_samples, n_labels), got an array of shape "
     "(2, 2, 2). Labels nested in lists are not label sets: each label must be a name "
     "such as a str or int. " + HINT),
    ([], "y must be 2-D (n_samples, n_labels), got an array of shape (0,). An empty or "
     "scalar y holds no labels. " + HINT),
    (np.array([["a", "b"], ["c", "d"]], dtype=object), "y has dtype object with "
     "non-numeric entries; an indicator matrix must be numeric. " + HINT),
    (np.zeros((3, 0)), "y has 0 label columns; at least one is required."),
    (np.array([[0, 2], [1, 0]]), "y must contain only 0 and 1 (NaN or -1 for unknown "
     "entries), got 2. " + HINT),
    (np.array([[0, 0.5], [1, 0]]), "y looks continuous (got 0.5); a multi-label target "
     "must be a 0/1 indicator. " + HINT),
    (np.array([[0, np.inf], [1, 0]]), "y contains infinity. " + HINT),
    (np.array([[-1, 1], [1, -1]]), "y holds -1 and 1 but no 0. In an indicator, -1 "
     "marks an unknown entry (a missing label), not a negative one: for a -1/1 target, "
     "pass (y == 1) instead."),
    (sp.csr_matrix(np.array([[-1.0, 1.0], [1.0, -1.0]])), "y holds -1 and 1 but no 0. "
     "In an indicator, -1 marks an unknown entry (a missing label), not a negative "
     "one: for a -1/1 target, pass (y == 1) instead."),
    (np.array([[np.nan, 1], [np.nan, 0]]), "y leaves the label [0] unknown in every "
     "sample; a label needs known entries to be learned. Drop its column."),
    (np.array([[np.nan, -1, 1], [np.nan, -1, 0]]), "y leaves the labels [0, 1] unknown "
     "in every sample; a label needs known entries to be learned. Drop its column."),
    (sp.csr_matrix(np.array([[0.0, 2.0], [1.0, 0.0]])), "y must contain only 0 and 1 "
     "(NaN or -1 for unknown entries), got 2.0. " + HINT),
    (np.array([1.0, np.nan, 0.0]), "y contains NaN or infinity. " + HINT),
    (np.array([0.5, 1.5, 1.0]), "Unknown label type: continuous. y is a 1-D continuous "
     "target; a classifier needs class labels. " + HINT),
    (["a", 1, "b"], "Unknown label type: a mix of label types ['int', 'str'] in a 1-D "
     "target; class labels must all be str or all numbers."),
    (np.array([2, 2]), "y has only one class, [2]: a classifier needs samples of at "
     "least 2 classes."),
])
def test_error_messages_in_full(y, message):
    with pytest.raises(ValueError) as info:
        encode(y)
    assert str(info.value) == message


def test_user_targets_are_never_modified():
    duplicated = sp.coo_matrix(([1.0, 0.0], ([0, 1], [0, 1])), shape=(2, 2)).tocsr()
    duplicated.data[:] = [1.0, 0.0]  # an explicit zero
    data = duplicated.data.copy()
    encode(duplicated)
    np.testing.assert_array_equal(duplicated.data, data)  # not eliminated in place
    y = np.array([[1, -1], [0, 1]])
    encode(y)
    np.testing.assert_array_equal(y, [[1, -1], [0, 1]])


def test_nullable_boolean_frames_and_none_entries_are_unknown():
    frame = pd.DataFrame({"a": pd.array([True, None, False], dtype="boolean"),
                          "b": [0, 1, 1]})
    np.testing.assert_array_equal(encode(frame)[1], [[1, 0], [-1, 1], [0, 1]])
    objects = np.array([[1, None], [0, 1]], dtype=object)
    np.testing.assert_array_equal(encode(objects)[1], [[1, -1], [0, 1]])


def test_unknown_entries_only_as_nan_or_minus_one():
    _, out = encode(np.array([[1.0, np.nan], [-1.0, 0.0], [0.0, 1.0]]))
    np.testing.assert_array_equal(out, [[1, -1], [-1, 0], [0, 1]])
    assert known_entries(out).sum() == 4
    _, out = encode(np.array([[1, 0], [0, 1]]))
    assert known_entries(out) is None


def test_frames_and_series_are_told_apart():
    series = pd.Series([0, 1, 1])
    assert encode(series)[0].kind_ == "binary"
    assert encode(series.to_frame())[0].kind_ == "dataframe"


def test_transform_of_a_multiclass_column_and_other_kinds():
    encoder = MultiLabelTargetEncoder().fit(np.array([0, 1, 2, 1]))
    np.testing.assert_array_equal(encoder.transform(np.array([[2], [0]])),
                                  [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="got a label_sets target"):
        encoder.transform([["a"], ["b", "c"]])
    with pytest.raises(ValueError, match=r"classes not seen at fit: \[7\]"):
        encoder.transform(np.array([7, 1]))
    with pytest.raises(ValueError, match=r"classes not seen at fit: \[-1\]"):
        encoder.transform(np.array([-1, 1]))
    frame_encoder = MultiLabelTargetEncoder().fit(pd.DataFrame(Y, columns=["a", "b", "c"]))
    np.testing.assert_array_equal(frame_encoder.transform(Y), Y)  # an array is by position


def test_label_sets_need_different_lengths_or_names():
    assert encode([[0, 1], [1, 0]])[0].kind_ == "indicator"  # rectangular numbers
    assert encode([[0, 1], [2]])[0].kind_ == "label_sets"
    assert encode([["a", "b"], ["c", "d"]])[0].kind_ == "label_sets"


def test_label_sets_ignore_unseen_labels_with_one_warning():
    encoder = MultiLabelTargetEncoder().fit([["a"], ["b"]])
    with pytest.warns(UserWarning) as record:
        out = encoder.transform([["a", "z"], ["y"]])
    assert len(record) == 1
    assert str(record[0].message) == "Ignoring labels not seen at fit: ['y', 'z']."
    np.testing.assert_array_equal(out, [[1, 0], [0, 0]])
    assert out.dtype == np.float32


def test_float32_sparse_targets_are_copied_before_cleaning():
    matrix = sp.csr_matrix(np.array([[1, 0], [0, 1]], dtype=np.float32))
    matrix.data[1] = 0.0  # an explicit zero in the user's matrix
    encode(matrix)
    assert matrix.nnz == 2 and matrix.data[1] == 0.0


def test_all_positive_indicators_are_fine():
    np.testing.assert_array_equal(encode(np.ones((3, 2)))[1], np.ones((3, 2)))


def test_columns_of_class_labels():
    encoder, out = encode(np.array([["a"], ["b"], ["a"]]))
    assert encoder.kind_ == "binary"
    np.testing.assert_array_equal(out, [[0], [1], [0]])
    binary = MultiLabelTargetEncoder().fit([0, 1, 1, 0])
    np.testing.assert_array_equal(binary.transform(np.array([[0], [1]])), [[0], [1]])
    multiclass = MultiLabelTargetEncoder().fit(np.array([0, 1, 2]))
    out = multiclass.transform(np.array([[0], [2]]))
    np.testing.assert_array_equal(out, [[1, 0, 0], [0, 0, 1]])
    assert out.dtype == np.float32


def test_object_arrays_of_numbers_keep_their_classes():
    encoder, _ = encode(np.array([1, 2.0, 1], dtype=object))
    assert encoder.kind_ == "binary" and encoder.classes_.tolist() == [1, 2]
    assert not isinstance(encoder.classes_[0], str)
    with pytest.raises(ValueError, match="^Unknown label type: the classes of y cannot "
                                         "be sorted; use all str or all numbers.$"):
        encode(np.array([1, None, 1], dtype=object))


def test_unreadable_and_unhashable_targets():
    with pytest.raises(ValueError, match=r"^y could not be read as an array \("):
        encode([[0, 1], [1, [2]]])
    encoder = MultiLabelTargetEncoder().fit([["a"], ["b"]])
    with pytest.raises(TypeError, match=r"sample 1 has the label \['b'\] of type list"):
        encoder.transform([["a"], ["a", ["b"]]])


def test_constant_labels_ignore_unknown_entries():
    from sklearn_mlk._targets import UNKNOWN, constant_labels

    Y = np.array([[1, 0, 1, UNKNOWN, 0],
                  [1, 0, 0, 1, 0],
                  [1, UNKNOWN, 1, 1, 0]], dtype=np.float32)
    np.testing.assert_array_equal(constant_labels(Y), [1.0, 0.0, np.nan, 1.0, 0.0])
    np.testing.assert_array_equal(constant_labels(sp.csr_matrix(np.eye(3))),
                                  [np.nan] * 3)


def test_tuple_labels_stay_elements_of_a_one_dimensional_classes_array():
    from sklearn_mlk._targets import MultiLabelTargetEncoder

    encoder = MultiLabelTargetEncoder()
    Y = encoder.fit_transform([[("b", 2)], [("a", 1), ("b", 2)], []])
    assert encoder.classes_.shape == (2,) and encoder.classes_.dtype == object
    assert encoder.classes_.tolist() == [("a", 1), ("b", 2)]
    np.testing.assert_array_equal(Y, [[0, 1], [1, 1], [0, 0]])
    assert encoder.label_sets(Y.astype(bool)) == [(("b", 2),), (("a", 1), ("b", 2)), ()]
    encoder.fit_transform([["x"], ["y"]])
    assert encoder.classes_.dtype.kind == "U"  # plain labels: a plain array
