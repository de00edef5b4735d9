"""Training the fold networks of an ensemble as one network.

The ``k`` fold networks of the default ensemble are small MLPs of one
architecture. Trained one after the other, each epoch of each network pays
the same per-step overhead on a few dozen rows, so on small data a fit costs
``k`` times a single network. Stacked side by side they train as one:

- the first layers are concatenated into one ``Dense`` layer of ``k`` times
  the units (which still reads sparse input alone, so sparse batches stay
  sparse), reshaped to ``(k, units)``;
- later layers are one ``EinsumDense`` per layer, with a kernel per member
  (``"bkh,khg->bkg"``): member ``j`` reads only its own hidden units;
- the output is ``(batch, k, n_labels)``, and each member's loss is weighted
  by a mask that is 0 on its own tuning fold;
- members with a linear path from the input to their logits
  (:data:`~sklearn_mlk._keras._network.LINEAR_PATH`) have theirs
  concatenated into one more ``Dense`` layer of ``k`` times the labels,
  reshaped to ``(k, n_labels)`` and added to the output.

Every weight belongs to exactly one member, and the loss is a sum over
members, so each member's gradient and Adam moments are what it would get
alone. Each batch carries all rows, so a member sees ``(k - 1) / k`` of a
batch; an epoch is still one pass over its own training rows. Early stopping
keeps each member's best epoch on its own tuning fold.

:func:`stack` builds the stacked network from ``k`` built default MLPs (its
starting weights are theirs, so the seeds draw the same initial networks as
sequential training would); :func:`unstack` copies the trained weights back.
"""

from .._keras._backend import get_keras, to_numpy
from ._loop import member_parts, take

keras = get_keras()  # the backend starts quietly, with its thread limits
layers = keras.layers


# The name of the stacked members' linear paths (build_default_mlp's
# LINEAR_PATH, concatenated).
STACKED_LINEAR = "stacked_linear"
_LINEAR_LAYERS = (STACKED_LINEAR, "stacked_linear_members", "stacked_with_linear")


def dense_layers(model):
    """The ``Dense`` layers of a default MLP, input to output, its linear path
    (if it has one) last."""
    from .._keras._network import LINEAR_PATH

    found = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    return ([layer for layer in found if layer.name != LINEAR_PATH]
            + [layer for layer in found if layer.name == LINEAR_PATH])


def has_linear_path(model):
    """Whether a default MLP has a linear path from its input to its logits."""
    from .._keras._network import LINEAR_PATH

    return any(layer.name == LINEAR_PATH for layer in model.layers)


def stack(members, activation, dropout, seed=None, l2=0.0, first_l2=None):
    """One Keras model training the default MLPs ``members`` side by side.

    Its output has shape ``(batch, k, n_labels)``: member ``j``'s outputs at
    ``[:, j]``. Its dropout layers draw their masks from ``seed``; ``l2``
    penalises its kernels as :func:`~sklearn_mlk._keras._network.build_default_mlp`
    does a member's, the first layer's by ``first_l2`` where given.
    """
    from .._keras._backend import layer_seeds
    from .._keras._network import l2_regularizer

    seeds = layer_seeds(seed)
    k = len(members)
    linear = has_linear_path(members[0])
    denses = dense_layers(members[0])[: -1 if linear else None]
    n_features = members[0].inputs[0].shape[-1]
    inputs = keras.Input(shape=(n_features,), name="features")
    units = denses[0].units
    first_activation = activation if len(denses) > 1 else None  # else the logits
    input_l2 = l2 if first_l2 is None else first_l2  # of the layers reading the input
    # Zeros: the members' weights are copied in (no draws from global state).
    hidden = layers.Dense(k * units, activation=first_activation, name="stacked_0",
                          kernel_initializer="zeros",
                          kernel_regularizer=l2_regularizer(input_l2))(inputs)
    hidden = layers.Reshape((k, units))(hidden)
    for i, dense in enumerate(denses[1:], start=1):
        if dropout > 0:
            hidden = layers.Dropout(dropout, seed=next(seeds))(hidden)
        last = i == len(denses) - 1
        hidden = layers.EinsumDense(
            "bkh,khg->bkg", output_shape=(k, dense.units), bias_axes="kg",
            activation=None if last else activation, name=f"stacked_{i}",
            kernel_initializer="zeros", kernel_regularizer=l2_regularizer(l2),
        )(hidden)
    if linear:
        n_labels = denses[-1].units
        path = layers.Dense(k * n_labels, use_bias=False, name=STACKED_LINEAR,
                            kernel_initializer="zeros",
                            kernel_regularizer=l2_regularizer(input_l2))(inputs)
        path = layers.Reshape((k, n_labels), name=_LINEAR_LAYERS[1])(path)
        hidden = layers.Add(name=_LINEAR_LAYERS[2])([hidden, path])
    model = keras.Model(inputs, hidden, name="stacked")
    _copy(members, model, into_stack=True)
    return model


