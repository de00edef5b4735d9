"""Running a NumPy prediction plan: NumPy and SciPy alone.

A plan (:func:`sklearn_mlk._keras._inference.dense_plan`) is the trained
weights of a chain of ``Dense`` layers as ``(kernel, bias, activation)``
triples. An ensemble's plan (:func:`sklearn_mlk._keras._inference.fuse_plans`)
may end in a :data:`MEAN_OF_SIGMOIDS` step: a tuple of the members' last
kernels and one of their biases, giving each member its outputs, and the mean
of their sigmoids. A plan may start with a :data:`LINEAR_STEP`: a kernel
that reads the input beside the chain, whose products are added to the last
step's outputs before its activation (to each member's, the members' blocks
of its columns side by side, in a :data:`MEAN_OF_SIGMOIDS` step). Running it
needs neither Keras nor scikit-learn, so that a Dask
worker predicting block by block (:mod:`sklearn_mlk._dask._worker`) imports
NumPy and SciPy only.
"""

import threading

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

# Hidden values per block of rows (8 MiB of float64), and the per-thread
# scratch buffers that hold them.
_BLOCK_VALUES = 2**20
_SCRATCH = threading.local()
# Below this many values, fixed costs per call dominate: fresh arrays come
# from the heap, not from the system, and ``expit`` beats the vectorised
# sigmoid, so the simplest path is the fastest.
_SMALL_VALUES = 2**13


def sigmoid_(x):
    """The logistic function of a float array, in place; returns x.

    ``1 / (1 + exp(-x))`` through NumPy's vectorised ``exp``: faster than
    ``scipy.special.expit`` on large arrays, and within a few units in the
    last place of it. Where ``exp(-x)`` overflows (x below
    about -88 in float32, -709 in float64) the result is 0 instead of a
    subnormal number. Small arrays go through ``expit``, whose fixed cost is
    lower.
    """
    if x.size < _SMALL_VALUES:
        return expit(x, out=x)
    np.negative(x, out=x)
    with np.errstate(over="ignore"):
        np.exp(x, out=x)
    x += 1
    return np.reciprocal(x, out=x)


def softmax_(x):
    """The softmax over each row of a float array, in place; returns x."""
    x -= x.max(axis=1, keepdims=True)
    np.exp(x, out=x)
    x /= x.sum(axis=1, keepdims=True)
    return x


# The last step of an ensemble's plan that averages its members'
# probabilities (see _mean_of_sigmoids).
MEAN_OF_SIGMOIDS = "mean of sigmoids"
# The first step of a plan of a network with a linear path from its input to
# its logits (see _layers).
LINEAR_STEP = "linear path"

_ACTIVATIONS = {
    "linear": lambda x: x,
    "softmax": softmax_,
    "relu": lambda x: np.maximum(x, 0, out=x),
    "sigmoid": sigmoid_,
    "tanh": lambda x: np.tanh(x, out=x),
}


def run_plan(plan, X):
    """The plan's outputs (as float64) for a dense or CSR matrix X.

    Rows go through in blocks of at most ``_BLOCK_VALUES`` hidden values.
    Each layer writes into one of two float64 scratch buffers that the
    calling thread keeps between calls: a fresh multi-megabyte array per
    layer and call would be mapped from the system and page-faulted in every
    time. A CSR first layer is multiplied as it is and yields a dense array.

    The products run in float64, so a row's outputs do not depend on the
    rows computed beside it (to float64 rounding; see the module's notes).
    """
    n_rows = X.shape[0]
    widest = max(_width(kernel) for kernel, _, _ in plan)
    if n_rows * widest < _SMALL_VALUES:
        return _layers(plan, X, None)
    out = np.empty((n_rows, output_width(plan)), dtype=np.float64)
    block = max(1, min(n_rows, _BLOCK_VALUES // widest))
    scratch = _scratch(block * widest)
    for start in range(0, n_rows, block):
        out[start : start + block] = _layers(plan, X[start : start + block], scratch)
    return out


def _layers(plan, h, scratch):
    """The plan applied to the rows h (float64): each dense product into a
    scratch buffer when ``scratch`` is given, into a fresh array otherwise."""
    if not sp.issparse(h):
        h = np.asarray(h, dtype=np.float64)
    rows = h.shape[0]
    linear = None
    if plan[0][2] == LINEAR_STEP:  # kept apart until the last step
        linear = np.asarray(h @ plan[0][0], dtype=np.float64)
        plan = plan[1:]
    for i, (kernel, bias, activation) in enumerate(plan):
        if activation == MEAN_OF_SIGMOIDS:
            into = None if scratch is None else scratch[i % 2]
            return _mean_of_sigmoids(h, kernel, bias, into, linear)
        if scratch is None or sp.issparse(h):
            h = np.asarray(h @ kernel, dtype=np.float64)
        else:
            width = kernel.shape[1]
            h = np.matmul(h, kernel, out=scratch[i % 2][: rows * width].reshape(rows, width))
        if bias is not None:
            h += bias
        if linear is not None and i == len(plan) - 1:
            h += linear
        h = _ACTIVATIONS[activation](h)
    return h


def _width(kernel):
    """The values a layer gives each row (every member's, for the members'
    kernels of a :data:`MEAN_OF_SIGMOIDS` step)."""
    if isinstance(kernel, tuple):
        return sum(k.shape[1] for k in kernel)
    return kernel.shape[1]


def output_width(plan):
    """The number of outputs a plan gives each row."""
    kernel = plan[-1][0]
    return kernel[0].shape[1] if isinstance(kernel, tuple) else kernel.shape[1]


def _mean_of_sigmoids(h, kernels, biases, scratch=None, linear=None):
    """The mean over the members of the sigmoid of their outputs.

    ``kernels`` and ``biases`` hold each member's last layer. A member reads
    its own block of ``h``'s columns (its hidden units, the members' blocks
    side by side in their order), or all of them where every member reads
    the input itself (members without hidden layers). The members' outputs
    go into ``scratch`` where given (the buffer ``h`` is not in), as every
    other layer's do. ``linear``, where given, holds the members' linear
    paths' outputs, member ``j``'s in its ``j``-th block of columns.
    """
    shared = all(kernel.shape[0] == h.shape[1] for kernel in kernels)
    shape = (len(kernels), h.shape[0], kernels[0].shape[1])
    outputs = np.empty(shape) if scratch is None else \
        scratch[: shape[0] * shape[1] * shape[2]].reshape(shape)
    start = 0
    for j, (kernel, bias) in enumerate(zip(kernels, biases)):
        if sp.issparse(h):  # only the input itself is sparse: shared
            outputs[j] = h @ kernel
        else:
            block = h if shared else h[:, start : start + kernel.shape[0]]
            np.matmul(block, kernel, out=outputs[j])
        start += kernel.shape[0]
        outputs[j] += bias
        if linear is not None:
            width = kernel.shape[1]
            outputs[j] += linear[:, j * width : (j + 1) * width]
    return sigmoid_(outputs).mean(axis=0)


def _scratch(values):
    """Two float64 buffers of at least ``values`` each, kept by this thread."""
    pair = getattr(_SCRATCH, "pair", None)
    if pair is None or pair[0].size < values:
        pair = _SCRATCH.pair = (np.empty(values), np.empty(values))
    return pair
