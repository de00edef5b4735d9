"""A compiled training loop reused across fits (TensorFlow backend).

``Model.fit`` spends tens of milliseconds per epoch in its data adapter and
callbacks, and every new model traces a new training function, so a process
that fits many networks (a grid search, cross-validation, threshold folds)
pays the tracing again and again and its memory grows fit after fit
(tensorflow/tensorflow#61791, keras-team/keras#17458).

For a network that trains with Keras's standard step, this module runs each
epoch as one call of a compiled TensorFlow function. The function is traced
once per architecture, optimizer configuration and loss (and per thread), on a
private copy of the network: a fit copies its freshly initialised weights into
the copy, trains there, and copies the trained weights back. Repeated fits of
one configuration neither retrace nor allocate new graphs. The few most
recently used copies are kept; :func:`clear` releases them. A network too
large to be worth a copy (over ``_CACHE_MAX_VALUES`` weights) trains in place
with a loop of its own, traced for that fit only.

With a plain Adam (the default optimizer) the loop applies TensorFlow's
fused Adam kernel to each weight tensor (:mod:`sklearn_mlk._fused_adam`):
the same update as Keras's, in one pass over the weights instead of about
ten, and without a temporary of each tensor's size per operation.

Sparse X stays sparse where one ``Dense`` layer alone reads the input (the
default MLP): that layer is applied with ``tf.sparse.sparse_dense_matmul``,
which multiplies only the non-zeros, forward and backward.

The fold networks of a default ensemble train here side by side as one
stacked network (:func:`train_members`, :mod:`sklearn_mlk._stacked`): one
weight per row and member masks each member's tuning fold out of its loss,
and early stopping keeps each member's own best epoch.

Everything else (other backends, callbacks, routed fit or compile parameters,
subclassed models) trains through ``Model.fit``.
"""

import collections
import json
import threading

import numpy as np
import scipy.sparse as sp

from ._backend import get_keras, seeded
from ._fused_adam import FusedAdam, fusable
from ._losses import weighted_binary_crossentropy
from ._network import DENSE_BLOCK_VALUES

# How many compiled copies are kept, most recently used first, and the
# largest network (in weight values) that gets one.
_CACHE_SIZE = 4
_CACHE_MAX_VALUES = 2**22
# Rows per forward pass when the validation loss is computed.
_EVAL_ROWS = 4096

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
    keras = get_keras()
    if keras.backend.backend() != "tensorflow":
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


def _with_loop(model, loss, run):
    """``run(loop)`` with the cached loop for ``model``, or None if it has none."""
    if sum(int(np.prod(v.shape)) for v in model.variables) > _CACHE_MAX_VALUES:
        # A large network trains in place: a copy would double its memory,
        # and its fit outlasts the tracing many times over.
        loop = _Loop(model, model.optimizer, loss, private=False)
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
            loop = _Loop(model, model.optimizer, loss)
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


def _canonical(config, names):
    """The config without layer names and initialisers (weights are copied in)."""
    if isinstance(config, dict):
        return {k: _canonical(v, names) for k, v in config.items()
                if not k.endswith("_initializer")}
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


def _sparse_tensor(block):
    """A CSR block (canonical format) as a float32 ``tf.SparseTensor``."""
    import tensorflow as tf

    rows = np.repeat(np.arange(block.shape[0], dtype=np.int64), np.diff(block.indptr))
    indices = np.column_stack([rows, block.indices.astype(np.int64)])
    return tf.SparseTensor(indices, block.data.astype(np.float32, copy=False),
                           block.shape)


def _canonical_csr(X):
    """X as CSR with sorted, unique indices; the caller's matrix is not modified."""
    X = X.tocsr()
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def _sole_dense_reader(model):
    """The Dense layer that alone reads the model's input, or None.

    Such a layer can multiply a sparse batch with
    ``tf.sparse.sparse_dense_matmul`` (a sparse gradient, no densifying),
    which is many times faster than Keras's own sparse matmul.
    """
    keras = get_keras()
    source = model.inputs[0]
    readers = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            inputs = layer.input
        except (AttributeError, ValueError):
            return None
        inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        if any(tensor is source for tensor in inputs):
            readers.append(layer)
    if len(readers) != 1 or len(source.shape) != 2:
        return None
    (layer,) = readers
    plain = (type(layer) is keras.layers.Dense and layer.activity_regularizer is None
             and not getattr(layer, "lora_enabled", False)
             and getattr(layer, "quantization_mode", None) is None
             and layer.compute_dtype == "float32")
    return layer if plain else None


