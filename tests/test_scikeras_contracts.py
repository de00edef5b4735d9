"""scikeras's classifier contracts, checked on this estimator.

scikeras's test suite checks its ``KerasClassifier`` with model callables
that read ``meta``, compile with ``compile_kwargs`` and end in a sigmoid or a
softmax. This module states the same contracts in this project's words, one
test per contract and the same parametrisations, and checks them on
``KerasMultiLabelClassifier`` as a scikeras user would run it: the estimator
at its defaults except where the contract names a parameter, with
scikeras-style model callables. The sections follow scikeras's test files
(``test_api``, ``test_param_routing``, ``test_callbacks``,
``test_parameters``, ``test_errors``, ``test_input_outputs``,
``test_serialization``); contracts that only concern scikeras's regressor
are left out.

Where this estimator keeps another contract on purpose, the test states
scikeras's and is a strict ``xfail`` whose reason says why; the list is in
``docs/coming_from_scikeras.md``. Assertions on scikeras's private internals
(the dtypes it hands to ``Model.fit``, its encoder objects) are dropped, and
listed there too.

Run with ``python -m pytest -m scikeras`` (a CI step of its own).
"""

import inspect
import math
import os
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_digits, load_iris, make_classification
from sklearn.ensemble import AdaBoostClassifier, BaggingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.estimator_checks import (
    check_estimators_partial_fit_n_features,
    check_estimators_pickle,
)

keras = pytest.importorskip("keras")

from sklearn_mlk import KerasMultiLabelClassifier  # noqa: E402

