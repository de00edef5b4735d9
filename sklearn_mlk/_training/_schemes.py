"""Executing a tuning plan (:mod:`sklearn_mlk._tuning`): the networks of a
hold-out or of k folds, trained by the trainer, and the scores they give the
rows they were not trained on.
"""

from typing import NamedTuple

import numpy as np

from .._tuning import best_epoch
from ._trainer import ensemble_of, members_of, proba

# Whether the fold networks start from the same weights: None leaves it to
# the scheme (alike for refit="average", whose mean of weights needs it; apart
# for the ensemble, whose members differ the more for it). True or False is
# a study switch (benchmarks/thresholds.py) for either scheme.
FOLDS_START_ALIKE = None


class Tuning(NamedTuple):
    """The kept network and the data its thresholds are tuned on, with the
    curves of the networks trained only for tuning (``runs``)."""

    net: object  # a sklearn_mlk._training._trainer.Trained
    scores: np.ndarray
    Y: object
    w: np.ndarray
    runs: dict = {}


def run(plan, trainer, X, Y, w, warm, seed):
    """Train the networks of the :class:`Scheme` ``plan``; return a :class:`Tuning`
    (without scores for a fixed threshold)."""
    if plan.fixed:
        return Tuning(trainer.train(X, Y, w, warm, seed), None, None, None)
    if plan.k is not None:
        return kfold(trainer, X, Y, w, warm, seed, k=plan.k, ensemble=plan.ensemble,
                     early_stopping=plan.early_stopping, average=plan.average)
    return holdout(trainer, X, Y, w, warm, seed, fraction=plan.fraction,
                   refit=plan.refit, early_stopping=plan.early_stopping)


def holdout(trainer, X, Y, w, warm, seed, *, fraction, refit, early_stopping):
    """One stratified hold-out: tuning data and early-stopping data."""
    from .._splits import holdout_split

    train, test = holdout_split(Y, fraction, seed)
    held = (X[test], Y[test], w[test])
    net = trainer.train(X[train], Y[train], w[train], None if refit else warm, seed,
                        held if early_stopping else None,
                        run="the tuning network" if refit else "the network")
    scores = proba(net, held[0])
    runs = {}
    if refit:
        # The kept network sees every row, for the epochs that early stopping
        # chose on the hold-out; the thresholds carry over.
        epochs = best_epoch(net.history) if early_stopping else None
        runs = {f"tuning_{key}": values for key, values in net.history.items()}
        del net  # before the next network is built
        net = trainer.train(X, Y, w, warm, seed, epochs=epochs,
                            run="the final network (refit)")
    return Tuning(net, scores, held[1], held[2], runs)


def kfold(trainer, X, Y, w, warm, seed, *, k, ensemble, early_stopping, average=False):
    """Out-of-fold scores from ``k`` fold networks, then a refit or their ensemble.

    Each fold's tuning rows double as its early-stopping data. With
    ``ensemble``, a warm start continues each fold network on its own fold.
    With ``average`` (an ensemble whose weights the fit averages next), the
    fold networks start from the same weights: one seed for all, or copies
    of the warm averaged network.
    """
    from .._splits import kfold_splits

    if average and warm is not None:
        from ._average import copies

        held = len(members_of(warm))
        if held:
            raise ValueError(
                f"warm_start=True with refit='average' continues every fold network "
                f"from the fitted network, but the fitted model holds {held} fold "
                "networks (an ensemble, refit=False); fit it afresh with "
                "warm_start=False first.")
        members = [(copy, warm[1]) for copy in copies(warm[0], k)]
    else:
        members = members_of(warm) if ensemble and warm is not None else None
    if members is not None and len(members) != k:
        raise ValueError(
            f"warm_start=True with threshold_cv={k} and refit=False continues "
            f"each of {k} fold networks, but the fitted model holds "
            f"{len(members) or 'no'} fold networks; fit it afresh with "
            "warm_start=False first."
        )
    scores = np.empty(Y.shape, dtype=np.float64)
    folds = list(kfold_splits(Y, k, seed))
    seeds = [None if seed is None else seed + 1 + i for i in range(k)]
    if average if FOLDS_START_ALIKE is None else FOLDS_START_ALIKE:
        # Unseeded, one drawn seed still gives every fold network one start.
        start = seed + 1 if seed is not None else int(
            np.random.SeedSequence().entropy % np.iinfo(np.int32).max)
        seeds = [start] * k
    if ensemble:
        kept = trainer.train_folds(X, Y, w, folds, members, seeds)
        for fold, (_, test) in zip(kept, folds):
            scores[test] = proba(fold, X[test])
        net = ensemble_of(kept, X.shape[1:])
        if members is not None and not average and all(
                fold.model is member for fold, (member, _) in zip(kept, members)):
            # A warm start continued the same fold networks: the fitted model
            # stays the one object (scikeras's warm_start contract).
            net = net._replace(model=warm[0])
        return Tuning(net, scores, Y, w)
    best_epochs, runs = [], {}
    for i, (train, test) in enumerate(folds):
        held = (X[test], Y[test], w[test])
        fold = trainer.train(X[train], Y[train], w[train], None, seeds[i],
                             held if early_stopping else None,
                             run=f"fold network {i + 1}/{k}")
        scores[test] = proba(fold, held[0])
        if early_stopping:
            best_epochs.append(best_epoch(fold.history))
        runs.update({f"fold_{i}_{key}": values for key, values in fold.history.items()})
        del fold  # each fold network is freed before the next is built
    # With early stopping, the refit runs the folds' median best epoch.
    epochs = int(np.median(best_epochs)) if early_stopping else None
    net = trainer.train(X, Y, w, warm, seed, epochs=epochs,
                        run="the final network (refit)")
    return Tuning(net, scores, Y, w, runs)
