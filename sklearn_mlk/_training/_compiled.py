"""A training loop reused across fits, compiled where the backend compiles.

``Model.fit`` spends tens of milliseconds per epoch in its data adapter and
callbacks, and every new model traces a new training function, so a process
that fits many networks (a grid search, cross-validation, threshold folds)
pays the tracing again and again and its memory grows fit after fit
(tensorflow/tensorflow#61791, keras-team/keras#17458).

For a network that trains with Keras's standard step, this module runs each
epoch as one call of a compiled function. The function is compiled once per
architecture, optimizer configuration and loss (and per thread), on a private
copy of the network: a fit copies its freshly initialised weights into the
copy, trains there, and copies the trained weights back. Repeated fits of one
configuration neither recompile nor allocate new graphs. The few most recently
used copies are kept; :func:`clear` releases them. A network too large to be
worth a copy (over ``_CACHE_MAX_VALUES`` weights) trains in place with a loop
of its own, compiled for that fit only.

The epochs, early stopping and histories are :class:`Loop`'s, shared by every
backend; each backend runs the epoch in a module of its own behind
:class:`Loop`'s hooks: :mod:`sklearn_mlk._training._loop_tensorflow` (a ``tf.function``,
batches of very sparse X kept sparse), :mod:`sklearn_mlk._training._loop_jax`
(``jax.jit``, one compiled step whatever the number of rows) and
:mod:`sklearn_mlk._training._loop_torch` (eager steps with a multi-tensor Adam: PyTorch
has nothing to trace). Sparse X that is not kept sparse is densified, whole
where it is small.

The fold networks of a default ensemble train here side by side as one
stacked network (:func:`train_members`, :mod:`sklearn_mlk._training._stacked`): one
weight per row and member masks each member's tuning fold out of its loss,
and early stopping keeps each member's own best epoch.

Everything else (callbacks, routed fit or compile parameters, subclassed
models, other backends) trains through ``Model.fit``.
"""

import collections
import json
import threading

import numpy as np

from .._keras._backend import get_keras
from ._loop import Members, is_l2_kernel, l2_layers, member_parts, stacked_members

# How many compiled copies are kept, most recently used first, and the
# largest network (in weight values) that gets one.
_CACHE_SIZE = 4
_CACHE_MAX_VALUES = 2**22
_cache = collections.OrderedDict()
_unbuildable = set()
_lock = threading.Lock()


def clear():
    """Release every cached copy and its compiled functions."""
    with _lock:
        _cache.clear()
        _unbuildable.clear()


def applies(model, callbacks, fit_params, compile_params):
    """Whether ``model`` can train through the compiled loop."""
    if loop_class() is None:
        return False
    if callbacks or compile_params or set(fit_params) - {"shuffle"}:
        return False
    # Keras's own Functional and Sequential classes train with the standard
    # step; a subclass may override train_step, compute_loss or call.
    if not type(model).__module__.startswith("keras."):
        return False
    return len(getattr(model, "inputs", None) or ()) == 1 and len(model.outputs) == 1


def train(model, loss, X, Y, w, *, epochs, batch_size, validation, patience,
          shuffle, verbose, seed, settle=None):
    """Train ``model`` (compiled with ``loss``) in place; return its history.

    Returns None, having changed nothing, when the network cannot be
    described or copied by its config; the caller then trains it through
    ``Model.fit``.

    Early stopping follows ``keras.callbacks.EarlyStopping`` with
    ``restore_best_weights=True``: given ``validation`` rows ``(X, Y, w)``,
    training stops once their loss has not improved for ``patience`` epochs
    (``"auto"``: see :func:`sklearn_mlk._tuning.patience`), and the weights
    of the epoch with the lowest loss are kept. Without them, ``settle``
    stops it once its training loss settles (:meth:`Loop.run_epochs`).
    """
    return _with_loop(model, loss, lambda loop: loop.run(
        model, loss, X, Y, w, epochs=epochs, batch_size=batch_size,
        validation=validation, patience=patience, shuffle=shuffle,
        verbose=verbose, seed=seed, settle=settle))


def loop_class():
    """The loop class of the Keras backend in use, or None where there is none."""
    backend = get_keras().backend.backend()
    if backend == "tensorflow":
        from ._loop_tensorflow import TensorFlowLoop

        return TensorFlowLoop
    if backend == "jax":
        from ._loop_jax import JaxLoop

        return JaxLoop
    if backend == "torch":
        from ._loop_torch import TorchLoop

        return TorchLoop
    return None


