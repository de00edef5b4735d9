"""The training loop on the PyTorch backend.

PyTorch runs eagerly, so there is no epoch function to compile; what this
loop saves is ``Model.fit``'s work around each step (its data adapter,
callbacks, metrics and per-step bookkeeping) and the Keras optimizer's own
Python overhead. Each step calls the network (a private copy, as on the other
backends: its variables are torch parameters), runs autograd backward, and
updates the weights: a plain Adam (:func:`sklearn_mlk._training._fused_adam.fusable`)
through a handful of multi-tensor ``torch._foreach_*`` operations in Keras's
formula, any other optimizer through its Keras ``apply``.

A network that is a chain of plain layers (``Dense``, ``EinsumDense``,
``Dropout``, ``Reshape``, ``Activation``: the default MLP and the stacked
fold networks) runs as direct torch operations on its weights, without each
layer's ``__call__`` (input conversion, name scopes, autocasting: about a
millisecond per layer and step). Its dropout layers draw the masks Keras
draws from their seed states, so training is ``Model.fit``'s. The chain is
used only after it reproduced the network's outputs on a probe batch; any
other network is called as a Keras model.

Batches are gathered from tensors made once per fit, on the device Keras
places the network on. Sparse X is densified one batch at a time.
"""

import math

import numpy as np
import scipy.sparse as sp

from .._keras._backend import get_keras, to_numpy, torch_fit_threads
from ._loop import Loop, _compact, _dense, extra_value, member_penalties
from ._fused_adam import fusable
from ._stacked import own_rows_outputs, own_rows_ready
from .._keras._inference import _PROBE_ROWS


class ForeachAdam:
    """Keras's Adam update (see :mod:`sklearn_mlk._training._fused_adam`) for float32
    torch parameters, as multi-tensor operations over all of them at once::

        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        m += (g - m) * (1 - beta_1)
        v += (g**2 - v) * (1 - beta_2)
        w -= m * alpha / (sqrt(v) + epsilon)
    """

    def __init__(self, optimizer, variables):
        import torch

        config = optimizer.get_config()
        self._learning_rate = float(config["learning_rate"])
        self._beta_1, self._beta_2 = float(config["beta_1"]), float(config["beta_2"])
        self._epsilon = float(config["epsilon"])
        self._m = [torch.zeros_like(v.value) for v in variables]
        self._v = [torch.zeros_like(v.value) for v in variables]
        self.iterations = 0

    def reset(self):
        """Back to a fresh Adam's state: zero moments, step 0."""
        import torch

        torch._foreach_zero_(self._m)
        torch._foreach_zero_(self._v)
        self.iterations = 0

    def apply(self, gradients, variables):
        """One Adam step of ``variables`` (in the order given at construction)."""
        import torch

        self.iterations += 1
        t = self.iterations
        alpha = (self._learning_rate * math.sqrt(1 - self._beta_2**t)
                 / (1 - self._beta_1**t))
        weights = [v.value for v in variables]
        gradients = [torch.zeros_like(w) if g is None else g
                     for g, w in zip(gradients, weights)]
        torch._foreach_lerp_(self._m, gradients, 1 - self._beta_1)
        torch._foreach_lerp_(self._v, torch._foreach_mul(gradients, gradients),
                             1 - self._beta_2)
        denominator = torch._foreach_sqrt(self._v)
        torch._foreach_add_(denominator, self._epsilon)
        torch._foreach_addcdiv_(weights, self._m, denominator, value=-alpha)


