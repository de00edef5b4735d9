"""Multi-label target formats: recognise, encode to an indicator matrix, decode.

Accepted formats are a dense 0/1 or boolean indicator array, a scipy sparse
indicator matrix, a pandas DataFrame of 0/1 columns, and a sequence of label
sets such as ``[["news", "sport"], [], ["tech"]]``. A target is never
reinterpreted: a matrix with exactly one positive per row stays multi-label.

An indicator may leave entries unknown (missing labels): NaN or ``pd.NA`` in
a dense array or DataFrame, -1 in any numeric one, and NaN or -1 stored
explicitly in a sparse matrix. Encoded targets hold :data:`UNKNOWN` there,
and every consumer of an encoded target (the loss, threshold tuning, the
splits, label frequencies) leaves those entries out.
"""

import warnings
from collections.abc import Iterable, Mapping, Set

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

_HINT = (
    "Pass a 2-D indicator matrix of shape (n_samples, n_labels) with values in "
    "{0, 1} (dense, scipy sparse or a DataFrame of 0/1 columns), or a sequence "
    "of label sets such as [['news', 'sport'], [], ['tech']]; "
    "sklearn.preprocessing.MultiLabelBinarizer converts other layouts."
)


# The value of an unknown entry in an encoded target.
UNKNOWN = -1.0


def known_entries(Y):
    """Boolean mask of the known entries of an encoded target Y, or None where
    every entry is known (a sparse Y never holds unknown entries)."""
    if sp.issparse(Y):
        return None
    known = np.asarray(Y) != UNKNOWN
    return None if known.all() else known


def label_totals(Y, w):
    """Per label of an encoded target: the weight of its positive rows and the
    weight of the rows where it is known (the total weight when all are)."""
    w = np.asarray(w, dtype=np.float64)
    known = known_entries(Y)
    if known is None:
        return np.asarray(Y.T @ w, dtype=np.float64).ravel(), np.full(Y.shape[1], w.sum())
    return np.where(known, Y, 0.0).T @ w, known.T @ w


def column_weights(class_weight, encoder):
    """``class_weight`` as positive weights of the output columns.

    For a binary target, whose one column is the second class, a mapping of
    both classes becomes the ratio of their weights: weighting positives by
    ``w1 / w0`` has the same optimum as weighting the two classes.
    """
    if encoder.kind_ != "binary" or not isinstance(class_weight, Mapping):
        return class_weight
    negative, positive = encoder.classes_.tolist()
    unknown = [c for c in class_weight if c not in (negative, positive)]
    if unknown:
        raise ValueError(f"class_weight has classes not in the target: {unknown}; "
                         f"the classes are {[negative, positive]}.")
    ratio = float(class_weight.get(positive, 1.0)) / float(class_weight.get(negative, 1.0))
    return {positive: ratio}


def constant_labels(Y):
    """Per label of an encoded multi-label target: 1.0 where every known entry
    is positive, 0.0 where none is, NaN otherwise."""
    return constant_of(*label_totals(Y, np.ones(Y.shape[0])))


def constant_of(positives, known):
    """1.0 for a label whose ``positives`` are all of its ``known`` entries,
    0.0 for one without positives, NaN otherwise."""
    out = np.full(np.shape(positives), np.nan)
    out[positives == known] = 1.0
    out[positives == 0] = 0.0
    return out


def _is_dataframe(y):
    return hasattr(y, "columns") and hasattr(y, "iloc") and getattr(y, "ndim", 0) == 2


def _is_label_set(item):
    return isinstance(item, (Set, list, tuple, np.ndarray)) and not isinstance(
        item, (str, bytes)
    )


def _looks_like_label_sets(y):
    """True for a non-rectangular, non-numeric or set-based sequence of sets."""
    items = list(y)
    if not items or not all(_is_label_set(item) for item in items):
        return False
    if any(isinstance(item, Set) for item in items):
        return True
    lengths = {len(item) for item in items}
    if len(lengths) > 1:
        return True
    return any(isinstance(label, (str, bytes)) for item in items for label in item)


def _labels_of(y):
    """The set of labels in a sequence of label sets; each must be hashable."""
    labels = set()
    for i, item in enumerate(y):
        for label in item:
            try:
                labels.add(label)
            except TypeError:
                raise _unhashable(label, i) from None
    return labels


def _unhashable(label, i):
    return TypeError(
        f"Labels in label sets must be hashable names such as str or int; "
        f"sample {i} has the label {label!r} of type {type(label).__name__}. " + _HINT
    )


