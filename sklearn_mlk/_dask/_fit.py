"""A fit on Dask collections: the default MLP trained over blocks of rows.

The tuning scheme is the in-memory fit's (:func:`sklearn_mlk._tuning.scheme`),
with blocks in place of rows:

- ``k`` folds are ``k`` sets of blocks (assigned at random, balancing their
  rows). The ``k`` fold networks train side by side as one stacked network
  (:mod:`sklearn_mlk._training._stacked`): a block trains every member but
  its fold's, and is that member's early-stopping and tuning data;
- a hold-out is a set of blocks holding about ``threshold_cv`` of the rows;
- a fixed threshold trains one network on every block (early stopping, when
  switched on, on a hold-out of ``validation_fraction``).

An epoch visits the training blocks in a random order and shuffles the rows
within each, through the same compiled loop as in memory
(:meth:`sklearn_mlk._training._loop.Loop.run_epochs`); the validation loss is
a second pass, forward only. Out-of-fold scores are streamed into a
:class:`sklearn_mlk._histogram.ScoreHistogram`, whose search gives the
thresholds. Only one block (and the next, prefetched) is in memory at a time.
"""

import numpy as np

from .._keras import _backend
from .._tuning import settle
from ._blocks import Blocks

_UNSUPPORTED = "A fit on Dask collections trains the default MLP"


def check_supported(est, routed):
    """Refuse, before anything is computed, the settings a streamed fit lacks."""
    problems = []
    if est.model is not None:
        problems.append("model=None (no model of its own)")
    if est.callbacks or routed["callbacks"]:
        problems.append("no callbacks")
    if routed["fit"].keys() - {"shuffle"}:
        problems.append(f"no fit__ arguments but shuffle (got "
                        f"{sorted(routed['fit'].keys() - {'shuffle'})})")
    if routed["compile"]:
        problems.append(f"no compile__ arguments (got {sorted(routed['compile'])})")
    if est.warm_start and hasattr(est, "model_"):
        problems.append("warm_start=False")
    if est.threshold == "samples_f1":
        problems.append("a threshold other than 'samples_f1', which needs every "
                        "sample's scores together")
    if est.refit == "average":
        problems.append("refit other than 'average', whose thresholds are matched on "
                        "every training sample's scores together")
    if problems:
        raise ValueError(f"{_UNSUPPORTED}; it needs " + "; ".join(problems)
                         + ". Fit in memory for the others.")


