"""The compiled training loop on the TensorFlow backend.

Each epoch is one call of a ``tf.function`` over the batches, traced once per
architecture, optimizer and loss with dynamic batch shapes, so fits of any
size reuse it. A plain Adam updates each weight tensor with TensorFlow's fused
Adam kernel (:mod:`sklearn_mlk._training._fused_adam`). Sparse X stays sparse where one
``Dense`` layer alone reads the input (the default MLP) and that pays
(``sklearn_mlk._training._loop.SPARSE_BATCH_DENSITY``): that layer is applied with
``tf.sparse.sparse_dense_matmul``, which multiplies only the non-zeros,
forward and backward.
"""

import numpy as np
import scipy.sparse as sp

from .._keras._backend import get_keras
from ._loop import Loop, _compact, _dense, extra_value, member_penalties
from ._fused_adam import FusedAdam, fusable
from ._stacked import own_rows_outputs, own_rows_ready


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


def _sparse_tensor(block):
    """A CSR block (canonical format) as a float32 ``tf.SparseTensor``."""
    import tensorflow as tf

    rows = np.repeat(np.arange(block.shape[0], dtype=np.int64), np.diff(block.indptr))
    indices = np.column_stack([rows, block.indices.astype(np.int64)])
    return tf.SparseTensor(indices, block.data.astype(np.float32, copy=False),
                           block.shape)



