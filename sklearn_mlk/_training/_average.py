"""One network holding the mean of the fold networks' weights
(``refit="average"``).

An ensemble of ``k`` fold networks predicts at ``k`` networks' cost. Fold
networks that start from the same weights and train on overlapping rows
stay close enough in weight space that the mean of their weights is itself
a good network (a "model soup"), which predicts at one network's cost; from
different starting weights their hidden units are not aligned, and the mean
scores well below (``benchmarks/thresholds.py``, the variants "5-fold,
averaged weights" and "5-fold, averaged weights, started apart").

The averaged network's outputs are not the ensemble's: averaging weights is
not averaging outputs, and its scores come out sharper or flatter by label.
So its thresholds are not the ensemble's as they are: each label's learned
threshold is moved to the averaged network's scores so that, on the
training rows, it predicts the label for the same weight of rows as the
ensemble does at its own threshold
(:func:`sklearn_mlk._thresholds.matched_thresholds`). Both networks'
scores on the training rows are in-sample, so the comparison is like for
like. The cut sits halfway on the logit scale between the last training
score it predicts and the next lower one, as the threshold search places
its cuts: in-sample scores of positives run high, and a cut at the last
score predicted would sit at the top of the gap, missing new rows that
score a little lower.
"""

import numpy as np

from .._keras._backend import get_keras
from ._trainer import Trained, members_of, proba

keras = get_keras()  # the backend starts quietly, with its thread limits


def mean_weights(models):
    """The element-wise mean of the models' weights, as ``get_weights`` lists
    them; a ``ValueError`` where the models' weights differ in shape."""
    weights = [model.get_weights() for model in models]
    shapes = [[np.shape(v) for v in ws] for ws in weights]
    if any(s != shapes[0] for s in shapes[1:]):
        raise ValueError(
            "refit='average' averages the fold networks' weights, but the model "
            "callable built networks whose weights differ in shape from fold to fold; "
            "build one architecture for every fold, or set refit=False.")
    return [np.mean(np.stack(values), axis=0).astype(values[0].dtype)
            for values in zip(*weights)]


def copies(model, k):
    """``k`` independent copies of ``model`` with its weights: the fold
    networks a warm start continues from the averaged network."""
    out = []
    for _ in range(k):
        try:
            copy = keras.models.clone_model(model)
        except Exception as exc:  # noqa: BLE001 - Keras raises several kinds
            raise ValueError(
                f"warm_start=True with refit='average' continues every fold network "
                f"from a copy of the averaged network, which keras.models.clone_model "
                f"could not copy ({type(exc).__name__}: {exc}); set warm_start=False."
            ) from None
        copy.set_weights(model.get_weights())
        out.append(copy)
    return out


def averaged(ensemble, X, w, tuned, warm=None):
    """The network holding the mean of ``ensemble``'s fold networks'
    weights, as a :class:`~sklearn_mlk._training._trainer.Trained`, and the
    thresholds ``tuned`` (a :class:`~sklearn_mlk._thresholds.Tuned`, or None
    for a multiclass target, whose class is the argmax) moved to its scores on
    the training rows ``X`` with weights ``w``.

    The mean is written into the warm model's own object where a warm start
    continued it (the fitted model stays one object, as a warm ensemble's
    does), else into the first fold network's, which leaves the ensemble.
    """
    from .._keras._inference import dense_plan
    from .._thresholds import matched_thresholds

    members = members_of((ensemble.model, ensemble.from_probability))
    reference = proba(ensemble, X) if tuned is not None else None
    mean = mean_weights([member for member, _ in members])
    model = warm[0] if warm is not None else members[0][0]
    model.set_weights(mean)
    if warm is None:
        model.name = "averaged"
    plan = dense_plan(model, X.shape[1]) if X.ndim == 2 else None
    net = Trained(model, members[0][1], ensemble.history, plan, ensemble.baseline,
                  ensemble.pair)
    if tuned is not None:
        moved = matched_thresholds(reference, proba(net, X), tuned.thresholds, w)
        tuned = tuned._replace(thresholds=moved)
    return net, tuned
