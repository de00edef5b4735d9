"""Behaviour of KerasMultiLabelClassifier: training, routing, errors, state."""

import os
import pickle
import random
import threading

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from conftest import sparse_products, tiny
from sklearn.base import clone

from sklearn_mlk._training import _loop
from sklearn_mlk._keras._network import forward

keras = pytest.importorskip("keras")


def test_same_random_state_gives_identical_predictions(data):
    X, Y = data
    a = tiny(dropout=0.3, random_state=7).fit(X, Y).predict_proba(X)
    b = tiny(dropout=0.3, random_state=7).fit(X, Y).predict_proba(X)
    c = tiny(dropout=0.3, random_state=8).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_seeded_fit_restores_global_random_state(data):
    X, Y = data
    random.seed(123)
    np.random.seed(123)
    expected = (random.random(), np.random.random())
    random.seed(123)
    np.random.seed(123)
    tiny(random_state=0).fit(X, Y)
    assert (random.random(), np.random.random()) == expected


def test_learns_a_learnable_problem(data):
    X, Y = data
    clf = tiny(hidden_layer_sizes=(32,), epochs=40).fit(X, Y)
    prior_accuracy = np.maximum(Y.mean(0), 1 - Y.mean(0)).mean()
    assert (clf.predict(X) == Y).mean() > prior_accuracy + 0.05


@pytest.mark.parametrize("threshold", [0.5, "f1"])
def test_decision_function_and_proba_agree(data, threshold):
    from scipy.special import logit

    X, Y = data
    clf = tiny(threshold=threshold).fit(X, Y)
    margin = clf.decision_function(X)
    logits = margin + logit(clf.thresholds_)
    np.testing.assert_allclose(clf.predict_proba(X), 1 / (1 + np.exp(-logits)),
                               rtol=1e-5)
    np.testing.assert_array_equal(clf.predict(X), margin > 0)
    if threshold == "f1":
        assert not np.allclose(clf.thresholds_, 0.5)  # the margin is not the logit


def test_fitted_attributes(data):
    X, Y = data
    clf = tiny(epochs=4, threshold="f1").fit(X, Y)
    assert clf.n_features_in_ == X.shape[1]
    assert isinstance(clf.model_, keras.Model)
    assert len(clf.history_["loss"]) == 4
    assert clf.thresholds_.shape == clf.threshold_scores_.shape == (Y.shape[1],)
    assert all(s in ("tuned", "floored") or s.startswith("fallback: ")
               for s in clf.threshold_status_)
    assert np.all(np.isfinite(clf.threshold_scores_))
    fixed = tiny(epochs=1, threshold=0.5).fit(X, Y)
    np.testing.assert_array_equal(fixed.thresholds_, np.full(Y.shape[1], 0.5))
    assert list(fixed.threshold_status_) == ["fixed"] * Y.shape[1]
    assert not hasattr(clf, "feature_names_in_")


def test_feature_names_from_dataframe(data):
    pd = pytest.importorskip("pandas")
    X, Y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = tiny().fit(frame, Y)
    assert clf.feature_names_in_.tolist() == list(frame.columns)


def test_sparse_features_match_dense(data):
    X, Y = data
    clf = tiny(fit__shuffle=False).fit(X, Y)
    np.testing.assert_allclose(
        clf.predict_proba(X), clf.predict_proba(sp.csr_matrix(X)), atol=1e-6
    )
    # Training on sparse X goes through a per-batch feeder instead of an
    # in-memory array, so it agrees with dense training up to float noise.
    sparse = tiny(fit__shuffle=False).fit(sp.csr_matrix(X), Y)
    np.testing.assert_allclose(clf.predict_proba(X), sparse.predict_proba(X), atol=0.02)


def _spy_on_densifying(monkeypatch):
    seen = []
    original = sp.csr_matrix.toarray

    def spy(self, *args, **kwargs):
        seen.append(self.shape[0])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", spy)
    return seen


