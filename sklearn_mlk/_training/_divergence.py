"""Training that went wrong: non-finite values and divergence.

Inputs of very different scales or too large a learning rate can drive a
network's loss to NaN or infinity, or to values far above anything a constant
prediction would give. Its outputs then mean nothing, so a fit that ends like
this must not pass for a trained model: non-finite training is an error, and
a loss that ends far above that of predicting each label's frequency is a
:class:`~sklearn.exceptions.ConvergenceWarning`.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

_ADVICE = ("Scale the inputs (for example with sklearn.preprocessing."
           "StandardScaler in a pipeline) or lower learning_rate.")
# A training loss that ends this many times above the loss of predicting each
# label's frequency has diverged: the network does worse than a constant.
DIVERGED_RATIO = 10.0
# ... and by at least this much (nats per label), not only in ratio.
DIVERGED_MARGIN = 0.1


def check_history(history):
    """Raise ``ValueError`` if an epoch's training loss is NaN or infinite."""
    loss = np.asarray(history.get("loss", ()), dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(loss))
    if bad.size:
        raise ValueError(
            f"Training failed: the loss became {loss[bad[0]]} at epoch "
            f"{bad[0] + 1}, so the network's weights and outputs are meaningless. "
            + _ADVICE
        )


def check_weights(model):
    """Raise ``ValueError`` if one of the model's weights is NaN or infinite."""
    from keras import ops

    from .._keras._backend import to_numpy

    for variable in model.weights:
        # Reduced where the weights live: only one value comes back.
        if not bool(to_numpy(ops.all(ops.isfinite(variable)))):
            raise ValueError(
                f"Training failed: the weights {variable.path!r} hold NaN or "
                "infinite values. " + _ADVICE
            )


def check_outputs(outputs):
    """Raise ``ValueError`` if the trained network's outputs on its own
    training rows are NaN or infinite."""
    if not np.isfinite(outputs).all():
        raise ValueError(
            "Training failed: the trained network's outputs on its own training "
            "rows hold NaN or infinite values. " + _ADVICE
        )


def constant_loss(Y, w, pos_weight, softmax=False):
    """The training loss of predicting each label's weighted frequency.

    Binary cross-entropy with per-label positive weights, averaged over
    labels and weighted over rows as the training loss is (a sum over rows
    divided by their number), unknown entries left out. ``Y`` may be sparse.
    With ``softmax``, the categorical cross-entropy of predicting each
    class's frequency, summed over classes, as that loss is.
    """
    from .._targets import label_totals

    return constant_loss_of(label_totals(Y, w), Y.shape[0], pos_weight, softmax)


def constant_loss_of(totals, n, pos_weight, softmax=False):
    """:func:`constant_loss` from each label's weighted ``(positives, known)``
    totals over ``n`` rows."""
    positives, total = totals
    n_labels = positives.shape[0]
    p = np.clip(positives / np.maximum(total, np.finfo(float).tiny), 1e-7, 1 - 1e-7)
    if softmax:
        p = np.clip(positives / max(positives.sum(), np.finfo(float).tiny), 1e-7, 1.0)
        return float(-(pos_weight * positives * np.log(p)).sum() / n)
    per_label = -(pos_weight * positives * np.log(p) + (total - positives) * np.log1p(-p))
    return float(per_label.sum() / (n * n_labels))


def warn_if_diverged(history, baseline):
    """Warn when the last epoch's training loss is far above ``baseline``."""
    loss = history.get("loss")
    # Both a ratio and a margin: near a baseline of almost 0 (labels almost
    # never or always positive, or weighted away), a tiny loss is many times it.
    if (not loss or baseline <= 0 or loss[-1] <= DIVERGED_RATIO * baseline
            or loss[-1] - baseline <= DIVERGED_MARGIN):
        return
    warnings.warn(
        f"Training diverged: the training loss ended at {loss[-1]:.4g}, "
        f"{loss[-1] / baseline:.3g} times the {baseline:.4g} of predicting each "
        "label's frequency, so the network does worse than a constant on its "
        "own training data. " + _ADVICE,
        ConvergenceWarning,
        stacklevel=5,
    )
