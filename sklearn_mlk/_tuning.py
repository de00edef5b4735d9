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
- **k-fold weight average** (``threshold_cv=k``, ``refit="average"``): the
  ``k`` fold networks start from the same weights and give out-of-fold scores
  as the ensemble's do; the kept network is one network holding the mean of
  their weights (:mod:`sklearn_mlk._training._average`).

This module plans: it picks the scheme from the parameters and the number of
rows, and reads a fit's epochs from its histories; it is pure NumPy.
:mod:`sklearn_mlk._training._schemes` executes a plan with the trainer, and
returns the kept network and the tuning rows' scores, targets and weights.
"""

import numbers
from typing import NamedTuple

import numpy as np

# threshold_cv="auto": this many folds, fewer above LARGE rows (see
# docs/guide/thresholds.md, "How the defaults were chosen"). Fewer folds save
# fit time only: benchmarks/large_data.py sets 5 and 3 explicitly, and 3
# scored below 5 at every size it measures (2,500 to 50,000 rows), so from
# LARGE rows the default trades that macro-F1 for a shorter fit
# (docs/guide/thresholds.md, "How many fold networks on larger data").
AUTO_FOLDS = 5
LARGE_FOLDS = 3
LARGE = 50_000
# With early_stopping="auto", a tuning fold or hold-out of fewer rows than this
# is too small to stop on: the networks train for every epoch instead. Up to
# folds of 32 rows training every epoch did better on yeast, scene and emotions
# alike, and at 64 on two of them; from 128 the two were within noise, and
# stopping early saves most of the epochs (benchmarks/small_data.py).
MIN_STOP_ROWS = 64
# n_iter_no_change="auto": a network stops once its validation loss has not
# improved for as many epochs as it took to reach its best so far, clipped to
# AUTO_PATIENCE (at least, at most). Most networks of the shared sets are at
# their best within a few epochs and then only overfit, so a fixed patience
# of 10 spent most of their epochs waiting; a network still improving late
# (genbase's) keeps the full wait. The floor is the cheapest that lost no
# macro-F1 on the other six sets, leaving each shared set out in turn
# (docs/guide/thresholds.md, "How long to wait"); lower floors stopped some
# networks before a later, better epoch.
AUTO_PATIENCE = (7, 10)
# tol with n_iter_no_change="auto": a network that does not stop early on
# held-out rows stops once this many epochs in a row lower its lowest
# training loss by at most tol (MLPClassifier's n_iter_no_change).
SETTLE_PATIENCE = 10
# With threshold_cv="auto", fewer rows than this get one network on every row
# and the fixed threshold 0.5: from 10 rows on, out-of-fold thresholds beat
# 0.5 on yeast, scene and emotions (benchmarks/small_data.py), and below it
# five folds would hold a row or two each.
MIN_TUNE_ROWS = 10


class Scheme(NamedTuple):
    """How a fit gets its tuning scores: ``k`` folds (None for a hold-out of
    ``fraction``), the kept network (``ensemble`` of folds, or ``refit``;
    with ``average`` the ensemble's fold networks start alike and are kept as
    the mean of their weights), whether the networks stop early, and what was
    changed for small data."""

    k: object
    fraction: object
    ensemble: bool
    refit: bool
    early_stopping: bool
    notes: tuple
    fixed: bool = False
    average: bool = False


def scheme(threshold_cv, refit, early_stopping, n_samples, tol=None):
    """Resolve the ``"auto"`` settings for a fit on ``n_samples`` rows.

    ``threshold_cv="auto"`` is ``AUTO_FOLDS`` folds (``LARGE_FOLDS`` from
    ``LARGE`` rows), and the fixed threshold 0.5 below ``MIN_TUNE_ROWS``.
    ``refit="auto"`` keeps the fold networks as an ensemble, and refits after
    a hold-out; ``refit="average"`` needs folds, as it averages the fold
    networks. Early stopping ``"auto"`` is on unless its tuning rows would
    be fewer than ``MIN_STOP_ROWS``. ``tol`` only words the notes on
    networks that train without stopping early.
    """
    how_long = ("for all epochs (or, with tol, until its training loss settles)"
               if tol is None else
               f"until its training loss settles (tol={float(tol):g})")
    from ._splits import holdout_size

    average = refit == "average"
    if average and not (threshold_cv == "auto" or isinstance(threshold_cv, numbers.Integral)):
        raise ValueError(
            f"refit='average' averages the weights of the fold networks, but "
            f"threshold_cv={threshold_cv!r} holds out one share of the rows for one "
            "network; give threshold_cv a number of folds (or 'auto'), or set "
            "refit=False to keep that network.")
    notes = []
    if threshold_cv == "auto" and n_samples < MIN_TUNE_ROWS:
        notes.append(f"Few training samples: fewer than {MIN_TUNE_ROWS}, so the "
                     "thresholds are fixed at 0.5 (threshold_cv='auto' learns them from "
                     f"{MIN_TUNE_ROWS}); one network trains on every row {how_long}")
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
            # Worded from the parameters, not the exact row count, so that the
            # splits of one search give one message (shown once per line).
            if k:
                where, need = f"{k} tuning folds", f"{k * MIN_STOP_ROWS} samples"
            else:
                where = f"a hold-out of {fraction:g}"
                need = f"about {int(np.ceil(MIN_STOP_ROWS / fraction))} samples"
            notes.append(f"Few training samples: early stopping on {where} needs "
                         f"{MIN_STOP_ROWS} rows in each, from {need}; every network "
                         f"trains {how_long}")
    return Scheme(k, fraction, ensemble, refit is not False and not ensemble,
                  bool(stop), tuple(notes), average=average and k is not None)


def pilot(plan):
    """The scheme that a choice's pilot fits run in place of the ``k``-fold
    ``plan``: one network, trained on all rows but a hold-out of one fold's
    share, stopping early as the fold networks do and scored on the
    hold-out; its notes are the full fit's to give."""
    return plan._replace(k=None, fraction=1 / plan.k, ensemble=False, refit=False,
                         average=False, notes=())


