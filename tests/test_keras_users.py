"""Model callables written for scikeras or plain Keras: their arguments, hooks
and compiles are honoured or refused aloud, never silently ignored."""

import warnings

import numpy as np
import pytest
from conftest import tiny
from sklearn.base import clone

keras = pytest.importorskip("keras")

from sklearn_mlk import KerasMultiLabelClassifier  # noqa: E402


def _units(clf):
    """Units of the Dense layers of the fitted network (one member's)."""
    model = clf.model_
    members = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    model = members[0] if members else model
    return [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def mlp(meta, hidden_layer_sizes=(7,), activation="tanh", dropout=0.3):
    """scikeras's MLP tutorial style: the estimator's names, defaults of its own."""
    inputs = keras.Input((meta["n_features_in_"],))
    hidden = inputs
    sizes = (hidden_layer_sizes,) if isinstance(hidden_layer_sizes, int) else hidden_layer_sizes
    for units in sizes:
        hidden = keras.layers.Dense(units, activation=activation)(hidden)
        hidden = keras.layers.Dropout(dropout)(hidden)
    outputs = keras.layers.Dense(meta["n_labels_"], activation="sigmoid")(hidden)
    return keras.Model(inputs, outputs)


def test_names_shared_with_the_estimator_reach_the_model_callable(data):
    """They used to be dropped: a callable asked for 100 units trained with 7."""
    X, Y = data
    clf = tiny(model=mlp, hidden_layer_sizes=(12, 5), activation="elu", dropout=0.1)
    clf.fit(X, Y)
    assert _units(clf) == [12, 5, Y.shape[1]]
    first = clf.model_.layers[1]
    assert first.activation.__name__ == "elu"
    assert [layer.rate for layer in clf.model_.layers if isinstance(
        layer, keras.layers.Dropout)] == [0.1, 0.1]
    # An int, as scikeras users write it; a model__ parameter is more specific.
    assert _units(tiny(model=mlp, hidden_layer_sizes=9).fit(X, Y)) == [9, Y.shape[1]]
    clf = tiny(model=mlp, hidden_layer_sizes=(12,), model__hidden_layer_sizes=(4,))
    assert _units(clf.fit(X, Y)) == [4, Y.shape[1]]


def test_a_model_callable_naming_dropout_gets_the_rate_auto_resolves_to(data, monkeypatch):
    """dropout="auto" reaches a callable that names dropout as the rate of
    this fit, not as the string: 0.5, or 0.25 from LARGE_DROPOUT_ROWS rows;
    alpha="auto" as the 0 it is for a callable's network."""
    from sklearn_mlk._training import _fit

    X, Y = data

    def rates(clf):
        return [layer.rate for layer in clf.model_.layers
                if isinstance(layer, keras.layers.Dropout)]

    assert rates(tiny(model=mlp, dropout="auto").fit(X, Y)) == [_fit.AUTO_DROPOUT]
    monkeypatch.setattr(_fit, "LARGE_DROPOUT_ROWS", len(X))
    assert rates(tiny(model=mlp, dropout="auto").fit(X, Y)) == [_fit.LARGE_DROPOUT]
    clf = tiny(model=mlp, dropout="auto")
    clf.partial_fit(X, Y, classes=np.arange(Y.shape[1]))  # rows unknown in advance
    assert rates(clf) == [_fit.AUTO_DROPOUT]
    given = []

    def penalised(meta, alpha=0.7, dropout=0.3):
        given.append((alpha, dropout))
        return mlp(meta)

    tiny(model=penalised, alpha="auto", dropout=0.2).fit(X, Y[:, 0])  # a 1-D target
    tiny(model=penalised, alpha=0.0, dropout="auto").fit(X, Y)
    assert given == [(0.0, 0.2), (0.0, _fit.LARGE_DROPOUT)]


def build(meta, units, compile_kwargs):
    inputs = keras.Input((meta["n_features_in_"],))
    hidden = keras.layers.Dense(units, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(hidden))


def test_unprefixed_arguments_of_the_model_callable_are_routed_to_it(data):
    X, Y = data
    clf = tiny(model=build, units=6)
    assert _units(clf.fit(X, Y)) == [6, Y.shape[1]]
    assert clone(clf).get_params()["units"] == 6
    assert _units(clf.set_params(units=3).fit(X, Y)) == [3, Y.shape[1]]
    with pytest.raises(ValueError, match="unexpected parameter 'unitz'"):
        clf.set_params(unitz=3)
    with pytest.raises(ValueError, match="units is given both as units= and model__units="):
        tiny(model=build, units=6, model__units=4).fit(X, Y)
    # Without a callable that takes it, the name is a typo as before.
    with pytest.raises(ValueError, match="unexpected parameter 'units'"):
        tiny(units=6).fit(X, Y)


def test_a_subclass_keras_build_fn_builds_the_network(data):
    """scikeras's subclass hook; it used to be ignored for the default MLP."""
    X, Y = data

    class Subclassed(KerasMultiLabelClassifier):
        def _keras_build_fn(self, meta, compile_kwargs):
            inputs = keras.Input((meta["n_features_in_"],))
            hidden = keras.layers.Dense(11, activation="relu")(inputs)
            return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(hidden))

    params = dict(hidden_layer_sizes=(8,), epochs=2, random_state=0, dropout=0.0,
                  early_stopping=False)
    clf = Subclassed(threshold="f1", threshold_cv=3, refit=False, **params).fit(X, Y)
    assert _units(clf) == [11, Y.shape[1]]
    with pytest.raises(ValueError, match="defines _keras_build_fn and was given model="):
        Subclassed(model=build, **params).fit(X, Y)