class TorchLoop(Loop):
    """A network (a private copy, or the model itself), its optimizer and
    its training step."""

    def __init__(self, model, optimizer, loss, private=True):
        self.model = self.network(model, private)
        trainable = self.model.trainable_variables
        self._optimizer_start = None
        if fusable(optimizer, trainable):
            self.optimizer = ForeachAdam(optimizer, trainable)
        else:
            self.optimizer = type(optimizer).from_config(optimizer.get_config())
            self.optimizer.build(trainable)
            self._optimizer_start = [_compact(to_numpy(v)) for v in self.optimizer.variables]
        self.describe(model, loss)
        self._chain = _chain(self.model)
        self.own_rows = bool(self.members) and own_rows_ready(self.model)

    # The step -----------------------------------------------------------

    def _objective(self, x, y, w, training):
        """The weighted loss summed over rows (one per member) and the
        layers' own losses."""
        if self._chain is None:
            outputs = self.model(x, training=training)
        else:
            outputs = x
            for step in self._chain:
                outputs = step(outputs, training)
        outputs = outputs.float()
        if self.members:
            y = y[:, None, :]
        total = (self._loss(y, outputs) * w).sum(dim=0)
        return total, self._layer_losses()

    def _layer_losses(self):
        """The layers' own losses and the loop's L2 penalties, summed: one
        value, or one per member of a stacked ensemble (its own penalty)."""
        extra = sum((v.float() for v in self.model.losses), 0.0)
        variables = self.model.trainable_variables
        if self.penalty_parts:
            return extra + member_penalties([variables[i].value for i in self.penalised],
                                            self._l2, self.penalty_parts, self.members)
        for strength, i in zip(self._l2, self.penalised):
            extra = extra + strength * (variables[i].value.float() ** 2).sum()
        return extra

    def _step(self, x, y, w):
        import torch

        variables = self.model.trainable_variables
        for variable in variables:
            variable.value.grad = None
        rows = x.shape[0]
        total, extra = self._objective(x, y, w, training=True)
        # (a stacked ensemble's penalties, one per member, add up to the whole)
        (total.sum() / rows + (extra.sum() if self.penalty_parts else extra)).backward()
        with torch.no_grad():
            self.optimizer.apply([v.value.grad for v in variables], variables)
        return (total + extra * rows).detach()

    def run(self, *args, **kwargs):
        with torch_fit_threads(self.model.count_params()):
            return super().run(*args, **kwargs)

    # The hooks of sklearn_mlk._training._loop.Loop ----------------------------

    def begin(self, model, loss):
        keras = get_keras()
        if self.model is not model:
            for mine, theirs in zip(self.model.variables, model.variables):
                mine.assign(theirs.value)
        if self._optimizer_start is None:
            self.optimizer.reset()
        else:
            for variable, start in zip(self.optimizer.variables, self._optimizer_start):
                variable.assign(np.broadcast_to(start, variable.shape))
        self._dropouts = [step for step in self._chain or () if isinstance(step, _Dropout)]
        for dropout in self._dropouts:
            dropout.load()
        pos_weight = keras.ops.convert_to_tensor(np.asarray(loss.pos_weight, np.float32))
        self._loss = self._loss_spec.make(pos_weight)
        self._l2 = [float(v) for v in self.l2_strengths(model)]

    def prepare(self, X, Y, w):
        tensor = get_keras().ops.convert_to_tensor
        return (X if sp.issparse(X) else tensor(_dense(X))), tensor(Y), tensor(w)

    def epoch(self, data, order, batch_size):
        import torch

        X, Y, w = data
        tensor = get_keras().ops.convert_to_tensor
        index = tensor(order.astype(np.int64))
        total = 0.0
        with torch.enable_grad():
            for start in range(0, len(order), batch_size):
                rows = index[start : start + batch_size]
                x = (tensor(_dense(X[order[start : start + batch_size]]))
                     if sp.issparse(X) else X[rows])
                total = total + self._step(x, Y[rows], w[rows])
        return to_numpy(total) / len(order)

    def evaluate(self, X, Y, w):
        import torch

        tensor = get_keras().ops.convert_to_tensor
        with torch.no_grad():
            total, extra = self._objective(tensor(_dense(X)), tensor(Y), tensor(w),
                                           training=False)
        return np.atleast_1d(to_numpy(total)), extra_value(to_numpy(extra))

    def evaluate_own_rows(self, X, Y, w):
        import torch

        tensor = get_keras().ops.convert_to_tensor
        with torch.no_grad():
            outputs = own_rows_outputs(self.model, tensor(X)).float()
            total = (self._loss(tensor(Y), outputs) * tensor(w)).sum(dim=0)
            extra = self._layer_losses()
        return np.atleast_1d(to_numpy(total)), extra_value(to_numpy(extra))

    def values(self):
        for dropout in self._dropouts:
            dropout.store()
        return [to_numpy(v) for v in self.model.variables]

    def assign(self, values):
        for variable, value in zip(self.model.variables, values):
            variable.assign(value)
        for dropout in self._dropouts:
            dropout.load()

    def end(self, model):
        for dropout in self._dropouts:
            dropout.store()
        if self.model is not model:
            for theirs, mine in zip(model.variables, self.model.variables):
                theirs.assign(mine.value)


# Direct forward passes of plain layers -----------------------------------


