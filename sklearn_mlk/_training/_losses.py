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


def positive_weights(class_weight, Y, classes, sample_weight=None, softmax=False,
                     totals=None):
    """Return one positive weight per label (float32, shape (n_labels,)).

    ``"balanced"`` gives ``n_negative / n_positive`` per label (weighted by
    ``sample_weight``), 1 for labels without positives or negatives; with
    ``softmax`` (the classes of a multiclass target, which compete), it gives
    ``n / (n_classes * n_c)`` per class, as scikit-learn's
    ``compute_class_weight("balanced")`` does. A mapping
    gives weights by label name (missing labels get 1); an array gives them in
    column order. ``totals``, each label's weighted ``(positives, known)``,
    stand in for ``Y`` and ``sample_weight`` where given (streamed data).
    """
    n_labels = len(classes)
    if class_weight is None:
        return np.ones(n_labels, dtype=np.float32)
    if isinstance(class_weight, str):
        from .._targets import label_totals

        if totals is None:
            w = np.ones(Y.shape[0]) if sample_weight is None else np.asarray(sample_weight)
            totals = label_totals(Y, w)
        positives, known = totals
        negatives = known - positives
        if softmax:
            ratio = np.ones(n_labels)
            present = positives > 0
            ratio[present] = positives.sum() / (present.sum() * positives[present])
            return ratio.astype(np.float32)
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


def _column_weights(weights):
    """``(weights, unweighted)``: an array as float32, and whether every
    weight is 1 (a backend variable, read at each call, may change)."""
    if isinstance(weights, (np.ndarray, list, tuple)):
        weights = np.asarray(weights, dtype=np.float32)
        return weights, bool(np.all(weights == 1.0))
    return weights, False


def _known_targets(y_true, y_pred, masked):
    """``(y_true, known)``: the targets in the outputs' dtype, unknown entries
    (below 0) zeroed, and the mask of known ones (None unless ``masked``)."""
    y_true = ops.cast(y_true, y_pred.dtype)
    if not masked:
        return y_true, None
    known = ops.cast(ops.greater_equal(y_true, 0.0), y_pred.dtype)
    return y_true * known, known


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
    pos_weight, unweighted = _column_weights(pos_weight)
    gamma = float(focal_gamma)
    smoothing = float(label_smoothing)

    def loss(y_true, y_pred):
        y_true, known = _known_targets(y_true, y_pred, masked)
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


def weighted_categorical_crossentropy(class_weight, from_logits, focal_gamma=0.0,
                                      masked=False, label_smoothing=0.0):
    """Categorical cross-entropy of a softmax output, with per-class weights.

    The loss of a single-label target of three or more classes whose network
    ends in a softmax: ``-sum_c w_c y_c log p_c`` over the classes, each
    class's term weighted by its ``class_weight`` (an array or a backend
    variable, as for :func:`weighted_binary_crossentropy`). ``from_logits``
    applies the softmax inside the loss. With ``masked``, entries below 0
    are unknown and their terms are 0. ``focal_gamma`` scales each term by
    ``(1 - p_c) ** focal_gamma``; ``label_smoothing`` moves the one-hot
    targets towards ``1 / n_classes``, as Keras's ``CategoricalCrossentropy``
    does.
    """
    class_weight, unweighted = _column_weights(class_weight)
    gamma = float(focal_gamma)
    smoothing = float(label_smoothing)

    def loss(y_true, y_pred):
        y_true, known = _known_targets(y_true, y_pred, masked)
        if smoothing:
            y_true = y_true * (1.0 - smoothing) + smoothing / y_pred.shape[-1]
        if from_logits:
            log_p = ops.log_softmax(y_pred, axis=-1)
        else:
            log_p = ops.log(ops.clip(y_pred, _EPSILON, 1.0))
        terms = y_true * log_p
        if gamma > 0:
            terms = terms * (1.0 - ops.exp(log_p)) ** gamma
        if not unweighted:
            terms = terms * ops.convert_to_tensor(class_weight, y_pred.dtype)
        if masked:
            terms = terms * known
        return -ops.sum(terms, axis=-1)

    return loss


class LossSpec(NamedTuple):
    """The training loss: per-label positive weights, logits or probabilities,
    focal gamma, whether targets have unknown entries to leave out, and
    whether the outputs are a softmax over classes (categorical
    cross-entropy) rather than one sigmoid per label; :meth:`make` builds it."""

    pos_weight: np.ndarray
    from_logits: bool
    focal_gamma: float = 0.0
    masked: bool = False
    label_smoothing: float = 0.0
    softmax: bool = False

    def make(self, pos_weight=None):
        """The loss function; ``pos_weight`` (a backend variable, say)
        replaces the spec's weights."""
        make = weighted_categorical_crossentropy if self.softmax \
            else weighted_binary_crossentropy
        return make(
            self.pos_weight if pos_weight is None else pos_weight,
            from_logits=self.from_logits, focal_gamma=self.focal_gamma,
            masked=self.masked, label_smoothing=self.label_smoothing,
        )