@pytest.mark.parametrize("hook", ["feature_encoder", "target_encoder"])
def test_scikeras_encoder_hooks_are_refused_aloud(data, hook):
    X, Y = data
    Subclassed = type("Subclassed", (KerasMultiLabelClassifier,),
                      {hook: property(lambda self: None)})
    with pytest.raises(TypeError, match=f"scikeras's {hook} hook, which this estimator "
                                        "does not call"):
        Subclassed(epochs=1, threshold=0.5).fit(X, Y)


def test_a_model_compiled_by_its_callable_is_recompiled_with_a_warning(data):
    X, Y = data

    def compiled(meta):
        model = mlp(meta)
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
        return model

    with pytest.warns(UserWarning, match=r"compiled its model \(optimizer SGD, loss "
                                         r"'binary_crossentropy'\); the estimator compiles"):
        clf = tiny(model=compiled, threshold="f1", threshold_cv=3, refit=False).fit(X, Y)
    # Once per fit, not once per fold network.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clone(clf).fit(X, Y)
    assert sum("compiled its model" in str(w.message) for w in caught) == 1


def test_a_single_output_wrapped_in_a_list_trains_as_a_fold_ensemble(data):
    """keras.Model([inputs], [outputs]) used to fail after training every fold
    network, in the ensemble's averaging layer."""
    X, Y = data

    def listed(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        outputs = keras.layers.Dense(meta["n_labels_"], activation="sigmoid")(inputs)
        return keras.Model([inputs], [outputs])

    clf = tiny(model=listed, threshold="f1", threshold_cv=3, refit=False).fit(X, Y)
    assert clf.predict_proba(X).shape == Y.shape
    template = listed({"n_features_in_": X.shape[1], "n_labels_": Y.shape[1]})
    clf = tiny(model=template, threshold="f1", threshold_cv=3, refit=False).fit(X, Y)
    np.testing.assert_allclose(clf.predict_proba(X[:5]),
                               clf.model_.predict(X[:5].astype(np.float32), verbose=0),
                               rtol=1e-5)


# -- N-D input ---------------------------------------------------------------


def _images(n=60, seed=0):
    """(n, 64, 64, 3) images whose labels are which channels are bright."""
    rng = np.random.default_rng(seed)
    bright = rng.random((n, 3)) < 0.5
    images = rng.random((n, 64, 64, 3)) * 0.2 + 0.6 * bright[:, None, None, :]
    return images.astype(np.float32), bright.astype(int)


def cnn(meta, filters=4):
    """A multi-label image tutorial's CNN: the images' shape from meta."""
    inputs = keras.Input(meta["input_shape_"])
    x = keras.layers.Conv2D(filters, 3, strides=4, activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(meta["n_labels_"], activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def test_a_cnn_trains_on_images_with_learned_thresholds_and_a_fold_ensemble(tmp_path):
    import sklearn_mlk

    X, Y = _images()
    clf = KerasMultiLabelClassifier(cnn, epochs=30, learning_rate=0.02, threshold_cv=3,
                                    refit=False, random_state=0).fit(X, Y)
    members = [layer for layer in clf.model_.layers if isinstance(layer, keras.Model)]
    assert len(members) == 3 and clf.threshold_status_.tolist() == ["tuned"] * 3
    assert clf.n_features_in_ == 64  # X.shape[1], as scikit-learn counts it
    assert (clf.predict(X) == Y).mean() > 0.9
    # a row predicts the same alone as in a batch, and after a save and load
    np.testing.assert_allclose(clf.predict_proba(X[:1]), clf.predict_proba(X)[:1],
                               rtol=1e-5)
    clf.save(tmp_path / "cnn.mlk")
    np.testing.assert_array_equal(sklearn_mlk.load(tmp_path / "cnn.mlk").predict_proba(X),
                                  clf.predict_proba(X))


def test_n_d_input_is_validated_as_two_d_input_is(data):
    X, Y = _images(20)
    clf = KerasMultiLabelClassifier(cnn, epochs=1, threshold=0.5).fit(X, Y)
    with pytest.raises(ValueError, match=r"samples of shape \(64, 64, 1\), but "
                                         r"KerasMultiLabelClassifier was fitted on "
                                         r"samples of shape \(64, 64, 3\)"):
        clf.predict(X[..., :1])
    with pytest.raises(ValueError, match="expecting 64 features"):
        clf.predict(X[:, :8])
    with pytest.raises(ValueError, match=r"samples of shape \(64,\), but"):
        clf.predict(X[:, :, 0, 0])  # a 2-D X of as many columns
    bad = X.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(bad)
    with pytest.raises(ValueError, match="the default MLP takes 2-D X .* pass a model"):
        KerasMultiLabelClassifier().fit(X, Y)
    assert X[0, 0, 0, 0] != bad[0, 0, 0, 0]  # the caller's array is not modified


def test_sequences_train_and_continue_with_partial_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 12, 5)).astype(np.float32)
    Y = np.stack([X[:, :, 0].mean(1) > 0, X[:, -1, 1] > 0], axis=1).astype(int)

    def recurrent(meta):
        inputs = keras.Input(meta["input_shape_"])
        x = keras.layers.Conv1D(8, 3, activation="relu")(inputs)
        x = keras.layers.GlobalMaxPooling1D()(x)
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(x))

    clf = KerasMultiLabelClassifier(recurrent, epochs=3, random_state=0)
    clf.partial_fit(X[:40], Y[:40], classes=[0, 1]).partial_fit(X[40:], Y[40:])
    assert clf.predict(X).shape == Y.shape
    with pytest.raises(ValueError, match=r"samples of shape \(12, 4\)"):
        clf.partial_fit(X[:5, :, :4], Y[:5])
    clf = clone(clf).fit(X, Y)
    assert clf.predict_proba(X).shape == Y.shape


