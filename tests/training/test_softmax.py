"""A network that ends in a softmax over the classes of a multiclass target
trains with categorical cross-entropy; anywhere else a softmax is refused."""

import warnings

import numpy as np
import pytest
from conftest import tiny

keras = pytest.importorskip("keras")

from sklearn_mlk._training._divergence import constant_loss  # noqa: E402
from sklearn_mlk._training._losses import (  # noqa: E402
    positive_weights,
    weighted_categorical_crossentropy,
)


def softmax_model(meta, hidden=8):
    inputs = keras.Input((meta["n_features_in_"],))
    hidden = keras.layers.Dense(hidden, activation="relu")(inputs)
    outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax")(hidden)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def three_classes():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=150)
    X = rng.normal(size=(150, 5)) + 2.0 * np.eye(5)[y]
    return X, np.array(["a", "b", "c"])[y]


@pytest.mark.smoke
@pytest.mark.network
def test_a_softmax_network_learns_a_multiclass_target(three_classes):
    X, y = three_classes
    clf = tiny(model=softmax_model, epochs=30, learning_rate=0.01).fit(X, y)
    P = clf.predict_proba(X)
    # The network's own probabilities, already summing to 1 over the classes.
    np.testing.assert_allclose(P, keras.ops.convert_to_numpy(clf.model_(X)), atol=1e-6)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-6)
    assert (clf.predict(X) == clf.classes_[P.argmax(axis=1)]).all()
    assert clf.score(X, y) >= 0.85  # a linear boundary separates about 0.9
    assert clf.history_["loss"][-1] < clf.history_["loss"][0] / 2
    # The loss trained is the categorical one: with steps too small to move
    # the weights, the epoch's loss is that of the network's outputs.
    still = tiny(model=softmax_model, epochs=1, learning_rate=1e-12).fit(X, y)
    P = still.predict_proba(X)
    Y = (y[:, None] == still.classes_).astype(np.float32)
    categorical = -np.log(P[Y == 1]).mean()
    binary = -(Y * np.log(P) + (1 - Y) * np.log1p(-P)).mean()
    assert still.history_["loss"][0] == pytest.approx(categorical, rel=1e-4)
    assert abs(categorical - binary) > 0.1


@pytest.mark.network
def test_categorical_loss_names_are_accepted_for_a_softmax(three_classes):
    X, y = three_classes
    losses = []
    for loss in ["sparse_categorical_crossentropy", "categorical_crossentropy",
                 keras.losses.CategoricalCrossentropy, "binary_crossentropy"]:
        clf = tiny(model=softmax_model, loss=loss).fit(X, y)
        losses.append(clf.history_["loss"])
    # One loss whatever its name: the estimator encodes the classes itself.
    for other in losses[1:]:
        np.testing.assert_allclose(other, losses[0], rtol=1e-5)


@pytest.mark.network
@pytest.mark.parametrize("target, match", [
    ("multilabel", "Multi-label targets need one independent sigmoid per label"),
    ("binary", "softmax over one unit, which is always 1"),
])
def test_a_softmax_is_refused_where_outputs_do_not_compete(data, target, match):
    X, Y = data
    y = Y if target == "multilabel" else Y[:, 0]

    def model(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"],
                                                      activation="softmax")(inputs))

    clf = tiny(model=model)
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)
    assert not hasattr(clf, "model_")


@pytest.mark.smoke
@pytest.mark.network
def test_a_binary_target_takes_a_softmax_over_both_classes(data):
    """scikeras users write Dense(2, activation="softmax") for two classes:
    the second unit is the positive class's probability, thresholds and all."""
    X, Y = data
    y = np.where(Y[:, 0] == 1, "yes", "no")
    clf = tiny(model=softmax_model, threshold="f1", threshold_cv=3,
               epochs=2).fit(X, y)
    assert clf.model_.outputs[0].shape[-1] == 2
    P = clf.predict_proba(X)
    members = [m for m in clf.model_.layers if isinstance(m, keras.Model)]
    both = np.mean([keras.ops.convert_to_numpy(m(X)) for m in members], axis=0)
    np.testing.assert_allclose(P[:, 1], both[:, 1], atol=1e-6)
    assert clf.thresholds_.shape == (1,) and clf.threshold_status_[0] == "tuned"
    np.testing.assert_array_equal(clf.predict(X) == "yes", P[:, 1] >= clf.thresholds_[0])
    # The loss is the two-class categorical cross-entropy, which equals the
    # binary cross-entropy of the second unit.
    still = tiny(model=softmax_model, epochs=1, learning_rate=1e-12).fit(X, y)
    p = still.predict_proba(X)[:, 1]
    t = (y == "yes")
    bce = -np.mean(np.where(t, np.log(p), np.log1p(-p)))
    assert still.history_["loss"][0] == pytest.approx(bce, rel=1e-4)


