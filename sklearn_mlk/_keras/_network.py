"""Building the Keras network and running it forward.

A model is the default MLP, a callable following the scikeras convention
(``build(meta=..., compile_kwargs=..., **model__params)`` returning a
``keras.Model``), or a ``keras.Model`` used as a template and cloned with fresh
weights at every fit. Its output is one unit per label: sigmoid probabilities,
or logits when the last layer has no activation.
"""

import inspect

import numpy as np
import scipy.sparse as sp
from scipy.special import logit

from .._memory import DENSE_BLOCK_VALUES
from ._backend import get_keras, layer_seeds, to_numpy

# Through get_keras: the backend starts quietly and with its thread limits.
keras = get_keras()
layers, ops = keras.layers, keras.ops



# Whether the default MLP's first layer is sized to the input
# (first_layer_gain). Off: Glorot's draws whatever the input. The sized layer
# scored higher on genbase alone; on enron and on every generated sparse tag
# set of benchmarks/first_layer.py (a few hundred to 12,000 rows, 30 to 1,000
# labels, 3 to 60 active features per row) Glorot's scored higher, by far on
# the widest vocabularies, where the wide random first layer lets the
# networks learn their training rows by heart. benchmarks/thresholds.py and
# benchmarks/first_layer.py switch it on to compare.
SIZE_FIRST_LAYER = False

# Whether an ensemble of networks with logit outputs (the default fold
# networks) averages its members' probabilities, or (off) their logits. A
# fold network that never saw a rare label's positives gives that label a
# logit far below zero, and in a mean of logits that one member outweighs the
# others that learned it: on genbase, whose labels have one to five positives
# in a fold, the mean of probabilities scored higher, and within a few
# thousandths either way on the other shared sets (benchmarks/thresholds.py,
# its variant "fold logits averaged", and its leave-one-set-out table).
AVERAGE_PROBABILITIES = True

# Whether alpha's penalty on the first layer is divided by its gain
# (first_layer_gain): the penalty MLPClassifier would put on the input scaled
# to unit power per feature. Off by default; benchmarks/thresholds.py
# compares the two.
SCALE_PENALTY_TO_INPUT = False


def first_layer_gain(meta):
    """How much wider than Glorot's the first layer's initial weights are drawn
    where :data:`SIZE_FIRST_LAYER` is on (1 where it is off, the default).

    Glorot's initialisation assumes every input feature has unit variance, so
    that a row's squared norm is about ``n_features``. Sparse or small-valued
    input carries far less: a sparse binary row with a few active features
    gives pre-activations a few hundredths wide, and the hidden units start
    almost silent (on genbase, 2.5 active of 1185 features per row). Sized,
    the first layer's weight variance is scaled by ``n_features / mean
    squared row norm`` where that exceeds 1, so that its pre-activations start
    as wide as on standardised data; on standardised data the gain is 1 and
    the draws are Glorot's own.
    The norm counts as at least 1 (one feature's worth), so that near-zero
    input cannot ask for weights without bound.
    """
    power = meta.get("input_power_")
    n_features = meta["n_features_in_"]
    if not SIZE_FIRST_LAYER or power is None or not np.isfinite(power) or power >= n_features:
        return 1.0
    return n_features / max(power, 1.0)


def first_layer_l2(meta, l2):
    """The first layer's share of the penalty ``l2``: ``l2`` itself, or divided
    by the layer's gain under ``SCALE_PENALTY_TO_INPUT``."""
    return l2 / first_layer_gain(meta) if SCALE_PENALTY_TO_INPUT else l2


def l2_regularizer(l2):
    """Keras's L2 penalty of strength ``l2`` on a kernel, or None for 0."""
    return keras.regularizers.L2(l2) if l2 else None


# The name of the default MLP's linear path from its input to its logits
# (build_default_mlp's linear_path), by which the stacked trainer and the
# prediction plans find it.
LINEAR_PATH = "linear_path"


