"""``partial_fit``: training on one batch at a time, as ``MLPClassifier`` and
``OneVsRestClassifier`` do.

The first call fixes the labels (from ``classes``, required as scikit-learn
requires it) and builds the network; every call trains it for one epoch on
its batch through ``Model.fit``, whose optimizer keeps its state between
calls. Thresholds are not learned from a stream: the first call sets them to
``threshold`` where that is a number and to 0.5 otherwise, and they stay as
they are until :meth:`tune_thresholds` learns them on held-out rows (which
later calls keep).
"""

import numpy as np
from sklearn.utils.validation import _check_sample_weight, check_consistent_length

from ._targets import MultiLabelTargetEncoder, _as_target, _target_kind, column_weights

WAITING = "fallback: partial_fit (tune_thresholds learns them)"


def first_encoder(y, classes):
    """The target encoder of a first ``partial_fit`` call on ``y``: its labels
    from ``classes`` for class labels and label sets, from ``y``'s columns
    for an indicator (``classes`` then gives one entry per column)."""
    if classes is None:
        raise ValueError("classes must be passed on the first call to partial_fit.")
    classes = np.asarray(classes) if not isinstance(classes, list) else classes
    kind = _target_kind(_as_target(y))
    encoder = MultiLabelTargetEncoder()
    if kind in ("single", "column"):
        encoder.fit_transform(np.asarray(classes).ravel())
    elif kind == "label_sets":
        encoder.fit_transform([[label] for label in classes])
    else:
        encoder.fit_transform(y)
        if len(classes) != len(encoder.classes_):
            raise ValueError(f"classes has {len(classes)} entries, but y has "
                             f"{len(encoder.classes_)} label columns.")
    return encoder


def encode_batch(encoder, y):
    """``y`` encoded with the labels the first call fixed; labels outside them
    raise, as ``OneVsRestClassifier.partial_fit`` does."""
    target = _as_target(y)
    kind = _target_kind(target)
    if kind in ("single", "column", "label_sets"):
        if kind == "label_sets":
            seen = {label for labels in target for label in labels}
        else:
            seen = set(np.unique(np.ravel(np.asarray(target, dtype=object))).tolist())
        extra = sorted(seen - set(encoder.classes_.tolist()), key=str)
        if extra:
            raise ValueError(f"Mini-batch contains {extra} while classes must be subset "
                             f"of {encoder.classes_.tolist()}.")
    return encoder.transform(y)


def same_classes(classes, encoder):
    """Whether ``classes`` of a later call names the labels fixed at the first."""
    if classes is None:
        return True
    given = np.asarray(classes, dtype=object).ravel().tolist()
    if encoder.kind_ in ("binary", "multiclass", "label_sets"):
        return sorted(given, key=str) == sorted(encoder.classes_.tolist(), key=str)
    return len(given) == len(encoder.classes_)


def partial_fit(est, X, y, classes, sample_weight, fit_params=None, epochs=1):
    """One ``partial_fit`` call of ``est`` (see the module docstring);
    ``epochs=0`` builds the network without training it (``initialize``)."""
    from ._keras import _backend
    from ._thresholds import argmax_thresholds, fixed, is_fixed
    from ._training._trainer import Trainer

    first = not hasattr(est, "model_")
    routed = est._routed_with(fit_params)
    hidden = est._check_hidden_layer_sizes()
    if isinstance(est.class_weight, str):
        raise ValueError("class_weight='balanced' is not supported by partial_fit: the "
                         "label frequencies of the whole stream are unknown. Pass the "
                         "weights as a dict or array.")
    X = est._validate_training_X(X, reset=first)
    if first:
        est._input_shape = tuple(X.shape[1:])
    elif X.shape[1:] != est._fitted_input_shape():
        raise ValueError(f"X has samples of shape {X.shape[1:]}, but the network was "
                         f"trained on samples of shape {est._fitted_input_shape()}.")
    if first:
        encoder = first_encoder(y, classes)
    else:
        encoder = est._target_encoder
        if not same_classes(classes, encoder):
            raise ValueError(f"classes={classes!r} is not the same as on the first call "
                             f"to partial_fit, was {encoder.classes_.tolist()!r}.")
    Y = encode_batch(encoder, y)
    check_consistent_length(X, Y)
    w = _check_sample_weight(sample_weight, X, dtype=np.float32, ensure_non_negative=True)
    kind = encoder.kind_ if encoder.kind_ in ("binary", "multiclass") else \
        "multilabel-indicator"
    labels = encoder.labels_
    est._check_label_limits(len(labels))
    trainer = Trainer(est, routed, hidden, labels, False, (kind, encoder.classes_),
                      column_weights(est.class_weight, encoder), masked=True)
    warm = None if first else (est.model_, est._from_probability)
    net = trainer.train_more(X, Y, w, warm, _backend.draw_seed(est.random_state), epochs)
    history = {} if first else {k: list(v) for k, v in est.history_.items()}
    for key, values in net.history.items():  # the loss and any metrics
        history.setdefault(key, []).extend(values)
    if first:
        tuned = fixed(est.threshold if is_fixed(est.threshold) else 0.5, len(labels))
        if not is_fixed(est.threshold):
            tuned = tuned._replace(status=np.full(len(labels), WAITING))
        if encoder.kind_ == "multiclass":
            tuned = argmax_thresholds(len(labels))
        est.thresholds_, est.threshold_scores_, est.threshold_status_ = tuned
        est.classes_ = encoder.classes_
        est._target_encoder = encoder
        est._constant_labels = None
        est._from_probability = net.from_probability
    previous = 0 if first else int(np.max(est.n_iter_))
    est.model_, est._plan = net.model, net.plan
    est.history_, est.n_iter_, est.best_epoch_ = history, previous + epochs, None
    return est
