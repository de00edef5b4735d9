"""The compiled training loop: same training as Model.fit, reused across fits."""

import gc
import pathlib
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import sparse_products, tiny

from sklearn_mlk._training import _compiled, _loop

keras = pytest.importorskip("keras")
psutil = pytest.importorskip("psutil")

BACKEND = keras.backend.backend()
pytestmark = pytest.mark.backend("tensorflow", "jax", "torch")


def _compilations(loop):
    """How many times the loop compiled its training function (per shape on
    JAX, which pads batches so that one shape serves every fit; PyTorch runs
    eagerly and compiles nothing, which counts as once)."""
    if BACKEND == "tensorflow":
        return loop._epoch.experimental_get_tracing_count()
    if BACKEND == "jax":
        return loop._step._cache_size()
    return 1


class _Passive(keras.callbacks.Callback):
    """A callback that does nothing; its presence routes training to Model.fit."""


def _through_model_fit(**params):
    return tiny(callbacks=[_Passive()], **params)


@pytest.fixture(autouse=True)
def empty_cache():
    _compiled.clear()
    yield
    _compiled.clear()


@pytest.mark.parametrize("params", [
    dict(batch_size=200),  # one full batch per epoch
    dict(batch_size=32),  # ragged last batch
    dict(batch_size=32, class_weight="balanced", focal_gamma=1.0),
])
def test_same_training_as_model_fit(data, params):
    X, Y = data
    w = np.random.default_rng(0).uniform(0.5, 2.0, size=len(X))
    params = dict(params, epochs=4, fit__shuffle=False)
    compiled = tiny(**params).fit(X, Y, sample_weight=w)
    assert len(_compiled._cache) == 1
    reference = _through_model_fit(**params).fit(X, Y, sample_weight=w)
    np.testing.assert_allclose(compiled.history_["loss"], reference.history_["loss"],
                               rtol=1e-4)
    np.testing.assert_allclose(compiled.predict_proba(X), reference.predict_proba(X),
                               atol=1e-5)


@pytest.mark.parametrize("patience", [2, "auto"])
def test_same_early_stopping_as_model_fit(data, patience):
    X, Y = data
    params = dict(early_stopping=True, n_iter_no_change=patience, epochs=60,
                  learning_rate=0.05, fit__shuffle=False, batch_size=40)
    compiled = tiny(**params).fit(X, Y)
    reference = _through_model_fit(**params).fit(X, Y)
    assert len(compiled.history_["val_loss"]) == len(reference.history_["val_loss"]) < 60
    best = int(np.argmin(compiled.history_["val_loss"])) + 1
    waited = patience if patience != "auto" else min(10, max(5, best))
    assert len(compiled.history_["val_loss"]) == best + waited
    np.testing.assert_allclose(compiled.history_["val_loss"],
                               reference.history_["val_loss"], rtol=1e-4)
    np.testing.assert_allclose(compiled.predict_proba(X), reference.predict_proba(X),
                               atol=1e-5)


@pytest.mark.smoke
def test_repeated_fits_reuse_one_traced_loop(data, monkeypatch):
    X, Y = data
    for seed in range(3):
        tiny(random_state=seed).fit(X, Y)
    sparse_products(monkeypatch)  # X counts as sparse
    tiny(random_state=0).fit(sp.csr_matrix(X), Y)
    (loop,) = _compiled._cache.values()
    assert _compilations(loop) == 1
    if BACKEND == "tensorflow":  # sparse batches: a function of their own
        assert loop._sparse_step.experimental_get_tracing_count() == 1
    # Positive weights vary with the data, and so does the number of rows;
    # neither makes a new loop or a new compilation.
    tiny(class_weight="balanced").fit(X[:100], Y[:100])
    tiny(class_weight="balanced").fit(X[100:], Y[100:])
    tiny(class_weight="balanced").fit(X[:37], Y[:37])
    assert len(_compiled._cache) == 1 and _compilations(loop) == 1
    # Another architecture gets its own loop.
    tiny(hidden_layer_sizes=(5,)).fit(X, Y)
    assert len(_compiled._cache) == 2


def _sequential(meta, units=8):
    return keras.Sequential([
        keras.Input((meta["n_features_in_"],)),
        keras.layers.Dense(units, activation="relu"),
        keras.layers.Dense(meta["n_labels_"], activation="sigmoid"),
    ])


@pytest.mark.parametrize("kind", ["sequential", "instance"])
def test_sequential_models_and_instances_reuse_one_loop(data, monkeypatch, kind):
    X, Y = data
    fell_back = []
    monkeypatch.setattr(keras.Model, "fit", lambda *a, **k: fell_back.append(1))
    model = _sequential if kind == "sequential" else _sequential({"n_features_in_": 10,
                                                                 "n_labels_": 4})
    params = dict(model=model, epochs=4, fit__shuffle=False)
    first = tiny(**params).fit(X, Y)
    for seed in range(2):
        tiny(**dict(params, random_state=seed + 1)).fit(X, Y)
    tiny(**params).fit(sp.csr_matrix(X), Y)  # sparse X: the same loop
    assert not fell_back
    (loop,) = _compiled._cache.values()
    assert _compilations(loop) == 1
    assert loop.sparse_input == (BACKEND == "tensorflow")
    monkeypatch.undo()
    reference = _through_model_fit(**params).fit(X, Y)
    np.testing.assert_allclose(first.predict_proba(X), reference.predict_proba(X),
                               atol=1e-5)


