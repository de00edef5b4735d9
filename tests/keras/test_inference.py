"""The NumPy prediction path equals Keras's own outputs, and is used only when it can."""

import pickle

import keras
import numpy as np
import pytest
import scipy.sparse as sp
from conftest import tiny

from sklearn_mlk._keras._inference import dense_plan


def _keras_proba(clf, X):
    from sklearn_mlk._keras._backend import full_precision_matmul

    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float32)
    with full_precision_matmul():  # not TF32 on a GPU
        out = clf.model_.predict(X, verbose=0).astype(np.float64)
    return out if clf._from_probability else 1 / (1 + np.exp(-out))


@pytest.mark.parametrize("params", [
    {},
    {"hidden_layer_sizes": (16, 8), "activation": "tanh", "dropout": 0.3},
    {"hidden_layer_sizes": (), "threshold": "f1"},
])
def test_numpy_path_equals_model_predict(data, params):
    X, Y = data
    clf = tiny(**params).fit(X, Y)
    assert clf._plan is not None
    np.testing.assert_allclose(clf.predict_proba(X), _keras_proba(clf, X),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.predict_proba(X[:1]), _keras_proba(clf, X[:1]),
                               rtol=1e-5, atol=1e-6)


def test_sigmoid_output_model_uses_the_numpy_path(data):
    X, Y = data

    def build(meta):
        return keras.Sequential([
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(6, activation="relu"),
            keras.layers.Dense(meta["n_labels_"], activation="sigmoid"),
        ])

    clf = tiny(model=build).fit(X, Y)
    assert clf._plan is not None
    np.testing.assert_allclose(clf.predict_proba(X), _keras_proba(clf, X),
                               rtol=1e-5, atol=1e-6)


def test_other_models_run_through_keras(data):
    X, Y = data

    def build(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        hidden = keras.layers.BatchNormalization()(inputs)
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(hidden))

    clf = tiny(model=build).fit(X, Y)
    assert clf._plan is None
    np.testing.assert_allclose(clf.predict_proba(X), _keras_proba(clf, X),
                               rtol=1e-5, atol=1e-6)


def test_a_plan_that_disagrees_with_the_model_is_rejected(data):
    X, Y = data
    # A branch the layer list hides: same layers, outputs added twice.
    inputs = keras.Input((X.shape[1],))
    dense = keras.layers.Dense(Y.shape[1])
    model = keras.Model(inputs, keras.layers.Add()([dense(inputs), dense(inputs)]))
    assert dense_plan(model, X.shape[1]) is None
    skip = keras.Model(inputs, dense(inputs) * 2.0)
    assert dense_plan(skip, X.shape[1]) is None


def test_sparse_input_is_not_densified_at_predict(data, monkeypatch):
    X, Y = data
    clf = tiny().fit(X, Y)
    dense_proba = clf.predict_proba(X)
    X_sparse = sp.csr_matrix(X)
    monkeypatch.setattr(sp.csr_matrix, "toarray", lambda *a, **k: pytest.fail("densified"))
    np.testing.assert_allclose(clf.predict_proba(X_sparse), dense_proba, rtol=1e-5)


def test_plan_survives_pickling(data):
    X, Y = data
    clf = tiny().fit(X, Y)
    restored = pickle.loads(pickle.dumps(clf))
    assert restored._plan is not None
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


@pytest.mark.smoke
def test_plan_runs_in_float64(data):
    from sklearn_mlk._keras import _inference

    X, Y = data
    clf = tiny().fit(X, Y)
    assert all(kernel.dtype == np.float64 for kernel, _, _ in clf._plan)
    from sklearn_mlk._keras._backend import full_precision_matmul

    with full_precision_matmul():  # not TF32 on a GPU
        expected = clf.model_.predict(X.astype(np.float32), verbose=0)
    for rows in (X, sp.csr_matrix(X), sp.csr_matrix(X, dtype=np.float32)):
        got = _inference.run_plan(clf._plan, rows)
        assert got.dtype == np.float64
        # The model runs in float32; XLA (JAX) sums in another order than TensorFlow.
        np.testing.assert_allclose(expected, got, rtol=1e-5, atol=3e-6)