@pytest.mark.network
def test_a_categorical_loss_needs_a_softmax(three_classes):
    X, y = three_classes
    clf = tiny(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="ends in logits, one independent output"):
        clf.fit(X, y)
    assert not hasattr(clf, "model_")


def test_the_categorical_loss_is_keras_s(rng=np.random.default_rng(1)):
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=32)]
    logits = rng.normal(size=(32, 4)).astype(np.float32)
    p = keras.ops.convert_to_numpy(keras.ops.softmax(logits))
    ours = weighted_categorical_crossentropy(np.ones(4), from_logits=False)
    theirs = keras.losses.categorical_crossentropy
    np.testing.assert_allclose(ours(y, p), theirs(y, p), rtol=1e-5)
    np.testing.assert_allclose(
        weighted_categorical_crossentropy(np.ones(4), True, label_smoothing=0.2)(y, logits),
        theirs(y, logits, from_logits=True, label_smoothing=0.2), rtol=1e-5)
    focal = keras.losses.categorical_focal_crossentropy(y, p, alpha=1.0, gamma=2.0)
    np.testing.assert_allclose(
        weighted_categorical_crossentropy(np.ones(4), False, focal_gamma=2.0)(y, p),
        focal, rtol=1e-5)
    # A class's weight scales the terms of its rows only.
    weights = np.array([1.0, 3.0, 1.0, 1.0], dtype=np.float32)
    weighted = keras.ops.convert_to_numpy(
        weighted_categorical_crossentropy(weights, False)(y, p))
    plain = keras.ops.convert_to_numpy(ours(y, p))
    np.testing.assert_allclose(weighted, plain * weights[y.argmax(axis=1)], rtol=1e-5)
    # Unknown entries (masked) leave their terms out.
    y_unknown = y.copy()
    y_unknown[:4] = -1.0
    masked = keras.ops.convert_to_numpy(
        weighted_categorical_crossentropy(np.ones(4), False, masked=True)(y_unknown, p))
    np.testing.assert_allclose(masked[:4], 0.0)
    np.testing.assert_allclose(masked[4:], plain[4:], rtol=1e-5)


def test_balanced_class_weights_of_a_softmax_are_scikit_learn_s():
    from sklearn.utils.class_weight import compute_class_weight

    y = np.array([0] * 6 + [1] * 3 + [2] * 1)
    Y = np.eye(3)[y]
    ours = positive_weights("balanced", Y, np.arange(3), softmax=True)
    np.testing.assert_allclose(ours, compute_class_weight("balanced", classes=np.arange(3),
                                                          y=y), rtol=1e-6)
    # The per-label ratio stays for sigmoid outputs.
    np.testing.assert_allclose(positive_weights("balanced", Y, np.arange(3)), [4 / 6, 7 / 3, 9])


def test_the_constant_baseline_of_a_softmax_is_the_class_entropy():
    y = np.array([0] * 6 + [1] * 3 + [2] * 1)
    Y = np.eye(3)[y]
    p = np.array([0.6, 0.3, 0.1])
    expected = -(p * np.log(p)).sum()
    assert constant_loss(Y, np.ones(10), np.ones(3), softmax=True) == pytest.approx(expected)
    assert constant_loss(Y, np.ones(10), np.ones(3)) != pytest.approx(expected)


@pytest.mark.network
def test_the_numpy_plan_runs_a_softmax(three_classes):
    from sklearn_mlk._keras._inference import dense_plan, run_plan

    X, y = three_classes
    clf = tiny(model=softmax_model).fit(X, y)
    plan = dense_plan(clf.model_, X.shape[1])
    assert plan is not None and plan[-1][2] == "softmax"
    np.testing.assert_allclose(run_plan(plan, X), clf.predict_proba(X), atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert clf._plan is not None  # a single network predicts through it


@pytest.mark.network
def test_a_one_hot_indicator_takes_a_softmax(three_classes):
    """An indicator with one positive in every row (Keras's to_categorical)
    stays multi-label, and a softmax over its columns trains on it."""
    X, y = three_classes
    Y = (y[:, None] == np.array(["a", "b", "c"])).astype(int)
    clf = tiny(model=softmax_model, epochs=20, learning_rate=0.01).fit(X, Y)
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-6)
    assert clf.predict(X).shape == Y.shape
    assert (P.argmax(axis=1) == Y.argmax(axis=1)).mean() >= 0.8  # linear: about 0.9
    Y[0] = [1, 1, 0]  # two labels in one row: no longer one-hot
    with pytest.raises(ValueError, match="exactly one positive in every row"):
        tiny(model=softmax_model).fit(X, Y)
