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
:class:`Loop`'s hooks: :mod:`sklearn_mlk._loop_tensorflow` (a ``tf.function``,
batches of very sparse X kept sparse), :mod:`sklearn_mlk._loop_jax`
(``jax.jit``, one compiled step whatever the number of rows) and
:mod:`sklearn_mlk._loop_torch` (eager steps with a multi-tensor Adam: PyTorch
has nothing to trace). Sparse X that is not kept sparse is densified, whole
where it is small.

The fold networks of a default ensemble train here side by side as one
stacked network (:func:`train_members`, :mod:`sklearn_mlk._stacked`): one
weight per row and member masks each member's tuning fold out of its loss,
and early stopping keeps each member's own best epoch.

Everything else (callbacks, routed fit or compile parameters, subclassed
models, other backends) trains through ``Model.fit``.
"""

import collections
import json
import threading

import numpy as np
import scipy.sparse as sp

from ._backend import get_keras, seeded
from ._network import DENSE_BLOCK_VALUES

# How many compiled copies are kept, most recently used first, and the
# largest network (in weight values) that gets one.
_CACHE_SIZE = 4
_CACHE_MAX_VALUES = 2**22
# Rows per forward pass when the validation loss is computed.
_EVAL_ROWS = 4096
# Sparse X reaches a network that can read it sparse (Loop.sparse_input) only
# where that pays (benchmarks/sparse_batches.py). TensorFlow's CPU sparse-dense
# product does far fewer multiply-adds per second than its dense one, and a
# sparse batch is a Python-level step of its own where dense X trains in one
# compiled epoch. Sparse batches won only with few non-zeros (0.1%, not 0.3%,
# of 10,000 features) and only where a dense product is dear, at a first
# layer of millions of weights (never at 1000 features x 256 units); on enron
# (8.6% non-zeros) a default fit took 4 to 5 times as long sparse.
SPARSE_BATCH_DENSITY = 0.002
SPARSE_READER_WEIGHTS = 1_000_000

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
          shuffle, verbose, seed):
    """Train ``model`` (compiled with ``loss``) in place; return its history.

    Returns None, having changed nothing, when the network cannot be
    described or copied by its config; the caller then trains it through
    ``Model.fit``.

    Early stopping follows ``keras.callbacks.EarlyStopping`` with
    ``restore_best_weights=True``: given ``validation`` rows ``(X, Y, w)``,
    training stops once their loss has not improved for ``patience`` epochs,
    and the weights of the epoch with the lowest loss are kept.
    """
    return _with_loop(model, loss, lambda loop: loop.run(
        model, loss, X, Y, w, epochs=epochs, batch_size=batch_size,
        validation=validation, patience=patience, shuffle=shuffle,
        verbose=verbose, seed=seed))


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
        # and its fit outlasts the tracing many times over.
        loop = loop_class()(model, model.optimizer, loss, private=False)
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


class _Progress:
    """Keras's progress bar over epochs (``verbose=1``), or one line per
    epoch as ``Model.fit`` prints with ``verbose=2``; nothing at 0. Values
    of several members are their mean."""

    def __init__(self, epochs, verbose):
        self.epochs, self.verbose = epochs, int(verbose)
        self.bar = None
        if self.verbose == 1:
            self.bar = get_keras().utils.Progbar(
                epochs, stateful_metrics=["loss", "val_loss"], unit_name="epoch")

    def update(self, epoch, values, last):
        if self.bar is not None:
            self.bar.update(epoch + 1, values=values,
                            finalize=last or epoch + 1 == self.epochs)
        elif self.verbose:
            print(f"Epoch {epoch + 1}/{self.epochs} - "
                  + " - ".join(f"{k}: {v:.4f}" for k, v in values), flush=True)


class Members:
    """The members of a stacked ensemble (:mod:`sklearn_mlk._stacked`): rows
    each trains and validates on, and which slice of each variable it owns."""

    def __init__(self, mask, parts):
        self.train_rows = mask.sum(axis=0)
        self.val_rows = mask.shape[0] - self.train_rows
        self.parts = parts

    def slices(self, values, j):
        from ._stacked import take

        return [None if part is None else take(value, part, j).copy()
                for value, part in zip(values, self.parts)]

    def put(self, values, j, weights):
        from ._stacked import take

        for value, part, weight in zip(values, self.parts, weights):
            if part is not None:
                take(value, part, j)[...] = weight


def train_members(model, loss, X, Y, w, mask, *, epochs, batch_size, early_stopping,
                  patience, shuffle, verbose, seed):
    """Train a stacked ensemble ``model`` in place; return one history per member.

    ``mask[i, j]`` is True where row ``i`` trains member ``j``; with
    ``early_stopping`` the other rows are member ``j``'s validation rows, and
    each member keeps the weights of its own best epoch. Returns None, having
    changed nothing, when the compiled loop cannot train ``model``.
    """
    from ._stacked import member_parts

    w = np.asarray(w, dtype=np.float32)[:, None]
    validation = (X, Y, w * ~mask) if early_stopping else None
    members = Members(mask, member_parts(model))
    return _with_loop(model, loss, lambda loop: loop.run(
        model, loss, X, Y, w * mask, epochs=epochs, batch_size=batch_size,
        validation=validation, patience=patience, shuffle=shuffle, verbose=verbose,
        seed=seed, members=members))


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
    and seed states are copied in)."""
    if isinstance(config, dict):
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


