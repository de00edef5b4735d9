"""Compiling and training a Keras model on an encoded multi-label problem."""

import scipy.sparse as sp

from . import _compiled
from .._keras._backend import get_keras, seeded, tensorflow_seeded
from .._keras._network import SparseBatches
from .._routing import check_arguments, constructor_names, keyword_names
from .._tuning import patience

keras = get_keras()  # the backend starts quietly, with its thread limits


# The learning rate of an optimizer given by name or class, where the
# estimator's learning_rate is None.
DEFAULT_LEARNING_RATE = 1e-3
# learning_rate="auto": Adam's rate for the default MLP. Chosen by leaving
# each shared set out in turn: among the variants no slower than the default
# on the other six, 3e-3 had the best mean macro-F1 rank for six of the seven
# held-out sets, within 0.001 of 1e-3's macro-F1 on each, its fits 0.55 to
# 1.07 times as long (benchmarks/loso.py, "within the default's fit time").
AUTO_LEARNING_RATE = 3e-3


# linear_path="auto" chooses by out-of-fold scores between the default MLP
# without and with a linear path from its input to its logits, where the
# labels outnumber the narrowest hidden layer's units (sklearn_mlk._choice).
# None of the seven shared sets has more labels than the default's 256 units,
# so they cannot choose this rule, and their leave-one-set-out tables are
# unchanged by it. benchmarks/many_labels.py measures it on generated sets of
# many labels: on tagged texts of a thousand labels over a few hundred words
# the 256 units are a bottleneck that the path removes; on the sparse tag set
# of ten thousand words and a thousand tags (benchmarks/first_layer.py) the
# path scored far below the network without it. Neither way wins alone,
# hence the choice, at the cost of two pilot networks on such sets only
# (benchmarks/pilot_choice.py compares it with fitting both kinds in full).


# alpha="auto" on a 1-D (binary or multiclass) target: LogisticRegression's
# default penalty (C=1 is alpha=1 in MLPClassifier's terms). Leaving each of
# the five sets of benchmarks/single_label.py out in turn, a penalty of 1 is
# chosen over none on the other four every time; which penalty (0.1, 1 or 3)
# those sets cannot tell apart out of sample, so its size is
# LogisticRegression's rather than one tuned to them. A multi-label target
# gets 0: there the penalty chosen without each shared set lost on genbase
# (docs/guide/thresholds.md).
AUTO_ALPHA = 1.0


# dropout="auto": the default MLP's dropout rate, by the rows of the fit.
# The seven shared sets train on at most 1,500 rows, where 0.5 is the rate
# chosen leaving each set out in turn (docs/guide/thresholds.md). On larger
# generated sets (benchmarks/large_data.py: digit images from 2,500 to
# 30,000 rows, and 12,000 rows of sparse text) 0.25 scored within noise of
# 0.5 or above it from 2,500 rows on, and its networks stop in fewer epochs.
AUTO_DROPOUT = 0.5
LARGE_DROPOUT = 0.25
LARGE_DROPOUT_ROWS = 5_000


def dropout_of(est, n_rows):
    """The dropout rate of ``est``'s default MLP in a fit on ``n_rows`` rows:
    ``dropout="auto"`` is :data:`AUTO_DROPOUT` below
    :data:`LARGE_DROPOUT_ROWS` rows (and where the rows are not known in
    advance, as in ``partial_fit``: ``n_rows=0``), :data:`LARGE_DROPOUT`
    from there."""
    if not isinstance(est.dropout, str):  # "auto" is its one string
        return float(est.dropout)
    return AUTO_DROPOUT if n_rows < LARGE_DROPOUT_ROWS else LARGE_DROPOUT


def linear_path_of(est, hidden):
    """Whether ``est``'s default MLP of hidden layers ``hidden`` has a linear
    path from its input to its logits: ``linear_path`` itself, where the
    network has a hidden layer. ``"auto"`` is no path here: the estimator
    chooses, where it does, by fitting with ``True`` and ``False``
    (:func:`sklearn_mlk._choice.chooses_linear_path`)."""
    return bool(hidden) and not isinstance(est.linear_path, str) and bool(est.linear_path)


def alpha_of(est, kind):
    """The L2 penalty (MLPClassifier's ``alpha``) of ``est``'s default MLP on
    a target of scikit-learn type ``kind``: ``alpha="auto"`` is
    :data:`AUTO_ALPHA` for a 1-D target, 0 for a multi-label one and for a
    model callable's network."""
    if not isinstance(est.alpha, str):  # "auto" is its one string
        return float(est.alpha)
    single = kind in ("binary", "multiclass")
    return AUTO_ALPHA if single and est.model is None else 0.0


