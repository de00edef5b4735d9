"""Fast prediction: a NumPy forward pass for plain chains of Dense layers.

Calling a Keras model costs a framework dispatch per call (about a millisecond
on TensorFlow, far more through ``Model.predict``). For the default MLP, and
any model that is a chain of ``Dense`` layers (``Dropout`` is the identity at
inference), the same outputs come from a few NumPy matrix products over the
trained weights (in float64). Sparse inputs are multiplied as they are, never
densified.

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
# A first-layer kernel larger than this stays float32 (a wide sparse input):
# a float64 copy would double the memory of the largest weight matrix.
_FLOAT64_MAX_VALUES = 2**22


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
        kernel = layer.kernel.numpy()
        if plan or kernel.size <= _FLOAT64_MAX_VALUES:
            kernel = kernel.astype(np.float64)
        bias = (np.asarray(layer.bias.numpy(), dtype=np.float64)
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
    """The plan's float64 outputs for a dense or CSR block X.

    Float64 makes a row's output independent of the rows computed with it
    (BLAS kernels for one row and for many round float32 differently). The
    exception is a very large first kernel, kept in float32 (see
    ``_FLOAT64_MAX_VALUES``): sparse blocks are multiplied row by row anyway,
    dense ones in float32.
    """
    h = X
    for kernel, bias, activation in plan:
        if kernel.dtype == np.float32 and not sp.issparse(h):
            h = np.asarray(h, dtype=np.float32)  # no float64 copy of the kernel
        # A CSR block times a dense kernel is dense.
        h = np.asarray(h @ kernel, dtype=np.float64)
        if bias is not None:
            h += bias
        h = _ACTIVATIONS[activation](h)
    return h