def _as_target(y):
    """Turn array-likes that only implement ``__array__`` into ndarrays."""
    if y is not None and hasattr(y, "__array__") and not (
        isinstance(y, np.ndarray) or sp.issparse(y) or _is_dataframe(y)
    ):
        return np.asarray(y)
    return y


def _target_kind(y):
    if y is None:
        raise ValueError(
            "This estimator requires y to be passed, but the target y is None. " + _HINT
        )
    if sp.issparse(y):
        return "sparse"
    if _is_dataframe(y):
        return "dataframe"
    if isinstance(y, (str, bytes)) or not isinstance(y, Iterable):
        raise TypeError(f"y must be array-like, got {type(y).__name__}. " + _HINT)
    if isinstance(y, np.ndarray) and y.ndim != 1:
        if y.ndim == 2 and y.shape[1] == 1 and y.size and not _has_nan(y):
            # A column vector of class labels, 0/1 included: binary, as
            # OneVsRestClassifier takes it. (NaN marks an unknown entry of a
            # one-label indicator; label sets, a one-column DataFrame or a
            # sparse column give one label too.)
            return "column"
        return "indicator"
    if _looks_like_label_sets(y):
        return "label_sets"
    if _is_one_dimensional(y):
        return "single"
    return "indicator"


def _has_nan(y):
    """True for a float array with NaN (unknown entries)."""
    return y.dtype.kind == "f" and bool(np.isnan(y).any())


def _is_one_dimensional(y):
    """True for a 1-D sequence of scalar class labels (a Series included)."""
    if isinstance(y, np.ndarray):  # label sets in an array are caught before
        return y.ndim == 1
    try:
        items = list(y)
    except TypeError:
        return False
    return bool(items) and not any(_is_label_set(item) for item in items)


def _single_values(y):
    """A 1-D target as an array of class labels, checked to be a classification
    target (scikit-learn's message for a continuous one)."""
    if not isinstance(y, np.ndarray):
        # np.asarray would turn a mix of str and numbers into str silently.
        y = np.asarray(list(y), dtype=object) if any(
            isinstance(v, (str, bytes)) for v in y) else np.asarray(y)
    values = np.asarray(y)
    if values.dtype.kind in "fc":
        if not np.all(np.isfinite(values)):
            raise ValueError("y contains NaN or infinity. " + _HINT)
        if _has_fractions(values):
            raise ValueError(
                "Unknown label type: continuous. y is a 1-D continuous target; a "
                "classifier needs class labels. " + _HINT
            )
    if values.dtype.kind == "O":
        kinds = {type(v).__name__ for v in values.tolist()}
        if any(k in ("str", "bytes") for k in kinds) and len(kinds) > 1:
            raise ValueError(
                f"Unknown label type: a mix of label types {sorted(kinds)} in a 1-D "
                "target; class labels must all be str or all numbers."
            )
        if kinds == {"str"}:
            values = values.astype(str)
    return values


def _has_fractions(values):
    """True if some value (all finite) is not a whole number (a continuous
    target)."""
    return bool(np.any(values != np.round(values)))


def _label_array(labels):
    """A 1-D array of ``labels``; object dtype where they are tuples, which
    ``np.array`` would spread over a second dimension."""
    if not any(isinstance(label, tuple) for label in labels):
        return np.array(labels)
    array = np.empty(len(labels), dtype=object)
    for i, label in enumerate(labels):
        array[i] = label
    return array


def _check_binary(values, what):
    """Check indicator values: 0 and 1, with NaN or -1 for unknown entries."""
    values = np.asarray(values)
    if values.size == 0:
        return
    if values.dtype.kind == "f" and np.isinf(values).any():
        raise ValueError(f"{what} contains infinity. " + _HINT)
    present = np.unique(values[~np.isnan(values)] if values.dtype.kind == "f" else values)
    bad = np.setdiff1d(present, [0, 1, -1])
    if bad.size and _has_fractions(bad):
        raise ValueError(
            f"{what} looks continuous (got {bad[0].item()!r}); a multi-label target "
            "must be a 0/1 indicator. " + _HINT
        )
    if bad.size:
        shown = ", ".join(repr(v.item()) for v in bad[:5])
        raise ValueError(
            f"{what} must contain only 0 and 1 (NaN or -1 for unknown entries), got "
            f"{shown}{' ...' if bad.size > 5 else ''}. " + _HINT
        )
    if -1 in present and 0 not in present and values.ndim == 2:
        raise ValueError(
            f"{what} holds -1 and 1 but no 0. In an indicator, -1 marks an unknown "
            "entry (a missing label), not a negative one: for a -1/1 target, pass "
            "(y == 1) instead."
        )