def learning_rate_of(est):
    """The learning rate ``make_optimizer`` gets for ``est``'s networks:
    ``learning_rate="auto"`` is :data:`AUTO_LEARNING_RATE` for the default
    MLP trained with Adam named by string or class, and None (the optimizer's
    own default, see :func:`make_optimizer`) for anything else."""
    if not isinstance(est.learning_rate, str):  # "auto" is its one string
        return est.learning_rate
    optimizer = est.optimizer
    adam = ((isinstance(optimizer, str) and optimizer.lower() == "adam")
            or (isinstance(optimizer, type) and optimizer is keras.optimizers.Adam))
    return AUTO_LEARNING_RATE if est.model is None and adam else None


def make_optimizer(optimizer, learning_rate, optimizer_params):
    """A fresh optimizer: from a name, a class, or a copy of an instance.

    Routed ``optimizer__`` names are checked against the optimizer class's
    constructor first, so that a typo fails with a suggestion.
    """
    if optimizer_params:
        cls = _optimizer_class(optimizer)
        check_arguments(optimizer_params, "optimizer", constructor_names(cls),
                        cls.__name__)
    # optimizer__learning_rate, as scikeras users write it, wins over
    # learning_rate; None keeps an instance's own rate.
    instance = not isinstance(optimizer, (str, type))
    params = dict(optimizer_params)
    if learning_rate is not None or not instance:
        params.setdefault("learning_rate",
                          DEFAULT_LEARNING_RATE if learning_rate is None else learning_rate)
    if isinstance(optimizer, str):
        try:
            return keras.optimizers.get({"class_name": optimizer, "config": params})
        except (ValueError, TypeError) as exc:
            raise ValueError(f"Could not build optimizer {optimizer!r}: {exc}") from None
    if isinstance(optimizer, type):
        return optimizer(**params)
    config = dict(optimizer.get_config(), **params)
    return type(optimizer).from_config(config)


def callback_list(callbacks, params):
    """The estimator's ``callbacks`` as a list of instances, or None: one
    callback or a list, instances or classes (as scikeras takes them), the
    classes built by :func:`built_from_route` with the ``callbacks__``
    parameters."""
    out = built_from_route(callbacks, params, "callbacks")
    for item in out or ():
        if not isinstance(item, keras.callbacks.Callback):
            raise TypeError(f"callbacks must hold keras.callbacks.Callback instances or "
                            f"classes, got {item!r}.")
    return out


def _optimizer_class(optimizer):
    if isinstance(optimizer, type):
        return optimizer
    if isinstance(optimizer, str):
        try:
            return type(keras.optimizers.get(optimizer))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"Could not build optimizer {optimizer!r}: {exc}") from None
    return type(optimizer)


def compile_model(model, optimizer, loss, compile_params, metric_params=None):
    """Compile with the loss described by ``loss`` (a :class:`LossSpec`); metric
    classes among ``compile_params["metrics"]`` are built afresh for this
    network with the ``metrics__`` parameters (``metric_params``)."""
    check_arguments(compile_params, "compile", keyword_names(type(model).compile),
                    "Model.compile")
    compile_params = dict(compile_params)
    if "metrics" in compile_params or metric_params:
        compile_params["metrics"] = metric_list(compile_params.get("metrics"),
                                                metric_params or {})
    model.compile(optimizer=optimizer, loss=loss.make(), **compile_params)


def metric_list(metrics, params):
    """``metrics`` as a list (Keras's compile takes a list, also of one), its
    classes built by :func:`built_from_route` with the ``metrics__``
    parameters; names and instances pass as they are."""
    return built_from_route(metrics, params, "metrics")


def built_from_route(objects, params, route):
    """``objects`` (one, or a list or tuple) as a list, or None, with each
    class among them built as scikeras builds them: with the ``<route>__<name>``
    parameters, and the ``i``-th of a list with its ``<route>__<i>__<name>``
    ones too, each checked against the class's constructor. A parameter that
    configures no class is an error naming it."""
    if objects is None:
        if params:
            raise ValueError(f"{route}__ parameters {sorted(params)} configure a class "
                             f"given as {route}, but {route} is None.")
        return None
    items = list(objects) if isinstance(objects, (list, tuple)) else [objects]
    shared, indexed = {}, {}
    for key, value in params.items():
        head, sep, rest = key.partition("__")
        if sep and head.isdigit():
            indexed.setdefault(int(head), {})[rest] = value
        else:
            shared[key] = value
    beyond = sorted(i for i in indexed if i >= len(items))
    if beyond:
        raise ValueError(f"{route}__{beyond[0]}__... configures item {beyond[0]}, but "
                         f"{route} holds {len(items)}.")
    if shared and not any(isinstance(item, type) for item in items):
        raise ValueError(f"{route}__ parameters {sorted(shared)} configure a class, but "
                         f"{route} holds no class (instances only).")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, type):
            arguments = {**shared, **indexed.get(i, {})}
            check_arguments(arguments, route, constructor_names(item), item.__name__)
            item = item(**arguments)
        elif i in indexed:
            raise ValueError(f"{route}__{i}__ parameters configure a class, but "
                             f"{route}[{i}] is {item!r}.")
        out.append(item)
    return out


