"""Fast prediction: a NumPy forward pass for plain chains of Dense layers.

Calling a Keras model costs a framework dispatch per call (about a millisecond
on TensorFlow, far more through ``Model.predict``). For the default MLP, and
any model that is a chain of ``Dense`` layers (``Dropout`` is the identity at
inference), the same outputs come from a few NumPy matrix products over the
trained weights. Sparse inputs are multiplied as they are, never densified.

The products run in float64, although the model trains in float32: a
float32 BLAS sums a row's products in an order that depends on how many rows
are multiplied together, so a row predicted alone could differ in its last
digits from the same row predicted in a batch (and a threshold sitting
between the two would flip its label). In float64 those differences are
far below float32 resolution. The cost is small on one row and a larger
share on big batches (``benchmarks/speed.py`` measures both).

A plan is only used after it reproduced the model's own outputs on a probe
batch; any other model runs through Keras.
"""

import numpy as np
from scipy.linalg import block_diag

from .._plan import _ACTIVATIONS, LINEAR_STEP, MEAN_OF_SIGMOIDS, run_plan
from ._backend import full_precision_matmul, to_numpy

_PROBE_ROWS = 8


def dense_plan(model, n_features, seed=0, expected=None):
    """Return ``[(kernel, bias, activation name), ...]`` for a Dense chain, or None.

    The default MLP's linear path (a ``Dense`` layer named
    :data:`~sklearn_mlk._keras._network.LINEAR_PATH` beside the chain, added
    to its logits) becomes the plan's first step,
    :data:`~sklearn_mlk._plan.LINEAR_STEP`.

    The plan is checked against the model on random inputs and rejected if
    the outputs differ by more than float32 rounding. ``expected``, where
    given, is ``(probe, outputs)``: rows of :func:`probe_rows` and the outputs
    the plan must give on them, computed elsewhere (by the stacked network
    that trained this model beside its fold siblings,
    :mod:`sklearn_mlk._training._stacked`, in one call for all of them).
    """
    import keras

    from ._network import LINEAR_PATH

    plan = []
    chain = model.layers
    if chain and type(chain[-1]) is keras.layers.Add:
        # The default MLP's linear path (build_default_mlp): its kernel
        # first, added to the logits (an Add of anything else fails the probe).
        linear = [layer for layer in chain if layer.name == LINEAR_PATH]
        if len(linear) != 1 or type(linear[0]) is not keras.layers.Dense \
                or linear[0].use_bias:
            return None
        plan.append((to_numpy(linear[0].kernel).astype(np.float64), None, LINEAR_STEP))
        chain = [layer for layer in chain[:-1] if layer is not linear[0]]
    for layer in chain:
        if isinstance(layer, (keras.layers.InputLayer, keras.layers.Dropout)):
            continue
        if type(layer) is not keras.layers.Dense:
            return None
        name = getattr(layer.activation, "__name__", None)
        if name not in _ACTIVATIONS:
            return None
        kernel = to_numpy(layer.kernel).astype(np.float64)
        bias = (to_numpy(layer.bias).astype(np.float64)
                if layer.use_bias else None)
        plan.append((kernel, bias, name))
    if not chain or plan[-1][2] == LINEAR_STEP or plan[0][0].shape[0] != n_features:
        return None
    if expected is None:
        expected = _probed(model, n_features, seed)
    return plan if _reproduces(plan, *expected) else None


def probe_rows(n_features, seed):
    """The random rows a plan is checked on."""
    probe = np.random.default_rng(seed).normal(size=(_PROBE_ROWS, n_features))
    return probe.astype(np.float32)


def model_outputs(model, probe):
    """The model's outputs on the probe rows, its products in full float32
    precision: on a GPU its default TF32 products differ from the plan's in
    the fourth digit."""
    with full_precision_matmul():
        return to_numpy(model(probe, training=False))


def _probed(model, n_features, seed):
    """``(probe, outputs)``: the probe rows of ``seed`` and the model's outputs
    on them."""
    probe = probe_rows(n_features, seed)
    return probe, model_outputs(model, probe)


def _reproduces(plan, probe, expected):
    """Whether the plan gives the ``expected`` outputs on the ``probe`` rows."""
    got = run_plan(plan, probe)
    return got.shape == expected.shape and np.allclose(got, expected, rtol=1e-4, atol=1e-5)


def fuse_plans(plans, model, n_features, seed=0):
    """One plan for an ensemble ``model`` of several plans' networks, or None.

    The members run side by side as one wider network: their first layers
    concatenated and their hidden layers block-diagonal. Their last layers
    are kept apart, each giving its member's outputs from the member's own
    hidden units; the plan's last step
    (:data:`sklearn_mlk._plan.MEAN_OF_SIGMOIDS`) takes their sigmoids and
    their mean, as the ensemble averages its members' probabilities. An
    ensemble that averages logits (saved so, or with
    :data:`~sklearn_mlk._keras._network.AVERAGE_PROBABILITIES` off) has its
    last layers stacked and scaled by ``1 / k`` instead, so the last product
    sums the members' logits into their mean. Every member must have the same
    depth and activations (their widths may differ); ``model`` must give the
    plan's outputs on a probe, or there is no plan.
    """
    if any(plan is None for plan in plans) or len({len(p) for p in plans}) != 1:
        return None
    expected = None  # the ensemble's outputs, computed once for both layouts
    for mean_of_probabilities in (True, False):
        fused = _fused(plans, mean_of_probabilities)
        if fused is None:
            continue
        if expected is None:
            expected = _probed(model, n_features, seed)
        if _reproduces(fused, *expected):
            return fused
    return None


def _fused(plans, mean_of_probabilities):
    """The fused plan of :func:`fuse_plans` (not yet checked), or None where
    the members' activations do not allow it."""
    k, depth = len(plans), len(plans[0])
    fused = []
    linear = {plan[0][2] == LINEAR_STEP for plan in plans}
    if len(linear) != 1:
        return None
    if linear.pop():
        # Each member's linear path beside the others (their outputs added
        # to each member's own), or their mean added to the mean of logits.
        kernels = [plan[0][0] for plan in plans]
        kernel = np.hstack(kernels) if mean_of_probabilities else np.add.reduce(kernels) / k
        fused.append((np.ascontiguousarray(kernel), None, LINEAR_STEP))
        plans = [plan[1:] for plan in plans]
        depth -= 1
    for i, layers in enumerate(zip(*plans)):
        activations = {activation for _, _, activation in layers}
        last = i == depth - 1
        allowed = {"linear", "sigmoid"} if mean_of_probabilities else {"linear"}
        if len(activations) != 1 or (last and not activations <= allowed):
            return None
        activation = activations.pop()
        kernels = [kernel for kernel, _, _ in layers]
        biases = [np.zeros(kernel.shape[1]) if bias is None else bias
                  for kernel, bias, _ in layers]
        if last and mean_of_probabilities:
            fused.append((tuple(np.ascontiguousarray(k) for k in kernels), tuple(biases),
                          MEAN_OF_SIGMOIDS))
            break
        elif last:
            stack = np.vstack if depth > 1 else np.add.reduce
            kernel = stack(kernels) / k
            bias = np.add.reduce(biases) / k
        elif i == 0:
            kernel, bias = np.hstack(kernels), np.concatenate(biases)
        else:
            kernel, bias = block_diag(*kernels), np.concatenate(biases)
        fused.append((np.ascontiguousarray(kernel), bias, activation))
    return fused
