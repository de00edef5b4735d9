"""Multi-label losses and per-label positive weights.

Label imbalance is handled inside the loss: each label's positive term is
multiplied by its weight (PyTorch's ``pos_weight``). Keras's own
``Model.fit(class_weight=...)`` is not used: on a 2-D multi-hot target it
weights each row by its first positive label only.
"""

import numbers
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
from ._backend import get_keras

ops = get_keras().ops  # the backend starts quietly, with its thread limits

_EPSILON = 1e-7


def positive_weights(class_weight, Y, classes, sample_weight=None):
    """Return one positive weight per label (float32, shape (n_labels,)).

    ``"balanced"`` gives ``n_negative / n_positive`` per label (weighted by
    ``sample_weight``), 1 for labels without positives or negatives. A mapping
    gives weights by label name (missing labels get 1); an array gives them in
    column order.
    """
    n_labels = len(classes)
    if class_weight is None:
        return np.ones(n_labels, dtype=np.float32)
    if isinstance(class_weight, str):
        from ._targets import label_totals

        w = np.ones(Y.shape[0]) if sample_weight is None else np.asarray(sample_weight)
        positives, known = label_totals(Y, w)
        negatives = known - positives
        ratio = np.ones(n_labels)
        ok = (positives > 0) & (negatives > 0)
        ratio[ok] = negatives[ok] / positives[ok]
        return ratio.astype(np.float32)
    if isinstance(class_weight, Mapping):
        index = {label: i for i, label in enumerate(classes.tolist())}
        unknown = [label for label in class_weight if label not in index]
        if unknown:
            raise ValueError(
                f"class_weight has labels not in the target: {unknown[:10]}; "
                f"known labels are {classes.tolist()[:10]}."
            )
        weights = np.ones(n_labels)
        for label, value in class_weight.items():
            weights[index[label]] = _check_weight(value, label)
        return weights.astype(np.float32)
    weights = np.asarray(class_weight, dtype=np.float64)
    if weights.shape != (n_labels,):
        raise ValueError(
            f"class_weight as an array needs one weight per label, shape "
            f"({n_labels},), got shape {weights.shape}."
        )
    for label, value in zip(classes.tolist(), weights):
        _check_weight(value, label)
    return weights.astype(np.float32)


def _check_weight(value, label):
    if not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(
            f"class_weight for label {label!r} must be a finite number > 0, "
            f"got {value!r}."
        )
    return float(value)


def weighted_binary_crossentropy(pos_weight, from_logits, focal_gamma=0.0,
                                 masked=False):
    """Mean over labels of binary cross-entropy with per-label positive weights.

    ``pos_weight`` is an array, or a backend variable whose current value is
    read at each call. With ``masked``, targets below 0 are unknown entries
    (:data:`sklearn_mlk._targets.UNKNOWN`): their terms are 0, and the mean
    still divides by the number of labels, so that an entry weighs the same
    whether or not its row has unknown ones.

    ``focal_gamma > 0`` gives the focal loss (Lin et al. 2017): each term is
    scaled by ``(1 - p_true) ** focal_gamma``, so well-classified examples
    count less. Written with ``keras.ops`` only, so it runs on every Keras
    backend.
    """
    if isinstance(pos_weight, (np.ndarray, list, tuple)):
        pos_weight = np.asarray(pos_weight, dtype=np.float32)
        unweighted = bool(np.all(pos_weight == 1.0))
    else:  # a backend variable, read at each call
        unweighted = False
    gamma = float(focal_gamma)

    def loss(y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        if masked:
            known = ops.cast(ops.greater_equal(y_true, 0.0), y_pred.dtype)
            y_true = y_true * known
        if from_logits:
            log_p = -ops.softplus(-y_pred)
            log_not_p = -ops.softplus(y_pred)
        else:
            p = ops.clip(y_pred, _EPSILON, 1.0 - _EPSILON)
            log_p = ops.log(p)
            log_not_p = ops.log1p(-p)
        positive = y_true * log_p
        negative = (1.0 - y_true) * log_not_p
        if gamma > 0:
            # (1 - p) ** gamma and p ** gamma, from the logs for stability.
            positive = positive * ops.exp(gamma * log_not_p)
            negative = negative * ops.exp(gamma * log_p)
        if not unweighted:
            positive = positive * ops.convert_to_tensor(pos_weight, y_pred.dtype)
        terms = positive + negative
        if masked:
            terms = terms * known
        return -ops.mean(terms, axis=-1)

    return loss


class LossSpec(NamedTuple):
    """The training loss: per-label positive weights, logits or probabilities,
    focal gamma, and whether targets have unknown entries to leave out;
    :meth:`make` builds it."""

    pos_weight: np.ndarray
    from_logits: bool
    focal_gamma: float = 0.0
    masked: bool = False

    def make(self):
        return weighted_binary_crossentropy(
            self.pos_weight, from_logits=self.from_logits, focal_gamma=self.focal_gamma,
            masked=self.masked,
        )