@pytest.mark.smoke
def test_sparse_features_are_densified_whole_only_when_small(data, monkeypatch):
    X, Y = data
    seen = _spy_on_densifying(monkeypatch)
    # X (200 x 10) is too large to densify whole, and counts as sparse
    # enough for sparse products.
    monkeypatch.setattr(_loop, "DENSE_BLOCK_VALUES", 100)
    sparse_products(monkeypatch)
    # The default MLP reads its input with a Dense layer: on TensorFlow the
    # batches stay sparse; on the other backends each is densified alone.
    clf = tiny(batch_size=16, threshold="f1").fit(sp.csr_matrix(X), Y)
    if os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        assert seen == []
    else:
        assert seen and max(seen) <= 16
    # Too dense for sparse products: each batch is densified alone.
    seen.clear()
    monkeypatch.setattr(_loop, "SPARSE_BATCH_DENSITY", 0.5)
    tiny(batch_size=16, threshold="f1").fit(sp.csr_matrix(X), Y)
    assert seen and max(seen) <= 16
    # Small enough: densified once for training and once for the folds'
    # early stopping, whole.
    seen.clear()
    monkeypatch.setattr(_loop, "DENSE_BLOCK_VALUES", X.size)
    tiny(batch_size=16, threshold="f1", early_stopping=True).fit(sp.csr_matrix(X), Y)
    assert seen == [len(X), len(X)]
    seen.clear()
    big = sp.csr_matrix(np.repeat(X, 30, axis=0))
    clf.predict_proba(big)
    assert seen == []  # the NumPy prediction path multiplies sparse blocks as they are
    # Without a plan the model runs through Keras, one densified block at a time.
    forward(clf.model_, big, batch_size=1000)
    assert len(seen) > 1 and max(seen) == 1000


def test_sparse_batches_are_densified_for_other_first_layers(data, monkeypatch):
    X, Y = data

    def build(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        hidden = keras.layers.Dropout(0.1)(inputs)
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(hidden))

    seen = _spy_on_densifying(monkeypatch)
    monkeypatch.setattr(_loop, "DENSE_BLOCK_VALUES", 100)  # not densified whole
    dense = tiny(model=build, batch_size=16, fit__shuffle=False).fit(X, Y)
    sparse = tiny(model=build, batch_size=16, fit__shuffle=False).fit(sp.csr_matrix(X), Y)
    assert seen and max(seen) == 16
    np.testing.assert_allclose(dense.predict_proba(X), sparse.predict_proba(X), atol=1e-5)


def test_constant_labels_are_legal():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 5))
    Y = np.column_stack([X[:, 0] > 0, np.zeros(80), np.ones(80)]).astype(int)
    # As OneVsRestClassifier: a warning for each, and exact probabilities.
    with pytest.warns(UserWarning) as caught:
        clf = tiny(epochs=30).fit(X, Y)
    caught = [w for w in caught if "training examples" in str(w.message)]
    assert [str(w.message) for w in caught] == [
        "Label not 1 is present in all training examples.",
        "Label 2 is present in all training examples."]
    assert all(w.filename == __file__ for w in caught)  # the caller's line
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(proba[:, 1], 0.0)
    np.testing.assert_array_equal(proba[:, 2], 1.0)
    pred = clf.predict(X)
    assert pred[:, 1].sum() == 0 and pred[:, 2].sum() == len(X)
    margin = clf.decision_function(X)
    assert np.isfinite(margin).all() and (margin[:, 1] < 0).all() and (margin[:, 2] > 0).all()


def test_sample_weight_reaches_the_loss(data):
    X, Y = data
    w = np.where(Y[:, 0] == 1, 10.0, 1.0)
    base = tiny(epochs=10).fit(X, Y).predict(X)[:, 0].mean()
    weighted = tiny(epochs=10).fit(X, Y, sample_weight=w).predict(X)[:, 0].mean()
    assert weighted > base


def test_zero_sample_weight_equals_dropping_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 4))
    Y = (X[:, :2] > 0).astype(int)
    w = np.ones(64)
    w[::2] = 0
    # One full batch per epoch: with Adam, which ignores the gradient's scale,
    # zero-weight rows act exactly as absent ones.
    weighted = tiny(batch_size=64, fit__shuffle=False, epochs=5).fit(X, Y, sample_weight=w)
    dropped = tiny(batch_size=32, fit__shuffle=False, epochs=5).fit(X[1::2], Y[1::2])
    unweighted = tiny(batch_size=64, fit__shuffle=False, epochs=5).fit(X, Y)
    proba = weighted.predict_proba(X)
    np.testing.assert_allclose(proba, dropped.predict_proba(X), atol=1e-4)
    assert np.abs(proba - unweighted.predict_proba(X)).max() > 0.01
    with pytest.raises(ValueError, match="non-zero"):
        tiny().fit(X, Y, sample_weight=np.zeros(64))