class TensorFlowLoop(Loop):
    """A network (a private copy, or the model itself) with its optimizer and
    TensorFlow functions."""

    def __init__(self, model, optimizer, loss, private=True):
        import tensorflow as tf

        self.model = self.network(model, private)
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
        self.loss = loss.make(self._pos_weight)
        # A stacked ensemble takes one weight per row and member; its losses
        # are per member.
        self.describe(model, loss)
        # The L2 strengths of the penalised kernels, set at each fit.
        self._l2 = tf.Variable(np.zeros(len(self.penalised), dtype=np.float32),
                               trainable=False)
        x = tf.TensorSpec([None, *model.inputs[0].shape[1:]], tf.float32)
        y = tf.TensorSpec([None, model.outputs[0].shape[-1]], tf.float32)
        w = tf.TensorSpec([None, self.members] if self.members else [None], tf.float32)
        order = tf.TensorSpec([None], tf.int32)
        size = tf.TensorSpec([], tf.int32)
        # Traced as plain Python (autograph=False), as Keras traces its own
        # steps: autograph's rewriting of every function the trace reaches,
        # Keras's layers included, was most of the first fit's time.
        self._step = tf.function(self._train_step, input_signature=[x, y, w],
                                 autograph=False)
        self._epoch = tf.function(self._train_epoch,
                                  input_signature=[x, y, w, order, size],
                                  autograph=False)
        self._evaluate = tf.function(self._loss_sum, input_signature=[x, y, w],
                                     autograph=False)
        # A stacked ensemble's validation rows, laid out by member, each
        # member computing its own rows only (Loop._validation_blocks).
        self.own_rows = bool(self.members) and own_rows_ready(self.model)
        if self.own_rows:
            k = self.members
            self._evaluate_own = tf.function(
                self._own_rows_loss_sum, autograph=False, input_signature=[
                    tf.TensorSpec([None, k, self.n_features], tf.float32),
                    tf.TensorSpec([None, k, model.outputs[0].shape[-1]], tf.float32),
                    tf.TensorSpec([None, k], tf.float32)])
        # Sparse X: where one Dense layer alone reads the input, batches stay
        # sparse and that layer is applied here; the rest of the network runs
        # as a model of its own. Otherwise batches are densified one at a time.
        self._first = _sole_dense_reader(self.model)
        self._rest = None if self._first is None else _after(self.model, self._first)
        self.sparse_input = self._rest is not None
        if self.sparse_input:
            self.sparse_reader_weights = self.n_features * self._first.units
            x = tf.SparseTensorSpec([None, self.n_features], tf.float32)
            self._sparse_step = tf.function(self._train_step, input_signature=[x, y, w],
                                            autograph=False)
            self._sparse_evaluate = tf.function(self._loss_sum,
                                                input_signature=[x, y, w],
                                                autograph=False)

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
        return total, self._layer_losses()

    def _layer_losses(self):
        """The layers' own losses and the loop's L2 penalties, summed: one
        value, or one per member of a stacked ensemble (its own penalty)."""
        import tensorflow as tf

        extra = [tf.cast(v, tf.float32) for v in self.model.losses]
        variables = self.model.trainable_variables
        if self.penalty_parts:
            penalties = member_penalties([variables[i].value for i in self.penalised],
                                         tf.unstack(self._l2), self.penalty_parts,
                                         self.members)
            return (tf.add_n(extra) if extra else 0.0) + penalties
        extra += [self._l2[j] * tf.reduce_sum(tf.square(tf.cast(variables[i].value,
                                                                tf.float32)))
                  for j, i in enumerate(self.penalised)]
        return tf.add_n(extra) if extra else 0.0

    def _train_step(self, x, y, w):
        import tensorflow as tf

        rows = tf.cast(tf.shape(x)[0], tf.float32)
        with tf.GradientTape() as tape:
            total, extra = self._objective(x, y, w, training=True)
            value = tf.reduce_sum(total) / rows + tf.reduce_sum(extra)
        variables = self.model.trainable_variables
        self.optimizer.apply(tape.gradient(value, variables), variables)
        return total / rows + extra

    def _train_epoch(self, X, Y, w, order, batch_size):
        import tensorflow as tf

        n = tf.shape(order)[0]
        steps = (n + batch_size - 1) // batch_size

        def step(i, total):
            rows = order[i * batch_size : tf.minimum((i + 1) * batch_size, n)]
            value = self._train_step(tf.gather(X, rows), tf.gather(Y, rows),
                                     tf.gather(w, rows))
            return i + 1, total + value * tf.cast(tf.shape(rows)[0], tf.float32)

        start = (tf.constant(0), tf.zeros([self.members] if self.members else []))
        _, total = tf.while_loop(lambda i, _: i < steps, step, start)
        return total / tf.cast(n, tf.float32)

    def _loss_sum(self, x, y, w):
        return self._objective(x, y, w, training=False)

    def _own_rows_loss_sum(self, x, y, w):
        import tensorflow as tf

        outputs = tf.cast(own_rows_outputs(self.model, x), tf.float32)
        return tf.reduce_sum(self.loss(y, outputs) * w, axis=0), self._layer_losses()

    # The hooks of sklearn_mlk._training._loop.Loop ----------------------------

    def begin(self, model, loss):
        if self.model is not model:
            for mine, theirs in zip(self.model.variables, model.variables):
                mine.assign(theirs.value)
        for variable, start in zip(self.optimizer.variables, self._optimizer_start):
            variable.assign(np.broadcast_to(start, variable.shape))
        self._pos_weight.assign(np.asarray(loss.pos_weight, dtype=np.float32))
        self._l2.assign(self.l2_strengths(model))

    def prepare(self, X, Y, w):
        import tensorflow as tf

        if sp.issparse(X):
            return X, Y, w
        return tuple(tf.convert_to_tensor(a) for a in (_dense(X), Y, w))

    def epoch(self, data, order, batch_size):
        X, Y, w = data
        if not sp.issparse(X):
            return self._epoch(X, Y, w, order.astype(np.int32), batch_size).numpy()
        step = self._sparse_step if self.sparse_batches else self._step
        total = 0.0
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            total = total + step(self._feed(X[rows]), Y[rows], w[rows]).numpy() * len(rows)
        return total / len(order)

    def evaluate(self, X, Y, w):
        evaluate = (self._sparse_evaluate if sp.issparse(X) and self.sparse_batches
                    else self._evaluate)
        total, extra = evaluate(self._feed(X), Y, w)
        return np.atleast_1d(total.numpy()), extra_value(extra)

    def evaluate_own_rows(self, X, Y, w):
        total, extra = self._evaluate_own(X, Y, w)
        return np.atleast_1d(total.numpy()), extra_value(extra)

    def values(self):
        return [v.numpy() for v in self.model.variables]

    def assign(self, values):
        for variable, value in zip(self.model.variables, values):
            variable.assign(value)

    def end(self, model):
        if self.model is not model:
            for theirs, mine in zip(model.variables, self.model.variables):
                theirs.assign(mine.value)

    def _feed(self, block):
        """A block of rows of X in the form the compiled functions take."""
        if not sp.issparse(block):
            return np.asarray(block, dtype=np.float32)
        return _sparse_tensor(block) if self.sparse_batches else _dense(block)