def _with_loop(model, loss, run):
    """``run(loop)`` with the cached loop for ``model``, or None if it has none."""
    if sum(int(np.prod(v.shape)) for v in model.variables) > _CACHE_MAX_VALUES:
        # A large network trains in place: a copy would double its memory,
        # and its fit outlasts the tracing many times over. A stacked
        # ensemble with L2 penalties trains a copy all the same (not kept):
        # in place, Keras's regularizers would give every member the penalty
        # of all, where the loop gives each its own.
        loop = loop_class()(model, model.optimizer, loss,
                            private=bool(stacked_members(model) and l2_layers(model)))
        try:
            return run(loop)
        finally:
            # The compiled functions refer back to the loop; break the cycle
            # so that the optimizer state is freed now, not at the next
            # garbage collection.
            loop.__dict__.clear()
    key = _key(model, model.optimizer, loss)
    if key is None:
        return None
    with _lock:
        loop = _cache.pop(key, None)
    if loop is None:
        if key in _unbuildable:
            return None
        try:
            loop = loop_class()(model, model.optimizer, loss)
        except (TypeError, ValueError, NotImplementedError, AttributeError, KeyError):
            # A layer, activation or other object that cannot be rebuilt from
            # its config (unregistered custom code): Model.fit trains it.
            with _lock:
                _unbuildable.add(key)
            return None
    try:
        return run(loop)
    finally:
        with _lock:
            _cache[key] = loop
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)


def train_members(model, loss, X, Y, w, mask, *, epochs, batch_size, early_stopping,
                  patience, shuffle, verbose, seed, settle=None):
    """Train a stacked ensemble ``model`` in place; return one history per member.

    ``mask[i, j]`` is True where row ``i`` trains member ``j``; with
    ``early_stopping`` the other rows are member ``j``'s validation rows, and
    each member keeps the weights of its own best epoch; without it,
    ``settle`` ends training once every member's training loss settles.
    Returns None, having
    changed nothing, when the compiled loop cannot train ``model``.
    """
    w = np.asarray(w, dtype=np.float32)[:, None]
    validation = (X, Y, w * ~mask) if early_stopping else None
    members = Members(mask, member_parts(model))
    return _with_loop(model, loss, lambda loop: loop.run(
        model, loss, X, Y, w * mask, epochs=epochs, batch_size=batch_size,
        validation=validation, patience=patience, shuffle=shuffle, verbose=verbose,
        seed=seed, members=members, settle=settle))


def _key(model, optimizer, loss):
    """What a compiled copy depends on, or None if it cannot be described."""
    try:
        architecture = model.get_config()
        optimizer_config = dict(optimizer.get_config(), name=None)
    except (NotImplementedError, TypeError, AttributeError):
        return None
    # Layer names (input layers included, which a Sequential does not list)
    # differ from model to model: each becomes its order of appearance.
    names = {}
    _collect_names(architecture, names)
    names[model.name] = "#model"
    return (
        threading.get_ident(),
        _dumps(_canonical(architecture, names)),
        tuple(type(layer) for layer in model.layers),
        tuple((tuple(v.shape), str(v.dtype)) for v in model.variables),
        type(optimizer),
        _dumps(optimizer_config),
        # The positive weights are a variable of the loop, set at each fit.
        loss.from_logits,
        loss.focal_gamma,
        loss.masked,
        loss.label_smoothing,
        loss.softmax,
    )


def _collect_names(config, names):
    if isinstance(config, dict):
        name = config.get("name")
        if isinstance(name, str) and name not in names:
            names[name] = f"#{len(names)}"
        for value in config.values():
            _collect_names(value, names)
    elif isinstance(config, (list, tuple)):
        for value in config:
            _collect_names(value, names)


# Layers whose seed only sets their SeedGenerator's state, a variable that is
# copied in with the weights: the compiled functions do not depend on it.
_SEEDED_BY_STATE = {"Dropout", "SpatialDropout1D", "SpatialDropout2D",
                    "SpatialDropout3D", "GaussianDropout", "GaussianNoise",
                    "AlphaDropout"}


def _canonical(config, names):
    """The config without layer names, initialisers and dropout seeds (weights
    and seed states are copied in), nor L2 kernel penalties' strengths (the
    loop takes them at each fit)."""
    if isinstance(config, dict):
        config = {k: "L2" if is_l2_kernel(k, v) else v for k, v in config.items()}
        seeded_by_state = (config.get("module") == "keras.layers"
                           and config.get("class_name") in _SEEDED_BY_STATE)
        return {k: (_canonical(v, names) if not (seeded_by_state and k == "config")
                    else {kk: _canonical(vv, names) for kk, vv in v.items()
                          if kk != "seed"})
                for k, v in config.items() if not k.endswith("_initializer")}
    if isinstance(config, (list, tuple)):
        return [_canonical(v, names) for v in config]
    if isinstance(config, str):
        return names.get(config, config)
    return config


def _dumps(config):
    return json.dumps(config, sort_keys=True, default=repr)