# -- scikeras's vocabulary ------------------------------------------------------


def _proba(**params):
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(120, 8, n_classes=3, random_state=0)
    clf = tiny(threshold="f1", threshold_cv=3, refit=False, epochs=4, **params).fit(X, Y)
    return clf.predict_proba(X)


def test_loss_names_classes_and_instances_are_the_same_per_label_losses():
    focal = _proba(focal_gamma=2.0)
    np.testing.assert_array_equal(_proba(loss="binary_focal_crossentropy"), focal)
    np.testing.assert_array_equal(
        _proba(loss=keras.losses.BinaryFocalCrossentropy, loss__gamma=2.0), focal)
    smoothed = _proba(loss=keras.losses.BinaryCrossentropy(label_smoothing=0.2))
    np.testing.assert_array_equal(
        _proba(loss="binary_crossentropy", loss__label_smoothing=0.2), smoothed)
    assert not np.allclose(smoothed, _proba(loss="binary_crossentropy"))


def test_label_smoothing_is_kerass():
    from sklearn_mlk._training._losses import weighted_binary_crossentropy

    rng = np.random.default_rng(0)
    y = (rng.random((16, 5)) < 0.3).astype(np.float32)
    logits = rng.normal(size=(16, 5)).astype(np.float32)
    ours = weighted_binary_crossentropy(np.ones(5), True, label_smoothing=0.3)(y, logits)
    theirs = keras.losses.binary_crossentropy(y, logits, from_logits=True,
                                              label_smoothing=0.3)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours),
                               keras.ops.convert_to_numpy(theirs), rtol=1e-5)