def _after(model, first):
    """The part of ``model`` after its input layer ``first``, as a model of its
    own, or None where it cannot be cut out."""
    keras = get_keras()
    if isinstance(model, keras.Sequential):
        # A Sequential's layers are a chain; its symbolic graph is private.
        layers = model.layers
        if not layers or layers[0] is not first:
            return None
        return keras.Sequential([keras.Input(first.output.shape[1:]), *layers[1:]])
    try:
        return keras.Model(first.output, model.outputs)
    except ValueError:
        return None


class _Loop:
    """A network (a private copy, or the model itself) with its optimizer and
    compiled functions."""

    def __init__(self, model, optimizer, loss, private=True):
        import tensorflow as tf

        if private:
            # from_config rather than clone_model, which would also compile
            # the copy and fail to deserialise the loss. The copy's own
            # initial weights are never used; seeding keeps its draws from
            # touching the process-wide generators.
            with seeded(0):
                self.model = type(model).from_config(model.get_config())
        else:
            self.model = model
        trainable = self.model.trainable_variables
        if fusable(optimizer, trainable):
            self.optimizer = FusedAdam(optimizer, trainable)
        else:
            self.optimizer = type(optimizer).from_config(optimizer.get_config())
            self.optimizer.build(trainable)
        # Initial optimizer state, to start every fit from; constant arrays
        # (zeroed moments) are kept as one value, not as a copy.
        self._optimizer_start = [_compact(v.numpy()) for v in self.optimizer.variables]
        # Per-label positive weights change with the data (class_weight=
        # "balanced"); they are a variable, so the same loop serves all.
        self._pos_weight = tf.Variable(np.ones(len(loss.pos_weight), dtype=np.float32),
                                       trainable=False)
        self.loss = weighted_binary_crossentropy(self._pos_weight, loss.from_logits,
                                                 loss.focal_gamma, loss.masked)
        # A stacked ensemble (sklearn_mlk._stacked) outputs (batch, k, labels)
        # and takes one weight per row and member; its losses are per member.
        output_shape = model.outputs[0].shape
        self.members = output_shape[1] if len(output_shape) == 3 else 0
        x = tf.TensorSpec([None, *model.inputs[0].shape[1:]], tf.float32)
        y = tf.TensorSpec([None, output_shape[-1]], tf.float32)
        w = tf.TensorSpec([None, self.members] if self.members else [None], tf.float32)
        order = tf.TensorSpec([None], tf.int32)
        size = tf.TensorSpec([], tf.int32)
        self._step = tf.function(self._train_step, input_signature=[x, y, w])
        self._epoch = tf.function(self._train_epoch,
                                  input_signature=[x, y, w, order, size])
        self._evaluate = tf.function(self._loss_sum, input_signature=[x, y, w])
        # Sparse X: where one Dense layer alone reads the input, batches stay
        # sparse and that layer is applied here; the rest of the network runs
        # as a model of its own. Otherwise batches are densified one at a time.
        self._n_features = int(np.prod(model.inputs[0].shape[1:]))
        self._first = _sole_dense_reader(self.model)
        self._rest = None if self._first is None else _after(self.model, self._first)
        self._sparse_input = self._rest is not None
        if self._sparse_input:
            x = tf.SparseTensorSpec([None, self._n_features], tf.float32)
            self._sparse_step = tf.function(self._train_step, input_signature=[x, y, w])
            self._sparse_evaluate = tf.function(self._loss_sum,
                                                input_signature=[x, y, w])

    # Compiled functions -------------------------------------------------

    def _objective(self, x, y, w, training):
        """Keras's loss: weighted mean over the batch plus layer losses."""
        import tensorflow as tf

        if isinstance(x, tf.SparseTensor):
            first = self._first
            hidden = tf.sparse.sparse_dense_matmul(x, first.kernel.value)
            if first.use_bias:
                hidden = tf.nn.bias_add(hidden, first.bias.value)
            outputs = self._rest(first.activation(hidden), training=training)
        else:
            outputs = self.model(x, training=training)
        outputs = tf.cast(outputs, tf.float32)
        if self.members:
            y = y[:, None, :]
        # The weighted loss summed over rows: one value, or one per member.
        total = tf.reduce_sum(self.loss(y, outputs) * w, axis=0)
        extra = self.model.losses
        extra = tf.add_n([tf.cast(v, tf.float32) for v in extra]) if extra else 0.0
        return total, extra

    def _train_step(self, x, y, w):
        import tensorflow as tf

        rows = tf.cast(tf.shape(x)[0], tf.float32)
        with tf.GradientTape() as tape:
            total, extra = self._objective(x, y, w, training=True)
            value = tf.reduce_sum(total) / rows + extra
        variables = self.model.trainable_variables
        self.optimizer.apply(tape.gradient(value, variables), variables)
        return total / rows + extra

    def _train_epoch(self, X, Y, w, order, batch_size):
        import tensorflow as tf

        n = tf.shape(order)[0]
        total = tf.zeros([self.members] if self.members else [])
        for i in tf.range((n + batch_size - 1) // batch_size):
            rows = order[i * batch_size : tf.minimum((i + 1) * batch_size, n)]
            value = self._train_step(tf.gather(X, rows), tf.gather(Y, rows),
                                     tf.gather(w, rows))
            total += value * tf.cast(tf.shape(rows)[0], tf.float32)
        return total / tf.cast(n, tf.float32)

    def _loss_sum(self, x, y, w):
        return self._objective(x, y, w, training=False)

    # Python side --------------------------------------------------------

    def run(self, model, loss, X, Y, w, *, epochs, batch_size, validation, patience,
            shuffle, verbose, seed, members=None):
        """Train; return the history, or one history per member of a stacked
        ensemble (``members``: its :class:`Members`)."""
        import tensorflow as tf

        if self.model is not model:
            for mine, theirs in zip(self.model.variables, model.variables):
                mine.assign(theirs.value)
        for variable, start in zip(self.optimizer.variables, self._optimizer_start):
            variable.assign(np.broadcast_to(start, variable.shape))
        self._pos_weight.assign(np.asarray(loss.pos_weight, dtype=np.float32))
        rng = np.random.default_rng(seed)
        n = X.shape[0]
        sparse = sp.issparse(X)
        if sparse:
            X = _canonical_csr(X)
        Y = _dense(Y)
        w = np.asarray(w, dtype=np.float32)
        if not sparse:
            tensors = [tf.convert_to_tensor(a) for a in (_dense(X), Y, w)]
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
            if sparse:
                mean = self._sparse_epoch(X, Y, w, order, batch_size)
            else:
                mean = self._epoch(*tensors, order.astype(np.int32), batch_size).numpy()
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
                values = [v.numpy() for v in self.model.variables] if improved else None
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
        if self.model is not model:
            for theirs, mine in zip(model.variables, self.model.variables):
                theirs.assign(mine.value)
        return histories[0] if members is None else histories

    def _restore(self, best_weights, members):
        """Set each member's weights (or the network's) to its best epoch's."""
        if members is None:
            if best_weights[0] is not None:
                for variable, value in zip(self.model.variables, best_weights[0]):
                    variable.assign(value)
            return
        values = [v.numpy() for v in self.model.variables]
        for j, weights in enumerate(best_weights):
            if weights is not None:
                members.put(values, j, weights)
        for variable, value in zip(self.model.variables, values):
            variable.assign(value)

    def _feed(self, block):
        """A block of rows of X in the form the compiled functions take."""
        if not sp.issparse(block):
            return np.asarray(block, dtype=np.float32)
        return _sparse_tensor(block) if self._sparse_input else _dense(block)

    def _sparse_epoch(self, X, Y, w, order, batch_size):
        step = self._sparse_step if self._sparse_input else self._step
        total = 0.0
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            total = total + step(self._feed(X[rows]), Y[rows], w[rows]).numpy() * len(rows)
        return total / len(order)

    def _validation_blocks(self, X, Y, w):
        """The validation rows prepared once, for every epoch's loss: X in
        canonical CSR form when sparse, Y dense, and the rows per block."""
        sparse = sp.issparse(X)
        if sparse:
            X = _canonical_csr(X)
        rows = _EVAL_ROWS
        if sparse and not self._sparse_input:
            rows = max(1, min(rows, DENSE_BLOCK_VALUES // self._n_features))
        return X, _dense(Y), np.asarray(w, dtype=np.float32), rows

    def _validation_loss(self, validation, counts):
        """The validation loss, one value per member (``counts`` rows each)."""
        X, Y, w, rows = validation
        evaluate = (self._sparse_evaluate if sp.issparse(X) and self._sparse_input
                    else self._evaluate)
        total, extra = 0.0, 0.0
        for start in range(0, X.shape[0], rows):
            part = slice(start, start + rows)
            block_total, extra = evaluate(self._feed(X[part]), Y[part], w[part])
            total = total + np.atleast_1d(block_total.numpy())
        return total / counts + float(extra)