def fit(est, X, y, sample_weight, routed):
    """Fit ``est`` on Dask collections X and y; return ``est``."""
    from .._notes import _warn_constant_labels_of, _warn_once_per_search
    from .._targets import column_weights
    from .._thresholds import fixed, is_fixed, objective_for, tune_curves
    from .._training._trainer import Trainer, ensemble_of
    from .. import _tuning

    check_supported(est, routed)
    hidden = est._check_hidden_layer_sizes()
    blocks = Blocks(X, y, sample_weight)
    n = int(blocks.rows.sum())
    fixed_cut = is_fixed(est.threshold)
    plan = None if fixed_cut else _tuning.scheme(est.threshold_cv, est.refit,
                                                 est.early_stopping, n, est.tol)
    if plan is not None and plan.k:
        blocks = blocks.at_least(plan.k)
    summary = blocks.summary()
    if not (summary.n_known > 0).all():
        missing = np.flatnonzero(summary.n_known == 0)[:10].tolist()
        raise ValueError(f"Labels {missing} are unknown in every sample.")
    encoder = _encoder(blocks)
    classes = encoder.classes_
    target = ("multilabel-indicator", classes)
    seed = _backend.draw_seed(est.random_state)
    rng = np.random.default_rng(seed)
    masked = bool((summary.n_known < n).any())
    stopping = (est.early_stopping is True) if fixed_cut or plan.fixed else plan.early_stopping
    if plan is not None and plan.notes:
        _warn_once_per_search("; ".join(plan.notes) + ".")
    trainer = Trainer(est, routed, hidden, classes, stopping, target,
                      column_weights(est.class_weight, encoder), masked, n_rows=n)
    train = _Training(est, trainer, blocks, summary, seed)

    if fixed_cut or plan.fixed:
        if stopping:
            held = _holdout(blocks.rows, est._holdout_fraction(), rng)
            nets = train.members(~held[:, None], held[:, None], "the network")
        else:
            nets = train.members(np.ones((blocks.n_blocks, 1), bool), None, "the network")
        net, runs = nets[0], {}
        why = (None if fixed_cut
               else f"fallback: {n} samples < {_tuning.MIN_TUNE_ROWS}")
        tuned = fixed(est.threshold if fixed_cut else 0.5, len(classes))
        if why:
            tuned = tuned._replace(status=np.full(len(classes), why))
    else:
        if plan.k:
            folds = _folds(blocks.rows, plan.k, rng)
            own = folds[:, None] == np.arange(plan.k)
            nets = train.members(~own, own if stopping else None,
                                 f"{plan.k} fold networks")
            scorer = folds
        else:
            held = _holdout(blocks.rows, plan.fraction, rng)
            nets = train.members(~held[:, None], held[:, None] if stopping else None,
                                 "the tuning network" if plan.refit else "the network")
            scorer = np.where(held, 0, -1)
        tuned = tune_curves(*_streamed_curves(blocks, nets, scorer),
                            objective_for(est.threshold, encoder.kind_),
                            min_positives=est.min_positives, fbr=est.fbr)
        runs = {}
        if plan.ensemble:
            net = ensemble_of(nets, (blocks.n_features,))
        elif plan.refit:
            from .._tuning import best_epoch

            runs = _tuning_runs(nets)
            epochs = (int(np.median([best_epoch(m.history) for m in nets]))
                      if stopping else None)
            del nets
            net = train.members(np.ones((blocks.n_blocks, 1), bool), None,
                                "the final network (refit)", epochs=epochs)[0]
        else:
            net = nets[0]
    from .._training._divergence import warn_if_diverged
    from .._tuning import epochs_run

    warn_if_diverged(net.history, net.baseline)
    history = {}
    for key, values in {**runs, **net.history}.items():
        history.setdefault(key, []).extend(values)
    ensemble = plan is not None and not plan.fixed and plan.ensemble
    n_iter, best = epochs_run(net.history, runs, ensemble)
    constant = _warn_constant_labels_of(summary.constant_labels(), classes)
    _set_input(est, blocks)
    return est._keep(encoder, net, tuned, history, n_iter, best, constant)


def tune_thresholds(est, X, y, sample_weight):
    """The thresholds of the fitted ``est`` learned again on Dask collections:
    its scores streamed block by block into a histogram, then searched."""
    from .._histogram import ScoreHistogram
    from .._thresholds import objective_for, tune_curves
    from ._predict import _predictor

    kind = est._target_encoder.kind_
    if kind in ("binary", "multiclass"):
        raise ValueError("tune_thresholds on Dask collections takes a multi-label "
                         f"estimator; this one was fitted on a {kind} target. Pass "
                         "NumPy arrays.")
    if est.threshold == "samples_f1":
        raise ValueError(f"{_UNSUPPORTED}'s thresholds with any objective but "
                         "'samples_f1', which needs every sample's scores together.")
    blocks = Blocks(X, y, sample_weight)
    n_labels = len(est.thresholds_)
    if blocks.n_labels != n_labels:
        raise ValueError(f"y has {blocks.n_labels} labels; the estimator was fitted on "
                         f"{n_labels}.")
    scores = _predictor(est, "label_proba")
    histogram = ScoreHistogram(n_labels)
    for _, X_block, Y_block, w in blocks.stream(range(blocks.n_blocks)):
        histogram.add(scores(X_block), Y_block, w)
    return tune_curves(histogram.curves(), histogram.pooled_curve,
                       objective_for(est.threshold, kind),
                       min_positives=est.min_positives, fbr=est.fbr)


