"""What a model callable is given as ``meta``."""

import numpy as np
import scipy.sparse as sp


def input_power(X):
    """The mean squared norm of the rows of X (dense, sparse or N-D), summed
    in float64. A sparse X in canonical format (no duplicate entries) is
    summed over its stored values, without the copy that ``X.multiply(X)``
    makes; the Dask workers total their blocks with it too."""
    if X.shape[0] == 0:
        return 0.0
    if sp.issparse(X) and getattr(X, "has_canonical_format", False):
        total = float(np.einsum("i,i->", X.data, X.data, dtype=np.float64))
    elif sp.issparse(X):
        total = float(X.multiply(X).sum(dtype=np.float64))
    else:
        X = np.asarray(X).reshape(X.shape[0], -1)  # N-D input: a sample's values
        total = float(np.einsum("ij,ij->", X, X, dtype=np.float64))
    return total / X.shape[0]


def meta_of(X_shape, X_dtype, Y_shape, totals, input_power, labels, target,
            pos_weight=None):
    """A model callable's ``meta`` from what it describes: the shapes, each
    label's weighted ``(positives, known)`` totals and the mean squared row
    norm of X; ``target`` is the ``(type, classes)`` of the target
    (``labels`` are the output columns)."""
    # The label frequencies of the weighted data the network is trained on,
    # with class weights on the positives: the constant prediction that
    # minimises the training loss.
    positives, known = totals
    prior = positives / np.maximum(known, np.finfo(float).tiny)
    if pos_weight is not None:
        weighted = prior * pos_weight
        prior = weighted / np.maximum(weighted + 1.0 - prior, np.finfo(float).tiny)
    kind, classes = target
    return {
        "n_features_in_": X_shape[1],
        "n_labels_": len(labels),
        "n_classes_": len(classes),
        "classes_": classes,
        "label_prior_": prior,
        "input_power_": input_power,  # mean squared row norm (first_layer_gain)
        "input_shape_": tuple(X_shape[1:]),  # one sample's: (h, w, c) for images
        # scikeras's names, for model callables written for it
        "n_outputs_": 1,
        "n_outputs_expected_": 1,
        "X_dtype_": X_dtype,
        "y_dtype_": np.dtype(np.float32),
        "y_ndim_": 2,
        "X_shape_": tuple(X_shape),
        "y_shape_": tuple(Y_shape),
        "target_type_": kind,
    }