def own_rows_ready(model):
    """Whether :func:`own_rows_outputs` can run ``model``: a stacked network
    as :func:`stack` builds it, in float32."""
    chain, linear = _own_rows_layers(model)
    found = [type(layer) for layer in chain]
    if (len(model.inputs) != 1 or len(model.inputs[0].shape) != 2
            or len(model.outputs[0].shape) != 3
            or found[:3] != [layers.InputLayer, layers.Dense, layers.Reshape]
            or any(kind not in (layers.Dropout, layers.EinsumDense) for kind in found[3:])
            or [type(layer) for layer in linear] not in (
                [], [layers.Dense, layers.Reshape, layers.Add])):
        return False
    # (an activity regularizer's loss comes from the full forward pass)
    return all(getattr(layer, "equation", "bkh,khg->bkg") == "bkh,khg->bkg"
               and getattr(layer, "compute_dtype", "float32") == "float32"
               and getattr(layer, "activity_regularizer", None) is None
               for layer in [*chain[1:], *linear])


def _own_rows_layers(model):
    """A stacked model's chain of layers from its input, and the layers of
    its linear path, ``[Dense, Reshape, Add]`` as :func:`stack` names them
    (an empty list where it has none)."""
    path = [layer for layer in model.layers if layer.name in _LINEAR_LAYERS]
    return [layer for layer in model.layers if layer.name not in _LINEAR_LAYERS], path


def own_rows_outputs(model, x):
    """Each member's outputs on its own rows only (:func:`own_rows_ready`).

    ``x`` has shape ``(rows, k, n_features)``: member ``j``'s rows at
    ``[:, j]``. The result, ``(rows, k, n_labels)``, holds at ``[i, j]`` what
    the stacked model gives for member ``j`` on row ``x[i, j]``, at inference
    (dropout off), from ``1 / k`` of its multiply-adds: the first layer is
    applied by member, each member's slice of its kernel to its own rows,
    and the later layers (a kernel per member already) as they are.
    """
    chain, linear = _own_rows_layers(model)
    first = chain[1]
    k = model.outputs[0].shape[1]
    hidden = _own_rows_dense(first, x, k)
    hidden = first.activation(hidden)
    for layer in chain[3:]:
        if isinstance(layer, layers.EinsumDense):
            hidden = layer(hidden, training=False)
    if linear:
        hidden = hidden + _own_rows_dense(linear[0], x, k)
    return hidden


def _own_rows_dense(layer, x, k):
    """A stacked ``Dense`` layer over the input, before its activation, each
    member's slice of it on its own rows ``x[:, j]``: ``(rows, k, width)``."""
    ops = keras.ops
    width = layer.units // k
    kernel = ops.reshape(layer.kernel, (layer.kernel.shape[0], k, width))
    out = ops.einsum("rkd,dku->rku", x, kernel)
    if layer.use_bias:
        out = out + ops.reshape(layer.bias, (k, width))
    return out


def unstack(model, members):
    """Copy the stacked model's trained weights into ``members``."""
    _copy(members, model, into_stack=False)


def _copy(members, model, into_stack):
    """Copy each member's weights into its slices of the stacked model, or back."""
    parts = {id(v): part for v, part in zip(model.variables, member_parts(model))}
    stacked = [layer for layer in model.layers
               if isinstance(layer, (layers.Dense, layers.EinsumDense))
               and layer.name != STACKED_LINEAR]
    stacked += [layer for layer in model.layers if layer.name == STACKED_LINEAR]
    for depth, layer in enumerate(stacked):  # in dense_layers' order
        for name in ("kernel", "bias"):
            variable = getattr(layer, name)
            if variable is None:  # the linear path has no bias
                continue
            value, part = to_numpy(variable), parts[id(variable)]
            for j, member in enumerate(members):
                own = getattr(dense_layers(member)[depth], name)
                if into_stack:
                    take(value, part, j)[...] = to_numpy(own)
                else:
                    own.assign(take(value, part, j).reshape(own.shape))
            if into_stack:
                variable.assign(value)