def test_the_cached_copy_is_private(data):
    X, Y = data
    first = tiny(random_state=0).fit(X, Y)
    before = first.predict_proba(X)
    tiny(random_state=1, epochs=10).fit(X, Y)
    np.testing.assert_array_equal(first.predict_proba(X), before)
    (loop,) = _compiled._cache.values()
    assert loop.model is not first.model_


def test_reproducible_with_dropout_whether_or_not_cached(data):
    X, Y = data
    params = dict(dropout=0.5, random_state=3, epochs=3)
    cold = tiny(**params).fit(X, Y).predict_proba(X)  # traces the loop
    warm = tiny(**params).fit(X, Y).predict_proba(X)  # reuses it
    np.testing.assert_array_equal(cold, warm)
    other = tiny(**dict(params, random_state=4)).fit(X, Y).predict_proba(X)
    assert np.abs(other - warm).max() > 1e-4


def test_fits_in_parallel_threads_match_sequential_fits(data):
    X, Y = data
    seeds = [0, 1, 2, 3]
    sequential = [tiny(random_state=s).fit(X, Y).predict_proba(X) for s in seeds]
    results = {}

    def fit(seed):
        results[seed] = tiny(random_state=seed).fit(X, Y).predict_proba(X)

    threads = [threading.Thread(target=fit, args=(s,)) for s in seeds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for seed, expected in zip(seeds, sequential):
        np.testing.assert_allclose(results[seed], expected, atol=1e-6)


def test_verbose_prints_one_line_per_epoch(data, capsys):
    X, Y = data
    tiny(epochs=3, verbose=2, early_stopping=True).fit(X, Y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Epoch")]
    assert len(lines) == 3
    assert lines[-1].startswith("Epoch 3/3 - loss: ") and "val_loss: " in lines[-1]


def test_subclassed_models_and_callbacks_train_through_model_fit(data):
    X, Y = data

    class Custom(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(Y.shape[1])

        def call(self, inputs):
            return self.dense(inputs)

    clf = tiny(model=lambda: Custom()).fit(X, Y)
    assert _compiled._cache == {}
    assert clf.predict_proba(X).shape == Y.shape
    _through_model_fit().fit(X, Y)
    assert _compiled._cache == {}


def _unregistered_activation(x):
    return x * keras.ops.sigmoid(x)


def test_networks_that_cannot_be_copied_train_through_model_fit(data):
    X, Y = data

    def build(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        hidden = keras.layers.Dense(8, activation=_unregistered_activation)(inputs)
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(hidden))

    compiled = tiny(model=build, fit__shuffle=False).fit(X, Y)
    assert _compiled._cache == {}
    reference = _through_model_fit(model=build, fit__shuffle=False).fit(X, Y)
    np.testing.assert_allclose(compiled.predict_proba(X), reference.predict_proba(X),
                               atol=1e-6)


def test_memory_stays_flat_over_repeated_fits(data):
    """Fits through Model.fit grew by about 5 MB each; the bound is generous."""
    X, Y = data
    process = psutil.Process()
    for _ in range(5):
        tiny(hidden_layer_sizes=(32,), epochs=5).fit(X, Y)
    gc.collect()
    before = process.memory_info().rss
    for seed in range(40):
        tiny(hidden_layer_sizes=(32,), epochs=5, random_state=seed).fit(X, Y)
    gc.collect()
    growth_mb = (process.memory_info().rss - before) / 2**20
    assert growth_mb < 40, f"resident memory grew by {growth_mb:.1f} MB over 40 fits"


@pytest.mark.smoke
@pytest.mark.parametrize("sparse_enough", [True, False])
def test_sparse_batches_train_as_dense_ones(data, monkeypatch, sparse_enough):
    X, Y = data
    # X (95% non-zero) counts as sparse enough, or not, for sparse products.
    sparse_products(monkeypatch)
    if not sparse_enough:
        monkeypatch.setattr(_loop, "SPARSE_BATCH_DENSITY", 0.5)
    params = dict(batch_size=32, fit__shuffle=False, early_stopping=True, epochs=4)
    dense = tiny(**params).fit(X, Y)
    sparse = tiny(**params).fit(sp.csr_matrix(X), Y)
    (loop,) = _compiled._cache.values()
    # On TensorFlow the first Dense layer can multiply sparse batches, and
    # does where X is sparse enough.
    assert loop.sparse_input == (BACKEND == "tensorflow")
    assert loop.sparse_batches == (BACKEND == "tensorflow" and sparse_enough)
    np.testing.assert_allclose(sparse.history_["val_loss"], dense.history_["val_loss"],
                               rtol=1e-5)
    np.testing.assert_allclose(sparse.predict_proba(X), dense.predict_proba(X), atol=1e-5)
    if not sparse_enough:  # densified once, X trains exactly as dense X
        np.testing.assert_array_equal(sparse.history_["loss"], dense.history_["loss"])
        np.testing.assert_array_equal(sparse.predict_proba(X), dense.predict_proba(X))


@pytest.mark.backend("tensorflow")
def test_sparse_enough_batches_are_multiplied_sparse(data, monkeypatch):
    X, Y = data
    X = X * (np.random.default_rng(0).random(X.shape) < 0.05)  # about 5% non-zero
    sparse = sp.csr_matrix(X)
    density = sparse.nnz / np.prod(X.shape)
    weights = X.shape[1] * 8  # of the first layer of tiny()
    steps = []
    for cutoff, floor, multiplied in [(density * 1.01, weights, True),
                                      (density, weights, False),
                                      (density * 1.01, weights + 1, False)]:
        monkeypatch.setattr(_loop, "SPARSE_BATCH_DENSITY", cutoff)
        monkeypatch.setattr(_loop, "SPARSE_READER_WEIGHTS", floor)
        tiny(batch_size=32).fit(sparse, Y)
        (loop,) = _compiled._cache.values()
        assert loop.sparse_reader_weights == weights
        assert loop.sparse_batches == multiplied
        steps.append(loop._sparse_step.experimental_get_tracing_count())
    assert steps == [1, 1, 1]  # traced by the first fit only


def test_large_networks_train_in_place_without_a_cached_copy(data, monkeypatch):
    X, Y = data
    monkeypatch.setattr(_compiled, "_CACHE_MAX_VALUES", 10)
    params = dict(epochs=3, fit__shuffle=False)
    in_place = tiny(**params).fit(X, Y)
    assert _compiled._cache == {}
    reference = _through_model_fit(**params).fit(X, Y)
    np.testing.assert_allclose(in_place.predict_proba(X), reference.predict_proba(X),
                               atol=1e-5)


def _fused_class():
    if BACKEND == "torch":
        from sklearn_mlk._training._loop_torch import ForeachAdam

        return ForeachAdam
    from sklearn_mlk._training._fused_adam import FusedAdam

    return FusedAdam


@pytest.mark.backend("tensorflow", "torch")
def test_plain_adam_takes_the_fused_update(data):
    X, Y = data
    tiny().fit(X, Y)
    (loop,) = _compiled._cache.values()
    assert isinstance(loop.optimizer, _fused_class())


@pytest.mark.parametrize("params", [
    dict(optimizer__amsgrad=True),
    dict(optimizer__clipnorm=0.1),
    dict(optimizer__weight_decay=0.01),
    dict(optimizer="sgd"),
])
def test_other_optimizers_keep_keras_update_in_the_loop(data, params):
    X, Y = data
    params = dict(params, epochs=3, fit__shuffle=False, learning_rate=0.05)
    compiled = tiny(**params).fit(X, Y)
    (loop,) = _compiled._cache.values()
    assert isinstance(loop.optimizer, keras.optimizers.Optimizer)
    assert not isinstance(loop.optimizer, _fused_class())
    reference = _through_model_fit(**params).fit(X, Y)
    np.testing.assert_allclose(compiled.predict_proba(X), reference.predict_proba(X),
                               atol=1e-5)


@pytest.mark.backend("tensorflow", "torch")
def test_fused_adam_equals_keras_adam(data, monkeypatch):
    import importlib

    X, Y = data
    params = dict(epochs=5, batch_size=32, learning_rate=0.03, fit__shuffle=False)
    sparse_products(monkeypatch)  # sparse gradients
    fused = tiny(**params).fit(sp.csr_matrix(X), Y)
    assert isinstance(next(iter(_compiled._cache.values())).optimizer, _fused_class())
    _compiled.clear()
    loop_module = importlib.import_module(f"sklearn_mlk._training._loop_{BACKEND}")
    monkeypatch.setattr(loop_module, "fusable", lambda *args: False)  # Keras's Adam
    plain = tiny(**params).fit(sp.csr_matrix(X), Y)
    np.testing.assert_allclose(fused.history_["loss"], plain.history_["loss"], rtol=1e-5)
    for a, b in zip(fused.model_.get_weights(), plain.model_.get_weights()):
        np.testing.assert_allclose(a, b, atol=5e-5)  # float32 rounding of w + update


def test_only_plain_adam_is_fusable():
    from sklearn_mlk._training._fused_adam import fusable

    variables = [keras.Variable(np.zeros((3, 2), np.float32))]
    assert fusable(keras.optimizers.Adam(0.01), variables)
    assert fusable(keras.optimizers.get("adam"), variables)  # PyTorch's own subclass
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, 10, 0.9)
    assert not fusable(keras.optimizers.Adam(schedule), variables)
    assert not fusable(keras.optimizers.Adam(0.01, use_ema=True), variables)
    assert not fusable(keras.optimizers.AdamW(0.01), variables)
    assert not fusable(keras.optimizers.Adam(0.01),
                       [keras.Variable(np.zeros(3, np.float16), dtype="float16")])


@pytest.mark.backend("torch")
def test_plain_chains_run_as_direct_torch_steps(data):
    from sklearn_mlk._training import _loop_torch

    X, Y = data
    tiny(dropout=0.3, hidden_layer_sizes=(8, 6)).fit(X, Y)
    (loop,) = _compiled._cache.values()
    assert [type(step).__name__ for step in loop._chain].count("_Dropout") == 2
    # The stacked fold networks (Dense, Reshape, Dropout, EinsumDense).
    _compiled.clear()
    tiny(threshold="f1", threshold_cv=3, refit=False, dropout=0.3).fit(X, Y)
    (loop,) = _compiled._cache.values()
    assert loop.members == 3 and len(loop._chain) == 4

    def normalized(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        hidden = keras.layers.LayerNormalization()(keras.layers.Dense(8)(inputs))
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(hidden))

    _compiled.clear()
    params = dict(model=normalized, fit__shuffle=False, epochs=3)
    compiled = tiny(**params).fit(X, Y)
    (loop,) = _compiled._cache.values()
    assert loop._chain is None  # called as a Keras model
    reference = _through_model_fit(**params).fit(X, Y)
    np.testing.assert_allclose(compiled.predict_proba(X), reference.predict_proba(X),
                               atol=1e-5)
    # Steps that do not reproduce the network are refused.
    model = compiled.model_
    steps = [_loop_torch._step(layer) for layer in model.layers[1:2]]
    assert not _loop_torch._reproduces(steps, model)

    def reshaped(meta):  # a Dense layer on the last axis of a 3-D tensor
        return keras.Sequential([
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Reshape((2, meta["n_features_in_"] // 2)),
            keras.layers.Dense(4, activation="tanh"),
            keras.layers.Reshape((8,)),
            keras.layers.Dropout(0.2, seed=1),  # unseeded, Keras draws from torch's global generator
            keras.layers.Dense(meta["n_labels_"]),
        ])

    _compiled.clear()
    params = dict(model=reshaped, fit__shuffle=False, epochs=3)
    compiled = tiny(**params).fit(X, Y)
    (loop,) = _compiled._cache.values()
    assert loop._chain is not None and len(loop._chain) == 5
    reference = _through_model_fit(**params).fit(X, Y)
    np.testing.assert_allclose(compiled.predict_proba(X), reference.predict_proba(X),
                               atol=1e-5)


@pytest.mark.backend("torch")
def test_direct_dropout_draws_the_masks_of_model_fit(data):
    X, Y = data
    params = dict(dropout=0.4, hidden_layer_sizes=(8, 6), epochs=3, fit__shuffle=False,
                  early_stopping=True, n_iter_no_change=5)
    compiled = tiny(**params).fit(X, Y)
    (loop,) = _compiled._cache.values()
    assert len(loop._dropouts) == 2
    reference = _through_model_fit(**params).fit(X, Y)
    np.testing.assert_allclose(compiled.history_["loss"], reference.history_["loss"],
                               rtol=1e-5)
    np.testing.assert_allclose(compiled.predict_proba(X), reference.predict_proba(X),
                               atol=1e-5)
    # The seed states advanced by the same number of draws.
    for layer, other in zip(compiled.model_.layers, reference.model_.layers):
        if isinstance(layer, keras.layers.Dropout):
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(layer.seed_generator.state.value),
                keras.ops.convert_to_numpy(other.seed_generator.state.value))


def test_weight_regularizers_add_to_the_loss_as_in_model_fit(data):
    X, Y = data

    def regularized(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        hidden = keras.layers.Dense(8, activation="relu",
                                    kernel_regularizer=keras.regularizers.L2(0.05))(inputs)
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(hidden))

    params = dict(model=regularized, fit__shuffle=False, epochs=3, learning_rate=0.05)
    compiled = tiny(**params).fit(X, Y)
    assert len(_compiled._cache) == 1
    reference = _through_model_fit(**params).fit(X, Y)
    plain = tiny(**dict(params, model=None)).fit(X, Y)
    # The penalty is in the loss: above the unregularized network's.
    assert compiled.history_["loss"][0] > plain.history_["loss"][0] + 0.01
    np.testing.assert_allclose(compiled.history_["loss"], reference.history_["loss"],
                               rtol=1e-4)
    # Adam's steps at learning rate 0.05 carry float32 rounding (PyTorch's
    # multi-tensor update orders its operations differently).
    np.testing.assert_allclose(compiled.predict_proba(X), reference.predict_proba(X),
                               atol=5e-5)


@pytest.mark.backend("torch")
def test_small_networks_train_on_one_torch_thread(data, monkeypatch):
    import torch

    from sklearn_mlk._keras import _backend
    from sklearn_mlk._training import _loop_torch

    X, Y = data
    cores = torch.get_num_threads()
    monkeypatch.setattr(_backend, "_torch_cores", cores)  # as if OMP_NUM_THREADS were unset
    seen = []
    epoch = _loop_torch.TorchLoop.epoch

    def spy(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return epoch(self, *args, **kwargs)

    monkeypatch.setattr(_loop_torch.TorchLoop, "epoch", spy)
    tiny(epochs=2).fit(X, Y)
    assert seen == [1, 1]
    assert torch.get_num_threads() == cores
    seen.clear()
    monkeypatch.setattr(_backend, "SMALL_TORCH_NETWORK", 10)  # every network is large
    tiny(epochs=2).fit(X, Y)
    assert seen == [cores, cores]


def test_l2_penalties_of_any_strength_share_one_compiled_loop(data):
    """The loop adds an L2 kernel penalty at each fit's strength: fits that
    differ only in it reuse one compiled copy, and each trains as Model.fit
    does with that penalty."""
    X, Y = data

    def regularized(meta, strength):
        inputs = keras.Input((meta["n_features_in_"],))
        hidden = keras.layers.Dense(
            8, activation="relu",
            kernel_regularizer=keras.regularizers.L2(strength))(inputs)
        return keras.Model(inputs, keras.layers.Dense(
            meta["n_labels_"], kernel_regularizer=keras.regularizers.L2(strength))(hidden))

    losses = []
    for strength in (0.05, 0.002):
        params = dict(model=regularized, model__strength=strength, fit__shuffle=False,
                      epochs=3, learning_rate=0.05)
        compiled = tiny(**params).fit(X, Y)
        reference = _through_model_fit(**params).fit(X, Y)
        np.testing.assert_allclose(compiled.history_["loss"], reference.history_["loss"],
                                   rtol=1e-4)
        # Adam's steps at 0.05 carry float32 rounding, which the penalty's
        # gradient grows (PyTorch's multi-tensor update orders it differently).
        np.testing.assert_allclose(compiled.predict_proba(X),
                                   reference.predict_proba(X), atol=5e-4)
        losses.append(compiled.history_["loss"][0])
    assert len(_compiled._cache) == 1
    (loop,) = _compiled._cache.values()
    assert _compilations(loop) == 1
    assert losses[0] > losses[1] + 0.01  # the stronger penalty is in the loss


@pytest.mark.parametrize("threshold", [0.5, "f1"])
def test_alpha_penalises_the_default_mlp_as_model_fit_does(data, threshold):
    """alpha puts an L2 penalty of alpha / (2 n L) on every kernel of the
    default MLP (of its fold networks, stacked side by side, too), which
    shrinks the weights; trained as Model.fit trains it (one network)."""
    from sklearn_mlk._keras._backend import to_numpy

    X, Y = data
    params = dict(epochs=4, fit__shuffle=False, threshold=threshold,
                  hidden_layer_sizes=(16,), learning_rate=0.05)
    plain = tiny(**params).fit(X, Y)
    penalised = tiny(alpha=5.0, **params).fit(X, Y)
    kernels = [layer for layer in penalised.model_.layers
               if isinstance(layer, keras.layers.Dense)] or [
        layer for member in penalised.model_.layers if isinstance(member, keras.Model)
        for layer in member.layers if isinstance(layer, keras.layers.Dense)]
    assert kernels and all(type(layer.kernel_regularizer) is keras.regularizers.L2
                           for layer in kernels)
    rows = len(X) if threshold == 0.5 else len(X) - len(X) // 5
    expected = 5.0 / (2 * rows * Y.shape[1])
    assert float(kernels[0].kernel_regularizer.l2) == pytest.approx(expected, rel=1e-6)

    def norm(model):
        return sum(float((to_numpy(v) ** 2).sum()) for v in model.trainable_variables
                   if len(v.shape) == 2)

    assert norm(penalised.model_) < 0.9 * norm(plain.model_)
    if threshold == 0.5:
        reference = _through_model_fit(alpha=5.0, **params).fit(X, Y)
        np.testing.assert_allclose(penalised.history_["loss"], reference.history_["loss"],
                                   rtol=1e-4)
        assert not any(type(getattr(layer, "kernel_regularizer", None))
                       is keras.regularizers.L2 for layer in tiny().fit(X, Y).model_.layers)
    with pytest.raises(ValueError, match="alpha=1.0 penalises the default MLP"):
        tiny(alpha=1.0, model=lambda meta: keras.Sequential(
            [keras.Input((meta["n_features_in_"],)),
             keras.layers.Dense(meta["n_labels_"])])).fit(X, Y)


def _dense_layers(model):
    found = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    return found or [layer for member in model.layers if isinstance(member, keras.Model)
                     for layer in member.layers if isinstance(layer, keras.layers.Dense)]


def test_alpha_auto_penalises_1d_targets_as_logistic_regression_does(data):
    """alpha="auto" is 1 (LogisticRegression's C=1) on a binary or multiclass
    target, over the rows and outputs the network trains on; 0 on a
    multi-label target, where an explicit alpha still applies."""
    from sklearn_mlk._training._fit import AUTO_ALPHA

    X, Y = data
    y_multiclass = Y.argmax(axis=1)
    for y, outputs in ((Y[:, 0], 1), (y_multiclass, len(np.unique(y_multiclass)))):
        layers = _dense_layers(tiny().fit(X, y).model_)
        strengths = [float(layer.kernel_regularizer.l2) for layer in layers]
        assert strengths == pytest.approx(
            [AUTO_ALPHA / (2 * len(X) * outputs)] * len(layers), rel=1e-6)
    assert not any(layer.kernel_regularizer for layer in
                   _dense_layers(tiny().fit(X, Y).model_))
    assert not any(layer.kernel_regularizer for layer in
                   _dense_layers(tiny(alpha=0.0).fit(X, Y[:, 0]).model_))
    layers = _dense_layers(tiny(alpha=2.0).fit(X, Y).model_)
    assert float(layers[0].kernel_regularizer.l2) == pytest.approx(
        2.0 / (2 * len(X) * Y.shape[1]), rel=1e-6)


def test_alpha_auto_leaves_a_model_callables_network_alone(data):
    X, Y = data
    clf = tiny(model=lambda meta: keras.Sequential(
        [keras.Input((meta["n_features_in_"],)), keras.layers.Dense(meta["n_outputs_"])]))
    clf.fit(X, Y[:, 0])  # "auto" is no request for a penalty: no error
    assert not any(layer.kernel_regularizer for layer in _dense_layers(clf.model_))


@pytest.mark.parametrize("threshold", [0.5, "f1"])
def test_a_study_can_scale_the_first_layers_penalty_to_the_input(data, threshold,
                                                                 monkeypatch):
    """With SCALE_PENALTY_TO_INPUT (a study's switch, off by default), the
    first layer's penalty is alpha's divided by the layer's gain, in the
    single network and in the stacked fold networks alike; later layers keep
    alpha's."""
    from sklearn_mlk._keras import _network
    from sklearn_mlk._training import _stacked

    X, Y = data
    X = X / 100.0  # small values: sized to them, the first layer is drawn wider
    monkeypatch.setattr(_network, "SIZE_FIRST_LAYER", True)
    built = []
    original = _stacked.stack
    monkeypatch.setattr(_stacked, "stack",
                        lambda *a, **k: built.append(original(*a, **k)) or built[-1])
    params = dict(epochs=1, threshold=threshold, alpha=2.0)
    penalties = {}
    for scaled in (False, True):
        monkeypatch.setattr(_network, "SCALE_PENALTY_TO_INPUT", scaled)
        built.clear()
        clf = tiny(**params).fit(X, Y)
        networks = built or [clf.model_]
        penalties[scaled] = [[float(layer.kernel_regularizer.l2) for layer in net.layers
                              if getattr(layer, "kernel_regularizer", None)]
                             for net in networks]
    (plain,), (scaled,) = penalties[False], penalties[True]
    assert plain[0] == plain[1]
    # Rows this small have their norm counted as one feature's, which caps
    # the gain at the number of features.
    assert plain[0] / scaled[0] == pytest.approx(X.shape[1])
    assert scaled[1:] == plain[1:]


def test_auto_patience_is_the_best_epoch_from_seven_to_ten():
    from sklearn_mlk._tuning import patience

    assert [patience("auto", best) for best in (1, 6, 7, 8, 9, 10, 11, 40)] == \
        [7, 7, 7, 8, 9, 10, 10, 10]
    assert patience(3, 40) == patience(3, 1) == 3


def test_the_docstring_states_the_auto_patience():
    from sklearn_mlk import KerasMultiLabelClassifier
    from sklearn_mlk._tuning import AUTO_PATIENCE

    floor, ceiling = AUTO_PATIENCE
    doc = " ".join(KerasMultiLabelClassifier.__doc__.split())
    assert f"at least {floor} and at most {ceiling}: a network at its best after 3 " \
        f"epochs stops after {3 + floor} (rather than 13" in doc
    assert KerasMultiLabelClassifier().n_iter_no_change == "auto"
    docs = pathlib.Path(__file__).resolve().parents[2] / "docs" / "guide"
    for page in ("speed.md", "plots.md"):
        text = " ".join((docs / page).read_text().split())
        assert f"{floor} to {ceiling}" in text, page


class _ScriptedLoop(_loop.Loop):
    """A loop whose members' validation losses follow given curves."""

    def __init__(self, curves):
        self.curves, self.members = np.asarray(curves, dtype=float), len(curves)
        self.epochs_run = 0

    def train(self, rng, batch_size, shuffle):
        self.epochs_run += 1
        return np.zeros(self.members)

    def validate(self):
        return self.curves[:, self.epochs_run - 1], 0.0

    def values(self):
        return [np.zeros(1)]

    def assign(self, values):
        pass

    def end(self, model):
        pass


@pytest.mark.parametrize("patience, expected", [("auto", [7, 16, 40, 8]),
                                                 (10, [12, 18, 40, 19])])
def test_each_stacked_member_waits_its_own_patience(patience, expected, monkeypatch):
    from sklearn_mlk import _tuning

    monkeypatch.setattr(_tuning, "AUTO_PATIENCE", (5, 10))
    epochs = 45
    steady = np.linspace(1.0, 0.5, 30)
    curves = [
        [1.0, 0.5] + [0.6] * (epochs - 2),  # best at 2
        [*np.linspace(1.0, 0.7, 7), 0.5] + [0.6] * (epochs - 8),  # best at 8
        [*steady, *[0.6] * (epochs - 30)],  # improving until epoch 30
        [1.0, 0.9, 0.5] + [0.6] * 5 + [0.4] + [0.6] * (epochs - 9),  # 3, then 9
    ]
    loop = _ScriptedLoop(curves)
    members = _loop.Members.of_rows(np.ones(4), np.ones(4), [None])
    histories = loop.run_epochs(None, loop, np.ones(4), np.ones(4), epochs=epochs,
                                batch_size=1, patience=patience, shuffle=False,
                                verbose=0, seed=0, members=members)
    assert [len(history["val_loss"]) for history in histories] == expected


def test_auto_patience_stops_each_fold_network_after_its_own_best_epoch(data):
    from sklearn_mlk._tuning import patience

    X, Y = data
    clf = tiny(threshold="f1", threshold_cv=3, early_stopping=True, n_iter_no_change="auto",
               epochs=40, learning_rate=0.05, hidden_layer_sizes=(16,)).fit(X, Y)
    lengths = []
    for i in range(3):
        curve = clf.history_[f"fold_{i}_val_loss"]
        best = int(np.argmin(curve)) + 1
        assert len(curve) == min(40, best + patience("auto", best))
        lengths.append(len(curve))
    assert min(lengths) < 40  # some network stopped early


def test_validation_rows_are_laid_out_by_the_member_they_validate():
    owner = np.array([2, 0, 2, 1, 2, 0])
    X = np.arange(12, dtype=float).reshape(6, 2)
    Y = np.eye(6)[:, :3]
    w = np.arange(18, dtype=np.float32).reshape(6, 3)
    Xk, Yk, wk = _loop.by_member(X, Y, w, owner, 3)
    assert Xk.shape == (3, 3, 2) and Yk.shape == (3, 3, 3) and wk.shape == (3, 3)
    assert Xk.dtype == Yk.dtype == wk.dtype == np.float32
    # member 0 validates rows 1 and 5, member 1 row 3, member 2 rows 0, 2 and 4
    np.testing.assert_array_equal(Xk[:, 2], X[[0, 2, 4]])
    np.testing.assert_array_equal(Xk[:2, 0], X[[1, 5]])
    np.testing.assert_array_equal(Yk[:1, 1], Y[[3]])
    np.testing.assert_array_equal(wk, [[3, 10, 2], [15, 0, 8], [0, 0, 14]])  # w[i, owner[i]]
    # the padding is zeros, and weighs nothing
    assert not Xk[2, 0].any() and not Xk[1:, 1].any() and not Yk[1:, 1].any()


def test_each_row_has_an_owner_only_where_it_validates_one_member():
    folds = np.array([[False, True], [True, False], [True, False]])
    np.testing.assert_array_equal(_loop.Members(folds, []).owner, [0, 1, 1])
    # a row that validates no member (it trains both), or both
    for row in ([True, True], [False, False]):
        assert _loop.Members(np.vstack([folds, row]), []).owner is None


def _validations(monkeypatch):
    """Record, for every validation pass, whether its rows were laid out by member."""
    seen = []
    original = _loop.Loop.validation_totals

    def spy(self, validation):
        seen.append(validation[-1])
        return original(self, validation)

    monkeypatch.setattr(_loop.Loop, "validation_totals", spy)
    return seen


@pytest.mark.parametrize("hidden, dropout", [((8,), 0.2), ((8, 6), 0.0)])
def test_stacked_members_validate_on_their_own_rows_as_on_all(data, monkeypatch, hidden,
                                                              dropout):
    """Each member computes its own validation rows only, and its losses,
    stopping epochs and weights are those of the pass over every row."""
    X, Y = data
    params = dict(hidden_layer_sizes=hidden, dropout=dropout, threshold="f1",
                  threshold_cv=4, refit=False, epochs=30, learning_rate=0.05,
                  early_stopping=True, n_iter_no_change=3)
    seen = _validations(monkeypatch)
    own = tiny(**params).fit(X, Y)
    assert seen and all(seen)
    seen.clear()
    plain = _loop.Members.__init__

    def without_owner(self, mask, parts):
        plain(self, mask, parts)
        self.owner = None

    monkeypatch.setattr(_loop.Members, "__init__", without_owner)
    _compiled.clear()
    every = tiny(**params).fit(X, Y)
    assert seen and not any(seen)
    for j in range(4):
        key = f"fold_{j}_val_loss"
        assert len(own.history_[key]) == len(every.history_[key])
        np.testing.assert_allclose(own.history_[key], every.history_[key], rtol=1e-5)
    np.testing.assert_allclose(own.predict_proba(X), every.predict_proba(X), atol=1e-6)


def test_only_a_stacked_network_runs_members_on_their_own_rows():
    from sklearn_mlk._training import _stacked

    def member(seed):
        inputs = keras.Input((5,))
        hidden = keras.layers.Dense(4, activation="relu")(inputs)
        return keras.Model(inputs, keras.layers.Dense(3)(hidden))

    members = [member(seed) for seed in range(2)]
    stacked = _stacked.stack(members, "relu", 0.5, seed=0)
    assert _stacked.own_rows_ready(stacked)
    assert not _stacked.own_rows_ready(members[0])
    # member j's outputs on its own rows are the stacked model's at [:, j]
    x = np.random.default_rng(0).normal(size=(7, 2, 5)).astype(np.float32)
    got = keras.ops.convert_to_numpy(_stacked.own_rows_outputs(stacked, x))
    for j in range(2):
        expected = keras.ops.convert_to_numpy(stacked(x[:, j], training=False))[:, j]
        np.testing.assert_allclose(got[:, j], expected, rtol=1e-5, atol=1e-6)
        alone = keras.ops.convert_to_numpy(members[j](x[:, j]))
        np.testing.assert_allclose(got[:, j], alone, rtol=1e-5, atol=1e-6)


def test_member_penalties_are_each_members_own_and_add_up_to_the_whole():
    rng = np.random.default_rng(0)
    first = rng.normal(size=(5, 3 * 4)).astype(np.float32)  # 3 members of 4 units
    later = rng.normal(size=(3, 4, 2)).astype(np.float32)  # a kernel per member
    got = keras.ops.convert_to_numpy(_loop.member_penalties(
        [keras.ops.convert_to_tensor(first), keras.ops.convert_to_tensor(later)],
        [0.5, 2.0], [(1, 4), (0, 1)], 3))
    expected = [0.5 * np.sum(first[:, 4 * j : 4 * j + 4] ** 2) + 2.0 * np.sum(later[j] ** 2)
                for j in range(3)]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(got.sum(), 0.5 * np.sum(first ** 2) + 2.0 * np.sum(later ** 2),
                               rtol=1e-6)


def _own_losses(clf, X, Y, masks, k):
    """Each fold network's cross-entropy on the rows it held out, and its own
    penalty as the stacked loop counts it: its layers' L2 scaled by the
    stacked ensemble's ``(k - 1) / k`` (``_trainer.stacked_l2``)."""
    from sklearn_mlk._training._losses import weighted_binary_crossentropy

    loss = weighted_binary_crossentropy(np.ones(Y.shape[1]), from_logits=True)
    found = []
    for j in range(k):
        (member,) = [layer for layer in clf.model_.layers if layer.name == f"fold_{j}"]
        held = ~masks[0][:, j]
        logits = member(X[held].astype(np.float32))
        cross_entropy = float(np.mean(keras.ops.convert_to_numpy(loss(Y[held], logits))))
        penalty = sum(float(keras.ops.convert_to_numpy(v)) for v in member.losses)
        found.append((cross_entropy, penalty * (k - 1) / k))
    return found


@pytest.mark.smoke
@pytest.mark.parametrize("in_place", [False, True])
def test_each_stacked_member_stops_on_its_own_penalty(data, monkeypatch, in_place):
    """With an L2 penalty, a fold network's validation loss is its own
    cross-entropy plus its own penalty, not the penalty of every member:
    at its best epoch, the loss it reports is what its kept weights give.
    A stacked network too large to copy for the cache trains on an uncached
    copy and reports the same."""
    from sklearn_mlk._training import _trainer

    X, Y = data
    masks = []
    train_members = _compiled.train_members

    def spy(model, loss, X, Y, w, mask, **kwargs):
        masks.append(mask.copy())
        return train_members(model, loss, X, Y, w, mask, **kwargs)

    monkeypatch.setattr(_compiled, "train_members", spy)
    if in_place:
        monkeypatch.setattr(_compiled, "_CACHE_MAX_VALUES", 10)
    assert _trainer.Trainer.stacking
    clf = tiny(threshold="f1", threshold_cv=3, refit=False, epochs=30, learning_rate=0.05,
               early_stopping=True, n_iter_no_change=3, alpha=30.0).fit(X, Y)
    assert len(masks) == 1
    own = _own_losses(clf, X, Y, masks, 3)
    penalties = [penalty for _, penalty in own]
    assert min(penalties) > 0.01  # large enough to matter
    for j, (cross_entropy, penalty) in enumerate(own):
        curve = clf.history_[f"fold_{j}_val_loss"]
        assert min(curve) == pytest.approx(cross_entropy + penalty, rel=1e-4)
        # ... where every member's penalty would have been far above it
        assert min(curve) < cross_entropy + sum(penalties) - 0.5 * penalty



@pytest.mark.parametrize("patience", ["auto", 4])
def test_tol_stops_as_keras_early_stopping_on_the_training_loss(data, patience):
    """Without held-out rows, tol stops the network once n_iter_no_change
    epochs ("auto": 10) lower its lowest training loss by at most tol, as
    Keras's EarlyStopping(monitor="loss", min_delta=tol) stops Model.fit;
    tol=None trains every epoch."""
    X, Y = data
    params = dict(tol=1e-3, n_iter_no_change=patience, epochs=300, learning_rate=0.05,
                  fit__shuffle=False, batch_size=40)
    compiled = tiny(**params).fit(X, Y)
    reference = _through_model_fit(**params).fit(X, Y)
    losses = np.array(compiled.history_["loss"])
    assert len(losses) == len(reference.history_["loss"]) < 300
    np.testing.assert_allclose(losses, reference.history_["loss"], rtol=1e-4)
    # The last epoch that lowered the lowest loss by more than tol came
    # patience epochs before the end.
    lowest, last = np.inf, 0
    for epoch, loss in enumerate(losses):
        if loss < lowest - 1e-3:
            lowest, last = loss, epoch
    assert len(losses) == last + 1 + (10 if patience == "auto" else patience)
    everything = tiny(**dict(params, tol=None)).fit(X, Y)
    assert len(everything.history_["loss"]) == 300


def test_tol_stops_fold_networks_once_the_last_of_them_settles(data, capsys):
    """Fold networks too small to stop early on their tuning rows train side
    by side until every member's training loss settles; early stopping on
    held-out rows does not read tol."""
    X, Y = data
    params = dict(threshold="f1", threshold_cv=5, early_stopping=False, epochs=400,
                  learning_rate=0.05)
    settled = tiny(tol=1e-3, verbose=1, **params).fit(X, Y)
    assert "until its training loss settles (10 epochs without lowering it by more " \
        "than tol=0.001)" in capsys.readouterr().out
    assert (settled.n_iter_ == settled.n_iter_[0]).all() and settled.n_iter_[0] < 400
    full = tiny(tol=None, **params).fit(X, Y)
    assert (full.n_iter_ == 400).all()
    stopping = dict(params, early_stopping=True, threshold_cv=2)
    np.testing.assert_array_equal(tiny(tol=1e-3, **stopping).fit(X, Y).n_iter_,
                                  tiny(**stopping).fit(X, Y).n_iter_)