def test_balanced_class_weight():
    from sklearn_mlk._training._losses import positive_weights

    Y = np.array([[1, 0, 1], [0, 0, 1], [0, 0, 1], [0, 1, 1]], dtype=np.float32)
    w = positive_weights("balanced", Y, np.arange(3))
    np.testing.assert_allclose(w, [3.0, 3.0, 1.0])
    with pytest.raises(ValueError, match="not in the target"):
        positive_weights({"nope": 2.0}, Y, np.arange(3))
    with pytest.raises(ValueError, match="> 0"):
        positive_weights([1.0, -1.0, 1.0], Y, np.arange(3))


def test_early_stopping_restores_best_weights(data):
    X, Y = data
    clf = tiny(early_stopping=True, n_iter_no_change=2, epochs=200,
               learning_rate=0.05).fit(X, Y)
    val = clf.history_["val_loss"]
    assert len(val) < 200
    assert len(val) - 1 - int(np.argmin(val)) == 2


def test_callbacks_and_verbose(data, capsys):
    X, Y = data
    seen = []
    callback = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(e))
    tiny(epochs=3, callbacks=[callback], verbose=2).fit(X, Y)
    assert seen == [0, 1, 2]
    assert "Epoch 3/3" in capsys.readouterr().out


def test_warm_start_continues_training(data):
    X, Y = data
    clf = tiny(warm_start=True, epochs=3).fit(X, Y)
    model = clf.model_
    before = clf.history_["loss"][-1]
    clf.fit(X, Y)
    assert clf.model_ is model
    assert len(clf.history_["loss"]) == 6
    assert clf.history_["loss"][3] < before + 1e-3
    with pytest.raises(ValueError, match="same labels"):
        clf.fit(X, Y[:, :2])


def test_model_callable_with_routed_parameters(data):
    X, Y = data
    calls = {}

    def build(meta, units, compile_kwargs):
        calls.update(meta=meta, units=units, compile_kwargs=compile_kwargs)
        return keras.Sequential(
            [
                keras.Input((meta["n_features_in_"],)),
                keras.layers.Dense(units, activation="relu"),
                keras.layers.Dense(meta["n_labels_"], activation="sigmoid"),
            ]
        )

    clf = tiny(model=build, model__units=5, compile__jit_compile=False).fit(X, Y)
    assert calls["units"] == 5
    assert calls["meta"]["n_labels_"] == Y.shape[1]
    # scikeras's compile_kwargs: the routed arguments, the optimizer and the loss
    assert {k: v for k, v in calls["compile_kwargs"].items()
            if k not in ("optimizer", "loss")} == {"jit_compile": False}
    assert isinstance(calls["compile_kwargs"]["optimizer"], keras.optimizers.Adam)
    assert clf.model_.layers[0].units == 5
    # a sigmoid output is read as probabilities, not logits
    proba = clf.predict_proba(X)
    assert np.all((proba > 0) & (proba < 1))
    np.testing.assert_allclose(1 / (1 + np.exp(-clf.decision_function(X))), proba, atol=1e-6)
    np.testing.assert_allclose(
        clf.predict_proba(X), keras.ops.convert_to_numpy(clf.model_(X)), atol=1e-6
    )


