"""The compiled training loop on the JAX backend.

Each training step is one call of a ``jax.jit`` function: the network runs
through ``Model.stateless_call`` and the optimizer through
``Optimizer.stateless_apply``, so the weights, the dropout seeds and the
optimizer moments are arrays carried from step to step, not variables.

JAX compiles a function per shape of its arguments. The last, shorter batch
of an epoch is padded to the full size with rows of weight 0, and each step's
loss is divided by its real rows, so one compiled step serves every fit of an
architecture, optimizer and loss, whatever the number of rows: the loss and
gradients are those of the unpadded batch. Validation blocks are padded to
the next power of two, so a few compiled evaluations serve all sizes.
Networks with layers that mix the rows of a batch (``BatchNormalization``)
are not padded: they compile again for each new size instead.
"""

import numpy as np

from .._keras._backend import get_keras
from ._loop import Loop, _compact, _dense, extra_value, member_penalties
from ._stacked import own_rows_outputs, own_rows_ready


class JaxLoop(Loop):
    """A network (a private copy, or the model itself), its optimizer and its
    compiled epoch, step and evaluation functions."""

    def __init__(self, model, optimizer, loss, private=True):
        import jax

        self.model = self.network(model, private)
        self.optimizer = type(optimizer).from_config(optimizer.get_config())
        self.optimizer.build(self.model.trainable_variables)
        # Initial optimizer state, to start every fit from.
        self._optimizer_start = [_compact(np.asarray(v.value))
                                 for v in self.optimizer.variables]
        self.describe(model, loss)
        # Where each of model.variables is among the trainable and the
        # non-trainable ones (the two lists stateless_call takes).
        trainable = {id(v): i for i, v in enumerate(self.model.trainable_variables)}
        other = {id(v): i for i, v in enumerate(self.model.non_trainable_variables)}
        self._order = [(True, trainable[id(v)]) if id(v) in trainable
                       else (False, other[id(v)]) for v in self.model.variables]
        keras = get_keras()
        # Padding rows is exact unless a layer mixes the rows of a batch.
        self._pad = not any(isinstance(layer, keras.layers.BatchNormalization)
                            for layer in _all_layers(self.model))
        self._step = jax.jit(self._train_step, donate_argnums=(0,))
        self._evaluate = jax.jit(self._loss_sum)
        # A stacked ensemble's members on their own validation rows
        # (Loop._validation_blocks), where no layer adds a loss of its own:
        # the loop's L2 penalties are all the extra loss there is.
        self.own_rows = (bool(self.members) and own_rows_ready(self.model)
                         and not _adds_losses(self.model))
        if self.own_rows:
            self._evaluate_own = jax.jit(self._own_rows_loss_sum)

    # Compiled functions -------------------------------------------------

    def _objective(self, trainable, non_trainable, x, y, w, pos_weight, l2, training):
        """The weighted loss summed over rows (one per member), the layers'
        own losses with the penalty of the kernels (at strengths ``l2``),
        and the updated non-trainable state."""
        import jax.numpy as jnp

        outputs, non_trainable, extra = self.model.stateless_call(
            trainable, non_trainable, x, training=training, return_losses=True)
        outputs = outputs.astype(jnp.float32)
        if self.members:
            y = y[:, None, :]
        loss = self._loss_spec.make(pos_weight)
        total = jnp.sum(loss(y, outputs) * w, axis=0)
        extra = sum((jnp.asarray(v, jnp.float32) for v in extra), jnp.float32(0.0))
        return total, self._penalty(trainable, l2, extra), non_trainable

    def _penalty(self, trainable, l2, extra=0.0):
        """``extra`` plus the loop's L2 penalty of its kernels, at strengths
        ``l2``: one value, or one per member of a stacked ensemble (its own
        penalty)."""
        import jax.numpy as jnp

        extra = jnp.float32(extra)
        if self.penalty_parts:
            return extra + member_penalties([trainable[i] for i in self.penalised], l2,
                                            self.penalty_parts, self.members)
        for j, i in enumerate(self.penalised):
            extra = extra + l2[j] * jnp.sum(jnp.square(trainable[i].astype(jnp.float32)))
        return extra

    def _train_step(self, state, x, y, w, rows, pos_weight, l2):
        """One step on a batch of ``rows`` real rows (the others weigh 0)."""
        import jax

        trainable, non_trainable, optimizer_state = state

        def value(trainable):
            total, extra, updated = self._objective(trainable, non_trainable, x, y, w,
                                                    pos_weight, l2, True)
            return total.sum() / rows + extra.sum(), (total / rows + extra, updated)

        grads, (mean, non_trainable) = jax.grad(value, has_aux=True)(trainable)
        trainable, optimizer_state = self.optimizer.stateless_apply(
            optimizer_state, grads, trainable)
        return (trainable, non_trainable, optimizer_state), mean

    def _loss_sum(self, trainable, non_trainable, x, y, w, pos_weight, l2):
        total, extra, _ = self._objective(trainable, non_trainable, x, y, w,
                                          pos_weight, l2, False)
        return total, extra

    def _own_rows_loss_sum(self, trainable, non_trainable, x, y, w, pos_weight, l2):
        import jax.numpy as jnp

        keras = get_keras()
        mapping = (list(zip(self.model.trainable_variables, trainable))
                   + list(zip(self.model.non_trainable_variables, non_trainable)))
        with keras.StatelessScope(state_mapping=mapping):
            outputs = own_rows_outputs(self.model, x).astype(jnp.float32)
        total = jnp.sum(self._loss_spec.make(pos_weight)(y, outputs) * w, axis=0)
        return total, self._penalty(trainable, l2)

    # The hooks of sklearn_mlk._training._loop.Loop ----------------------------

    def begin(self, model, loss):
        import jax.numpy as jnp

        self._state = (
            [jnp.asarray(v.value) for v in model.trainable_variables],
            [jnp.asarray(v.value) for v in model.non_trainable_variables],
            [jnp.asarray(np.broadcast_to(start, v.shape), dtype=v.dtype)
             for v, start in zip(self.optimizer.variables, self._optimizer_start)],
        )
        self._pos_weight = jnp.asarray(loss.pos_weight, dtype=jnp.float32)
        self._l2 = jnp.asarray(self.l2_strengths(model))

    def prepare(self, X, Y, w):
        return X, Y, w

    def epoch(self, data, order, batch_size):
        X, Y, w = data
        total = 0.0
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            x, y, v = self._padded(_dense(X[rows]), Y[rows], w[rows], batch_size)
            self._state, mean = self._step(self._state, x, y, v, np.float32(len(rows)),
                                           self._pos_weight, self._l2)
            total = total + np.asarray(mean, dtype=np.float64) * len(rows)
        return total / len(order)

    def evaluate(self, X, Y, w):
        trainable, non_trainable, _ = self._state
        size = 1 << max(int(X.shape[0]) - 1, 0).bit_length()  # next power of two
        x, y, v = self._padded(_dense(X), Y, w, size)
        total, extra = self._evaluate(trainable, non_trainable, x, y, v, self._pos_weight,
                                      self._l2)
        return np.atleast_1d(np.asarray(total)), extra_value(extra)

    def evaluate_own_rows(self, X, Y, w):
        trainable, non_trainable, _ = self._state
        size = 1 << max(int(X.shape[0]) - 1, 0).bit_length()  # next power of two
        x, y, v = self._padded(X, Y, w, size)
        total, extra = self._evaluate_own(trainable, non_trainable, x, y, v,
                                          self._pos_weight, self._l2)
        return np.atleast_1d(np.asarray(total)), extra_value(extra)

    def _padded(self, x, y, w, size):
        """A batch padded to ``size`` rows of weight 0 (where padding is exact)."""
        missing = size - x.shape[0]
        if missing <= 0 or not self._pad:
            return x, y, w
        return (np.pad(x, [(0, missing)] + [(0, 0)] * (x.ndim - 1)),
                np.pad(y, [(0, missing)] + [(0, 0)] * (y.ndim - 1)),
                np.pad(w, [(0, missing)] + [(0, 0)] * (w.ndim - 1)))

    def values(self):
        trainable, non_trainable, _ = self._state
        return [np.array(trainable[i] if is_trainable else non_trainable[i])
                for is_trainable, i in self._order]

    def assign(self, values):
        import jax.numpy as jnp

        trainable, non_trainable, optimizer_state = self._state
        trainable, non_trainable = list(trainable), list(non_trainable)
        for (is_trainable, i), value in zip(self._order, values):
            (trainable if is_trainable else non_trainable)[i] = jnp.asarray(value)
        self._state = (trainable, non_trainable, optimizer_state)

    def end(self, model):
        trainable, non_trainable, _ = self._state
        for variable, value in zip(model.trainable_variables, trainable):
            variable.assign(value)
        for variable, value in zip(model.non_trainable_variables, non_trainable):
            variable.assign(value)
        del self._state  # the arrays now belong to the model


def _adds_losses(model):
    """Whether a layer of ``model`` adds a loss of its own (a regularizer)."""
    return any(getattr(layer, name, None) is not None for layer in _all_layers(model)
               for name in ("kernel_regularizer", "bias_regularizer",
                            "activity_regularizer"))


def _all_layers(model):
    """Every layer of ``model``, those of nested models included."""
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)