def build_default_mlp(meta, hidden_layer_sizes, activation, dropout, seed=None, l2=0.0,
                      linear_path=False):
    """An MLP ending in one logit per label, biases set to the label priors.

    The first layer's initial weights are Glorot's (scaled to the input's
    size where :data:`SIZE_FIRST_LAYER` is on: :func:`first_layer_gain`).
    With a ``seed``, every initialiser and dropout layer gets its own seed
    drawn from it: the network, and the
    dropout masks it trains with, depend on nothing process-wide that another
    thread could draw from meanwhile. ``l2`` penalises every kernel (not the
    biases) by ``l2`` times its sum of squares, added to the mean loss.

    With ``linear_path`` (and at least one hidden layer), a ``Dense`` layer
    without bias, named :data:`LINEAR_PATH`, reads the input beside the
    hidden layers, and its outputs are added to the logits: a linear model
    per label trained with the network. Its Glorot draws come after every
    other layer's, so the rest of the network is drawn as without it.
    """
    seeds = layer_seeds(seed)
    prior = np.clip(meta["label_prior_"], 1e-3, 1 - 1e-3)
    inputs = keras.Input(shape=(meta["n_features_in_"],), name="features")
    hidden = inputs
    gain = first_layer_gain(meta)
    for depth, units in enumerate(hidden_layer_sizes):
        # GlorotUniform is VarianceScaling(1.0, "fan_avg", "uniform").
        initializer = keras.initializers.VarianceScaling(
            scale=gain if depth == 0 else 1.0, mode="fan_avg", distribution="uniform",
            seed=next(seeds))
        penalty = first_layer_l2(meta, l2) if depth == 0 else l2
        hidden = layers.Dense(units, activation=activation,
                              kernel_initializer=initializer,
                              kernel_regularizer=l2_regularizer(penalty))(hidden)
        if dropout > 0:
            hidden = layers.Dropout(dropout, seed=next(seeds))(hidden)
    outputs = layers.Dense(
        meta["n_labels_"],
        kernel_initializer=keras.initializers.GlorotUniform(seed=next(seeds)),
        bias_initializer=keras.initializers.Constant(logit(prior)),
        kernel_regularizer=l2_regularizer(l2),
        name="logits",
    )(hidden)
    if linear_path and hidden_layer_sizes:
        linear = layers.Dense(
            meta["n_labels_"], use_bias=False, name=LINEAR_PATH,
            kernel_initializer=keras.initializers.GlorotUniform(seed=next(seeds)),
            kernel_regularizer=l2_regularizer(first_layer_l2(meta, l2)))(inputs)
        outputs = layers.Add(name="with_linear_path")([outputs, linear])
    return keras.Model(inputs, outputs)


def build_model(model, meta, model_params, compile_params, default_params, params=None):
    """Return a fresh, uncompiled ``keras.Model`` for this fit; a model callable
    that takes them gets ``meta``, ``compile_kwargs`` and the estimator's
    ``params`` (``get_params()``), as scikeras passes them."""
    if model is None:
        if model_params:
            raise ValueError(
                "model__ parameters are only passed to a model callable; the "
                f"default MLP takes none, got {sorted(model_params)}. Use "
                "hidden_layer_sizes, activation and dropout instead."
            )
        return build_default_mlp(meta, **default_params)
    if isinstance(model, keras.Model):
        if model_params:
            raise ValueError(
                "model__ parameters need a model callable, but model is a "
                f"keras.Model instance; got {sorted(model_params)}."
            )
        return _single_tensors(keras.models.clone_model(model))
    built = _call_builder(model, meta, model_params, compile_params, params)
    if not isinstance(built, keras.Model):
        raise TypeError(
            f"The model callable must return a keras.Model, got {type(built).__name__}."
        )
    return _single_tensors(built)


def _single_tensors(model):
    """A functional model with its one input and one output unwrapped, and
    one output per label joined into one.

    ``keras.Model([inputs], [outputs])`` (as many tutorials write it) returns
    a one-element list when called symbolically, which the fold ensemble's
    averaging layer cannot take; the same layers with bare tensors can. A
    model of several outputs with the same sigmoid (or no) activation, such
    as one ``Dense(1, activation="sigmoid")`` head per label, gets its heads
    concatenated, in order, into one output of a column per unit.
    """
    if isinstance(model, keras.Sequential):
        return model
    try:  # a subclassed model has no symbolic inputs and outputs
        inputs, outputs = model.inputs, model.outputs
        listed = isinstance(model.output, (list, tuple)) or isinstance(
            model.input, (list, tuple))
    except (AttributeError, ValueError):
        return model
    if not inputs or not outputs or not listed:
        return model
    if len(outputs) > 1:
        heads = {_producer_activation(output) for output in outputs}
        if len(heads) != 1 or heads - {"sigmoid", "linear"} or any(
                len(output.shape) != 2 for output in outputs):
            return model  # refused, with the reason, by output_is_probability
        output = keras.layers.Concatenate(name="label_heads")(list(outputs))
    else:
        output = outputs[0]
    return keras.Model(inputs[0] if len(inputs) == 1 else inputs, output, name=model.name)