def test_keras_model_instance_is_cloned_not_trained(data):
    X, Y = data
    template = keras.Sequential(
        [keras.Input((X.shape[1],)), keras.layers.Dense(Y.shape[1])]
    )
    weights = [w.copy() for w in template.get_weights()]
    clf = tiny(model=template).fit(X, Y)
    assert clf.model_ is not template
    for a, b in zip(weights, template.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "model, match",
    [
        (lambda meta: keras.Sequential([keras.Input((10,)), keras.layers.Dense(2)]),
         r"shape \(None, 4\)"),
        (lambda meta: keras.Sequential(
            [keras.Input((10,)), keras.layers.Dense(4, activation="softmax")]),
         "independent sigmoid"),
        (lambda meta: "not a model", "must return a keras.Model"),
    ],
)
def test_bad_models_raise_clear_errors(data, model, match):
    X, Y = data
    with pytest.raises((ValueError, TypeError), match=match):
        tiny(model=model).fit(X, Y)


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"modle__units": 3}, ValueError, "did you mean 'model__units'"),
        ({"model_units": 3}, ValueError, "did you mean 'model__units'"),
        ({"optimizer__learning_rat": 0.1}, ValueError, "did you mean "
         "'optimizer__learning_rate'"),
        ({"fit__epochs": 3}, ValueError, "use epochs"),
        ({"model__units": 3}, ValueError, "default MLP takes none"),
        # The fold networks of the default ensemble train stacked: the same check.
        ({"model__unitz": 8, "threshold": "f1", "threshold_cv": 3, "refit": False},
         ValueError, "default MLP takes none"),
    ],
)
def test_routing_errors(data, params, error, match):
    X, Y = data
    clf = tiny(**params)
    with pytest.raises(error, match=match):
        clf.fit(X, Y)
    assert not hasattr(clf, "model_")


def test_set_params_rejects_typos_and_accepts_routed():
    clf = tiny()
    with pytest.raises(ValueError, match="did you mean 'model__units'"):
        clf.set_params(modle__units=3)
    with pytest.raises(ValueError, match="did you mean 'epochs'"):
        clf.set_params(epoch=3)
    clf.set_params(model__units=3, optimizer__beta_1=0.8)
    params = clf.get_params()
    assert params["model__units"] == 3 and params["optimizer__beta_1"] == 0.8
    assert clone(clf).get_params()["model__units"] == 3


def test_set_params_accepts_what_get_params_returns(data):
    X, Y = data
    clf = tiny(epoch=2)  # stored as given, rejected at fit
    clf.set_params(**clf.get_params())
    clf.set_params(epoch=3)
    assert clf.get_params()["epoch"] == 3
    with pytest.raises(ValueError, match="did you mean 'epochs'"):
        clf.fit(X, Y)
    with pytest.raises(ValueError, match="did you mean 'epochs'"):
        tiny().set_params(epoch=3)  # a name the estimator does not hold


def test_optimizer_routing(data):
    X, Y = data
    clf = tiny(optimizer="sgd", learning_rate=0.02, optimizer__momentum=0.5).fit(X, Y)
    optimizer = clf.model_.optimizer
    assert type(optimizer).__name__ == "SGD"
    assert float(optimizer.momentum) == 0.5
    assert np.isclose(float(keras.ops.convert_to_numpy(optimizer.learning_rate)), 0.02)


def _rate(clf):
    return float(keras.ops.convert_to_numpy(clf.model_.optimizer.learning_rate))


def test_the_auto_learning_rate_is_adams_for_the_default_mlp_only(data):
    """learning_rate="auto" trains the default MLP with Adam at 3e-3; an
    explicit rate, None, another optimizer or a model callable keep theirs."""
    from sklearn_mlk._training._fit import AUTO_LEARNING_RATE, DEFAULT_LEARNING_RATE

    X, Y = data
    assert tiny().get_params()["learning_rate"] == "auto"
    fixed = {}  # tiny's fixed threshold: model_ is the one network trained
    assert _rate(tiny(**fixed).fit(X, Y)) == pytest.approx(AUTO_LEARNING_RATE)
    assert _rate(tiny(optimizer=keras.optimizers.Adam, **fixed).fit(X, Y)) == \
        pytest.approx(AUTO_LEARNING_RATE)
    assert _rate(tiny(learning_rate=None, **fixed).fit(X, Y)) == \
        pytest.approx(DEFAULT_LEARNING_RATE)
    assert _rate(tiny(optimizer="sgd", **fixed).fit(X, Y)) == \
        pytest.approx(DEFAULT_LEARNING_RATE)
    assert _rate(tiny(optimizer__learning_rate=0.02, **fixed).fit(X, Y)) == \
        pytest.approx(0.02)

    def build(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(inputs))

    assert _rate(tiny(model=build, **fixed).fit(X, Y)) == pytest.approx(DEFAULT_LEARNING_RATE)
    with pytest.raises(ValueError, match="learning_rate"):
        tiny(learning_rate="fast").fit(X, Y)