@pytest.mark.parametrize("params, match", [
    ({"loss": "categorical_crossentropy"}, "categorical cross-entropy, which trains a softmax"),
    ({"loss": keras.losses.MeanSquaredError()}, "not a per-label binary cross-entropy"),
    ({"loss": "binary_focal_crossentropy", "focal_gamma": 1.0}, "give the focusing "
     "parameter once"),
    ({"loss": "binary_focal_crossentropy", "loss__apply_class_balancing": True},
     "use class_weight"),
    ({"loss": "binary_crossentropy", "loss__gama": 2.0}, "takes no argument 'gama'"),
    ({"loss": keras.losses.BinaryCrossentropy(), "loss__label_smoothing": 0.1},
     "loss is an instance already"),
    ({"callbacks__patience": 1}, "callbacks is None"),
    ({"callbacks": keras.callbacks.EarlyStopping, "callbacks__patiense": 1},
     "did you mean 'callbacks__patience'"),
    ({"shuffle": False, "fit__shuffle": True}, "given twice"),
    ({"predict__steps": 2}, "predict__steps is routed to prediction"),
])
def test_scikeras_vocabulary_errors(data, params, match):
    X, Y = data
    clf = tiny(**params)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, Y)
    assert not hasattr(clf, "model_")


def test_aliases_and_the_learning_rate_synonym_route_as_their_full_names():
    np.testing.assert_array_equal(_proba(shuffle=False), _proba(fit__shuffle=False))
    np.testing.assert_array_equal(_proba(optimizer__learning_rate=0.02),
                                  _proba(learning_rate=0.02))
    clf = tiny(metrics=["auc"], run_eagerly=True, shuffle=False)
    assert clone(clf).get_params()["metrics"] == ["auc"]
    clf.set_params(shuffle=True)
    X = np.random.default_rng(0).normal(size=(60, 4))
    Y = (X[:, :2] > 0).astype(int)
    clf.fit(X, Y)
    assert len(clf.history_["auc"]) == clf.epochs  # a Keras metric, through Model.fit