def _tuning_runs(nets):
    """The curves of networks trained only for tuning, as the in-memory fit
    names them: ``tuning_*`` for a hold-out, ``fold_<i>_*`` for folds."""
    if len(nets) == 1:
        return {f"tuning_{key}": values for key, values in nets[0].history.items()}
    return {f"fold_{i}_{key}": values for i, net in enumerate(nets)
            for key, values in net.history.items()}


def _encoder(blocks):
    """The target encoder of the fitted estimator, fitted on a stand-in of the
    target's labels (an indicator, named by a DataFrame's columns)."""
    import pandas as pd

    from .._targets import MultiLabelTargetEncoder

    names = blocks.label_names
    if names is None and blocks.n_labels == 1:
        names = [0]  # one column of a Dask array: one label, not a 1-D target
    stand_in = np.zeros((2, blocks.n_labels))
    if names is not None:
        stand_in = pd.DataFrame(stand_in, columns=names)
    return MultiLabelTargetEncoder().fit(stand_in)


def _set_input(est, blocks):
    """``n_features_in_``, and ``feature_names_in_`` for a DataFrame of string
    column names, as ``validate_data`` sets them."""
    names = blocks.feature_names
    est.__dict__.pop("feature_names_in_", None)
    if names is not None and all(isinstance(name, str) for name in names):
        est.feature_names_in_ = np.asarray(names, dtype=object)
    est.n_features_in_ = blocks.n_features
    est._input_shape = (blocks.n_features,)


def _folds(rows, k, rng):
    """Each block's fold: blocks in a random order, each to the fold with the
    fewest rows so far."""
    folds = np.empty(len(rows), dtype=np.int64)
    sizes = np.zeros(k, dtype=np.int64)
    for position, i in enumerate(rng.permutation(len(rows))):
        fold = position if position < k else int(np.argmin(sizes))
        folds[i] = fold
        sizes[fold] += rows[i]
    return folds


def _holdout(rows, fraction, rng):
    """Which blocks are held out: blocks in a random order until they hold
    ``fraction`` of the rows (one at least, and never all)."""
    if len(rows) < 2:
        raise ValueError(
            "A hold-out on Dask collections is a set of blocks, and X has one "
            "block; rechunk X along its rows into several.")
    held = np.zeros(len(rows), dtype=bool)
    target, total = fraction * rows.sum(), 0
    for i in rng.permutation(len(rows))[:-1]:
        held[i] = True
        total += rows[i]
        if total >= target:
            break
    return held


def _streamed_curves(blocks, nets, scorer):
    """The threshold curves of the scores each block gets from the network
    ``scorer[i]`` (-1: none), streamed into a histogram; and the pooled curve."""
    from .._histogram import ScoreHistogram
    from .._training._trainer import proba

    histogram = ScoreHistogram(blocks.n_labels)
    for i, X, Y, w in blocks.stream(np.flatnonzero(scorer >= 0)):
        histogram.add(proba(nets[scorer[i]], X), Y, w)
    return histogram.curves(), histogram.pooled_curve