def _chain(model):
    """The model's layers as direct torch steps ``step(x, training)``, or
    None where the model is not a chain of plain layers or the steps do not
    reproduce its outputs."""
    keras = get_keras()
    sequential = isinstance(model, keras.Sequential)
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return None
    previous, steps = model.inputs[0], []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if not sequential:
            try:
                if layer.input is not previous:
                    return None
            except (AttributeError, ValueError):  # a layer called more than once
                return None
            previous = layer.output
        step = _step(layer)
        if step is None:
            return None
        steps.append(step)
    if not steps or (not sequential and previous is not model.outputs[0]):
        return None
    return steps if _reproduces(steps, model) else None


def _step(layer):
    """One plain layer as a direct torch step, or None."""
    import torch

    keras = get_keras()
    kind = type(layer)
    if kind is keras.layers.Dropout:
        return _Dropout(layer) if layer.noise_shape is None else None
    if kind is keras.layers.Reshape:
        shape = tuple(layer.target_shape)
        return lambda x, training: x.reshape((x.shape[0], *shape))
    if kind is keras.layers.Activation:
        return lambda x, training: layer.activation(x)
    if kind not in (keras.layers.Dense, keras.layers.EinsumDense):
        return None
    if (layer.activity_regularizer is not None or getattr(layer, "lora_enabled", False)
            or getattr(layer, "quantization_mode", None) is not None
            or layer.compute_dtype != "float32"):
        return None
    activation = _activation(layer)
    bias = layer.bias
    if kind is keras.layers.Dense:
        kernel = layer.kernel

        def dense(x, training):
            if bias is not None and x.dim() == 2:
                return activation(torch.addmm(bias.value, x, kernel.value))
            x = torch.matmul(x, kernel.value)  # a Dense layer acts on the last axis
            return activation(x if bias is None else x + bias.value)

        return dense
    equation, kernel = layer.equation, layer.kernel

    def einsum(x, training):
        x = torch.einsum(equation, x, kernel.value)
        return activation(x if bias is None else x + bias.value)

    return einsum


def _activation(layer):
    """The layer's activation: a torch function where it is a common one
    (Keras's wrapper adds a conversion per call), else Keras's own."""
    import torch

    name = getattr(layer.activation, "__name__", None)
    return {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
            "linear": lambda x: x}.get(name, layer.activation)


class _Dropout:
    """A ``Dropout`` layer at training time, drawing the masks Keras's own
    PyTorch dropout draws from the layer's seed state (a generator seeded
    with the sum of the state's two numbers, whose second counts the calls),
    without Keras's conversions. The state is kept here as two integers
    between :meth:`load` and :meth:`store`. A layer without a seed of its own
    draws from its state too (Keras would use PyTorch's global generator), so
    that a seeded fit stays reproducible."""

    def __init__(self, layer):
        import torch

        self.layer = layer
        self.rate = float(layer.rate)
        self.generator = torch.Generator(device=layer.seed_generator.state.value.device)
        self.load()

    def load(self):
        """Read the layer's seed state."""
        self.first, self.second = (int(v) for v in to_numpy(self.layer.seed_generator.state))

    def store(self):
        """Write the seed state back to the layer."""
        state = self.layer.seed_generator.state
        state.assign(np.asarray([self.first, self.second], dtype=state.dtype))

    def __call__(self, x, training):
        import torch

        if not training or self.rate == 0.0:
            return x
        if self.rate == 1.0:
            return torch.zeros_like(x)
        keep = 1.0 - self.rate
        self.generator.manual_seed((self.first + self.second) & 0xFFFFFFFF)
        self.second += 1
        mask = torch.bernoulli(torch.full(x.shape, keep, device=x.device),
                               generator=self.generator)
        return torch.where(mask.bool(), x / keep, torch.zeros_like(x))


def _reproduces(steps, model):
    """Whether the steps give the model's inference outputs on random rows."""
    import torch

    keras = get_keras()
    shape = (_PROBE_ROWS, *model.inputs[0].shape[1:])
    probe = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    probe = keras.ops.convert_to_tensor(probe)
    with torch.no_grad():
        expected = model(probe, training=False)
        got = probe
        try:
            for step in steps:
                got = step(got, False)
        except (RuntimeError, ValueError, TypeError):  # shapes the steps cannot take
            return False
    return (tuple(got.shape) == tuple(expected.shape)
            and bool(torch.allclose(got.float(), expected.float(), rtol=1e-4, atol=1e-5)))