def _with_unknown(array):
    """A float32 copy of a checked indicator with :data:`UNKNOWN` where an
    entry is NaN or -1."""
    out = np.asarray(array).astype(np.float32)  # -1 is UNKNOWN already
    out[np.isnan(out)] = UNKNOWN
    return out


def _float_entries(array):
    """An object array as float64, with None and pd.NA as NaN; None if some
    entry is not a number."""
    try:
        return np.array([[np.nan if v is None or type(v).__name__ == "NAType" else v
                          for v in row] for row in array], dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _as_indicator_array(y):
    """Validate a dense indicator target and return it as a 2-D ndarray
    (1-D targets never get here: they are class labels)."""
    try:
        array = np.asarray(y)
    except ValueError as exc:
        raise ValueError(f"y could not be read as an array ({exc}). " + _HINT) from None
    if array.ndim != 2:
        why = (
            "An empty or scalar y holds no labels."
            if array.ndim < 2 else
            "Labels nested in lists are not label sets: each label must be a "
            "name such as a str or int."
        )
        raise ValueError(
            f"y must be 2-D (n_samples, n_labels), got an array of shape "
            f"{array.shape}. {why} " + _HINT
        )
    if array.dtype.kind not in "biuf":
        # Object entries (nullable DataFrame columns among them): None and
        # pd.NA are unknown entries.
        numeric = _float_entries(array)
        if numeric is None:
            raise ValueError(
                f"y has dtype {array.dtype} with non-numeric entries; an indicator "
                "matrix must be numeric. " + _HINT
            )
        array = numeric
    if array.shape[1] == 0:
        raise ValueError("y has 0 label columns; at least one is required.")
    _check_binary(array, "y")
    return array


class MultiLabelTargetEncoder(BaseEstimator):
    """Encode any supported multi-label target as a float32 indicator matrix.

    A 1-D target is a single-label problem, encoded as OneVsRestClassifier
    does: two classes as one column (the second class positive), more as one
    column per class.

    Unknown entries of an indicator (NaN, ``pd.NA`` or -1; see the module
    docstring) are encoded as :data:`UNKNOWN`, and a target with any is
    encoded dense.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Label names: column indices for arrays and sparse matrices, column
        names for DataFrames, sorted labels for label sets, sorted classes
        for a 1-D target.
    labels_ : ndarray of shape (n_columns,)
        The label of each encoded column: ``classes_``, except for a binary
        target, whose one column is its second class.
    kind_ : {"indicator", "sparse", "dataframe", "label_sets", "binary", "multiclass"}
        The format seen at fit; :meth:`inverse_transform` returns the matching
        container (sparse for sparse, class labels for 1-D targets, dense
        otherwise).
    """

    def fit(self, y):
        self.fit_transform(y)
        return self

    def fit_transform(self, y):
        """Learn the labels and format of ``y`` and return it encoded."""
        y = _as_target(y)
        kind = _target_kind(y)
        classes = None
        if kind == "column":
            y, kind = np.ravel(y), "single"
        if kind == "single":
            values = _single_values(y)
            try:
                classes = np.unique(values)
            except TypeError:
                raise ValueError("Unknown label type: the classes of y cannot be "
                                 "sorted; use all str or all numbers.") from None
            if len(classes) < 2:
                raise ValueError(
                    f"y has only one class, {classes.tolist()}: a classifier needs "
                    "samples of at least 2 classes."
                )
            kind = "binary" if len(classes) == 2 else "multiclass"
            self._set_classes(classes)
            if kind == "binary":
                self.labels_ = classes[1:]  # one column: the second class
            self.kind_ = kind
            return self._encode(y, kind)
        if kind == "label_sets":
            labels = _labels_of(y)
            try:
                classes = _label_array(sorted(labels))
            except TypeError:
                kinds = sorted({type(label).__name__ for label in labels})
                raise TypeError(
                    "Labels in label sets must be mutually comparable (all str "
                    f"or all int) so they can be sorted; got a mix of {kinds}."
                ) from None
        elif kind == "dataframe":
            classes = np.asarray(y.columns)
            if len(set(classes.tolist())) != len(classes):
                raise ValueError("y's DataFrame columns must have unique names.")
        if classes is not None:
            self._set_classes(classes)
        Y = self._encode(y, kind)
        if classes is None:
            self._set_classes(np.arange(Y.shape[1]))
        known = known_entries(Y)
        if known is not None and not known.any(axis=0).all():
            nowhere = self.classes_[~known.any(axis=0)].tolist()
            raise ValueError(
                f"y leaves the label{'s' if len(nowhere) > 1 else ''} "
                f"{nowhere[:10]} unknown in every sample; a label needs known "
                "entries to be learned. Drop its column."
            )
        self.kind_ = kind
        return Y

    def transform(self, y):
        """Return ``y`` as a float32 indicator (CSR for sparse, else dense)."""
        check_is_fitted(self)
        y = _as_target(y)
        kind = _target_kind(y)
        if kind == "column" or (self.kind_ in ("binary", "multiclass")
                                and isinstance(y, np.ndarray) and y.ndim == 2
                                and y.shape[1] == 1):
            y, kind = np.ravel(y), "single"
        if self.kind_ in ("binary", "multiclass"):
            if kind != "single":
                raise ValueError(f"y must be a 1-D target of class labels, as at fit; "
                                 f"got a {kind} target.")
            return self._encode(y, self.kind_)
        if kind == "single":
            raise ValueError("y is a 1-D target, but the estimator was fitted on a "
                             "multi-label target. " + _HINT)
        if kind == "dataframe" and self.kind_ == "dataframe":
            columns = set(y.columns)
            missing = [c for c in self.classes_ if c not in columns]
            if missing:
                raise ValueError(f"y is missing label columns seen at fit: {missing}.")
            y = y[list(self.classes_)]
        Y = self._encode(y, kind)
        if Y.shape[1] != len(self.classes_):
            raise ValueError(
                f"y has {Y.shape[1]} label columns, but {len(self.classes_)} were "
                "seen at fit."
            )
        return Y

    def _set_classes(self, classes):
        self.classes_ = classes
        self.labels_ = classes
        self._index = {label: i for i, label in enumerate(classes.tolist())}

    def _encode(self, y, kind):
        if kind in ("binary", "multiclass"):
            return self._encode_classes(_single_values(y), kind)
        if kind == "label_sets":
            return self._encode_label_sets(y)
        if kind == "sparse":
            matrix = sp.csr_matrix(y, dtype=np.float32, copy=True)
            matrix.sum_duplicates()
            # Every entry stored: check it as the dense target it is, so that a
            # -1/1 target is refused as its dense form is.
            full = matrix.nnz == np.prod(matrix.shape)
            _check_binary(matrix.toarray() if full else matrix.data, "y")
            if np.any((matrix.data == -1) | np.isnan(matrix.data)):
                # Unknown entries: the encoded target is dense.
                return _with_unknown(matrix.toarray())
            matrix.eliminate_zeros()
            return matrix
        return _with_unknown(_as_indicator_array(y))

    def _encode_classes(self, values, kind):
        columns = np.searchsorted(self.classes_, values)
        columns = np.clip(columns, 0, len(self.classes_) - 1)
        unknown = self.classes_[columns] != values
        if np.any(unknown):
            raise ValueError(f"y has classes not seen at fit: "
                             f"{np.unique(values[unknown]).tolist()[:10]}.")
        if kind == "binary":
            return (columns == 1).astype(np.float32)[:, None]
        Y = np.zeros((len(values), len(self.classes_)), dtype=np.float32)
        Y[np.arange(len(values)), columns] = 1.0
        return Y

    def _encode_label_sets(self, y):
        indptr, indices, unknown = [0], [], set()
        for i, item in enumerate(y):
            row = set()
            for label in item:
                try:
                    column = self._index.get(label)
                except TypeError:
                    raise _unhashable(label, i) from None
                if column is None:
                    unknown.add(label)
                else:
                    row.add(column)
            indices.extend(sorted(row))
            indptr.append(len(indices))
        if unknown:
            warnings.warn(
                f"Ignoring labels not seen at fit: {sorted(map(str, unknown))[:10]}.",
                UserWarning,
            )
        data = np.ones(len(indices), dtype=np.float32)
        shape = (len(indptr) - 1, len(self.classes_))
        return sp.csr_matrix((data, indices, indptr), shape=shape).toarray()

    def inverse_transform(self, indicator):
        """Return a 0/1 int indicator in the container matching the fit format."""
        from ._decisions import classes_of

        check_is_fitted(self)
        if self.kind_ == "sparse":
            return sp.csr_matrix(np.asarray(indicator).astype(np.int64))
        return classes_of(indicator, self.kind_, self.classes_)

    def label_sets(self, indicator):
        """Return one tuple of label names per row of a 0/1 indicator."""
        check_is_fitted(self)
        matrix = sp.csr_matrix(indicator)
        classes = self.labels_.tolist()
        return [
            tuple(classes[j] for j in matrix.indices[start:stop])
            for start, stop in zip(matrix.indptr[:-1], matrix.indptr[1:])
        ]