class _Training:
    """Trains default MLPs side by side over the blocks (a stacked network)."""

    def __init__(self, est, trainer, blocks, summary, seed):
        self.est, self.trainer, self.blocks, self.summary = est, trainer, blocks, summary
        self.seed = seed
        self.calls = 0

    def members(self, train_mask, val_mask, run, epochs=None):
        """One :class:`~sklearn_mlk._training._trainer.Trained` network per
        column of ``train_mask`` (blocks x members: where each trains), each
        stopping early on its ``val_mask`` blocks where given."""
        from .._meta import meta_of
        from .._training import _compiled, _stacked
        from .._training._fit import (compile_model, learning_rate_of, make_optimizer,
                                      rows_per_batch)
        from .._training._loop import Members, member_parts
        from .._training._losses import positive_weights

        est, trainer, blocks, summary = self.est, self.trainer, self.blocks, self.summary
        routed = trainer.routed
        k = train_mask.shape[1]
        base = None if self.seed is None else self.seed + 1 + 1000 * self.calls
        self.calls += 1
        seeds = [None if base is None else base + j for j in range(k)]
        pos_weight = positive_weights(trainer.class_weight, None, trainer.classes,
                                      totals=summary.totals)
        meta = meta_of((summary.n_rows, blocks.n_features), np.dtype(np.float32),
                       (summary.n_rows, blocks.n_labels), summary.totals,
                       summary.power, trainer.classes, trainer.target, pos_weight)
        rows = blocks.rows[:, None]
        train_rows = (rows * train_mask).sum(axis=0)
        _backend.get_keras()
        members, model = trainer.stacked_networks(meta, seeds, train_rows.mean())
        loss = trainer._loss(pos_weight, False, trainer.masked, members[0], None, None)
        compile_model(model, make_optimizer(est.optimizer, learning_rate_of(est),
                                            routed["optimizer"]), loss, {})
        val_rows = None if val_mask is None else (rows * val_mask).sum(axis=0)
        stopping = val_mask is not None and epochs is None
        n_epochs = trainer.epochs_for(int(train_rows.max()), stopping) if epochs is None \
            else epochs
        if est.verbose:
            print(f"Training {run} over {int(train_mask.any(axis=1).sum())} blocks of "
                  f"{summary.n_rows} rows"
                  + (", stopping early on held-out blocks" if stopping else "") + ":",
                  flush=True)
        parts = Members.of_rows(train_rows, val_rows, member_parts(model))

        def run_epochs(loop):
            loop.begin(model, loss)
            source = _Source(loop, blocks, train_mask, val_mask if stopping else None)
            return loop.run_epochs(
                model, source, train_rows, val_rows if stopping else None,
                epochs=n_epochs, batch_size=rows_per_batch(est.batch_size, summary.n_rows),
                patience=est.n_iter_no_change, shuffle=routed["fit"].get("shuffle", True),
                verbose=est.verbose, seed=seeds[0], members=parts,
                settle=(settle(est.tol, est.n_iter_no_change, stopping)
                        if epochs is None else None))

        histories = _compiled._with_loop(model, loss, run_epochs)
        if histories is None:  # pragma: no cover - the default MLP always compiles
            raise ValueError(f"{_UNSUPPORTED}, which this Keras backend cannot train "
                             "through its compiled loop.")
        _stacked.unstack(model, members)
        return [_trained(member, history, loss, summary, blocks.n_features, seed)
                for member, history, seed in zip(members, histories, seeds)]


def _trained(model, history, loss, summary, n_features, seed):
    """A member as a :class:`Trained` network, its history and weights checked."""
    from .._keras._inference import dense_plan
    from .._training._divergence import check_history, check_weights, constant_loss_of
    from .._training._trainer import Trained

    check_history(history)
    check_weights(model)
    return Trained(model, False, history, dense_plan(model, n_features, seed),
                   constant_loss_of(summary.totals, summary.n_rows, loss.pos_weight))


class _Source:
    """The batches of :meth:`Loop.run_epochs`, streamed block by block."""

    def __init__(self, loop, blocks, train_mask, val_mask):
        self.loop, self.blocks = loop, blocks
        self.train_mask = train_mask.astype(np.float32)
        self.val_mask = None if val_mask is None else val_mask.astype(np.float32)

    def train(self, rng, batch_size, shuffle):
        used = np.flatnonzero(self.train_mask.any(axis=1))
        order = rng.permutation(used) if shuffle else used
        total = 0.0
        for i, X, Y, w in self.blocks.stream(order):
            loop = self.loop
            data = loop.prepare(loop._batches_of(X), Y, w[:, None] * self.train_mask[i])
            rows = rng.permutation(len(w)) if shuffle else np.arange(len(w))
            total = total + np.atleast_1d(loop.epoch(data, rows, batch_size)) * len(w)
        return total

    def validate(self):
        total, extra = 0.0, 0.0
        for i, X, Y, w in self.blocks.stream(np.flatnonzero(self.val_mask.any(axis=1))):
            loop = self.loop
            loop._batches_of(X)  # sets how sparse blocks are read
            block_total, extra = loop.validation_totals(
                loop._validation_blocks(X, Y, w[:, None] * self.val_mask[i]))
            total = total + block_total
        return total, extra
