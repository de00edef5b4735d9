"""What a model callable is given as ``meta``."""

import numpy as np


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