def test_callbacks_as_one_object_or_a_class_with_routed_arguments(data):
    X, Y = data
    stop = dict(callbacks__monitor="loss", callbacks__patience=0, callbacks__min_delta=10.0)
    clf = tiny(threshold="f1", threshold_cv=3, refit=False, epochs=6,
               callbacks=keras.callbacks.EarlyStopping, **stop).fit(X, Y)
    # Each fold network stops on its own; the mean curve ends with them.
    np.testing.assert_array_equal(clf.n_iter_, [2, 2, 2])
    assert len(clf.history_["loss"]) == 2 == clf.current_epoch
    seen = []

    class Count(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(epoch)

    tiny(callbacks=Count(), epochs=3).fit(X, Y)
    assert seen == [0, 1, 2]


def test_meta_and_compile_kwargs_carry_scikerass_keys(data):
    X, Y = data
    seen = {}

    def build(meta, compile_kwargs):
        seen.update(meta=meta, compile_kwargs=compile_kwargs)
        model = mlp(meta)
        model.compile(**{k: compile_kwargs[k] for k in ("optimizer", "loss")})
        return model

    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # compiled with ours: no warning
        tiny(model=build, optimizer="sgd", learning_rate=0.03).fit(X, Y)
    meta = seen["meta"]
    assert meta["n_outputs_"] == meta["n_outputs_expected_"] == 1
    assert meta["X_dtype_"] == np.float32 and meta["y_ndim_"] == 2
    assert meta["input_shape_"] == (X.shape[1],) and meta["n_classes_"] == Y.shape[1]
    optimizer = seen["compile_kwargs"]["optimizer"]
    assert isinstance(optimizer, keras.optimizers.SGD)
    assert float(keras.ops.convert_to_numpy(optimizer.learning_rate)) == pytest.approx(0.03)
    assert seen["compile_kwargs"]["loss"] == "binary_crossentropy"


def test_initialize_builds_without_training_and_current_epoch_counts(data, monkeypatch):
    X, Y = data
    clf = KerasMultiLabelClassifier(model=mlp, random_state=0)
    assert clf.current_epoch == 0
    clf.initialize(X, Y)
    assert clf.current_epoch == 0 and clf.predict(X).shape == Y.shape
    weights = [w.copy() for w in clf.model_.get_weights()]
    clf.partial_fit(X, Y)
    assert clf.current_epoch == 1
    assert not all(np.array_equal(a, b) for a, b in zip(weights, clf.model_.get_weights()))
    from sklearn_mlk._keras import _network

    sizes = []
    original = _network.batches

    def spy(X, batch_size):
        sizes.append(batch_size)
        return original(X, batch_size)

    def normed(meta):  # not a chain of Dense layers: it predicts through Keras
        inputs = keras.Input((meta["n_features_in_"],))
        hidden = keras.layers.LayerNormalization()(inputs)
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(hidden))

    clf = tiny(model=normed).fit(X, Y)
    monkeypatch.setattr(_network, "batches", spy)
    clf.set_params(predict__batch_size=7).predict_proba(X)
    assert sizes == [7]


def test_validation_split_is_validation_fraction_and_says_when_unused(data, capsys):
    X, Y = data
    tiny(threshold=0.5, early_stopping=True, validation_split=0.3, verbose=1,
         epochs=1).fit(X, Y)
    assert "stopping early on 60 once" in capsys.readouterr().out  # 30% of 200 rows
    with pytest.warns(UserWarning, match="validation_split=0.3 sets validation_fraction"):
        tiny(threshold="f1", threshold_cv=3, early_stopping=True,
             validation_split=0.3).fit(X, Y)
    with pytest.raises(ValueError, match="give one of them"):
        tiny(validation_split=0.3, validation_fraction=0.2).fit(X, Y)
    with pytest.raises(ValueError, match="fit__validation_split is set by the estimator; "
                                         "use validation_split"):
        tiny(fit__validation_split=0.2).fit(X, Y)


def one_head_per_label(meta):
    inputs = keras.Input((meta["n_features_in_"],))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    heads = [keras.layers.Dense(1, activation="sigmoid", name=f"head_{i}")(hidden)
             for i in range(meta["n_labels_"])]
    return keras.Model(inputs, heads)


def test_one_sigmoid_head_per_label_trains_as_one_output(data, tmp_path):
    """Keras's multi-output style: the heads are joined, in order, one column each."""
    from sklearn_mlk import load

    X, Y = data
    clf = tiny(model=one_head_per_label, threshold="f1", threshold_cv=3,
               epochs=2).fit(X, Y)
    P = clf.predict_proba(X)
    members = [m for m in clf.model_.layers if isinstance(m, keras.Model)]
    heads = np.mean([np.hstack([keras.ops.convert_to_numpy(h) for h in keras.Model(
        m.inputs, [m.get_layer(f"head_{i}").output for i in range(Y.shape[1])])(X)])
        for m in members], axis=0)
    np.testing.assert_allclose(P, heads, atol=1e-6)
    clf.save(tmp_path / "heads.mlk")
    np.testing.assert_allclose(load(tmp_path / "heads.mlk").predict_proba(X), P, atol=1e-6)


