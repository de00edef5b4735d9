"""Choosing ``alpha`` among several values, and whether the default MLP has a
linear path, by out-of-fold scores.

``alpha=[0, 3]`` trains the estimator once per value, each from the same seed
on the same folds, and keeps the fit whose learned thresholds score best on
the scores its networks gave to rows they were not trained on: the mean of
its ``threshold_scores_`` (the objective each label's threshold reaches), or,
for a multiclass target, the macro-F1 of its out-of-fold argmax. That is the
score the estimator computes anyway to learn its thresholds, so the choice
costs one fit per value, where ``GridSearchCV`` costs one per value and fold,
and a refit. A network that fits its training rows better but generalises
worse scores worse here, as its out-of-fold scores come from rows it was
not trained on.

``linear_path="auto"`` chooses between the default MLP without and with its
linear path (:func:`chooses_linear_path` says where), within each value of a
list of ``alpha``. Where the fit trains ``k`` fold networks, it chooses by
one pilot network of each kind, trained on all rows but a hold-out of one
fold's share and scored there as a fold network is, and then fits only the
chosen kind's fold networks: ``k + 2`` networks where both kinds' fold
networks would be ``2k``, and the network with the path, the costlier on
wide input, trained ``k`` times only where it is chosen.
"""

from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from sklearn.metrics import f1_score
from sklearn.utils import check_random_state


def candidates(alpha):
    """The values of a list of ``alpha``, as floats; None for one value
    (a number, a 0-d array or ``"auto"``). An empty list, or one holding
    anything but finite non-negative numbers, is a ``ValueError`` naming it."""
    if isinstance(alpha, (str, Real)) or np.ndim(alpha) == 0:
        return None
    values = shown(alpha)
    if not values:
        raise ValueError("alpha=[] holds no value to choose from; give one number, "
                         "'auto', or a list of non-negative numbers.")
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, Real)
           or not np.isfinite(v) or v < 0]
    if bad:
        raise ValueError(f"alpha={values!r} holds {bad[0]!r}; a list of alpha "
                         "holds finite non-negative numbers, the penalties to choose from.")
    return [float(v) for v in values]


def shown(alpha):
    """A list of ``alpha``'s values as Python objects (NumPy scalars as the
    numbers they hold), for messages."""
    return [v.item() if isinstance(v, np.generic) else v
            for v in np.asarray(alpha, dtype=object).ravel()]


def shared_seed(random_state):
    """The ``random_state`` every candidate fits with: the estimator's own
    int, which gives each candidate the fit a single value would get; else an
    int drawn from it once (the global RNG for None), so that the candidates
    still share their folds and initial draws."""
    # Not _backend.draw_seed: it turns an int into another draw (the fit does
    # that itself, from the int given here) and leaves None unseeded.
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return random_state
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def score(threshold_scores, out_of_fold=None):
    """A fit's score for the choice: the macro-F1 of the argmax of a
    multiclass target's ``out_of_fold`` ``(scores, Y, w)``, else the mean of
    ``threshold_scores`` over its labels; NaN where no label has one (too few
    rows to learn thresholds)."""
    if out_of_fold is not None:
        S, Y, w = out_of_fold
        return float(f1_score(np.argmax(Y, axis=1), np.argmax(S, axis=1),
                              average="macro", sample_weight=w,
                              labels=np.arange(Y.shape[1]), zero_division=0))
    scores = np.asarray(threshold_scores, dtype=np.float64)
    return float(np.nanmean(scores)) if np.isfinite(scores).any() else float("nan")


def best(scores):
    """The index of the highest score, the first on a tie; NaN scores lose
    to any number, and where all are NaN the first value is kept."""
    scores = np.asarray(scores, dtype=np.float64)
    if not np.isfinite(scores).any():
        return 0
    return int(np.nanargmax(scores))  # NaN left out; the first of the highest


def describe(values, scores, chosen):
    """The line ``verbose`` prints after the choice."""
    others = ", ".join(f"alpha={v:g}: {s:.4f}" for i, (v, s) in enumerate(zip(values, scores))
                       if i != chosen)
    return (f"alpha={values[chosen]:g} chosen, its out-of-fold score "
            f"{scores[chosen]:.4f} the highest ({others}).")



# Whether linear_path="auto" chooses by one pilot network of each kind, on a
# hold-out of one fold's share, and then fits the chosen kind's fold networks,
# rather than by fitting both kinds' fold networks and keeping the better
# (benchmarks/many_labels.py, variant "choice by full fits"; a study switch).
PILOT = True

# What verbose prints before the pilot networks.
PILOT_NOTE = ("Choosing whether to keep the linear path by one pilot network of each "
              "kind, trained on all rows but a hold-out of one fold's share and scored "
              "on it; then the chosen kind's fold networks are fitted.")


def chooses_linear_path(est, hidden, n_outputs, n_rows, warm):
    """Whether ``est``'s fit on ``n_rows`` rows chooses between its default MLP
    of hidden layers ``hidden`` without and with a linear path: under
    ``linear_path="auto"``, where the ``n_outputs`` outnumber the units of
    the narrowest hidden layer and thresholds are learned on enough rows to
    give out-of-fold scores; a warm start (``warm``) continues the last
    choice's network, where that fit chose."""
    from ._thresholds import is_fixed
    from ._tuning import MIN_TUNE_ROWS

    if not (isinstance(est.linear_path, str) and hidden and est._builder() is None):
        return False
    if warm:
        return hasattr(est, "linear_path_")
    return (n_outputs > min(hidden) and not is_fixed(est.threshold)
            and n_rows >= MIN_TUNE_ROWS)


def pilots(threshold_cv):
    """Whether the choice of the linear path is made by pilot networks (see
    :func:`piloting`): where the fit trains fold networks (``threshold_cv``
    ``"auto"`` or a number of folds) and :data:`PILOT` is on."""
    return PILOT and (threshold_cv == "auto" or isinstance(threshold_cv, Integral))


@contextmanager
def piloting(est, on=True):
    """Within this block (where ``on``), ``est``'s fits that would train ``k``
    fold networks train one pilot network instead, on a hold-out of one
    fold's share (:func:`sklearn_mlk._tuning.pilot`)."""
    if on:
        est._pilot_fit = True
    try:
        yield
    finally:
        est.__dict__.pop("_pilot_fit", None)


def is_pilot(est):
    """Whether ``est`` is fitting a pilot network (see :func:`piloting`)."""
    return est.__dict__.get("_pilot_fit", False)


def describe_linear_path(scores, chosen, pilot=False):
    """The line ``verbose`` prints after choosing whether to keep the linear
    path (``chosen``: 1 with it) by the out-of-fold ``scores`` (without, with),
    those of ``pilot`` networks where they were."""
    where = "pilot's score on its hold-out" if pilot else "out-of-fold score"
    return (f"The network {'with' if chosen else 'without'} the linear path "
            f"{'chosen' if pilot else 'kept'}, its {where} {scores[chosen]:.4f} the "
            f"higher (the other's {scores[1 - chosen]:.4f})"
            + ("; it is fitted on the folds." if pilot else "."))