def patience(n_iter_no_change, best_epoch):
    """Epochs without improvement after which a network stops early, its
    lowest validation loss so far at ``best_epoch`` (1-based): an int
    ``n_iter_no_change`` as it is, ``"auto"`` the best epoch clipped to
    ``AUTO_PATIENCE``."""
    if n_iter_no_change != "auto":
        return n_iter_no_change
    floor, ceiling = AUTO_PATIENCE
    return min(ceiling, max(floor, best_epoch))


def settle(tol, n_iter_no_change, stopping):
    """``(tol, patience)`` on the training loss for a network that does not
    stop early on held-out rows (``stopping`` False), or None where it trains
    every epoch (``tol`` None) or stops on held-out rows. The patience is
    ``n_iter_no_change``, ``"auto"`` being :data:`SETTLE_PATIENCE`."""
    if tol is None or stopping:
        return None
    return float(tol), SETTLE_PATIENCE if n_iter_no_change == "auto" else n_iter_no_change


def settle_note(settling):
    """When a network that does not stop early on held-out rows stops, in the
    words of verbose output (``settling``: :func:`settle`'s pair)."""
    min_delta, idle = settling
    return (f", until its training loss settles ({idle} epochs without lowering it "
            f"by more than tol={min_delta:g})")


def patience_note(n_iter_no_change):
    """When a network stops early, in the words of verbose output."""
    if n_iter_no_change != "auto":
        return f"once {n_iter_no_change} epochs pass without improvement"
    floor, ceiling = AUTO_PATIENCE
    return (f"once as many epochs as its best took ({floor} to {ceiling}) pass "
            "without improvement")


def best_epoch(history):
    """The epoch (1-based) of lowest validation loss."""
    return int(np.argmin(history["val_loss"])) + 1


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