@pytest.mark.smoke
def test_a_row_predicts_the_same_alone_as_in_a_batch():
    # A float32 BLAS sums a row's products in an order that depends on the
    # number of rows multiplied together (one row alone takes another
    # kernel); scikit-learn's check_methods_subset_invariance asks for 1e-7.
    from sklearn_mlk._keras import _inference

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 500))
    plan = [(rng.normal(size=(500, 300)).astype(np.float32) / 20,
             rng.normal(size=300).astype(np.float32), "relu"),
            (rng.normal(size=(300, 7)).astype(np.float32) / 20,
             rng.normal(size=7).astype(np.float32), "linear")]
    batch = _inference.run_plan(plan, X)
    alone = np.vstack([_inference.run_plan(plan, X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(alone, batch, rtol=1e-12, atol=1e-12)


def test_plain_arrays_skip_validate_data_with_the_same_results(data, monkeypatch):
    from sklearn_mlk import _classifier

    X, Y = data
    clf = tiny().fit(X, Y)
    slow = clf.predict_proba(X.tolist())  # a list goes through validate_data
    calls = []
    original = _classifier.validate_data

    def spy(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(_classifier, "validate_data", spy)
    for rows in (X, X.astype(np.float32), np.asfortranarray(X)):
        np.testing.assert_array_equal(clf.predict_proba(rows), slow)
    assert calls == []
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.predict_proba(bad)
    with pytest.raises(ValueError, match="features"):
        clf.predict_proba(X[:, :3])
    assert len(calls) == 2 and np.isnan(bad[3, 2])  # checked by validate_data, unchanged


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_sigmoid_matches_expit(dtype):
    from scipy.special import expit

    from sklearn_mlk._plan import _SMALL_VALUES, sigmoid_

    x = np.concatenate([
        np.linspace(-800, 800, 20001),
        np.random.default_rng(0).normal(scale=10, size=20000),
    ]).astype(dtype)
    assert x.size >= _SMALL_VALUES  # the vectorised path, not expit
    expected = expit(x)
    got = sigmoid_(x.copy())
    assert got.dtype == dtype
    normal = expected > np.finfo(dtype).tiny
    ulps = np.abs(got - expected)[normal] / np.spacing(expected[normal])
    assert ulps.max() <= 4
    # Where exp(-x) overflows: 0 instead of a subnormal number, never NaN.
    assert np.all(got[~normal] <= np.finfo(dtype).tiny)
    assert np.all(np.isfinite(got))


@pytest.fixture
def small_blocks(monkeypatch):
    """Force the blocked, scratch-buffer path with blocks of a few rows."""
    from sklearn_mlk import _plan

    monkeypatch.setattr(_plan, "_SMALL_VALUES", 1)
    monkeypatch.setattr(_plan, "_BLOCK_VALUES", 7 * 16)
    return _plan


def test_blocked_path_equals_model_predict(data, small_blocks):
    X, Y = data
    clf = tiny(hidden_layer_sizes=(16, 9)).fit(X, Y)
    expected = _keras_proba(clf, X)
    for rows in (X, np.asfortranarray(X), sp.csr_matrix(X)):
        np.testing.assert_allclose(clf.predict_proba(rows), expected, rtol=1e-5, atol=1e-6)
    # Each call returns its own array: a later call does not overwrite it.
    first = clf.predict_proba(X)
    kept = first.copy()
    clf.predict_proba(X[::-1].copy())
    np.testing.assert_array_equal(first, kept)
    assert len(small_blocks._SCRATCH.pair[0]) >= 7 * 16


def test_threads_predict_with_their_own_scratch(data, small_blocks):
    from concurrent.futures import ThreadPoolExecutor

    X, Y = data
    clf = tiny(hidden_layer_sizes=(256,)).fit(X, Y)
    # Blocks large enough for NumPy to release the GIL in the products.
    small_blocks._BLOCK_VALUES = 512 * 256
    big = np.tile(X, (20, 1))
    inputs = [np.roll(big, shift, axis=0) for shift in range(4)]
    sequential = [clf.predict_proba(rows) for rows in inputs]

    def repeat(rows):
        return [clf.predict_proba(rows) for _ in range(10)]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(repeat, inputs))
    for expected, got in zip(sequential, results):
        for proba in got:
            np.testing.assert_array_equal(proba, expected)


def test_the_probe_check_runs_the_models_products_in_full_precision(monkeypatch):
    # On GPUs the backends multiply float32 in TF32 by default; the check
    # that a plan reproduces the model must not fail on that.
    from sklearn_mlk._keras import _backend
    from sklearn_mlk._keras import _inference

    keras = _backend.get_keras()
    backend = keras.backend.backend()
    # Each backend set to reduced precision first, as it is on a GPU.
    if backend == "jax":
        import jax

        original = jax.config.jax_default_matmul_precision
        jax.config.update("jax_default_matmul_precision", "tensorfloat32")

        def setting():
            return jax.config.jax_default_matmul_precision

        def restore():
            jax.config.update("jax_default_matmul_precision", original)
        full = "highest"
    elif backend == "tensorflow":
        import tensorflow as tf

        original = tf.config.experimental.tensor_float_32_execution_enabled()
        tf.config.experimental.enable_tensor_float_32_execution(True)

        def setting():
            return tf.config.experimental.tensor_float_32_execution_enabled()

        def restore():
            tf.config.experimental.enable_tensor_float_32_execution(original)
        full = False
    else:
        import torch

        original = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision("high")

        def setting():
            return torch.get_float32_matmul_precision()

        def restore():
            torch.set_float32_matmul_precision(original)
        full = "highest"
    before = setting()
    assert before != full
    seen = []
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    call = type(model).__call__

    def spy(self, *args, **kwargs):
        seen.append(setting())
        return call(self, *args, **kwargs)

    monkeypatch.setattr(type(model), "__call__", spy)
    try:
        assert _inference.dense_plan(model, 3) is not None
        assert seen == [full]
        assert setting() == before  # restored
    finally:
        restore()