def _producer_activation(tensor):
    """The activation of the layer that made a symbolic tensor."""
    layer = tensor._keras_history[0]
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", "linear") if activation else "linear"


def _call_builder(build, meta, model_params, compile_params, params=None):
    signature = inspect.signature(build)
    accepts_any = any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()
    )
    kwargs = dict(model_params)
    given = (("meta", meta), ("compile_kwargs", compile_params), ("params", params))
    for name, value in given:
        if (accepts_any or name in signature.parameters) and \
                (value is not None or name != "params"):
            kwargs[name] = value
    name = getattr(build, "__name__", type(build).__name__)
    if not accepts_any:
        unknown = sorted(set(kwargs) - set(signature.parameters))
        if unknown:
            raise ValueError(
                f"The model callable {name}() does not accept the routed "
                f"parameters {['model__' + u for u in unknown]}; it accepts "
                f"{sorted(signature.parameters)}."
            )
    missing = [
        p.name for p in signature.parameters.values()
        if p.default is inspect.Parameter.empty and p.name not in kwargs
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    if missing:
        raise ValueError(
            f"The model callable {name}() requires {missing}, which nothing "
            f"passes to it: set {', '.join(f'model__{m}=...' for m in missing)} on "
            "the estimator (meta, compile_kwargs and params are passed by the "
            "estimator)."
        )
    return build(**kwargs)


def average_model(models, input_shape, from_probability):
    """One ``keras.Model`` whose output is the mean of the models'
    probabilities, for input samples of ``input_shape`` (``(n_features,)``
    for tabular X).

    Models that output logits (not ``from_probability``) get a sigmoid layer
    each before the mean (their logits' mean where
    :data:`AVERAGE_PROBABILITIES` is off). The models become its members as
    they are, marked uncompiled: a compiled member would carry its training
    loss into the saved model, which then fails to load. (A warm start
    compiles them again before training.) Only layers of ``keras.layers`` are
    added, so the ensemble saves and loads as its members do.
    """
    inputs = keras.Input(shape=tuple(input_shape), name="features")
    outputs = []
    for i, model in enumerate(models):
        model.compiled = False
        model.name = f"fold_{i}"
        output = model(inputs)
        if not from_probability and AVERAGE_PROBABILITIES:
            output = layers.Activation("sigmoid", name=f"fold_{i}_proba")(output)
        outputs.append(output)
    return keras.Model(inputs, layers.Average(name="mean")(outputs), name="ensemble")


def averages_probabilities(from_probability):
    """Whether an ensemble of members whose outputs are probabilities
    (``from_probability``) or logits outputs probabilities."""
    return from_probability or AVERAGE_PROBABILITIES


def output_is_probability(model, n_labels, input_shape, target_kind=None):
    """Check the output layout; True if it is probabilities, False if logits.

    Probabilities are one sigmoid per label, or a softmax over the classes of
    a multiclass target, over the columns of a ``"one-hot"`` indicator (one
    positive in every row), or over the two classes of a binary target (whose
    second unit is then the positive class). A subclassed model that has not
    been called yet has no symbolic outputs; it is built by a call on one
    sample of zeros, of ``input_shape``.
    """
    outputs = getattr(model, "outputs", None)
    if outputs is None:
        outputs = model(np.zeros((1, *input_shape), dtype=np.float32))
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    if len(outputs) != 1:
        raise ValueError(
            f"The model must have exactly one output, got {len(outputs)}: one unit per "
            "label, or (joined by the estimator) several outputs of sigmoid or linear "
            "units only, one column per label. Several softmax heads would be several "
            "multiclass targets: fit sklearn.multioutput.MultiOutputClassifier over "
            "this estimator, one column at a time."
        )
    name = last_activation(model)
    shape = (None, *tuple(outputs[0].shape)[1:])
    pair = target_kind == "binary" and name == "softmax" and shape == (None, 2)
    if (len(shape) != 2 or shape[-1] != n_labels) and not pair:
        raise ValueError(
            f"The model's output must have shape (None, {n_labels}), one unit "
            f"per label, got {shape}."
            + (" (A softmax over both classes of a binary target has 2 units.)"
               if target_kind == "binary" and name == "softmax" else "")
        )
    if name == "softmax" and shape[-1] == 1:
        raise ValueError(
            "The model's last layer is a softmax over one unit, which is always 1. "
            "Use Dense(1, activation='sigmoid') for a binary target, or a softmax "
            "over both classes, Dense(2, activation='softmax').")
    if name == "sigmoid" or (name == "softmax"
                             and target_kind in ("multiclass", "binary", "one-hot")):
        return True
    if name == "linear":
        return False
    if name == "softmax":
        raise ValueError(
            "The model's last layer uses activation 'softmax', whose outputs "
            "compete: it fits a single-label target (a 1-D y, or an indicator "
            "with exactly one positive in every row), where it trains with "
            "categorical cross-entropy. Multi-label targets need one "
            "independent sigmoid per label: use activation='sigmoid' or no "
            "activation (logits)."
        )
    raise ValueError(
        f"The model's last layer uses activation {name!r}; multi-label output "
        "needs one independent sigmoid per label: use activation='sigmoid' or "
        "no activation (logits)."
    )


def last_activation(model):
    """The name of the activation that ends ``model`` ("linear" if none); for
    an ensemble, that of its first fold network."""
    layer = model.layers[-1] if model.layers else None
    if isinstance(layer, keras.layers.Concatenate):  # heads joined by _single_tensors
        return _producer_activation(layer._inbound_nodes[0].input_tensors[0])
    if isinstance(layer, keras.layers.Average):
        members = [m for m in model.layers if isinstance(m, keras.Model)]
        return last_activation(members[0]) if members else "linear"
    if isinstance(layer, keras.Model):
        return last_activation(layer)
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", "linear") if activation else "linear"


def batches(X, batch_size):
    """Yield dense float32 row blocks of X; sparse X is densified per block."""
    for start in range(0, X.shape[0], batch_size):
        block = X[start : start + batch_size]
        if sp.issparse(block):
            block = block.toarray()
        yield np.asarray(block, dtype=np.float32)


def forward(model, X, batch_size=4096, plan=None):
    """Return the model's float64 outputs for X, computed block by block.

    With a ``plan`` from :func:`sklearn_mlk._keras._inference.dense_plan` the blocks
    run through NumPy (sparse blocks stay sparse); otherwise through the model.
    """
    if plan is not None:
        from .._plan import run_plan

        return run_plan(plan, X)  # in blocks of its own size
    if sp.issparse(X):
        # Densified blocks stay under 64 MiB, however wide X is.
        batch_size = max(1, min(batch_size, DENSE_BLOCK_VALUES // max(X.shape[1], 1)))
    return np.concatenate([
        to_numpy(model(block, training=False)).astype(np.float64)
        for block in batches(X, batch_size)
    ])


class SparseBatches(keras.utils.PyDataset):
    """Feeds a CSR matrix to ``Model.fit`` one densified batch at a time."""

    def __init__(self, X, Y, sample_weight, batch_size, seed, shuffle):
        super().__init__()
        self.X, self.Y, self.w = X, Y, sample_weight
        self.batch_size = batch_size
        self._rng = np.random.default_rng(seed)
        self._shuffle = shuffle
        self._order = np.arange(X.shape[0])
        self.on_epoch_end()

    def __len__(self):
        return -(-self.X.shape[0] // self.batch_size)

    def __getitem__(self, index):
        rows = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        X = self.X[rows].toarray().astype(np.float32, copy=False)
        Y = self.Y[rows]
        Y = Y.toarray() if sp.issparse(Y) else Y
        return X, Y, self.w[rows]

    def on_epoch_end(self):
        if self._shuffle:
            self._rng.shuffle(self._order)
