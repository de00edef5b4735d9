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
from .._keras._backend import get_keras

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
        from .._targets import label_totals

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
                                 masked=False, label_smoothing=0.0):
    """Mean over labels of binary cross-entropy with per-label positive weights.

    ``pos_weight`` is an array, or a backend variable whose current value is
    read at each call. With ``masked``, targets below 0 are unknown entries
    (:data:`sklearn_mlk._targets.UNKNOWN`): their terms are 0, and the mean
    still divides by the number of labels, so that an entry weighs the same
    whether or not its row has unknown ones.

    ``focal_gamma > 0`` gives the focal loss (Lin et al. 2017): each term is
    scaled by ``(1 - p_true) ** focal_gamma``, so well-classified examples
    count less. ``label_smoothing`` moves the known targets towards 0.5, as
    Keras's ``BinaryCrossentropy(label_smoothing=...)`` does. Written with
    ``keras.ops`` only, so it runs on every Keras backend.
    """
    if isinstance(pos_weight, (np.ndarray, list, tuple)):
        pos_weight = np.asarray(pos_weight, dtype=np.float32)
        unweighted = bool(np.all(pos_weight == 1.0))
    else:  # a backend variable, read at each call
        unweighted = False
    gamma = float(focal_gamma)
    smoothing = float(label_smoothing)

    def loss(y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        if masked:
            known = ops.cast(ops.greater_equal(y_true, 0.0), y_pred.dtype)
            y_true = y_true * known
        if smoothing:
            y_true = y_true * (1.0 - smoothing) + 0.5 * smoothing
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
    label_smoothing: float = 0.0

    def make(self):
        return weighted_binary_crossentropy(
            self.pos_weight, from_logits=self.from_logits, focal_gamma=self.focal_gamma,
            masked=self.masked, label_smoothing=self.label_smoothing,
        )


# The loss names a user may give, and the Keras classes they stand for.
_FOCAL = {"binary_focal_crossentropy", "BinaryFocalCrossentropy"}  # names, classes
_PLAIN = {"binary_crossentropy", "bce", "BinaryCrossentropy"}


def loss_settings(loss, loss_params, focal_gamma):
    """``(focal_gamma, label_smoothing)`` of the estimator's ``loss``.

    ``loss`` is binary cross-entropy or its focal form, as a name, a
    ``keras.losses`` class (with ``loss__<name>`` arguments) or an instance;
    its ``from_logits`` and reduction are the estimator's own business (it
    reads the network's last activation, and weights samples itself). Any
    other loss is refused: the network's outputs are independent sigmoids,
    one per label, which only a per-label binary cross-entropy trains.
    """
    keras = get_keras()
    kind = loss if isinstance(loss, (type, str)) else type(loss)
    if isinstance(loss, keras.losses.Loss):
        if loss_params:
            raise ValueError("loss__ parameters configure a loss given as a name or a "
                             f"class; loss is an instance already: {loss!r}.")
        config = loss.get_config()
    else:
        config = dict(loss_params)
    # A name, or a class or function of Keras's own (a look-alike of another
    # package's is refused: its loss may be anything).
    name = kind if isinstance(kind, str) else getattr(kind, "__name__", "")
    own = isinstance(kind, str) or getattr(kind, "__module__", "").startswith("keras.")
    if not own or name not in _FOCAL | _PLAIN:
        raise ValueError(
            f"loss={loss!r} is not a per-label binary cross-entropy. The network has one "
            "independent sigmoid per label, trained with binary cross-entropy: use "
            "loss='binary_crossentropy' (optionally with loss__label_smoothing) or "
            "'binary_focal_crossentropy' (loss__gamma), or their keras.losses classes; "
            "class_weight weights each label's positives.")
    accepted = {"label_smoothing", "from_logits", "reduction", "name", "dtype", "axis"}
    if name in _FOCAL:
        accepted |= {"gamma", "alpha", "apply_class_balancing"}
    unknown = sorted(set(config) - accepted)
    if unknown:
        raise ValueError(f"loss={loss!r} takes no argument {unknown[0]!r}; it takes "
                         f"{sorted(accepted - {'name', 'dtype'})}.")
    if config.get("axis", -1) != -1:
        raise ValueError(f"loss={loss!r} averages over axis {config['axis']}; the "
                         "labels are the last axis (-1).")
    if config.get("apply_class_balancing"):
        raise ValueError("apply_class_balancing weights positives by one alpha for every "
                         "label; use class_weight (per label, or 'balanced') instead.")
    smoothing = float(config.get("label_smoothing") or 0.0)
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {smoothing!r}.")
    if name in _FOCAL:
        if focal_gamma:
            raise ValueError("focal_gamma is set and loss is a focal loss too; give the "
                             "focusing parameter once (loss__gamma or focal_gamma).")
        return float(config.get("gamma", 2.0)), smoothing
    return float(focal_gamma), smoothing
