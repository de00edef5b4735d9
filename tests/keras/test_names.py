"""Each fit names its networks' layers and variables afresh, and leaves
Keras's own naming outside the fit as it was (``_backend.fresh_names``).

Repeated names are what keep repeated fits from growing the process on
TensorFlow: a variable under a new name adds to its eager kernel cache.
"""

import keras
from conftest import tiny

from sklearn_mlk._keras._backend import fresh_names


def _paths(clf):
    return [v.path for v in clf.model_.variables]


def test_refits_build_their_networks_under_the_same_names(data):
    X, Y = data
    clf = tiny(threshold="f1", threshold_cv=3).fit(X, Y)
    first = _paths(clf)
    keras.layers.Dense(2)  # names drawn between the fits change nothing
    assert _paths(clf.fit(X, Y)) == first
    assert _paths(tiny(threshold="f1", threshold_cv=3).fit(X, Y)) == first
    members = [layer.name for layer in clf.model_.layers]
    assert len(set(members)) == len(members)  # unique within the fit


def test_names_drawn_outside_a_fit_go_on_as_if_it_never_ran(data):
    X, Y = data
    before = keras.layers.Dense(2).name
    tiny().fit(X, Y)
    after = keras.layers.Dense(2).name
    counter = int(before.rpartition("_")[2]) if "_" in before else 0
    assert after == f"dense_{counter + 1}"


def test_partial_fit_names_afresh_too(data):
    X, Y = data
    first = tiny().partial_fit(X, Y, classes=range(Y.shape[1]))
    second = tiny().partial_fit(X, Y, classes=range(Y.shape[1]))
    assert _paths(first) == _paths(second)


def test_the_block_counts_from_zero_and_puts_the_counters_back():
    outer = keras.layers.Dense(1).name
    with fresh_names():
        assert [keras.layers.Dense(1).name for _ in range(2)] == ["dense", "dense_1"]
        with fresh_names():
            assert keras.layers.Dense(1).name == "dense"
        assert keras.layers.Dense(1).name == "dense_2"
    counter = int(outer.rpartition("_")[2]) if "_" in outer else 0
    assert keras.layers.Dense(1).name == f"dense_{counter + 1}"