def test_heads_of_different_activations_are_refused(data):
    X, Y = data

    def mixed(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        return keras.Model(inputs, [keras.layers.Dense(1, activation="sigmoid")(inputs),
                                    keras.layers.Dense(3, activation="softmax")(inputs)])

    with pytest.raises(ValueError, match="exactly one output, got 2"):
        tiny(model=mixed).fit(X, Y)


class PackagedMLP(KerasMultiLabelClassifier):
    """scikeras's subclass pattern: named parameters, a routed one among them
    left unstored, and a hook that reads meta from the estimator."""

    seen = []

    def __init__(self, units=6, optimizer__learning_rate=0.05, epochs=2, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.epochs = epochs

    def _keras_build_fn(self, compile_kwargs):
        type(self).seen.append((self.n_features_in_, self.target_type_, self.n_classes_,
                                compile_kwargs["optimizer"].learning_rate))
        inputs = keras.Input((self.n_features_in_,))
        hidden = keras.layers.Dense(self.units, activation="relu")(inputs)
        return keras.Model(inputs, keras.layers.Dense(self.n_classes_,
                                                      activation="sigmoid")(hidden))


def test_scikeras_subclass_pattern_runs_unchanged(data):
    X, Y = data
    PackagedMLP.seen.clear()
    clf = PackagedMLP(threshold=0.5, early_stopping=False, random_state=0)
    params = clf.get_params()
    assert params["optimizer__learning_rate"] == 0.05 and params["threshold"] == 0.5
    assert params["units"] == 6 and params["hidden_layer_sizes"] == (256,)
    clf.fit(X, Y)
    (n_features, kind, n_classes, rate), = PackagedMLP.seen
    assert (n_features, kind, n_classes) == (10, "multilabel-indicator", 4)
    assert float(rate) == pytest.approx(0.05)
    # The meta attributes were there for the hook only.
    assert "target_type_" not in vars(clf) and "X_shape_" not in vars(clf)
    copy = clone(clf)
    assert copy.get_params()["optimizer__learning_rate"] == 0.05
    np.testing.assert_allclose(copy.fit(X, Y).predict_proba(X), clf.predict_proba(X),
                               rtol=1e-5)


def test_metric_classes_are_built_with_their_routed_arguments(data):
    X, Y = data
    clf = tiny(metrics=[keras.metrics.AUC, "binary_accuracy"], metrics__0__name="pr_auc",
               metrics__0__curve="PR", epochs=2).fit(X, Y)
    assert len(clf.history_["pr_auc"]) == 2 and "binary_accuracy" in clf.history_
    single = tiny(metrics=keras.metrics.Precision, metrics__name="precise",
                  metrics__thresholds=0.3, epochs=1).fit(X, Y)
    assert "precise" in single.history_
    for params, match in [
        ({"metrics": keras.metrics.AUC, "metrics__curv": "PR"}, "did you mean"),
        ({"metrics": ["accuracy"], "metrics__0__name": "x"}, "configure a class"),
        ({"metrics": [keras.metrics.AUC], "metrics__3__name": "x"}, "metrics holds 1"),
        ({"metrics__name": "x"}, "metrics is None"),
        # callbacks share the mechanism, indexed routing included
        ({"callbacks": [keras.callbacks.EarlyStopping], "callbacks__0__patince": 1},
         "did you mean"),
        ({"callbacks": keras.callbacks.EarlyStopping(), "callbacks__patience": 1},
         "instances only"),
    ]:
        clf = tiny(**params)
        with pytest.raises(ValueError, match=match):
            clf.fit(X, Y)


class FixedSettings(KerasMultiLabelClassifier):
    """A scikit-learn-style subclass: its own parameters only, the rest fixed."""

    def __init__(self, units=8):
        super().__init__(hidden_layer_sizes=(units,), epochs=2, threshold=0.5,
                         early_stopping=False, random_state=0)
        self.units = units


def test_a_subclass_that_fixes_settings_fits_and_clones(data):
    """The settings it fixes are not taken for routed parameters (they were:
    "unexpected parameter 'model'")."""
    X, Y = data
    clf = FixedSettings(units=5).fit(X, Y)
    assert clf.get_params() == {"units": 5}
    assert _units(clf) == [5, Y.shape[1]]
    np.testing.assert_allclose(clone(clf).fit(X, Y).predict_proba(X), clf.predict_proba(X),
                               rtol=1e-5)