def _compact(array):
    """A constant array as one value of its dtype, any other as it is."""
    if array.size > 1 and (array == array.flat[0]).all():
        return array.dtype.type(array.flat[0])
    return array


def _dense(block):
    block = block.toarray() if sp.issparse(block) else block
    return np.asarray(block, dtype=np.float32)


def _dense_if_small(X):
    """Sparse X densified where the dense copy holds at most
    ``DENSE_BLOCK_VALUES``, else as it is."""
    return _dense(X) if X.shape[0] * X.shape[1] <= DENSE_BLOCK_VALUES else X


def _canonical_csr(X):
    """X as CSR with sorted, unique indices; the caller's matrix is not modified."""
    X = X.tocsr()
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


class Loop:
    """The Python side of a compiled loop: epochs, early stopping, histories.

    A backend's loop (``loop_class(model, optimizer, loss, private=True)``)
    compiles the epoch and implements the hooks below; ``members`` is the
    number of members of a stacked ensemble (0 for one network),
    ``sparse_input`` whether the network can read sparse batches undensified,
    ``sparse_reader_weights`` the weights of the layer that would read them,
    ``sparse_batches`` whether they do in the current fit (see
    ``SPARSE_BATCH_DENSITY``), ``n_features`` the width of its input.
    """

    members = 0
    sparse_input = False
    sparse_reader_weights = 0
    sparse_batches = False
    n_features = 0

    # Hooks ----------------------------------------------------------------

    def begin(self, model, loss):
        """Start a fit of ``model``: its weights, a fresh optimizer state and
        the loss's positive weights."""
        raise NotImplementedError

    def prepare(self, X, Y, w):
        """The training rows (X dense or canonical CSR, Y and w float32 arrays)
        in the form :meth:`epoch` takes."""
        raise NotImplementedError

    def epoch(self, data, order, batch_size):
        """Train one epoch over the rows in ``order``; return the mean
        training loss per row (one per member)."""
        raise NotImplementedError

    def evaluate(self, X, Y, w):
        """(Weighted loss summed over the rows, one per member; the layers'
        own losses) of a block of validation rows."""
        raise NotImplementedError

    def values(self):
        """The current weights, as arrays in the order of ``model.variables``."""
        raise NotImplementedError

    def assign(self, values):
        """Set the current weights from :meth:`values`' arrays."""
        raise NotImplementedError

    def end(self, model):
        """Copy the trained weights into ``model``."""
        raise NotImplementedError

    # Shared ---------------------------------------------------------------

    def describe(self, model, loss):
        """Keep what the compiled functions need to know of ``model`` and
        ``loss``: the loss's options, the members and the input width."""
        self._from_logits = loss.from_logits
        self._focal_gamma = loss.focal_gamma
        self._masked = loss.masked
        self._label_smoothing = loss.label_smoothing
        # A stacked ensemble (sklearn_mlk._stacked) outputs (batch, k, labels).
        output_shape = model.outputs[0].shape
        self.members = output_shape[1] if len(output_shape) == 3 else 0
        self.n_features = int(np.prod(model.inputs[0].shape[1:]))

    @staticmethod
    def network(model, private):
        """The network the loop trains: a private copy of ``model`` (its
        weights are copied in at each fit), or ``model`` itself."""
        if not private:
            return model
        # from_config rather than clone_model, which would also compile the
        # copy and fail to deserialise the loss. The copy's own initial
        # weights are never used; seeding keeps its draws from touching the
        # process-wide generators.
        with seeded(0):
            return type(model).from_config(model.get_config())

    def run(self, model, loss, X, Y, w, *, epochs, batch_size, validation, patience,
            shuffle, verbose, seed, members=None):
        """Train; return the history, or one history per member of a stacked
        ensemble (``members``: its :class:`Members`)."""
        self.begin(model, loss)
        rng = np.random.default_rng(seed)
        n = X.shape[0]
        X = self._batches_of(X)
        Y = _dense(Y)
        w = np.asarray(w, dtype=np.float32)
        data = self.prepare(X, Y, w)
        k = self.members or 1
        train_rows = np.full(k, n) if members is None else members.train_rows
        histories = [{"loss": []} for _ in range(k)]
        # Epochs each member trained before early stopping ended it.
        ran = np.full(k, epochs)
        if validation is not None:
            val_rows = (np.full(k, validation[0].shape[0]) if members is None
                        else members.val_rows)
            validation = self._validation_blocks(*validation)
            for history in histories:
                history["val_loss"] = []
            best, wait = np.full(k, np.inf), np.zeros(k, dtype=int)
            best_weights = [None] * k
        progress = _Progress(epochs, verbose)
        for epoch in range(epochs):
            order = rng.permutation(n) if shuffle else np.arange(n)
            mean = self.epoch(data, order, batch_size)
            losses = np.atleast_1d(mean) * n / train_rows
            live = np.flatnonzero(ran > epoch)
            for j in live:
                histories[j]["loss"].append(float(losses[j]))
            shown = [("loss", float(np.mean(losses[live])))]
            # A NaN or infinite loss ends training, as keras.callbacks.
            # TerminateOnNaN does; the caller reports it.
            stop = not np.isfinite(losses).all()
            if validation is not None:
                val_losses = self._validation_loss(validation, val_rows)
                shown.append(("val_loss", float(np.mean(val_losses[live]))))
                improved = [j for j in live if val_losses[j] < best[j]]
                values = self.values() if improved else None
                for j in live:
                    histories[j]["val_loss"].append(float(val_losses[j]))
                    wait[j] += 1
                    if j in improved:
                        best[j], wait[j] = val_losses[j], 0
                        best_weights[j] = (values if members is None
                                           else members.slices(values, j))
                    if wait[j] >= patience and epoch > 0:
                        ran[j] = epoch + 1
                stop = stop or (ran <= epoch + 1).all()
            progress.update(epoch, shown, last=stop)
            if stop:
                break
        if validation is not None:
            self._restore(best_weights, members)
        self.end(model)
        return histories[0] if members is None else histories

    def _batches_of(self, X):
        """The training X in the form its batches are drawn from; sets
        ``sparse_batches``.

        Sparse X stays sparse (canonical CSR) where the network reads it so
        and that pays (``SPARSE_BATCH_DENSITY``, ``SPARSE_READER_WEIGHTS``);
        otherwise its batches are densified, all at once where the dense X
        holds at most ``DENSE_BLOCK_VALUES``.
        """
        self.sparse_batches = False
        if not sp.issparse(X):
            return X
        X = _canonical_csr(X)
        size = X.shape[0] * X.shape[1]
        self.sparse_batches = bool(
            self.sparse_input and X.nnz < SPARSE_BATCH_DENSITY * size
            and self.sparse_reader_weights >= SPARSE_READER_WEIGHTS)
        return X if self.sparse_batches else _dense_if_small(X)

    def _restore(self, best_weights, members):
        """Set each member's weights (or the network's) to its best epoch's."""
        if members is None:
            if best_weights[0] is not None:
                self.assign(best_weights[0])
            return
        values = self.values()
        for j, weights in enumerate(best_weights):
            if weights is not None:
                members.put(values, j, weights)
        self.assign(values)

    def _validation_blocks(self, X, Y, w):
        """The validation rows prepared once, for every epoch's loss: X as the
        training batches take it (sparse, or densified once where small
        enough), Y dense, and the rows per block."""
        rows = _EVAL_ROWS
        if sp.issparse(X):
            X = _canonical_csr(X)
            X = X if self.sparse_batches else _dense_if_small(X)
        if sp.issparse(X) and not self.sparse_batches:  # densified block by block
            rows = max(1, min(rows, DENSE_BLOCK_VALUES // self.n_features))
        return X, _dense(Y), np.asarray(w, dtype=np.float32), rows

    def _validation_loss(self, validation, counts):
        """The validation loss, one value per member (``counts`` rows each)."""
        X, Y, w, rows = validation
        total, extra = 0.0, 0.0
        for start in range(0, X.shape[0], rows):
            part = slice(start, start + rows)
            block_total, extra = self.evaluate(X[part], Y[part], w[part])
            total = total + block_total
        return total / counts + extra