def rows_per_batch(batch_size, n_rows):
    """The batch size for ``n_rows`` rows: at most their number, and all of
    them for ``batch_size=-1`` (scikeras's spelling)."""
    return n_rows if batch_size == -1 else min(batch_size, n_rows)


class BestEpochPatience(keras.callbacks.EarlyStopping):
    """Keras's early stopping on the validation loss, keeping the best
    epoch's weights, whose patience is ``n_iter_no_change="auto"``'s: the
    best epoch so far, clipped (:func:`sklearn_mlk._tuning.patience`), as
    the compiled loop stops."""

    def __init__(self):
        super().__init__(monitor="val_loss", restore_best_weights=True)

    def on_epoch_end(self, epoch, logs=None):
        # Set before Keras compares the wait with it; an improving epoch
        # restarts the wait whatever the patience.
        self.patience = patience("auto", self.best_epoch + 1)
        super().on_epoch_end(epoch, logs)


def early_stopping(n_iter_no_change):
    """The early-stopping callback of ``Model.fit`` for ``n_iter_no_change``."""
    if n_iter_no_change == "auto":
        return BestEpochPatience()
    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=n_iter_no_change,
                                         restore_best_weights=True)


def _dense(Y):
    return Y.toarray() if sp.issparse(Y) else Y


def train(model, X, Y, w, *, loss, epochs, batch_size, validation, n_iter_no_change,
          callbacks, verbose, seed, fit_params, compile_params, compiled=True,
          settle=None):
    """Train a compiled model; return the per-epoch history as a dict of lists.

    Plain networks train through the compiled loop of
    :mod:`sklearn_mlk._training._compiled`; with callbacks, routed fit or compile
    parameters, a subclassed model or a backend other than TensorFlow, through
    ``Model.fit``, which gets sparse X from :class:`SparseBatches` one
    densified batch at a time and dense X as arrays; ``compiled=False`` always
    takes ``Model.fit``, whose optimizer keeps its state from one call to the
    next (the compiled loop starts each fit afresh). Given ``validation`` rows
    ``(X, Y, w)``, training stops early on their loss and keeps the best
    epoch's weights; without them, ``settle`` (``(min_delta, patience)``)
    stops it once the training loss settles.
    """
    check_arguments(fit_params, "fit", keyword_names(type(model).fit), "Model.fit")
    batch_size = rows_per_batch(batch_size, X.shape[0])
    if compiled and _compiled.applies(model, callbacks, fit_params, compile_params):
        history = _compiled.train(
            model, loss, X, Y, w,
            epochs=epochs, batch_size=batch_size, validation=validation,
            patience=n_iter_no_change, shuffle=fit_params.get("shuffle", True),
            verbose=verbose, seed=seed, settle=settle,
        )
        if history is not None:
            return history
    sparse = sp.issparse(X)
    # A NaN or infinite loss ends training; the caller reports it.
    callbacks = [*(callbacks or ()), keras.callbacks.TerminateOnNaN()]
    fit_params = dict(fit_params)
    shuffle = fit_params.pop("shuffle", True)
    if validation is not None:
        X_val, Y_val, w_val = validation
        fit_params["validation_data"] = (
            SparseBatches(X_val, Y_val, w_val, batch_size, seed, shuffle=False)
            if sparse else (X_val, _dense(Y_val), w_val)
        )
        callbacks.append(early_stopping(n_iter_no_change))
    elif settle is not None:
        min_delta, idle_epochs = settle
        callbacks.append(keras.callbacks.EarlyStopping(monitor="loss", min_delta=min_delta,
                                                       patience=idle_epochs))
    if sparse:
        data = {"x": SparseBatches(X, Y, w, batch_size, seed, shuffle)}
    else:
        data = {"x": X, "y": _dense(Y), "sample_weight": w,
                "batch_size": batch_size, "shuffle": shuffle}
    # Model.fit shuffles with process-wide generators.
    with seeded(seed), tensorflow_seeded(seed):
        history = model.fit(
            **data,
            epochs=epochs,
            callbacks=callbacks,
            verbose=min(int(verbose), 2),
            **fit_params,
        )
    return {key: [float(v) for v in values] for key, values in history.history.items()}
