"""Training one network with an estimator's settings, and ensembles of them."""

import gc
import warnings
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from .._keras import _backend
from .._plan import sigmoid_
from .._tuning import patience_note, settle, settle_note

# Weights above which the previous network is collected before the next is built.
_COLLECT_ABOVE = 2**22
# epochs="auto": the epochs of a network that stops early, and the optimizer
# steps at least of one that does not.
AUTO_EPOCHS = 50
AUTO_STEPS = 1000


class Trained(NamedTuple):
    """A trained network with its output kind, history and NumPy plan, and
    the training loss of a constant prediction of its training rows."""

    model: object
    from_probability: bool
    history: dict
    plan: object
    baseline: float
    # A binary target's network that ends in a two-unit softmax: its second
    # output is the positive class's probability.
    pair: bool = False


def proba(net, X):
    """Probabilities of a trained network on validated X."""
    from .._keras._network import forward

    outputs = forward(net.model, X, plan=net.plan)
    if net.pair:
        return outputs[:, 1:]
    return outputs if net.from_probability else sigmoid_(outputs)


class Trainer:
    """Builds, compiles and trains one network with an estimator's settings."""

    # Whether fold networks of the default MLP train stacked side by side.
    stacking = True

    def __init__(self, estimator, routed, hidden, classes, early_stopping, target,
                 class_weight=None, masked=False, n_rows=0):
        from ._fit import alpha_of, dropout_of, linear_path_of

        self.target = target
        # The default MLP's dropout rate ("auto" resolved for a fit on n_rows).
        self.dropout = dropout_of(estimator, n_rows)
        # Whether the default MLP has a linear path beside its hidden layers.
        self.linear_path = linear_path_of(estimator, hidden)
        # A model callable whose signature names one of these parameters is
        # given the value "auto" resolves to in this fit, not the string.
        resolved = {"dropout": self.dropout, "alpha": alpha_of(estimator, target[0]),
                    "linear_path": self.linear_path}
        routed = dict(routed, model={
            name: resolved[name] if isinstance(value, str) and value == "auto"
            and name in resolved else value
            for name, value in routed["model"].items()})
        # Whether the target has unknown entries, which the loss leaves out.
        self.masked = masked
        # The estimator's class_weight, as weights of the output columns.
        self.class_weight = class_weight
        self.est = estimator
        self.early_stopping = early_stopping
        self.routed = routed
        self.hidden = hidden
        self.classes = classes
        self._trained_large = False
        self.builder = estimator._builder()
        from ._losses import loss_settings
        from ._fit import callback_list

        # Checked before any network trains.
        self.focal_gamma, self.label_smoothing, self.categorical = loss_settings(
            estimator.loss, routed["loss"], estimator.focal_gamma)
        self.callbacks = callback_list(estimator.callbacks, routed["callbacks"])
        from ._fit import metric_list

        metric_list(routed["compile"].get("metrics"), routed["metrics"])  # checked now
        self._warned_compile = False
        # Whether a network stopped early on a hold-out of validation_fraction.
        self.held_out = False
        # Networks held and trained at once (the fold networks of an
        # ensemble), for the memory check before the first one trains.
        self.n_networks = 1
        self._memory_checked = False

    def announce(self, run, X, validation=None, settling=None):
        """With ``verbose``, name the training that starts (before its epochs)."""
        if self.est.verbose:
            held = (f", stopping early on {validation[0].shape[0]} "
                    f"{patience_note(self.est.n_iter_no_change)}" if validation
                    else settle_note(settling) if settling else "")
            print(f"Training {run} on {X.shape[0]} rows{held}:", flush=True)

    def train(self, X, Y, w, warm_model, seed, validation=None, epochs=None,
              run="the network"):
        """Return the :class:`Trained` network for X, Y, w.

        ``epochs`` given runs that many epochs without early stopping; ``run``
        names the training in verbose output.

        When the previous network this trainer returned was large, a garbage
        collection frees it first (the caller drops its references before
        asking for the next one). Keras models hold reference cycles, so
        dropping the last reference does not free one, and a collection is
        slow with TensorFlow loaded: only worth it for a wide network, whose
        weights, plan and training buffers would otherwise stay alive beside
        the next one.
        """
        _backend.get_keras()  # first: thread limits apply before TensorFlow starts
        if self._trained_large:
            gc.collect()
        from ._losses import positive_weights
        from ._fit import compile_model, learning_rate_of, make_optimizer, train

        est, routed = self.est, self.routed
        early_stopping = self.early_stopping and epochs is None
        if early_stopping and validation is None:
            from .._splits import holdout_split

            train_rows, val_rows = holdout_split(
                Y, est._holdout_fraction(), seed, purpose="early_stopping with a hold-out"
            )
            self.held_out = True
            validation = (X[val_rows], Y[val_rows], w[val_rows])
            X, Y, w = X[train_rows], Y[train_rows], w[train_rows]
        settling = (settle(est.tol, est.n_iter_no_change, early_stopping)
                    if epochs is None else None)
        self.announce(run, X, validation if early_stopping else None, settling)
        pos_weight = positive_weights(self.class_weight, Y, self.classes, w)
        if warm_model is not None:
            model, from_probability = warm_model
        else:
            model, from_probability = self._build(X, Y, w, pos_weight, seed)
        pair = _is_pair(model, self.target)
        if pair:
            Y = both_classes(Y)
            if validation is not None:
                validation = (validation[0], both_classes(validation[1]), validation[2])
        optimizer = make_optimizer(est.optimizer, learning_rate_of(est), routed["optimizer"])
        loss = self._loss(pos_weight, from_probability, self.masked, model, Y, w)
        compile_model(model, optimizer, loss, routed["compile"], routed["metrics"])
        history = train(
            model, X, Y, w,
            loss=loss,
            epochs=self.epochs_for(X.shape[0], early_stopping) if epochs is None else epochs,
            batch_size=est.batch_size,
            validation=validation if early_stopping else None,
            n_iter_no_change=est.n_iter_no_change,
            callbacks=self.callbacks,
            verbose=est.verbose,
            seed=seed,
            fit_params=routed["fit"],
            compile_params=routed["compile"],
            settle=settling,
        )
        self._trained_large = model.count_params() > _COLLECT_ABOVE
        return _checked(model, from_probability, history, X, Y, w, loss, seed, pair)

    def epochs_for(self, n_rows, stopping):
        """The estimator's ``epochs`` for a network trained on ``n_rows`` rows.

        ``"auto"`` gives :data:`AUTO_EPOCHS` to a network that stops early,
        and to every network where the user switched early stopping off. One
        that ``early_stopping="auto"`` kept from stopping early (too few
        samples, or a fixed threshold) gets at least :data:`AUTO_STEPS`
        optimizer steps: on a few hundred rows 50 epochs are only about a
        hundred steps, which leaves the network far from trained
        (``benchmarks/single_label.py``). Without any early stopping, the
        extra steps overfit on four of the seven shared sets
        (``benchmarks/thresholds.py``, variant "no early stopping").
        """
        from ._fit import rows_per_batch

        epochs = self.est.epochs
        if epochs != "auto":
            return epochs
        if stopping or self.est.early_stopping is False:
            return AUTO_EPOCHS
        steps = -(-n_rows // rows_per_batch(self.est.batch_size, max(n_rows, 1)))
        return max(AUTO_EPOCHS, -(-AUTO_STEPS // max(steps, 1)))

    def l2_for(self, n_rows, n_outputs):
        """The kernel penalty of a default MLP trained on ``n_rows`` rows with
        ``n_outputs`` outputs, from the estimator's ``alpha`` (``"auto"``
        resolved for the target, :func:`~._fit.alpha_of`).

        ``alpha`` is MLPClassifier's: ``alpha / 2`` times the kernels' sum of
        squares, added to the loss summed over rows and outputs. The loss
        here is their mean, so the penalty on it is ``alpha / (2 n L)``. (The
        compiled loops take it at each fit, so fits on different numbers of
        rows share one compiled copy.)
        """
        from ._fit import alpha_of

        alpha = alpha_of(self.est, self.target[0])
        return alpha / (2.0 * max(n_rows, 1) * max(n_outputs, 1))

    def say_auto(self, plan, n_rows):
        """With ``verbose``, say what the ``"auto"`` settings of this fit
        resolved to and why: the tuning ``plan`` (None for a fixed threshold)
        of a fit on ``n_rows`` rows. (``epochs="auto"`` shows in the epoch
        lines, each network's own.)"""
        from .. import _tuning
        from ._fit import (AUTO_ALPHA, AUTO_LEARNING_RATE, LARGE_DROPOUT_ROWS, alpha_of,
                           learning_rate_of)

        est = self.est
        if not est.verbose:
            return
        said = []
        if plan is not None and est.threshold_cv == "auto":
            if plan.fixed:
                said.append(f"threshold_cv: none, the threshold fixed at 0.5 (fewer "
                            f"than {_tuning.MIN_TUNE_ROWS} rows)")
            else:
                size = (f"fewer than {_tuning.LARGE:,} rows" if n_rows < _tuning.LARGE
                        else f"{_tuning.LARGE:,} rows or more")
                said.append(f"threshold_cv: {plan.k} folds ({size})")
        if plan is not None and not plan.fixed and est.refit == "auto":
            said.append("refit: " + ("no, the fold networks kept as an ensemble"
                                     if plan.ensemble else "yes"))
        stopping = self.early_stopping
        if est.early_stopping == "auto":
            why = ("a fixed threshold: one network trains on every row"
                   if plan is None or plan.fixed else
                   f"fewer than {_tuning.MIN_STOP_ROWS} tuning rows per network")
            said.append("early_stopping: " + (
                "on, on each network's tuning rows" if stopping else f"off ({why})"))
        if est.learning_rate == "auto":
            rate = learning_rate_of(est)
            said.append("learning_rate: " + (
                f"{AUTO_LEARNING_RATE:g} (Adam, the default MLP)" if rate is not None
                else "the optimizer's default (not Adam on the default MLP)"))
        if est.alpha == "auto" and self.builder is None:
            said.append("alpha: " + (
                f"{AUTO_ALPHA:g} (a 1-D target: LogisticRegression's default penalty)"
                if alpha_of(est, self.target[0]) else "0 (a multi-label target)"))
        if est.dropout == "auto" and self.builder is None:
            said.append(f"dropout: {self.dropout:g} (" + (
                f"fewer than {LARGE_DROPOUT_ROWS:,} rows" if n_rows < LARGE_DROPOUT_ROWS
                else f"{LARGE_DROPOUT_ROWS:,} rows or more") + ")")
        if est.linear_path == "auto" and self.builder is None and self.hidden:
            n = len(self.classes)
            said.append(f"linear_path: off ({n} output{'s' if n != 1 else ''}, "
                        + (f"at most the {min(self.hidden)} units of the narrowest hidden "
                           "layer)" if n <= min(self.hidden) else
                           f"more than the {min(self.hidden)} units of the narrowest "
                           "hidden layer, but no out-of-fold scores to choose by)"))
        if said:
            print(f"'auto' settings for {n_rows} rows: " + "; ".join(said) + ".",
                  flush=True)

    def _loss(self, pos_weight, from_probability, masked, model, Y, w):
        """The :class:`LossSpec` of ``model``: categorical cross-entropy where
        it ends in a softmax (a multiclass target), with ``class_weight``
        "balanced" as scikit-learn balances classes; else the per-label
        binary cross-entropy with ``pos_weight``."""
        from .._keras._network import last_activation
        from ._losses import LossSpec, positive_weights

        softmax = last_activation(model) == "softmax"
        if self.categorical and not softmax:
            raise ValueError(
                f"loss={self.est.loss!r} is a categorical cross-entropy, which "
                "trains a softmax over classes; this network ends in "
                f"{'sigmoids' if from_probability else 'logits'}, one independent "
                "output per label. Use loss='binary_crossentropy', or, for a 1-D "
                "multiclass target, a model whose last layer is "
                "Dense(n_classes, activation='softmax').")
        if softmax and Y.shape[1] != len(self.classes):  # a binary target's pair
            pos_weight = (positive_weights("balanced", Y, np.arange(2), w, softmax=True)
                          if isinstance(self.class_weight, str)
                          else np.array([1.0, pos_weight[0]], dtype=np.float32))
        elif softmax:
            pos_weight = positive_weights(self.class_weight, Y, self.classes, w,
                                          softmax=True)
        return LossSpec(pos_weight, not from_probability, self.focal_gamma, masked,
                        self.label_smoothing, softmax)

    def _build(self, X, Y, w, pos_weight, seed):
        """A new network and whether it outputs probabilities, once its memory
        need is checked."""
        from .._keras._network import build_model, output_is_probability
        from ._fit import learning_rate_of, make_optimizer

        est = self.est
        # scikeras's compile_kwargs: the routed compile arguments, the
        # optimizer and the loss, so that a callable that compiles with them
        # compiles as the estimator does; made only for a callable that takes
        # them (not for the default MLP or a template).
        compile_kwargs, optimizer = self.routed["compile"], None
        if _takes_compile_kwargs(self.builder):
            optimizer = make_optimizer(est.optimizer, learning_rate_of(est),
                                       self.routed["optimizer"])
            compile_kwargs = {**compile_kwargs, "optimizer": optimizer, "loss": est.loss}
        # Building draws the initial weights (and dropout seeds) from
        # process-wide generators, so it is the part that needs the seed.
        meta = est._meta(X, Y, self.classes, w, self.target, pos_weight)
        with _backend.seeded(seed), _meta_as_attributes(est, self.builder, meta):
            model = build_model(
                self.builder, meta, self.routed["model"], compile_kwargs,
                dict(self._mlp_params(self.l2_for(X.shape[0], len(self.classes))),
                     seed=seed),
                params=est.get_params(),
            )
            self._warn_if_compiled(model, optimizer)
            # (builds a subclassed model, whose weights count only then)
            kind = self.target[0]
            if kind == "multilabel-indicator" and _one_positive_per_row(Y):
                kind = "one-hot"
            from_probability = output_is_probability(
                model, len(self.classes), X.shape[1:], kind)
        self._check_memory(model.count_params())
        return model, from_probability

    def _mlp_params(self, l2):
        """The default MLP's arguments (of ``build_default_mlp``) but its seed,
        with the kernel penalty ``l2``."""
        return {"hidden_layer_sizes": self.hidden, "activation": self.est.activation,
                "dropout": self.dropout, "l2": l2, "linear_path": self.linear_path}

    def train_more(self, X, Y, w, warm, seed, epochs=1):
        """One epoch on (X, Y, w) through ``Model.fit``, continuing ``warm``
        (``(model, from_probability)``), or a new network where it is None.

        The network is compiled once, when it has no optimizer yet, so that
        the optimizer's state carries over from one call to the next, as
        ``MLPClassifier.partial_fit``'s does. The loss leaves unknown target
        entries out whether or not this batch has any.
        """
        from ._losses import positive_weights
        from ._fit import compile_model, learning_rate_of, make_optimizer, train

        est, routed = self.est, self.routed
        pos_weight = positive_weights(self.class_weight, Y, self.classes, w)
        if warm is None:
            model, from_probability = self._build(X, Y, w, pos_weight, seed)
        else:
            model, from_probability = warm
        pair = _is_pair(model, self.target)
        if pair:
            Y = both_classes(Y)
        loss = self._loss(pos_weight, from_probability, True, model, Y, w)
        if warm is None or getattr(model, "optimizer", None) is None \
                or not getattr(model, "compiled", False):
            # An unpickled estimator's optimizer, its state restored.
            resumed = est.__dict__.pop("_resumed_optimizer", None) if warm else None
            rate = learning_rate_of(est)
            compile_model(model, resumed or make_optimizer(est.optimizer, rate,
                                                           routed["optimizer"]),
                          loss, routed["compile"], routed["metrics"])
        history = {"loss": []}
        if epochs:
            self.announce("the network for one epoch", X)
            history = train(model, X, Y, w, loss=loss, epochs=epochs,
                            batch_size=est.batch_size, validation=None,
                            n_iter_no_change=est.n_iter_no_change,
                            callbacks=self.callbacks, verbose=est.verbose, seed=seed,
                            fit_params=routed["fit"], compile_params=routed["compile"],
                            compiled=False)
        return _checked(model, from_probability, history, X, Y, w, loss, seed, pair)

    def _check_memory(self, n_weights, n_networks=None):
        """Refuse, before the first network trains, a fit whose estimated
        peak exceeds the estimator's ``memory_limit`` (:mod:`._memory`)."""
        if self._memory_checked:
            return
        self._memory_checked = True
        from .._memory import check

        check(n_weights, n_networks or self.n_networks, self.est.memory_limit,
              f"This {type(self.est).__name__} fit")

    def _warn_if_compiled(self, model, handed):
        """Say, once per fit, that a model callable's own compile is replaced
        (not where it compiled with the optimizer of ``compile_kwargs``)."""
        if (not getattr(model, "compiled", False) or self._warned_compile
                or getattr(model, "optimizer", None) is handed):
            return
        self._warned_compile = True
        est = self.est
        loss = getattr(model, "loss", None)
        optimizer = type(getattr(model, "optimizer", None)).__name__
        warnings.warn(
            f"The model callable compiled its model (optimizer {optimizer}, loss "
            f"{getattr(loss, '__name__', loss)!r}); the estimator compiles it again with "
            f"its own optimizer={est.optimizer!r}, learning_rate={est.learning_rate!r} "
            "and its own cross-entropy (per label, or over the classes of a softmax), "
            "on which its early stopping, "
            "class weights and thresholds rely. Set optimizer=, learning_rate= and "
            "optimizer__<name>= on the estimator (focal_gamma= and class_weight= for "
            "the loss) instead of compiling in the callable.", UserWarning, stacklevel=2)

    def train_folds(self, X, Y, w, folds, warm_members, seeds):
        """One :class:`Trained` network per ``(train, test)`` fold, each
        stopping early on its own test rows when the trainer does.

        Default MLPs on the compiled loop train side by side as one stacked
        network (:mod:`sklearn_mlk._training._stacked`); any other network trains on
        its own, one fold after the other.
        """
        nets = self._train_stacked(X, Y, w, folds, warm_members, seeds)
        if nets is not None:
            return nets
        nets = []
        for i, (train, test) in enumerate(folds):
            held = (X[test], Y[test], w[test])
            nets.append(self.train(X[train], Y[train], w[train],
                                   warm_members[i] if warm_members else None,
                                   seeds[i], held if self.early_stopping else None,
                                   run=f"fold network {i + 1}/{len(folds)}"))
        return nets

    def stacked_networks(self, meta, seeds, train_rows, warm=None):
        """``k`` default MLPs (built from ``seeds``, or the ``warm`` ones),
        once their memory is checked, and the stacked network that trains
        them side by side (:mod:`sklearn_mlk._training._stacked`); ``alpha``
        penalises them as networks of ``train_rows`` rows."""
        from .._keras._network import build_model, first_layer_l2
        from . import _stacked

        est = self.est
        l2 = self.l2_for(train_rows, len(self.classes))
        defaults = self._mlp_params(l2)
        members = list(warm) if warm else []
        for seed in seeds if not warm else ():
            with _backend.seeded(seed):
                members.append(build_model(None, meta, self.routed["model"], {},
                                           dict(defaults, seed=seed)))
        self._check_memory(members[0].count_params(), len(members))
        first = first_layer_l2(meta, l2)
        with _backend.seeded(seeds[0]):
            model = _stacked.stack(members, est.activation, self.dropout, seeds[0],
                                   stacked_l2(l2, len(members)),
                                   stacked_l2(first, len(members)))
        return members, model

    def _train_stacked(self, X, Y, w, folds, warm_members, seeds):
        est, routed = self.est, self.routed
        if (not self.stacking or self.builder is not None or self.callbacks
                or routed["fit"].keys() - {"shuffle"}):
            return None
        from . import _compiled, _stacked

        if _compiled.loop_class() is None or routed["compile"]:
            return None
        from ._losses import positive_weights
        from ._fit import compile_model, learning_rate_of, make_optimizer, rows_per_batch

        pos_weight = positive_weights(self.class_weight, Y, self.classes, w)
        meta = est._meta(X, Y, self.classes, w, self.target, pos_weight)
        members, model = self.stacked_networks(
            meta, seeds, np.mean([len(train) for train, _ in folds]),
            [member for member, _ in warm_members] if warm_members else None)
        loss = self._loss(pos_weight, False, self.masked, members[0], Y, w)
        compile_model(model, make_optimizer(est.optimizer, learning_rate_of(est),
                                            routed["optimizer"]), loss, {})
        settling = settle(est.tol, est.n_iter_no_change, self.early_stopping)
        mask = np.zeros((X.shape[0], len(folds)), dtype=bool)
        for j, (train, _) in enumerate(folds):
            mask[train, j] = True
        if est.verbose:
            low, high = int(mask.sum(axis=0).min()), int(mask.sum(axis=0).max())
            print(f"Training {len(folds)} fold networks side by side, each on "
                  + (f"{low} rows" if low == high else f"{low} to {high} rows")
                  + (", stopping early on the rest "
                     + patience_note(est.n_iter_no_change) if self.early_stopping
                     else settle_note(settling) if settling else "")
                  + " (values are their mean):", flush=True)
        histories = _compiled.train_members(
            model, loss, X, Y, w, mask,
            epochs=self.epochs_for(X.shape[0], self.early_stopping),
            batch_size=rows_per_batch(est.batch_size, X.shape[0]),
            early_stopping=self.early_stopping, patience=est.n_iter_no_change,
            shuffle=routed["fit"].get("shuffle", True), verbose=est.verbose,
            seed=seeds[0], settle=settling,
        )
        if histories is None:
            return None
        _stacked.unstack(model, members)
        # Each member's plan is checked against the stacked network, which
        # holds every member's trained weights: one Keras call for all of
        # them, where each member's own would take one each. (The ensemble's
        # fused plan is checked against the members' own networks.)
        from .._keras._inference import model_outputs, probe_rows

        probe = probe_rows(X.shape[1], seeds[0])
        outputs = model_outputs(model, probe)  # (rows, members, labels)
        return [_checked(member, False, history, X[train], Y[train], w[train],
                         loss, seed, expected=(probe, outputs[:, j]))
                for j, (member, history, (train, _), seed)
                in enumerate(zip(members, histories, folds, seeds))]


def stacked_l2(l2, k):
    """The penalty of a stacked ensemble of ``k`` members penalised by ``l2``.

    Each stacked batch carries every row, and a member's loss leaves out its
    own fold's, about ``1 / k`` of them: its loss is ``(k - 1) / k`` of what
    it would be alone, and so is its penalty here, which keeps the two in the
    ratio a member trained alone has.
    """
    return l2 * (k - 1) / k


# The meta keys scikeras also sets as attributes of the estimator, which a
# _keras_build_fn hook reads as self.n_classes_, self.target_type_, ...
_SCIKERAS_ATTRIBUTES = ("n_features_in_", "target_type_", "n_classes_", "classes_",
                        "n_outputs_", "n_outputs_expected_", "X_dtype_", "y_dtype_",
                        "y_ndim_", "X_shape_")


@contextmanager
def _meta_as_attributes(est, builder, meta):
    """While a subclass's ``_keras_build_fn`` hook builds the network, its
    ``meta`` is readable as attributes of the estimator, as under scikeras;
    the estimator's own attributes are as before once it returns."""
    hook = getattr(builder, "__func__", None)
    if hook is None or getattr(builder, "__self__", None) is not est:
        yield
        return
    # (the estimator's own properties, n_classes_ among them, read these)
    names = [name for name in _SCIKERAS_ATTRIBUTES
             if not isinstance(getattr(type(est), name, None), property)]
    before = {name: vars(est)[name] for name in names if name in vars(est)}
    for name in names:
        setattr(est, name, meta[name])
    try:
        yield
    finally:
        for name in names:
            vars(est).pop(name, None)
        vars(est).update(before)


def _is_pair(model, target):
    """Whether ``model`` ends in a two-unit softmax over a binary target's
    classes (the output layout was checked when it was built)."""
    from .._keras._network import last_activation

    return target[0] == "binary" and last_activation(model) == "softmax"


def _one_positive_per_row(Y):
    """Whether every row of an indicator target has exactly one positive
    (and no unknown entry): a one-hot target, which a softmax can train on."""
    import scipy.sparse as sp

    if sp.issparse(Y):
        return bool((np.asarray(Y.sum(axis=1)).ravel() == 1).all()) and Y.max() <= 1
    Y = np.asarray(Y)
    return bool(((Y == 0) | (Y == 1)).all() and (Y.sum(axis=1) == 1).all())


def both_classes(Y):
    """A binary target's one column as the one-hot columns of both classes."""
    Y = np.asarray(Y.toarray() if hasattr(Y, "toarray") else Y, dtype=np.float32)
    return np.hstack([1.0 - Y, Y])


def _takes_compile_kwargs(builder):
    """Whether the model callable ``builder`` is given ``compile_kwargs``."""
    from .._routing import keyword_names

    if builder is None or hasattr(builder, "layers"):  # the default MLP, a template
        return False
    names = keyword_names(builder)
    return names is None or "compile_kwargs" in names


def _checked(model, from_probability, history, X, Y, w, loss, seed, pair=False,
             expected=None):
    """The :class:`Trained` network, once its history, weights and outputs on
    its training rows are checked (:mod:`sklearn_mlk._training._divergence`);
    ``expected``, where given, is what its plan is checked against (see
    :func:`~sklearn_mlk._keras._inference.dense_plan`)."""
    from ._divergence import check_history, check_outputs, check_weights, constant_loss
    from .._keras._inference import dense_plan
    from .._keras._network import forward

    check_history(history)
    check_weights(model)
    plan = dense_plan(model, X.shape[1], seed, expected) if X.ndim == 2 else None
    check_outputs(forward(model, X, plan=plan))
    return Trained(model, from_probability, history, plan,
                   constant_loss(Y, w, loss.pos_weight, loss.softmax), pair)


def plan_of(model, from_probability, input_shape):
    """The NumPy plan of a fitted network or ensemble (None if it has none:
    a network of other layers than ``Dense``, or N-D input)."""
    from .._keras._inference import dense_plan, fuse_plans

    if len(input_shape) != 1:
        return None
    n_features = input_shape[0]
    members = members_of((model, from_probability))
    if not members:
        return dense_plan(model, n_features)
    plans = [dense_plan(member, n_features) for member, _ in members]
    return None if any(p is None for p in plans) else fuse_plans(plans, model, n_features)


def members_of(warm):
    """The fold networks of a warm ensemble ``(model, from_probability)``,
    each as ``(model, from_probability)``: whether the member itself ends in
    probabilities (an ensemble of logit members outputs probabilities)."""
    import keras

    from .._keras._network import last_activation

    model, _ = warm
    members = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return [(member, last_activation(member) != "linear") for member in members]


def ensemble_of(nets, input_shape):
    """One :class:`Trained` network averaging the outputs of ``nets``.

    Its model is a Keras model whose output is the mean of the members'
    probabilities (:func:`sklearn_mlk._keras._network.average_model`); its
    plan is the members' plans fused into one (see
    :func:`sklearn_mlk._keras._inference.fuse_plans`), or None. The history holds
    each member's curves (``fold_<i>_loss``, ...) and their mean over the
    epochs every member trained (``loss``, ...).
    """
    from .._keras._inference import fuse_plans
    from .._keras._network import average_model, averages_probabilities

    from_probability = nets[0].from_probability
    model = average_model([net.model for net in nets], input_shape, from_probability)
    plan = None if len(input_shape) != 1 or any(net.plan is None for net in nets) \
        else fuse_plans([net.plan for net in nets], model, input_shape[0])
    return Trained(model, averages_probabilities(from_probability),
                   _merged_history(nets), plan,
                   float(np.mean([net.baseline for net in nets])), nets[0].pair)


def _merged_history(nets):
    """Each member's curves, and their mean over the epochs every member
    trained: past the first member to stop, a mean over the others would
    step by the stopped member's absence, not by training."""
    history = {}
    for key in nets[0].history:
        curves = [net.history[key] for net in nets]
        shortest = min(len(curve) for curve in curves)
        history[key] = np.mean([curve[:shortest] for curve in curves], axis=0).tolist()
    for i, net in enumerate(nets):
        for key, values in net.history.items():
            history[f"fold_{i}_{key}"] = list(values)
    return history