# The loss names a user may give, and the Keras classes they stand for.
_FOCAL = {"binary_focal_crossentropy", "BinaryFocalCrossentropy"}  # names, classes
_PLAIN = {"binary_crossentropy", "bce", "BinaryCrossentropy"}
# Cross-entropies of a softmax over classes (one-hot or class-index targets
# are the same loss here: the estimator encodes the classes itself).
_CATEGORICAL_FOCAL = {"categorical_focal_crossentropy", "CategoricalFocalCrossentropy"}
_CATEGORICAL = {"categorical_crossentropy", "sparse_categorical_crossentropy",
                "CategoricalCrossentropy", "SparseCategoricalCrossentropy"}


class LossSettings(NamedTuple):
    """What the estimator's ``loss`` asks for: the focusing parameter, the
    label smoothing, and whether it names a categorical cross-entropy (which
    only a softmax output over classes can take)."""

    focal_gamma: float
    label_smoothing: float
    categorical: bool = False


def loss_settings(loss, loss_params, focal_gamma):
    """The :class:`LossSettings` of the estimator's ``loss``.

    ``loss`` is binary cross-entropy or its focal form, as a name, a
    ``keras.losses`` class (with ``loss__<name>`` arguments) or an instance;
    its ``from_logits`` and reduction are the estimator's own business (it
    reads the network's last activation, and weights samples itself). A
    categorical cross-entropy (sparse or not, focal or not) is accepted too,
    for a network that ends in a softmax over the classes of a multiclass
    target; the trainer checks that it does. Any other loss is refused: the
    network's outputs are independent sigmoids, one per label, which only a
    per-label binary cross-entropy trains, or a softmax over classes.
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
    known = _FOCAL | _PLAIN | _CATEGORICAL | _CATEGORICAL_FOCAL
    if not own or name not in known:
        raise ValueError(
            f"loss={loss!r} is not a per-label binary cross-entropy. The network has one "
            "independent sigmoid per label, trained with binary cross-entropy: use "
            "loss='binary_crossentropy' (optionally with loss__label_smoothing) or "
            "'binary_focal_crossentropy' (loss__gamma), or their keras.losses classes; "
            "class_weight weights each label's positives. A network that ends in a "
            "softmax over the classes of a 1-D multiclass target also takes "
            "'categorical_crossentropy' or 'sparse_categorical_crossentropy'.")
    categorical = name in _CATEGORICAL | _CATEGORICAL_FOCAL
    focal = name in _FOCAL | _CATEGORICAL_FOCAL
    accepted = {"label_smoothing", "from_logits", "reduction", "name", "dtype", "axis"}
    if focal:
        accepted |= {"gamma", "alpha", "apply_class_balancing"}
    if categorical:
        accepted |= {"ignore_class"}
    unknown = sorted(set(config) - accepted)
    if unknown:
        raise ValueError(f"loss={loss!r} takes no argument {unknown[0]!r}; it takes "
                         f"{sorted(accepted - {'name', 'dtype'})}.")
    if config.get("axis", -1) != -1:
        raise ValueError(f"loss={loss!r} averages over axis {config['axis']}; the "
                         "labels are the last axis (-1).")
    if config.get("ignore_class") is not None:
        raise ValueError("ignore_class leaves out the samples of one class; give them "
                         "sample_weight 0 instead.")
    if focal and config.get("alpha") not in (None, 0.25) and categorical:
        raise ValueError("alpha scales every class's term alike, which leaves the "
                         "optimum where it is; weight classes with class_weight instead.")
    if config.get("apply_class_balancing"):
        raise ValueError("apply_class_balancing weights positives by one alpha for every "
                         "label; use class_weight (per label, or 'balanced') instead.")
    smoothing = float(config.get("label_smoothing") or 0.0)
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {smoothing!r}.")
    if focal:
        if focal_gamma:
            raise ValueError("focal_gamma is set and loss is a focal loss too; give the "
                             "focusing parameter once (loss__gamma or focal_gamma).")
        return LossSettings(float(config.get("gamma", 2.0)), smoothing, categorical)
    return LossSettings(float(focal_gamma), smoothing, categorical)
