"""Tuning schemes: where learned thresholds get their scores, and which network
is kept.

Thresholds are tuned on scores the network gave rows it was not trained on.

- **Hold-out** (``threshold_cv`` a float): one network trains on the rest of
  the rows, stopping early on the hold-out, and scores it; with ``refit`` the
  kept network then trains on every row for the epochs early stopping chose.
- **k-fold refit** (``threshold_cv=k``, ``refit=True``): ``k`` fold networks
  give out-of-fold scores for every row; the kept network trains on every row
  for their median best epoch.
- **k-fold ensemble** (``threshold_cv=k``, ``refit=False``): the ``k`` fold
  networks give out-of-fold scores for every row and are kept, averaged: one
  Keras model whose output is the mean of theirs, predicted through one fused
  NumPy plan.

Each scheme returns the kept network and the tuning rows' scores, targets and
weights.
"""

import numbers
from typing import NamedTuple

import numpy as np

# threshold_cv="auto": this many folds, fewer above LARGE rows (see README,
# "How the defaults were chosen").
AUTO_FOLDS = 5
LARGE_FOLDS = 3
LARGE = 50_000
# With early_stopping="auto", a tuning fold or hold-out of fewer rows than this
# is too small to stop on: the networks train for every epoch instead. Up to
# folds of 32 rows training every epoch did better on yeast, scene and emotions
# alike, and at 64 on two of them; from 128 the two were within noise, and
# stopping early saves most of the epochs (benchmarks/small_data.py).
MIN_STOP_ROWS = 64
# With threshold_cv="auto", fewer rows than this get one network on every row
# and the fixed threshold 0.5: from 10 rows on, out-of-fold thresholds beat
# 0.5 on yeast, scene and emotions (benchmarks/small_data.py), and below it
# five folds would hold a row or two each.
MIN_TUNE_ROWS = 10


class Scheme(NamedTuple):
    """How a fit gets its tuning scores: ``k`` folds (None for a hold-out of
    ``fraction``), the kept network (``ensemble`` of folds, or ``refit``),
    whether the networks stop early, and what was changed for small data."""

    k: object
    fraction: object
    ensemble: bool
    refit: bool
    early_stopping: bool
    notes: tuple
    fixed: bool = False


def scheme(threshold_cv, refit, early_stopping, n_samples):
    """Resolve the ``"auto"`` settings for a fit on ``n_samples`` rows.

    ``threshold_cv="auto"`` is ``AUTO_FOLDS`` folds (``LARGE_FOLDS`` from
    ``LARGE`` rows), and the fixed threshold 0.5 below ``MIN_TUNE_ROWS``.
    ``refit="auto"`` keeps the fold networks as an ensemble, and refits after
    a hold-out. Early stopping ``"auto"`` is on unless its tuning rows would
    be fewer than ``MIN_STOP_ROWS``.
    """
    from ._splits import holdout_size

    notes = []
    if threshold_cv == "auto" and n_samples < MIN_TUNE_ROWS:
        notes.append(f"thresholds fixed at 0.5, as learning them needs "
                     f"{MIN_TUNE_ROWS} (threshold_cv='auto'); one network trains on "
                     "every row for all epochs")
        return Scheme(None, None, False, False, early_stopping is True, tuple(notes),
                      fixed=True)
    if threshold_cv == "auto":
        k = AUTO_FOLDS if n_samples < LARGE else LARGE_FOLDS
        threshold_cv = k
    if isinstance(threshold_cv, numbers.Integral):
        k, fraction = int(threshold_cv), None
        ensemble = refit is not True
        smallest = n_samples // k
    else:
        k, fraction = None, float(threshold_cv)
        ensemble = False
        smallest = holdout_size(n_samples, fraction)
    stop = early_stopping
    if early_stopping == "auto":
        stop = smallest >= MIN_STOP_ROWS
        if not stop:
            where = "tuning fold" if k else "hold-out"
            notes.append(f"no early stopping (each {where} holds {smallest} rows, "
                         f"fewer than {MIN_STOP_ROWS}): every network trains for all "
                         "epochs")
    return Scheme(k, fraction, ensemble, refit is not False and not ensemble,
                  bool(stop), tuple(notes))


class Tuning(NamedTuple):
    """The kept network and the data its thresholds are tuned on, with the
    curves of the networks trained only for tuning (``runs``)."""

    net: object  # a sklearn_mlk._trainer.Trained
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
                     early_stopping=plan.early_stopping)
    return holdout(trainer, X, Y, w, warm, seed, fraction=plan.fraction,
                   refit=plan.refit, early_stopping=plan.early_stopping)


def best_epoch(history):
    """The epoch (1-based) of lowest validation loss."""
    return int(np.argmin(history["val_loss"])) + 1


def holdout(trainer, X, Y, w, warm, seed, *, fraction, refit, early_stopping):
    """One stratified hold-out: tuning data and early-stopping data."""
    from ._splits import holdout_split
    from ._trainer import proba

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


def kfold(trainer, X, Y, w, warm, seed, *, k, ensemble, early_stopping):
    """Out-of-fold scores from ``k`` fold networks, then a refit or their ensemble.

    Each fold's tuning rows double as its early-stopping data. With
    ``ensemble``, a warm start continues each fold network on its own fold.
    """
    from ._splits import kfold_splits

    from ._trainer import ensemble_of, members_of, proba

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
    if ensemble:
        kept = trainer.train_folds(X, Y, w, folds, members, seeds)
        for fold, (_, test) in zip(kept, folds):
            scores[test] = proba(fold, X[test])
        return Tuning(ensemble_of(kept, X.shape[1:]), scores, Y, w)
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


def epochs_run(history, runs, ensemble):
    """``(n_iter_, best_epoch_)`` of a fit from its kept network's ``history``
    and the tuning ``runs``: per member for an ensemble, else one number.

    The best epoch is the one early stopping kept: of the kept network, or
    for a refit the tuning run's (which the refit trained for); None without
    early stopping.
    """
    if ensemble:
        members = [key[: -len("_loss")] for key in history
                   if key.startswith("fold_") and key.endswith("_loss")
                   and not key.endswith("val_loss")]
        n_iter = np.array([len(history[f"{m}_loss"]) for m in members])
        if all(f"{m}_val_loss" in history for m in members):
            return n_iter, np.array([best_epoch({"val_loss": history[f"{m}_val_loss"]})
                                     for m in members])
        return n_iter, None
    n_iter = len(history["loss"])
    if "val_loss" in history:
        return n_iter, best_epoch(history)
    if "tuning_val_loss" in runs:
        return n_iter, best_epoch({"val_loss": runs["tuning_val_loss"]})
    folds = [values for key, values in runs.items() if key.endswith("_val_loss")]
    if folds:
        return n_iter, int(np.median([best_epoch({"val_loss": v}) for v in folds]))
    return n_iter, None