@pytest.mark.parametrize(
    "make_bad, match",
    [
        (lambda X, Y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X), Y),
         "NaN"),
        (lambda X, Y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X), Y),
         "infinity"),
        (lambda X, Y: (X[:-1], Y), "inconsistent numbers of samples"),
        (lambda X, Y: (X[:0], Y[:0]), "0 sample"),
        (lambda X, Y: (X.astype(str).astype(object) + "x", Y), "could not convert"),
    ],
)
def test_bad_input_raises_and_leaves_arrays_unchanged(data, make_bad, match):
    X, Y = make_bad(*data)
    X_before, Y_before = X.copy(), Y.copy()
    clf = tiny()
    with pytest.raises(ValueError, match=match):
        clf.fit(X, Y)
    assert not hasattr(clf, "n_features_in_")  # no half-fitted state
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(Y, Y_before)


def test_wrong_number_of_features_at_predict(data):
    X, Y = data
    clf = tiny().fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :-1])


def test_failed_fit_keeps_previous_fit(data):
    X, Y = data
    clf = tiny().fit(X, Y)
    before = clf.predict_proba(X)
    model = clf.model_

    class Boom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise RuntimeError("boom")

    clf.set_params(callbacks=[Boom()])
    with pytest.raises(RuntimeError, match="boom"):
        clf.fit(X, Y)
    assert clf.model_ is model
    np.testing.assert_array_equal(clf.predict_proba(X), before)

    clf.set_params(callbacks=[Boom()], warm_start=True)
    with pytest.raises(RuntimeError, match="boom"):
        clf.fit(X, Y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)  # weights restored


@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "decision_function", "predict_label_sets"]
)
def test_unfitted_raises_not_fitted(data, method):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        getattr(tiny(), method)(data[0])


