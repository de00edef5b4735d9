"""Fast prediction: a NumPy forward pass for plain chains of Dense layers.

Calling a Keras model costs a framework dispatch per call (about a millisecond
on TensorFlow, far more through ``Model.predict``). For the default MLP, and
any model that is a chain of ``Dense`` layers (``Dropout`` is the identity at
inference), the same outputs come from a few NumPy matrix products over the
trained weights, in float32 like the model itself. Sparse inputs are
multiplied as they are, never densified.

A plan is only used after it reproduced the model's own outputs on a probe
batch; any other model runs through Keras.
"""

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

_ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0, out=x),
    "sigmoid": lambda x: expit(x, out=x),
    "tanh": lambda x: np.tanh(x, out=x),
}
_PROBE_ROWS = 8


def dense_plan(model, n_features, seed=0):
    """Return ``[(kernel, bias, activation name), ...]`` for a Dense chain, or None.

    The plan is checked against the model on random inputs and rejected if
    the outputs differ by more than float32 rounding.
    """
    import keras

    plan = []
    for layer in model.layers:
        if isinstance(layer, (keras.layers.InputLayer, keras.layers.Dropout)):
            continue
        if type(layer) is not keras.layers.Dense:
            return None
        name = getattr(layer.activation, "__name__", None)
        if name not in _ACTIVATIONS:
            return None
        kernel = np.asarray(layer.kernel.numpy(), dtype=np.float32)
        bias = (np.asarray(layer.bias.numpy(), dtype=np.float32)
                if layer.use_bias else None)
        plan.append((kernel, bias, name))
    if not plan or plan[0][0].shape[0] != n_features:
        return None
    probe = np.random.default_rng(seed).normal(size=(_PROBE_ROWS, n_features))
    probe = probe.astype(np.float32)
    expected = keras.ops.convert_to_numpy(model(probe, training=False))
    got = run_plan(plan, probe)
    if got.shape != expected.shape or not np.allclose(got, expected, rtol=1e-4, atol=1e-5):
        return None
    return plan


def run_plan(plan, X):
    """The plan's outputs (as float64) for a dense or CSR block X.

    The products run in float32, as in the model: a row's outputs can differ
    in the last float32 digits with the rows computed beside it, as they do
    through Keras.
    """
    h = X if sp.issparse(X) else np.asarray(X, dtype=np.float32)
    for kernel, bias, activation in plan:
        # A CSR block times a dense kernel is dense.
        h = np.asarray(h @ kernel, dtype=np.float32)
        if bias is not None:
            h += bias
        h = _ACTIVATIONS[activation](h)
    return h.astype(np.float64)
