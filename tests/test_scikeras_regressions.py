"""Known scikeras defects, each shown absent from KerasMultiLabelClassifier.

Where it is cheap, a test first shows the defect in scikeras's
``KerasClassifier`` so that the regression test is known to be meaningful.
"""

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import tiny
from sklearn.base import is_classifier

keras = pytest.importorskip("keras")
scikeras_wrappers = pytest.importorskip("scikeras.wrappers")


def _scikeras(**params):
    def build(meta):
        return keras.Sequential(
            [
                keras.Input((meta["n_features_in_"],)),
                keras.layers.Dense(meta["n_classes_"], activation="sigmoid"),
            ]
        )

    return scikeras_wrappers.KerasClassifier(
        model=build, loss="binary_crossentropy", epochs=2, verbose=0, **params
    )


def _one_positive_per_row(n=120, n_labels=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, np.eye(n_labels, dtype=int)[rng.integers(0, n_labels, n)]


# 1. is_classifier --------------------------------------------------------------


def test_1_is_classifier():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not is_classifier(_scikeras())  # the defect
    assert is_classifier(tiny())


# 2. hard-coded threshold -------------------------------------------------------


def test_2_threshold_is_a_parameter(data):
    X, Y = data
    proba = tiny().fit(X, Y).predict_proba(X)
    per_label = np.array([0.1, 0.9, 0.3, 0.7])
    for threshold in (0.2, 0.8, per_label):
        clf = tiny(threshold=threshold).fit(X, Y)  # same seed: same network
        np.testing.assert_array_equal(clf.predict_proba(X), proba)
        np.testing.assert_array_equal(clf.thresholds_, np.broadcast_to(threshold, 4))
        np.testing.assert_array_equal(clf.predict(X), proba >= threshold)


# 3. one positive per row is not reinterpreted as multiclass --------------------


def test_3_one_positive_per_row_stays_multi_label():
    X, Y = _one_positive_per_row()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _scikeras(random_state=0).fit(X, Y).predict(X)
    assert np.all(np.asarray(theirs).sum(axis=1) == 1)  # argmax-decoded: the defect

    clf = tiny(threshold=0.9, epochs=1).fit(X, Y)
    proba = clf.predict_proba(X)
    pred = clf.predict(X)
    np.testing.assert_array_equal(pred, proba >= 0.9)
    assert not np.allclose(proba.sum(axis=1), 1.0)  # independent sigmoids
    assert np.any(pred.sum(axis=1) != 1)  # rows may hold 0 or several labels


# 4. seeded fit leaves no process-wide determinism or seed behind --------------


_SCIKERAS_SEEDED_THEN_UNSEEDED = """
import warnings; warnings.filterwarnings("ignore")
import numpy as np, keras
from scikeras.wrappers import KerasClassifier
def build(meta):
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="sigmoid")])
X = np.random.default_rng(0).normal(size=(60, 4)); Y = (X[:, :3] > 0).astype(int)
fit = lambda rs: KerasClassifier(model=build, loss="binary_crossentropy", epochs=1,
                                 verbose=0, random_state=rs).fit(X, Y)
fit(0)
try:
    fit(None)
except Exception as exc:
    print("DEFECT:", exc)
# This estimator, unseeded, in the process scikeras left so:
from sklearn_mlk import KerasMultiLabelClassifier
ours = lambda: KerasMultiLabelClassifier(  # metrics: through Model.fit, which shuffles
    model=build, epochs=2, threshold=0.5, metrics=["binary_accuracy"]).fit(X, Y).predict_proba(X)
print("OURS DIFFER:", not np.array_equal(ours(), ours()))
"""


@pytest.mark.backend("tensorflow")  # the defect is TensorFlow's op-determinism
def test_4_seeded_then_unseeded_fit(data):
    from tensorflow.python.framework import config

    out = subprocess.run(
        [sys.executable, "-c", _SCIKERAS_SEEDED_THEN_UNSEEDED],
        capture_output=True, text=True, timeout=300,
    ).stdout
    assert "DEFECT: Random ops require a seed" in out  # the defect, in a fresh process
    # ... where this estimator's unseeded fits still run, and differ.
    assert "OURS DIFFER: True" in out, out

    X, Y = data
    tiny(random_state=0).fit(X, Y)
    assert not config.is_op_determinism_enabled()
    first = tiny(random_state=None, dropout=0.2).fit(X, Y).predict_proba(X)
    second = tiny(random_state=None, dropout=0.2).fit(X, Y).predict_proba(X)
    assert not np.array_equal(first, second)  # unseeded fits really are random


# 5. sparse label matrices are accepted ----------------------------------------


def test_5_sparse_labels(data):
    X, Y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception):
            _scikeras().fit(X, sp.csr_matrix(Y))  # the defect
    pred = tiny().fit(X, sp.csr_matrix(Y)).predict(X)
    assert sp.issparse(pred) and pred.shape == Y.shape


# 6. classes_ carry the label names --------------------------------------------


def test_6_classes_are_label_names(data):
    X, Y = data
    frame = pd.DataFrame(Y, columns=["w", "x", "y", "z"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _scikeras().fit(X, frame)
    assert list(np.ravel(theirs.classes_)) != ["w", "x", "y", "z"]  # the defect
    assert tiny().fit(X, frame).classes_.tolist() == ["w", "x", "y", "z"]


# 7. per-label weights act in the loss, not through Model.fit(class_weight) -----


def test_7_class_weight_weights_each_label_positives(data):
    X, Y = data
    base = tiny(epochs=10).fit(X, Y).predict(X).mean(axis=0)
    up = tiny(epochs=10, class_weight={2: 20.0}).fit(X, Y).predict(X).mean(axis=0)
    change = up - base
    assert change[2] > 0.05  # label 2 is predicted more often
    assert change[2] > np.abs(np.delete(change, 2)).max()  # mostly label 2 moves


def test_7_keras_class_weight_cannot_be_routed(data):
    X, Y = data
    with pytest.raises(ValueError, match="fit__class_weight is set by the estimator"):
        tiny(fit__class_weight={0: 1.0, 1: 5.0}).fit(X, Y)


def test_7_loss_matches_weighted_formula():
    from sklearn_mlk._training._losses import weighted_binary_crossentropy

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(5, 3)).astype(np.float32)
    y = (rng.random((5, 3)) < 0.5).astype(np.float32)
    pos_weight = np.array([1.0, 4.0, 0.5], dtype=np.float32)
    loss = weighted_binary_crossentropy(pos_weight, from_logits=True)
    got = keras.ops.convert_to_numpy(loss(y, logits))
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    expected = -(pos_weight * y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-5)