@pytest.mark.parametrize("dump, load", [(pickle.dumps, pickle.loads), ("joblib", None)])
def test_pickle_and_joblib_round_trip(data, tmp_path, dump, load):
    X, Y = data
    clf = tiny().fit(X, Y)
    if dump == "joblib":
        path = tmp_path / "clf.joblib"
        joblib.dump(clf, path)
        restored = joblib.load(path)
    else:
        restored = load(dump(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    restored.set_params(warm_start=True, epochs=1).fit(X, Y)  # trainable again


@pytest.mark.parametrize("check", ["check_classifier_multioutput",
                                   "check_classifiers_train",
                                   "check_class_weight_classifiers"])
def test_threshold_checks_pass_with_a_fixed_half_threshold(check):
    # These checks assume a 0.5 threshold; the default estimator, whose
    # thresholds are learned, is an expected failure of the last two for that
    # reason only (see tests/test_common.py).
    from sklearn.utils import estimator_checks

    # As the check gives iterative estimators max_iter=1000: class weights
    # shape the scores once training has converged.
    epochs = 200 if check == "check_class_weight_classifiers" else 20
    getattr(estimator_checks, check)(
        "KerasMultiLabelClassifier", tiny(hidden_layer_sizes=(16,), epochs=epochs)
    )


@pytest.mark.parametrize("threshold_cv", [0.25, 3])
def test_a_large_network_is_freed_before_the_next_is_built(data, monkeypatch, threshold_cv):
    import weakref

    from sklearn_mlk._keras import _network
    from sklearn_mlk._training import _trainer

    X, Y = data
    monkeypatch.setattr(_trainer, "_COLLECT_ABOVE", 0)  # every network counts as large
    built = []  # weak references to every network built, and who was alive then
    alive_at_build = []
    original = _network.build_model

    def build_model(*args, **kwargs):
        alive_at_build.append([ref() is not None for ref in built])
        model = original(*args, **kwargs)
        built.append(weakref.ref(model))
        return model

    monkeypatch.setattr(_network, "build_model", build_model)
    clf = tiny(threshold="f1", threshold_cv=threshold_cv, refit=True).fit(X, Y)
    assert len(built) == (2 if threshold_cv == 0.25 else 4)
    # No earlier network is alive when the next one is built.
    assert all(not any(alive) for alive in alive_at_build)
    assert built[-1]() is clf.model_


def test_verbose_names_each_training_run(data, capsys):
    X, Y = data
    tiny(threshold="f1", threshold_cv=0.25, refit=True, early_stopping=True,
         verbose=2).fit(X, Y)
    out = capsys.readouterr().out
    assert ("Training the tuning network on 150 rows, stopping early on 50 once as many "
            "epochs as its best took (7 to 10) pass without improvement:") in out
    assert "Training the final network (refit) on 200 rows:" in out
    assert out.count("Epoch 1/3") == 2 and "val_loss" in out
    tiny(threshold="f1", threshold_cv=4, refit=False, early_stopping=True,
         n_iter_no_change=5, verbose=1).fit(X, Y)
    out = capsys.readouterr().out
    assert ("Training 4 fold networks side by side, each on 150 rows, stopping early on "
            "the rest once 5 epochs pass without improvement") in out
    assert "3/3" in out and "epoch" in out  # Keras's progress bar, per epoch


def _unseeded_sequential(meta):
    import keras

    return keras.Sequential([
        keras.Input((meta["n_features_in_"],)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(meta["n_labels_"]),
    ])


@pytest.mark.smoke
@pytest.mark.parametrize("model", [None, _unseeded_sequential], ids=["default", "callable"])
def test_seeded_fits_do_not_depend_on_other_threads_drawing_random_numbers(data, model):
    """A seeded fit draws from generators of its own: a thread drawing from
    Python's and NumPy's global generators meanwhile (as a Dask worker's do)
    changes nothing, for the default network and for a model callable whose
    layers take no seeds."""
    X, Y = data
    params = dict(threshold="f1", threshold_cv=3, refit=False, dropout=0.3, epochs=4,
                  model=model)
    quiet = tiny(**params).fit(X, Y).predict_proba(X)
    stop = threading.Event()

    def draw():
        while not stop.is_set():
            random.random()
            np.random.rand()

    noise = [threading.Thread(target=draw)]
    for thread in noise:
        thread.start()
    try:
        busy = [tiny(**params).fit(X, Y).predict_proba(X)]
    finally:
        stop.set()
        for thread in noise:
            thread.join()
    for P in busy:
        np.testing.assert_array_equal(P, quiet)


def _first_kernel(model):
    return np.asarray(keras.ops.convert_to_numpy(model.layers[1].kernel))


def _meta(n_features, power):
    meta = {"n_features_in_": n_features, "n_labels_": 3,
            "label_prior_": np.full(3, 0.2)}
    if power is not None:
        meta["input_power_"] = power
    return meta


def test_first_layer_sized_to_the_input_starts_as_wide_on_sparse_input(monkeypatch):
    """The study switch SIZE_FIRST_LAYER (off by default: Glorot's draws)."""
    from sklearn_mlk._keras import _network
    from sklearn_mlk._keras._network import build_default_mlp

    def kernel(power):
        return _first_kernel(build_default_mlp(_meta(1000, power), (256,), "relu", 0.5, seed=3))

    glorot = kernel(None)
    np.testing.assert_allclose(np.var(glorot), 2 / (1000 + 256), rtol=0.02)
    # The default: Glorot's own draws whatever the input.
    for power in (2.5, 0.0, 1000.0):
        np.testing.assert_array_equal(kernel(power), glorot)
    monkeypatch.setattr(_network, "SIZE_FIRST_LAYER", True)
    # Standardised input (squared row norm = n_features) or louder: Glorot's
    # own draws, the same seed for seed.
    np.testing.assert_array_equal(kernel(1000.0), glorot)
    np.testing.assert_array_equal(kernel(5000.0), glorot)
    # Rows of squared norm 2.5 (a few active binary features): the weights
    # are 400 times the variance, so pre-activations start as wide.
    np.testing.assert_allclose(kernel(2.5), glorot * np.sqrt(400.0), rtol=1e-5, atol=1e-6)
    # Near-zero rows count as one unit feature: the gain stops at n_features.
    np.testing.assert_allclose(kernel(1e-78), glorot * np.sqrt(1000.0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(kernel(0.0), glorot * np.sqrt(1000.0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(kernel(0.5), glorot * np.sqrt(1000.0), rtol=1e-5, atol=1e-6)


def test_fit_sizes_the_first_layer_from_the_rows_it_trains_on(data, monkeypatch):
    from sklearn_mlk._meta import input_power

    X, Y = data
    X = X / 15.0  # small values: squared row norm 1.5, far below n_features
    seen = {}

    def build(meta):
        seen["power"] = meta["input_power_"]
        inputs = keras.Input((meta["n_features_in_"],))
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(inputs))

    tiny(model=build, epochs=1).fit(X, Y)
    assert seen["power"] == pytest.approx(np.mean(np.sum(X**2, axis=1)), rel=1e-6)  # float32 X
    assert input_power(sp.csr_matrix(X)) == pytest.approx(seen["power"], rel=1e-6)
    assert input_power(X[:0]) == 0.0

    # By default the first layer starts within Glorot's uniform limit, however
    # small the input; sized to the input (the study switch) it starts
    # sqrt(gain) times as wide. One epoch of Adam moves a weight by at most
    # about the learning rate a step (3e-3, 7 batches of 32 rows).
    from sklearn_mlk._keras import _network

    gain = X.shape[1] / seen["power"]
    assert gain > 4
    glorot_limit = np.sqrt(6 / (X.shape[1] + 8))
    moved = 7 * 3e-3
    kernel = _first_kernel(tiny(epochs=1).fit(X, Y).model_)
    assert np.abs(kernel).max() < glorot_limit + moved
    monkeypatch.setattr(_network, "SIZE_FIRST_LAYER", True)
    kernel = _first_kernel(tiny(epochs=1).fit(X, Y).model_)
    assert np.abs(kernel).max() > 1.5 * glorot_limit + moved
    assert np.abs(kernel).max() < np.sqrt(gain) * glorot_limit + moved


def test_input_power_sums_sparse_values_as_dense_ones():
    """Canonical CSR (summed over its stored values), CSR with duplicate
    entries (each position squared once, after its parts are added), dense
    and N-D input give one mean squared row norm; X is left as it was."""
    from sklearn_mlk._meta import input_power

    rng = np.random.default_rng(0)
    dense = rng.normal(size=(30, 8)) * (rng.random((30, 8)) < 0.3)
    expected = np.mean(np.sum(dense**2, axis=1))
    canonical = sp.csr_matrix(dense, dtype=np.float32)
    assert canonical.has_canonical_format
    # Every stored entry twice in a row, as two halves: indptr doubles.
    indices = np.repeat(canonical.indices, 2)
    data = np.repeat(canonical.data.astype(np.float64) / 2, 2)
    halves = sp.csr_matrix((data, indices, 2 * canonical.indptr), shape=dense.shape)
    assert not halves.has_canonical_format  # each entry stored as two halves
    before = halves.data.copy()
    for X in (dense, dense.reshape(30, 2, 4), canonical, halves, sp.coo_matrix(dense)):
        assert input_power(X) == pytest.approx(expected, rel=1e-6)
    np.testing.assert_array_equal(halves.data, before)
    assert not halves.has_canonical_format


@pytest.mark.network
def test_auto_epochs_give_a_network_that_does_not_stop_early_enough_steps(data):
    """epochs="auto": 50 where networks stop early or early_stopping=False; at
    least 1000 optimizer steps where early_stopping="auto" keeps them from
    stopping early, so that small data is not left untrained."""
    from sklearn_mlk._training._trainer import AUTO_EPOCHS, AUTO_STEPS

    X, Y = data
    # A fixed threshold: "auto" stops no network early. 2 steps an epoch.
    small = tiny(epochs="auto", early_stopping="auto", batch_size=64).fit(X[:100], Y[:100])
    assert len(small.history_["loss"]) == AUTO_STEPS // 2
    # Two fold networks of 50 rows, too few to stop early, side by side: each
    # step of their stacked loop takes 64 of all 100 rows, 2 steps an epoch.
    folds = tiny(epochs="auto", early_stopping="auto", batch_size=64, threshold_cv=2,
                 threshold="f1").fit(X[:100], Y[:100])
    assert len(folds.history_["fold_0_loss"]) == AUTO_STEPS // 2
    switched_off = tiny(epochs="auto", early_stopping=False).fit(X[:100], Y[:100])
    assert len(switched_off.history_["loss"]) == AUTO_EPOCHS
    stopping = tiny(epochs="auto", early_stopping=True, n_iter_no_change=1000).fit(X, Y)
    assert len(stopping.history_["loss"]) == AUTO_EPOCHS
    assert len(tiny(epochs=7).fit(X, Y).history_["loss"]) == 7


def test_verbose_says_what_each_auto_setting_chose(data, capsys):
    """verbose names the resolved "auto" settings and why, and leaves out the
    settings the user gave."""
    X, Y = data
    with pytest.warns(UserWarning, match="Few training samples"):
        tiny(threshold="f1", threshold_cv="auto", early_stopping="auto", epochs="auto",
             dropout="auto", verbose=2).fit(X[:40], Y[:40])
    said = capsys.readouterr().out.splitlines()[0]
    assert said.startswith("'auto' settings for 40 rows: threshold_cv: 5 folds")
    assert "refit: no, the fold networks kept as an ensemble" in said
    assert "early_stopping: off (fewer than 64 tuning rows per network)" in said
    assert "epochs" not in said  # each network's epoch lines show its own
    assert "learning_rate: 0.003 (Adam, the default MLP)" in said
    assert "; alpha: 0 (a multi-label target);" in said
    assert said.endswith("; dropout: 0.5 (fewer than 5,000 rows); linear_path: off "
                         "(4 outputs, at most the 8 units of the narrowest hidden layer).")
    tiny(threshold=0.5, early_stopping="auto", learning_rate=0.01, alpha=0.0,
         linear_path=False, verbose=2).fit(X, Y)
    said = capsys.readouterr().out.splitlines()[0]
    assert said == ("'auto' settings for 40 rows: early_stopping: off (a fixed "
                    "threshold: one network trains on every row).").replace(
                        "40", str(X.shape[0]))
    fixed = dict(threshold=0.5, early_stopping=False, learning_rate=0.01, verbose=2)
    tiny(alpha=0.0, linear_path=True, **fixed).fit(X, Y)
    assert "'auto' settings" not in capsys.readouterr().out
    tiny(hidden_layer_sizes=(), **fixed).fit(X, Y[:, 0])  # no hidden layer: no path
    assert capsys.readouterr().out.splitlines()[0] == (
        f"'auto' settings for {X.shape[0]} rows: alpha: 1 (a 1-D target: "
        "LogisticRegression's default penalty).")
    tiny(alpha=1.0, **fixed).fit(X, Y[:, 0])
    assert capsys.readouterr().out.splitlines()[0] == (
        f"'auto' settings for {X.shape[0]} rows: linear_path: off (1 output, at most "
        "the 8 units of the narrowest hidden layer).")


def _dropout_rates(model):
    """The rates of every Dropout layer in a fitted model (members included)."""
    import keras

    found = []

    def visit(layer):
        if isinstance(layer, keras.layers.Dropout):
            found.append(layer.rate)
        for inner in getattr(layer, "layers", ()):
            visit(inner)

    visit(model)
    return found


def test_auto_dropout_follows_the_rows_of_the_fit(data, monkeypatch):
    """dropout="auto" is AUTO_DROPOUT below LARGE_DROPOUT_ROWS rows and
    LARGE_DROPOUT from there, in the fold ensemble and in a single network;
    partial_fit, whose rows are not known in advance, takes AUTO_DROPOUT; a
    number is used as given."""
    from sklearn_mlk._training import _fit

    X, Y = data
    monkeypatch.setattr(_fit, "LARGE_DROPOUT_ROWS", 30)
    assert (_fit.AUTO_DROPOUT, _fit.LARGE_DROPOUT) == (0.5, 0.25)
    few = tiny(dropout="auto", threshold="f1", epochs=1).fit(X[:29], Y[:29])
    many = tiny(dropout="auto", threshold="f1", epochs=1).fit(X[:30], Y[:30])
    assert _dropout_rates(few.model_) == [0.5] * 5  # one per fold network
    assert _dropout_rates(many.model_) == [0.25] * 5
    single = tiny(dropout="auto", threshold=0.5).fit(X[:30], Y[:30])
    assert _dropout_rates(single.model_) == [0.25]
    streamed = tiny(dropout="auto").partial_fit(X[:30], Y[:30],
                                                classes=np.arange(Y.shape[1]))
    assert _dropout_rates(streamed.model_) == [0.5]
    given = tiny(dropout=0.1, threshold="f1", epochs=1).fit(X[:30], Y[:30])
    assert _dropout_rates(given.model_) == [0.1] * 5
    with pytest.raises(ValueError, match="dropout"):
        tiny(dropout="large").fit(X, Y)