pytestmark = [
    pytest.mark.scikeras,
    pytest.mark.network,
    # Small-data and replaced-compile notes: the contracts are about behaviour.
    pytest.mark.filterwarnings("ignore::UserWarning"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

Dense = keras.layers.Dense


# -- data, as scikeras's tests load it ------------------------------------


def iris_rows():
    """The first 100 rows of iris, as scikeras's checks take them: two classes."""
    X, y = load_iris(return_X_y=True)
    return X[:100], y[:100]


def digit_images():
    """The first 100 digits as 8 x 8 x 1 images in [0, 1]: ten classes."""
    X, y = load_digits(return_X_y=True)
    return (X.reshape(-1, 8, 8, 1) / 16.0)[:100], y[:100]


def fit_score_pickle(estimator, X, y):
    """Fit, predict and score; a pickled copy predicts and scores the same."""
    estimator.fit(X, y)
    predicted = estimator.predict(X)
    score = estimator.score(X, y)
    copy = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_array_equal(copy.predict(X), predicted)
    assert copy.score(X, y) == pytest.approx(score)
    return estimator


# -- model callables, written as scikeras users write them ------------------


def _output_for(meta, hidden, loss=None):
    """The output layer a scikeras callable picks for the target type."""
    if meta["target_type_"] == "multiclass":
        return Dense(meta["n_classes_"], activation="softmax")(hidden)
    if meta["target_type_"] == "binary":
        return Dense(1, activation="sigmoid")(hidden)
    # An indicator: a softmax where the loss is categorical (scikeras's choice
    # for one-hot targets), else one sigmoid per label.
    activation = "softmax" if "categorical" in str(loss) else "sigmoid"
    return Dense(meta["n_classes_"], activation=activation)(hidden)


def mlp_for_target(hidden_layer_sizes=(10,), meta=None, compile_kwargs=None):
    """An MLP whose output suits the target, compiled with compile_kwargs."""
    inputs = keras.Input((meta["n_features_in_"],))
    hidden = inputs
    for units in hidden_layer_sizes:
        hidden = Dense(units, activation="relu")(hidden)
    model = keras.Model(inputs, _output_for(meta, hidden, compile_kwargs.get("loss")))
    model.compile(**compile_kwargs)
    return model


def two_hidden_softmax(hidden_dim, meta, compile_kwargs):
    """A Sequential classifier ending in a softmax over the classes, which
    compiles itself with its own optimizer and loss."""
    model = keras.Sequential([
        keras.Input((meta["n_features_in_"],)),
        Dense(meta["n_features_in_"]), keras.layers.Activation("relu"),
        Dense(hidden_dim), keras.layers.Activation("relu"),
        Dense(meta["n_classes_"]), keras.layers.Activation("softmax"),
    ])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def cnn_sequential(hidden_layer_sizes, meta, compile_kwargs):
    """A small CNN on meta's image shape, Sequential, softmax over the classes."""
    model = keras.Sequential([keras.Input(meta["X_shape_"][1:]),
                              keras.layers.Conv2D(3, (3, 3)), keras.layers.Flatten()])
    for units in hidden_layer_sizes:
        model.add(Dense(units, activation="relu"))
    model.add(Dense(meta["n_classes_"], activation="softmax"))
    model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def cnn_functional(hidden_layer_sizes, meta, compile_kwargs):
    """The same CNN through the functional API."""
    inputs = keras.Input(meta["X_shape_"][1:])
    hidden = keras.layers.Flatten()(keras.layers.Conv2D(3, (3, 3))(inputs))
    for units in hidden_layer_sizes:
        hidden = Dense(units, activation="relu")(hidden)
    model = keras.Model(inputs, Dense(meta["n_classes_"], activation="softmax")(hidden))
    model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class HookBuilt(KerasMultiLabelClassifier):
    """scikeras's subclass pattern: the model is defined by a method."""

    def _keras_build_fn(self, hidden_dim, meta, compile_kwargs):
        return two_hidden_softmax(hidden_dim, meta, compile_kwargs)


CONFIGS = {
    "MLP": (iris_rows, mlp_for_target),
    "CNN": (digit_images, cnn_sequential),
    "CNN functional": (digit_images, cnn_functional),
}


# -- test_api ----------------------------------------------------------------


def test_a_model_callable_fits_predicts_scores_and_pickles():
    fit_score_pickle(KerasMultiLabelClassifier(model=two_hidden_softmax, hidden_dim=5),
                     *iris_rows())


def test_a_subclass_hook_defines_the_model():
    clf = fit_score_pickle(HookBuilt(model=None, hidden_dim=5), *iris_rows())
    assert clf.model_.count_params() > 0


@pytest.mark.parametrize("config", CONFIGS)
def test_standalone(config):
    load, build = CONFIGS[config]
    fit_score_pickle(KerasMultiLabelClassifier(build, epochs=1,
                                               model__hidden_layer_sizes=[]), *load())


def test_in_a_pipeline():
    load, build = CONFIGS["MLP"]
    estimator = KerasMultiLabelClassifier(build, epochs=1, model__hidden_layer_sizes=[])
    fit_score_pickle(Pipeline([("s", StandardScaler()), ("e", estimator)]), *load())


@pytest.mark.parametrize("config", CONFIGS)
def test_searches_over_constructor_parameters(config):
    load, build = CONFIGS[config]
    estimator = KerasMultiLabelClassifier(build, epochs=1, validation_split=0.1,
                                          model__hidden_layer_sizes=[])
    fit_score_pickle(GridSearchCV(estimator, {"model__hidden_layer_sizes": [[], [5]]}),
                     *load())
    search = RandomizedSearchCV(estimator, {"epochs": [1, 2, 3],
                                            "optimizer": ["rmsprop", "sgd"]},
                                n_iter=2, random_state=0)
    fit_score_pickle(search, *load())


def test_searches_over_routed_parameters():
    load, build = CONFIGS["MLP"]
    estimator = KerasMultiLabelClassifier(build, epochs=1, model__hidden_layer_sizes=[])
    search = GridSearchCV(estimator, {"model__hidden_layer_sizes": [[], [5]],
                                      "optimizer": ["sgd", "adam"]})
    fit_score_pickle(search, *load())
    best = search.best_estimator_
    trained = {type(getattr(layer, "optimizer", None)).__name__.lower()
               for layer in best.model_.layers if isinstance(layer, keras.Model)}
    assert trained == {best.optimizer}


_ONE_EPOCH_BOOSTING = pytest.mark.xfail(
    strict=True, raises=ValueError, reason="After one epoch the network's scores are "
    "noise, and the threshold learned on them out of fold then predicts one class "
    "everywhere: an error of exactly 0.5, which AdaBoost refuses as no better than "
    "chance (with threshold=0.5, or a network trained for more epochs, it fits).")


@pytest.mark.parametrize("ensemble", [
    BaggingClassifier, pytest.param(AdaBoostClassifier, marks=_ONE_EPOCH_BOOSTING)])
def test_in_scikit_learn_ensembles(ensemble):
    load, build = CONFIGS["MLP"]
    base = KerasMultiLabelClassifier(build, epochs=1, model__hidden_layer_sizes=[],
                                     random_state=0)
    fit_score_pickle(ensemble(estimator=base, n_estimators=2, random_state=0), *load())


def test_adaboost_fits_a_network_that_learned_something():
    """The contract above, with a network trained long enough to beat chance."""
    load, build = CONFIGS["MLP"]
    X, y = load()
    base = KerasMultiLabelClassifier(build, epochs=30, model__hidden_layer_sizes=[],
                                     learning_rate=0.05, random_state=0)
    fit_score_pickle(AdaBoostClassifier(estimator=base, n_estimators=2, random_state=0),
                     StandardScaler().fit_transform(X), y)


def test_in_calibrated_classifier_cv():
    load, build = CONFIGS["MLP"]
    base = KerasMultiLabelClassifier(build, epochs=1, model__hidden_layer_sizes=[])
    fit_score_pickle(CalibratedClassifierCV(base, cv=5), *load())


def _prebuilt():
    X, y = iris_rows()
    meta = {"n_classes_": 2, "target_type_": "binary", "n_features_in_": X.shape[1]}
    return mlp_for_target((100,), meta, {"optimizer": "adam", "loss": "binary_crossentropy"})


def test_a_prebuilt_model():
    fit_score_pickle(KerasMultiLabelClassifier(model=_prebuilt()), *iris_rows())


@pytest.mark.parametrize("ensemble", [BaggingClassifier, AdaBoostClassifier])
def test_a_prebuilt_model_in_ensembles(ensemble):
    base = KerasMultiLabelClassifier(model=_prebuilt())
    fit_score_pickle(ensemble(estimator=base, n_estimators=2), *iris_rows())


def test_warm_start_continues_the_same_model():
    X, y = iris_rows()
    clf = KerasMultiLabelClassifier(mlp_for_target, model__hidden_layer_sizes=(100,),
                                    epochs=2).fit(X, y)
    model = clf.model_
    clf.set_params(warm_start=True).fit(X, y)
    assert clf.model_ is model
    clf.set_params(warm_start=False)
    for _ in range(2):
        clf.fit(X, y)
        assert clf.model_ is not model
        model = clf.model_


def test_partial_fit_adds_one_epoch_and_keeps_the_model():
    X, y = iris_rows()
    clf = KerasMultiLabelClassifier(mlp_for_target, model__hidden_layer_sizes=[100])
    clf.partial_fit(X, y, classes=[0, 1])
    assert len(clf.history_["loss"]) == 1
    model = clf.model_
    clf.partial_fit(X, y)
    assert len(clf.history_["loss"]) == 2 and clf.model_ is model


def test_partial_fit_keeps_metric_names_through_pickling():
    X, y = iris_rows()
    clf = KerasMultiLabelClassifier(mlp_for_target, model__hidden_layer_sizes=[100],
                                    metrics=["accuracy", keras.metrics.AUC(name="auc")])
    clf.partial_fit(X, y, classes=[0, 1])
    for _ in range(2):
        clf = pickle.loads(pickle.dumps(clf)).partial_fit(X, y)
        assert set(clf.history_) == {"loss", "accuracy", "auc"}
    assert len(clf.history_["auc"]) == 3


@pytest.mark.parametrize("config", ["CNN", "CNN functional"])
def test_partial_fit_pickle_partial_fit_builds_on_training(config):
    load, build = CONFIGS[config]
    X, y = load()
    clf = KerasMultiLabelClassifier(build, epochs=1, model__hidden_layer_sizes=[])
    clf.partial_fit(X, y, classes=np.arange(10))
    again = clf
    for k in range(2, 4):
        again = pickle.loads(pickle.dumps(again)).partial_fit(X, y)
        assert len(clf.history_["loss"]) == 1 and len(again.history_["loss"]) == k
        assert again.history_["loss"][0] == pytest.approx(clf.history_["loss"][0])
    assert again.history_["loss"][-1] < again.history_["loss"][0]
    before = [np.asarray(w) for w in clf.model_.get_weights()]
    after = [np.asarray(w) for w in again.model_.get_weights()]
    changed = [np.linalg.norm(a - b) / np.linalg.norm((a + b) / 2)
               for a, b in zip(before, after)]
    assert all(c > 1e-3 for c in changed)


def test_history_is_a_dict_of_string_keys_and_lists():
    X, y = iris_rows()
    clf = KerasMultiLabelClassifier(mlp_for_target, model__hidden_layer_sizes=[])
    clf.partial_fit(X, y, classes=[0, 1])
    assert isinstance(clf.history_, dict)
    assert all(isinstance(k, str) and isinstance(v, list) for k, v in clf.history_.items())


@pytest.mark.xfail(strict=True, reason="Metric curves are named as Keras names them "
                   "(a metric given as 'acc' records 'acc'); scikeras renames shorthands "
                   "to their long names.")
def test_history_names_metric_shorthands_by_their_long_names():
    X, y = iris_rows()
    clf = KerasMultiLabelClassifier(mlp_for_target, metrics=["acc"], epochs=1).fit(X, y)
    assert "accuracy" in clf.history_ and "acc" not in clf.history_


def test_an_uncompiled_model_is_compiled_with_the_estimator_s_settings():
    X, y = iris_rows()

    def uncompiled(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        return keras.Model(inputs, Dense(1, activation="sigmoid")(inputs))

    clf = KerasMultiLabelClassifier(uncompiled, optimizer="sgd", epochs=1).fit(X, y)
    members = [layer for layer in clf.model_.layers if isinstance(layer, keras.Model)]
    assert {type(member.optimizer).__name__ for member in members} == {"SGD"}


@pytest.mark.xfail(strict=True, reason="The estimator compiles every network with its "
                   "own loss and optimizer, on which class weights, unknown labels, early "
                   "stopping and thresholds rely; it warns that a callable's compile is "
                   "replaced.")
def test_a_model_compiled_by_its_callable_keeps_its_compile():
    X, y = iris_rows()

    def compiled(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        model = keras.Model(inputs, Dense(1, activation="sigmoid")(inputs))
        model.compile(optimizer="rmsprop", loss="mean_absolute_error")
        return model

    clf = KerasMultiLabelClassifier(compiled, epochs=1, threshold=0.5,
                                    early_stopping=False).fit(X, y)
    assert type(clf.model_.optimizer).__name__ == "RMSprop"


# -- test_param_routing -------------------------------------------------------

# The meta keys scikeras gives a classifier's callable (its encoder objects
# aside: this estimator has no encoder hooks).
SCIKERAS_META = {"X_dtype_", "y_dtype_", "classes_", "target_type_", "n_classes_",
                 "n_features_in_", "X_shape_", "n_outputs_expected_", "y_ndim_",
                 "n_outputs_"}


def _multiclass(n=20, d=3, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(n, d)), rng.integers(0, classes, size=n)


def test_a_callable_gets_meta_params_compile_kwargs_and_its_arguments():
    X, y = _multiclass()
    token, calls = object(), []

    def build(hidden_layer_sizes, foo, compile_kwargs, params, meta):
        assert set(params) == set(estimator.get_params())
        assert SCIKERAS_META <= set(meta)
        assert {"optimizer", "loss"} <= set(compile_kwargs)
        assert set(compile_kwargs) <= set(inspect.signature(keras.Model.compile).parameters)
        assert foo is token
        calls.append(foo)
        return mlp_for_target(hidden_layer_sizes, meta, compile_kwargs)

    for routing in ({"model__foo": token}, {"foo": token}):
        estimator = KerasMultiLabelClassifier(build, model__hidden_layer_sizes=(100,),
                                              epochs=1, **routing)
        estimator.fit(X, y)
    assert calls


def test_a_callable_of_keyword_arguments_gets_them_in_a_fixed_order():
    X, y = _multiclass()

    def build(*args, **kwargs):
        assert not args
        assert tuple(kwargs) == ("hidden_layer_sizes", "meta", "compile_kwargs", "params")
        assert SCIKERAS_META <= set(kwargs["meta"])
        kwargs.pop("params")
        return mlp_for_target(**kwargs)

    KerasMultiLabelClassifier(build, model__hidden_layer_sizes=(100,), epochs=1).fit(X, y)


def test_prefixed_and_unprefixed_callable_arguments_are_the_same():
    X, y = _multiclass()
    sizes = []
    for routing in ({"model__hidden_layer_sizes": (7,)}, {"hidden_layer_sizes": (7,)}):
        clf = KerasMultiLabelClassifier(mlp_for_target, epochs=1, **routing).fit(X, y)
        members = [m for m in clf.model_.layers if isinstance(m, keras.Model)]
        sizes.append([layer.units for layer in members[0].layers
                      if isinstance(layer, keras.layers.Dense)])
    assert sizes[0] == sizes[1] == [7, 3]


class RecordingSequential(keras.Sequential):
    """A Sequential whose fit records the keywords it is given."""

    seen = []

    def fit(self, *args, **kwargs):
        type(self).seen.append(dict(kwargs))
        return super().fit(*args, **kwargs)


def _recording(meta):
    return RecordingSequential([keras.Input((1,)), Dense(1, activation="sigmoid")])


def test_fit_keywords_override_routed_fit_parameters():
    RecordingSequential.seen.clear()
    clf = KerasMultiLabelClassifier(_recording, fit__shuffle=False, epochs=1,
                                    threshold=0.5, early_stopping=False)
    clf.fit([[1], [2], [3], [4]], [0, 1, 0, 1], shuffle=True)
    assert RecordingSequential.seen and all(
        call["shuffle"] is True for call in RecordingSequential.seen)


@pytest.mark.xfail(strict=True, reason="Keras's Model.fit(class_weight=...) weights a "
                   "multi-hot row by its first positive label only; the estimator's "
                   "class_weight weights each label's positives in the loss, and "
                   "fit__class_weight is refused with that advice.")
def test_keras_class_weight_is_routed_to_model_fit():
    clf = KerasMultiLabelClassifier(_recording, fit__class_weight={0: 0.5, 1: 0.5})
    clf.fit([[1], [2]], [0, 1])


@pytest.mark.xfail(strict=True, reason="A routed parameter that its destination does "
                   "not take is an error naming it, never silently dropped; scikeras "
                   "skips optimizer__a__b.")
def test_parameters_routed_further_are_skipped():
    clf = KerasMultiLabelClassifier(_recording, optimizer__this_should_not_pass__abc=1)
    clf.fit([[1], [2]], [0, 1])


# -- test_callbacks -----------------------------------------------------------


class Sentinel(keras.callbacks.Callback):
    """Counts the trainings it was part of."""

    def __init__(self, start_at=0):
        super().__init__()
        self.train_counter = start_at

    def on_train_begin(self, logs=None):
        self.train_counter += 1


def test_callbacks_survive_pickling_and_partial_fit_checks():
    estimator = KerasMultiLabelClassifier(mlp_for_target, callbacks=(Sentinel(),),
                                          model__hidden_layer_sizes=(100,))
    check_estimators_pickle("KerasMultiLabelClassifier", estimator)
    check_estimators_partial_fit_n_features("KerasMultiLabelClassifier", estimator)


def test_a_callback_runs_for_each_network_and_keeps_its_state_through_pickling():
    estimator = KerasMultiLabelClassifier(mlp_for_target, callbacks=(Sentinel(),),
                                          model__hidden_layer_sizes=(10,), epochs=1)
    X, y = iris_rows()
    estimator.fit(X, y)
    networks = sum(isinstance(m, keras.Model) for m in estimator.model_.layers) or 1
    assert estimator.callbacks[0].train_counter == networks
    copy = pickle.loads(pickle.dumps(estimator))
    assert copy.callbacks[0].train_counter == networks
    copy.fit(X, y)
    assert copy.callbacks[0].train_counter == 2 * networks


class Schedule:
    """Exponential learning-rate decay after 10 epochs."""

    def __init__(self, coef=0.1):
        self.coef = coef

    def __call__(self, epoch, lr):
        return lr * math.exp(-self.coef) if epoch > 10 else lr


def test_a_callback_class_is_built_from_routed_arguments():
    X = np.random.default_rng(0).uniform(size=(100, 1))
    y = np.random.default_rng(1).integers(0, 2, size=100)

    def model(meta):
        return keras.Sequential([keras.Input((1,)), Dense(2, activation="softmax")])

    clf = KerasMultiLabelClassifier(
        model, epochs=15, loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.SGD(learning_rate=0.1), threshold=0.5,
        early_stopping=False, callbacks=keras.callbacks.LearningRateScheduler,
        callbacks__schedule=Schedule(coef=0.2))
    clf.fit(X, y)
    # Four epochs past the tenth decay the rate by exp(-0.2) each.
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(0.04493, abs=1e-5)


# -- test_parameters ----------------------------------------------------------


@pytest.mark.parametrize("random_state", [0, 123, np.random.RandomState(0)],
                         ids=["0", "123", "RandomState(0)"])
def test_a_random_state_makes_fits_repeat(random_state):
    X, y = make_classification(random_state=0)
    clf = KerasMultiLabelClassifier(mlp_for_target, model__hidden_layer_sizes=(100,),
                                    random_state=random_state)
    first = clf.fit(X, y).predict_proba(X)
    if isinstance(random_state, np.random.RandomState):
        clf.set_params(random_state=np.random.RandomState(0))
    np.testing.assert_allclose(clf.fit(X, y).predict_proba(X), first, rtol=1e-5)


@pytest.mark.parametrize("pyhash", [None, "0", "1"])
@pytest.mark.parametrize("gpu", [None, "0", "1"])
def test_seeded_fits_leave_the_environment_as_found(monkeypatch, pyhash, gpu):
    X, y = make_classification(random_state=0)
    for name, value in (("TF_DETERMINISTIC_OPS", gpu), ("PYTHONHASHSEED", pyhash)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    before = {name: os.environ.get(name) for name in ("TF_DETERMINISTIC_OPS",
                                                      "PYTHONHASHSEED")}
    base = KerasMultiLabelClassifier(mlp_for_target, model__hidden_layer_sizes=(100,),
                                     random_state=0, epochs=3)
    one, two = clone(base).fit(X, y), clone(base).fit(X, y)
    assert {name: os.environ.get(name) for name in before} == before
    np.testing.assert_array_equal(one.predict(X), two.predict(X))
    assert {name: os.environ.get(name) for name in before} == before


def test_sample_weights_tilt_the_probabilities():
    X = np.ones((2000, 1))
    y = np.array([1] * 1000 + [-1] * 1000)
    base = KerasMultiLabelClassifier(mlp_for_target, model__hidden_layer_sizes=(100,),
                                     epochs=10, random_state=0)
    weighted = clone(base).fit(X, y, sample_weight=[0.8] * 1000 + [0.2] * 1000)
    plain = clone(base).fit(X, y)
    assert weighted.predict_proba(X)[:, 1].mean() > plain.predict_proba(X)[:, 1].mean() + 0.1
    # Equal weights train as no weights.
    equal = clone(base).fit(X, y, sample_weight=np.full(2000, 0.5))
    np.testing.assert_allclose(equal.predict_proba(X), plain.predict_proba(X), atol=1e-4)


def test_callable_arguments_are_parameters():
    clf = KerasMultiLabelClassifier(mlp_for_target, model__hidden_layer_sizes=(100,))
    assert clf.get_params()["model__hidden_layer_sizes"] == (100,)
    clf.set_params(model__hidden_layer_sizes=(200,))
    assert clf.get_params()["model__hidden_layer_sizes"] == (200,)


@pytest.mark.parametrize("metric", ["accuracy", "binary_accuracy"])
def test_metrics_are_recorded_each_epoch(metric):
    X, y = make_classification(random_state=0)
    clf = KerasMultiLabelClassifier(mlp_for_target, model__hidden_layer_sizes=(100,),
                                    metrics=[metric], epochs=1).fit(X, y)
    assert len(clf.history_[metric]) == 1


@pytest.mark.parametrize("class_weight", ["balanced", {0: 0.5, 1: 0.5}, {0: 1, 1: 1}],
                         ids=["balanced", "halves", "ones"])
def test_class_weights_of_balanced_classes_train_as_none(class_weight):
    X, y = [[1], [1]], [0, 1]
    base = KerasMultiLabelClassifier(mlp_for_target, model__hidden_layer_sizes=[],
                                     random_state=0, epochs=3)
    weighted = clone(base).set_params(class_weight=class_weight).fit(X, y)
    plain = clone(base).fit(X, y)
    np.testing.assert_allclose(weighted.predict_proba(X), plain.predict_proba(X),
                               rtol=1e-5)


def test_fit_keywords_set_epochs_and_batch_size_for_one_call():
    X, y = np.random.default_rng(0).random((100, 10)), np.arange(100) % 3
    clf = KerasMultiLabelClassifier(mlp_for_target, model__hidden_layer_sizes=(100,),
                                    batch_size=128, threshold=0.5, early_stopping=False)
    clf.fit(X, y, batch_size=90, epochs=2)
    assert len(clf.history_["loss"]) == 2
    assert clf.batch_size == 128 and clf.epochs == "auto"  # restored
    with pytest.raises(ValueError, match="batch_size"):
        clf.fit(X, y, batch_size=0)
    assert clf.batch_size == 128


@pytest.mark.xfail(strict=True, raises=TypeError, reason="predict takes X only, as "
                   "scikit-learn's classifiers do; predict__batch_size sets its batch "
                   "size.")
def test_predict_keywords():
    X, y = np.random.default_rng(0).random((100, 10)), np.arange(100) % 3
    clf = KerasMultiLabelClassifier(mlp_for_target, epochs=1).fit(X, y)
    clf.predict(X, batch_size=90)


@pytest.mark.parametrize("keyword", [{"epochs": 1}, {"initial_epoch": 1}],
                         ids=["epochs", "initial_epoch"])
def test_partial_fit_refuses_epoch_keywords(keyword):
    clf = KerasMultiLabelClassifier(mlp_for_target)
    with pytest.raises((TypeError, ValueError), match=next(iter(keyword))):
        clf.partial_fit([[1], [2]], [0, 1], classes=[0, 1], **keyword)


@pytest.mark.parametrize("length", [10, 100])
@pytest.mark.parametrize("where", ["batch_size", "predict__batch_size"])
def test_batch_size_minus_one_is_every_row(length, where):
    X = np.linspace(0, 1, length).reshape(-1, 1)
    y = np.arange(length) % 2
    RecordingSequential.seen.clear()
    clf = KerasMultiLabelClassifier(_recording, threshold=0.5, early_stopping=False,
                                    epochs=1, **{where: -1}).fit(X, y)
    if where == "batch_size":
        assert RecordingSequential.seen[0]["batch_size"] == length
    else:
        np.testing.assert_allclose(clf.predict_proba(X)[:, 1],
                                   np.asarray(clf.model_(X))[:, 0], rtol=1e-5)


# -- test_errors --------------------------------------------------------------


def test_partial_fit_refuses_samples_of_a_new_shape():
    X = np.arange(8.0).reshape(4, 2, 1)

    def flat(meta):
        inputs = keras.Input(meta["input_shape_"])
        return keras.Model(inputs, Dense(1, activation="sigmoid")(keras.layers.Flatten()(
            inputs)))

    clf = KerasMultiLabelClassifier(flat, epochs=1).fit(X, [0, 1, 0, 1])
    with pytest.raises(ValueError, match="shape"):
        clf.partial_fit(X.reshape(4, 2), [0, 1, 0, 1])


def test_an_unknown_parameter_is_a_friendly_error():
    with pytest.raises(ValueError, match="unexpected parameter 'test'"):
        KerasMultiLabelClassifier().set_params(test=1)


def test_predicting_before_fit_is_not_fitted_error():
    clf = KerasMultiLabelClassifier(mlp_for_target)
    for method in (clf.predict, clf.predict_proba):
        with pytest.raises(NotFittedError):
            method(np.random.default_rng(0).random((10, 20)))


def test_model_must_be_a_model_or_a_callable():
    class NotAModel:
        pass

    with pytest.raises(TypeError, match="'model' parameter"):
        KerasMultiLabelClassifier(model=NotAModel()).fit([[0], [1]], [0, 1])


@pytest.mark.xfail(strict=True, reason="Without model= or a _keras_build_fn hook the "
                   "estimator trains its default MLP; scikeras has no default network.")
def test_a_subclass_without_a_model_is_an_error():
    class NoModel(KerasMultiLabelClassifier):
        pass

    with pytest.raises(ValueError):
        NoModel().fit([[0], [1]], [0, 1])


def test_a_hook_and_a_model_callable_together_are_an_error():
    class Both(KerasMultiLabelClassifier):
        def _keras_build_fn(self, hidden_layer_sizes=(100,)):
            return None

    with pytest.raises(ValueError, match="defines _keras_build_fn and was given model="):
        Both(model=lambda: None).fit([[0], [1]], [0, 1])


def test_all_zero_sample_weights_are_an_error():
    X, y = np.random.default_rng(0).uniform(size=(50, 4)), np.arange(50) % 2
    with pytest.raises(ValueError, match="zero"):
        KerasMultiLabelClassifier(mlp_for_target).fit(X, y, sample_weight=np.zeros(50))


def test_arguments_the_callable_does_not_take_are_errors():
    def no_bar(foo=42):
        raise AssertionError("not built")

    for params in ({"model__bar": 42}, {"bar": 42}, {"model__bar": 42, "foo": 43},
                   {"bar": 42, "foo": 43}):
        with pytest.raises((TypeError, ValueError), match="bar"):
            KerasMultiLabelClassifier(model=no_bar, **params).fit([[0], [1]], [0, 1])


def _fitted_on_two_classes():
    X, y = np.array([[1, 2], [2, 3]]), np.array([1, 3])
    return X, y, KerasMultiLabelClassifier(mlp_for_target, epochs=1).fit(X, y)


@pytest.mark.xfail(strict=True, reason="Class labels are compared by value: 1.0 is the "
                   "class 1, so a later batch's dtype may differ.")
def test_partial_fit_refuses_a_new_target_dtype():
    X, y, clf = _fitted_on_two_classes()
    clf.partial_fit(X, y.astype(np.uint8))
    with pytest.raises(ValueError):
        clf.partial_fit(X, y.astype(np.float64))


@pytest.mark.xfail(strict=True, reason="A column of class labels of shape (n, 1) is a "
                   "1-D target, as OneVsRestClassifier takes it.")
def test_partial_fit_refuses_a_target_of_new_dimensions():
    X, y, clf = _fitted_on_two_classes()
    with pytest.raises(ValueError):
        clf.partial_fit(X, y.reshape(-1, 1))


def test_partial_fit_refuses_a_target_of_new_width():
    X = np.array([[1, 2], [2, 3]])
    y = np.array([[1, 0], [0, 1]])
    clf = KerasMultiLabelClassifier(mlp_for_target, epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="label columns|columns"):
        clf.partial_fit(X, np.column_stack([y, y]))


@pytest.mark.xfail(strict=True, reason="X is validated to float32 as scikit-learn "
                   "validates it, whatever the dtype of each batch.")
def test_partial_fit_refuses_a_new_feature_dtype():
    X, y, clf = _fitted_on_two_classes()
    clf.partial_fit(X.astype(np.uint8), y)
    with pytest.raises(ValueError):
        clf.partial_fit(X.astype(np.float64), y)


def test_partial_fit_refuses_an_unseen_class():
    X, y, clf = _fitted_on_two_classes()
    clf.partial_fit(X.astype(np.uint8), y)
    with pytest.raises(ValueError, match=r"Mini-batch contains \[10\]"):
        clf.partial_fit(X, np.array([10, 3]))


# -- test_input_outputs -------------------------------------------------------


@pytest.mark.xfail(strict=True, raises=TypeError, reason="scikeras's feature_encoder "
                   "hook is refused with a TypeError that says to encode X in a Pipeline; "
                   "a model of several inputs is not supported.")
def test_a_feature_encoder_feeds_a_model_of_two_inputs():
    class TwoInputs(KerasMultiLabelClassifier):
        def _keras_build_fn(self, meta):
            first, rest = keras.Input((1,)), keras.Input((3,))
            joined = keras.layers.Concatenate()([Dense(100)(first), Dense(100)(rest)])
            return keras.Model([first, rest], Dense(meta["n_classes_"],
                                                    activation="softmax")(joined))

        @property
        def feature_encoder(self):
            from sklearn.preprocessing import FunctionTransformer

            return FunctionTransformer(lambda X: [X[:, 0], X[:, 1:4]])

    TwoInputs().fit(np.random.default_rng(0).uniform(size=(10, 4)), np.arange(10))


TARGETS = {
    "ordinal sorted": np.array([1, 2, 3]),
    "ordinal unsorted": np.array([2, 1, 3]),
    "one-hot": np.eye(3, dtype=int),
    "strings": np.array(["a", "b", "c"]),
}


@pytest.mark.parametrize("target", TARGETS)
def test_categorical_and_sparse_categorical_losses_agree(target):
    y = TARGETS[target]
    X = np.arange(3.0).reshape(-1, 1)
    common = dict(model=mlp_for_target, hidden_layer_sizes=(100,), random_state=0)
    one = KerasMultiLabelClassifier(loss="categorical_crossentropy", **common)
    one.fit(X, y).partial_fit(X, y)
    if target != "one-hot":
        two = KerasMultiLabelClassifier(loss="sparse_categorical_crossentropy", **common)
        two.fit(X, y).partial_fit(X, y)
        np.testing.assert_array_equal(one.predict(X), two.predict(X))


def _softmax_for_target(hidden_layer_sizes=(100,), meta=None, compile_kwargs=None):
    """scikeras's multiclass callable: a softmax over the columns or classes."""
    inputs = keras.Input((meta["n_features_in_"],))
    hidden = inputs
    for units in hidden_layer_sizes:
        hidden = Dense(units, activation="relu")(hidden)
    return keras.Model(inputs, Dense(meta["n_classes_"], activation="softmax")(hidden))


@pytest.mark.parametrize("loss", ["categorical_crossentropy",
                                  "sparse_categorical_crossentropy"])
@pytest.mark.parametrize("target", TARGETS)
def test_partial_fit_keeps_the_classes_of_the_first_fit(target, loss):
    y = TARGETS[target]
    if target == "one-hot" and loss == "sparse_categorical_crossentropy":
        pytest.skip("a one-hot target and class indices do not mix (as in scikeras)")
    X = np.array([[1, 2, 3]], dtype=float).T
    clf = KerasMultiLabelClassifier(_softmax_for_target, loss=loss, random_state=0)
    clf.fit(X, y)
    classes = clf.classes_.copy()
    subset = np.repeat(y[:1], 3, axis=0)  # one of the three classes only
    clf.partial_fit(X, subset)
    np.testing.assert_array_equal(clf.classes_, classes)
    assert clf.predict_proba(X).shape == (3, 3)


def test_a_model_of_two_outputs_is_refused():
    X = np.random.default_rng(0).random((10, 20))
    y = np.random.default_rng(1).integers(0, 3, size=10)

    def two_outputs(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        hidden = Dense(100)(inputs)
        return keras.Model(inputs, [Dense(1, activation="sigmoid")(hidden),
                                    Dense(2, activation="softmax")(hidden)])

    with pytest.raises(ValueError, match="exactly one output"):
        KerasMultiLabelClassifier(two_outputs).fit(X, y)


def _units_model(activation, units):
    def model(meta, hidden_layer_sizes=(200,)):
        inputs = keras.Input((meta["n_features_in_"],))
        hidden = inputs
        for size in hidden_layer_sizes:
            hidden = Dense(size)(hidden)
        outputs = [Dense(n, activation=activation)(hidden) for n in units]
        return keras.Model(inputs, outputs)

    return model


def _cases():
    """scikeras's target layouts against MLPClassifier, one case per dtype."""
    rng = np.random.default_rng(0)
    numeric = ("float32", "float64", "int64", "int32", "uint8", "uint16")
    binary = rng.integers(0, 2, size=2000)
    three = rng.integers(0, 3, size=2000)
    x4 = rng.integers(0, 4, size=2000)
    two_labels = np.column_stack([np.isin(x4, [1, 3]), np.isin(x4, [2, 3])]).astype(int)
    layouts = [
        ("binary, sigmoid", binary[:, None], binary, ("sigmoid", [1]),
         "binary_crossentropy", numeric + ("<U1",), 0.95, None),
        ("binary one-hot, softmax", binary[:, None], np.column_stack([binary, 1 - binary]),
         ("softmax", [2]), "categorical_crossentropy", numeric, 0.95, None),
        ("multiclass, softmax", three[:, None], three, ("softmax", [3]),
         "sparse_categorical_crossentropy", numeric + ("<U1",), 0.95, None),
        ("multiclass one-hot, softmax", three[:, None],
         OneHotEncoder(sparse_output=False).fit_transform(three[:, None]),
         ("softmax", [3]), "categorical_crossentropy", numeric, 0.95, None),
        ("multi-label, one sigmoid layer", x4[:, None], two_labels, ("sigmoid", [2]),
         "bce", numeric, 0.4, None),
        ("multi-label, one output per label", x4[:, None], two_labels,
         ("sigmoid", [1, 1]), "bce", numeric, 0.4, None),
        ("multiclass-multioutput", three[:, None], np.column_stack([three, three == 1]),
         ("softmax", [3, 2]), "sparse_categorical_crossentropy", numeric + ("<U1",), 0.55,
         "Targets of several multiclass columns are not multi-label: each column "
         "would need a softmax of its own (MultiOutputClassifier over this estimator "
         "fits them)."),
    ]
    for name, X, y, (activation, units), loss, dtypes, floor, why in layouts:
        for dtype in dtypes:
            marks = [pytest.mark.xfail(strict=True, raises=ValueError, reason=why)] \
                if why else []
            yield pytest.param(X, y.astype(dtype), activation, units, loss, floor,
                               id=f"{name}-{dtype}", marks=marks)


@pytest.mark.parametrize("X, y, activation, units, loss, floor", list(_cases()))
def test_predictions_have_mlpclassifier_s_shape_and_dtype(X, y, activation, units,
                                                          loss, floor):
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    ours = KerasMultiLabelClassifier(_units_model(activation, units),
                                     hidden_layer_sizes=[200], epochs=15,
                                     random_state=0, loss=loss)
    theirs = MLPClassifier(hidden_layer_sizes=[200], max_iter=15, random_state=0)
    predicted = ours.fit(X_train, y_train).predict(X_test)
    expected = theirs.fit(X_train, y_train).predict(X_test)
    assert predicted.shape == expected.shape
    assert predicted.dtype == expected.dtype
    assert accuracy_score(y_test, predicted) >= floor


# -- test_serialization -------------------------------------------------------


def test_an_estimator_with_callbacks_pickles():
    clf = KerasMultiLabelClassifier(mlp_for_target,
                                    callbacks=[keras.callbacks.Callback()], epochs=1)
    clf.fit([[1], [2], [3], [4]], [0, 1, 0, 1])
    clf = pickle.loads(pickle.dumps(clf))
    clf.predict([[1]])
    clf.partial_fit([[1], [2]], [0, 1])


@pytest.mark.parametrize("optimizer", ["adam", "sgd", keras.optimizers.Adam(),
                                       keras.optimizers.SGD()],
                         ids=["adam", "sgd", "Adam()", "SGD()"])
def test_pickling_between_partial_fits_changes_nothing(optimizer):
    X, y = make_classification(n_features=8, n_samples=100, random_state=0)
    one = KerasMultiLabelClassifier(mlp_for_target, optimizer=optimizer, random_state=42,
                                    model__hidden_layer_sizes=[])
    two = pickle.loads(pickle.dumps(clone(one)))
    one.partial_fit(X, y, classes=[0, 1])
    two.partial_fit(X, y, classes=[0, 1])
    for k in range(4):
        one.partial_fit(X, y)
        copy = pickle.loads(pickle.dumps(two))
        assert copy is not two and copy.current_epoch == two.current_epoch == k + 1
        two = copy.partial_fit(X, y)
        for a, b in zip(one.model_.get_weights(), two.model_.get_weights()):
            np.testing.assert_allclose(a, b, rtol=0.01, atol=1e-6)
        np.testing.assert_allclose(one.predict_proba(X), two.predict_proba(X), atol=1e-5)


def test_a_model_compiled_to_run_eagerly_pickles():
    X, y = iris_rows()
    fit_score_pickle(KerasMultiLabelClassifier(mlp_for_target, run_eagerly=True,
                                               model__hidden_layer_sizes=(100,),
                                               epochs=1), X, y)


@keras.saving.register_keras_serializable(package="scikeras_contracts")
class RegisteredModel(keras.Model):
    pass


class UnregisteredModel(keras.Model):
    pass


def _subclassed(cls, meta):
    inputs = keras.Input((meta["n_features_in_"],))
    hidden = Dense(meta["n_features_in_"], activation="relu")(inputs)
    return cls(inputs, Dense(1, activation="sigmoid")(hidden))


def registered_model(meta):
    return _subclassed(RegisteredModel, meta)


def unregistered_model(meta):
    return _subclassed(UnregisteredModel, meta)


@pytest.mark.parametrize("build", [registered_model, unregistered_model])
def test_a_subclassed_functional_model_pickles(build):
    fit_score_pickle(KerasMultiLabelClassifier(build, epochs=1), *iris_rows())


@keras.saving.register_keras_serializable(package="scikeras_contracts")
class CustomLoss(keras.losses.BinaryCrossentropy):
    pass


@pytest.mark.xfail(strict=True, raises=ValueError, reason="A loss class of another "
                   "module may compute anything, while the estimator's training, "
                   "weighting and thresholds assume a per-label cross-entropy: only "
                   "Keras's own cross-entropy losses are taken.")
def test_a_custom_loss_class_pickles():
    fit_score_pickle(KerasMultiLabelClassifier(mlp_for_target, loss=CustomLoss(),
                                               epochs=1), *iris_rows())
