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
    clf = KerasMultiLabelClassifier(cnn, epochs=15, learning_rate=0.02, threshold_cv=3,
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
