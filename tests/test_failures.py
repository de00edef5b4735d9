"""Fits that cannot give a meaningful model fail loudly and lose nothing.

Each bad input raises a ValueError or TypeError from this library's own code,
naming the problem, and a previously fitted estimator predicts exactly as
before; training that diverges without becoming non-finite warns.
"""

import functools
import warnings

import numpy as np
import pytest
from conftest import tiny
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_mlk import KerasMultiLabelClassifier
from sklearn_mlk._decisions import decide
from sklearn_mlk._thresholds import tune

keras = pytest.importorskip("keras")

# Training paths: the compiled loop, and Model.fit (taken with any callback).
PATHS = {"compiled loop": {}, "Model.fit": {"callbacks": [keras.callbacks.Callback()]}}


def _fitted(data, **params):
    X, Y = data
    clf = tiny(**params).fit(X, Y)
    return clf, clf.predict_proba(X), clf.thresholds_.copy()


def _assert_unchanged(clf, data, proba, thresholds):
    np.testing.assert_array_equal(clf.predict_proba(data[0]), proba)
    np.testing.assert_array_equal(clf.thresholds_, thresholds)


@pytest.mark.smoke
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("threshold", [0.5, "f1"])
def test_non_finite_training_raises_and_keeps_the_previous_fit(data, path, threshold):
    X, Y = data
    clf, proba, thresholds = _fitted(data, threshold=threshold, threshold_cv=2,
                                     **PATHS[path])
    huge = X.copy()
    huge[:, 0] = 3e38  # finite (float32 holds up to 3.4e38), but the loss overflows
    with pytest.raises(ValueError, match="Training failed: the loss became (nan|inf).*Scale the"):
        clf.fit(huge, Y)
    _assert_unchanged(clf, data, proba, thresholds)


def test_non_finite_weights_are_caught_even_with_a_finite_loss(data, monkeypatch):
    from sklearn_mlk._training import _divergence

    X, Y = data
    clf, proba, thresholds = _fitted(data)
    check_weights = _divergence.check_weights

    def poison_then_check(model):
        # Training ended with a finite loss; then one weight turns NaN.
        weights = model.get_weights()
        weights[0][0, 0] = np.nan
        model.set_weights(weights)
        check_weights(model)

    monkeypatch.setattr(_divergence, "check_weights", poison_then_check)
    with pytest.raises(ValueError, match="weights '.*kernel' hold NaN"):
        clf.fit(X, Y)
    _assert_unchanged(clf, data, proba, thresholds)


def test_non_finite_outputs_are_caught():
    from sklearn_mlk._training._divergence import check_outputs

    check_outputs(np.array([[0.0, -1e300]]))
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match="outputs on its own training rows"):
            check_outputs(np.array([[0.0, bad]]))


def test_thresholds_are_never_tuned_on_non_finite_scores():
    S = np.full((6, 2), 0.5)
    S[0, 1] = np.nan
    Y = np.array([[1, 0], [0, 1]] * 3)
    with pytest.raises(ValueError, match="NaN or infinite"):
        tune(S, Y, np.ones(6), "f1")


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_diverged_training_warns_and_margins_agree_with_predict(data, optimizer):
    X, Y = data
    with pytest.warns(ConvergenceWarning, match="Training diverged.*lower learning_rate"):
        clf = tiny(learning_rate=1e6, optimizer=optimizer, epochs=20,
                   threshold="f1").fit(X, Y)
    proba = clf.predict_proba(X)
    # Saturated, as diverged networks are: each fold network's probabilities
    # are 0 or 1, so their mean is a multiple of 1/k.
    k = len([layer for layer in clf.model_.layers if hasattr(layer, "layers")])
    assert k > 1 and np.isclose(proba * k, np.round(proba * k), atol=1e-6).mean() > 0.5
    assert np.all(clf.thresholds_ >= 0)  # no cut below 0 on saturated scores
    np.testing.assert_array_equal(clf.predict(X), clf.decision_function(X) > 0)


def test_a_normal_fit_does_not_warn(data):
    X, Y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        tiny(epochs=5, threshold="f1").fit(X, Y)


@pytest.mark.parametrize(
    "weights, match",
    [
        (-np.ones(200), "Negative values"),
        (np.r_[np.nan, np.ones(199)], "NaN"),
        (np.r_[np.inf, np.ones(199)], "infinity"),
        (np.zeros(200), "non-zero"),
    ],
)
def test_bad_sample_weight_is_rejected_by_fit_and_tune_thresholds(data, weights, match):
    X, Y = data
    clf, proba, thresholds = _fitted(data, threshold="f1")
    with pytest.raises(ValueError, match=match):
        clf.fit(X, Y, sample_weight=weights)
    _assert_unchanged(clf, data, proba, thresholds)
    with pytest.raises(ValueError, match=match):
        clf.tune_thresholds(X, Y, sample_weight=weights)
    _assert_unchanged(clf, data, proba, thresholds)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"fit__shufle": False}, r"fit__shufle is routed to Model.fit.*'fit__shuffle'"),
        ({"compile__jit_compil": False},
         r"compile__jit_compil is routed to Model.compile.*'compile__jit_compile'"),
        ({"optimizer__beta1": 0.8}, r"optimizer__beta1 is routed to Adam.*'optimizer__beta_1'"),
        ({"optimizer": "sgd", "optimizer__momentun": 0.5}, r"SGD.*'optimizer__momentum'"),
        ({"fit__nothing_like_it": 1}, r"Model.fit.*its arguments are \[.*'shuffle'"),
    ],
)
def test_misspelt_routed_arguments_fail_before_any_training(data, monkeypatch, params,
                                                            match):
    from sklearn_mlk._training import _compiled

    X, Y = data
    clf, proba, thresholds = _fitted(data, threshold="f1")
    trained = []

    def spy(real):
        @functools.wraps(real)  # keeps the signature the names are checked against
        def called(*args, **kwargs):
            trained.append(real.__name__)

        return called

    monkeypatch.setattr(_compiled, "train", spy(_compiled.train))
    monkeypatch.setattr(keras.Model, "fit", spy(keras.Model.fit))
    clf.set_params(**params)  # stored: scikit-learn's set_params contract
    with pytest.raises(ValueError, match=match):
        clf.fit(X, Y)
    assert trained == []
    _assert_unchanged(clf, data, proba, thresholds)


def test_routed_optimizer_arguments_still_reach_the_optimizer(data):
    X, Y = data
    clf = tiny(optimizer=keras.optimizers.SGD, optimizer__momentum=0.5).fit(X, Y)
    assert float(clf.model_.optimizer.momentum) == 0.5


def test_model_callable_missing_a_routed_argument_names_it(data):
    X, Y = data
    clf, proba, thresholds = _fitted(data)

    def build(meta, units, depth=1):
        return keras.Sequential([keras.Input((meta["n_features_in_"],)),
                                 keras.layers.Dense(units),
                                 keras.layers.Dense(meta["n_labels_"])])

    clf.set_params(model=build)
    with pytest.raises(ValueError, match=r"build\(\) requires \['units'\].*model__units="):
        clf.fit(X, Y)
    _assert_unchanged(clf, data, proba, thresholds)
    clf.set_params(model__units=3).fit(X, Y)  # routed, it builds
    assert clf.model_.layers[0].units == 3


def test_warm_start_on_other_features_names_the_mismatch(data):
    X, Y = data
    clf, proba, thresholds = _fitted(data, warm_start=True)
    with pytest.raises(ValueError, match="X has 5 features, but warm_start=True .* on 10"):
        clf.fit(X[:, :5], Y)
    _assert_unchanged(clf, data, proba, thresholds)
    assert clf.n_features_in_ == 10


@pytest.mark.parametrize(
    "labels, error, match",
    [
        ([[["a"]], [["b"], ["c"]], []], TypeError, r"hashable.*sample 0 .*\['a'\]"),
        ([["a"], [{"b": 1}], []], TypeError, r"hashable.*sample 1 .*of type dict"),
        ([["a", 1], ["b"], []], TypeError, r"mutually comparable.*\['int', 'str'\]"),
        ([[["a"]], [["b"]], [["c"]]], ValueError, "Labels nested in lists"),
    ],
)
def test_bad_label_sets_name_the_problem(data, labels, error, match):
    X, Y = data
    clf, proba, thresholds = _fitted(data)
    with pytest.raises(error, match=match):
        clf.fit(X[:3], labels)
    _assert_unchanged(clf, data, proba, thresholds)


def test_unhashable_labels_at_scoring_name_the_problem(data):
    X, _ = data
    labels = [["a"] if i % 2 else ["b"] for i in range(len(X))]
    clf = tiny().fit(X, labels)
    with pytest.raises(TypeError, match="hashable.*sample 1"):
        clf.score(X[:2], [["a"], [["a"]]])


@pytest.mark.parametrize("threshold", ["fixed", "f1"])
@pytest.mark.parametrize("limits", [{"min_labels": 1}, {"max_labels": 1},
                                    {"min_labels": 2, "max_labels": 2}])
def test_label_limits_apply_to_predict_not_to_the_margin(data, threshold, limits):
    X, Y = data
    if threshold == "fixed":  # a cut that leaves rows outside the limits
        threshold = 0.9 if "min_labels" in limits else 0.1
    clf = tiny(threshold=threshold).fit(X, Y)
    margin = clf.decision_function(X)
    plain = clf.predict(X)
    np.testing.assert_array_equal(plain, margin > 0)
    clf.set_params(**limits)
    np.testing.assert_array_equal(clf.decision_function(X), margin)  # before the limits
    limited = clf.predict(X)
    expected = decide(clf.predict_proba(X), clf.thresholds_, **limits)
    np.testing.assert_array_equal(limited, expected)
    # Exactly the rows outside the limits change, and they change to within them.
    low, high = limits.get("min_labels", 0), limits.get("max_labels", Y.shape[1])
    counts = plain.sum(axis=1)
    outside = (counts < low) | (counts > high)
    assert outside.any() or threshold == "f1"  # f1 cuts are low: few rows too empty
    np.testing.assert_array_equal((limited != plain).any(axis=1), outside)
    assert limited.sum(axis=1).min() >= low and limited.sum(axis=1).max() <= high


@pytest.mark.parametrize("thresholds", [[0.0, 1.0, 0.5, 1e-300], [1 - 1e-16, 0.0, 1.0, 0.5]])
def test_margins_agree_with_predict_at_extreme_thresholds(data, thresholds):
    X, Y = data
    clf = tiny(threshold=np.array(thresholds)).fit(X, Y)
    far = X * 1e4  # scores saturated at 0 and 1
    assert np.isin(clf.predict_proba(far), [0.0, 1.0]).any()
    margin = clf.decision_function(far)
    np.testing.assert_array_equal(clf.predict(far), margin > 0)
    assert not np.isnan(margin).any()


def test_a_misspelt_parameter_is_one_value_error_wherever_it_comes_from(data):
    X, Y = data
    with pytest.raises(ValueError, match="did you mean 'epochs'"):
        KerasMultiLabelClassifier(epoch=2).fit(X, Y)
    with pytest.raises(ValueError, match="did you mean 'epochs'"):
        tiny().set_params(epoch=3)
    with pytest.raises(ValueError, match="did you mean 'epochs'"):
        GridSearchCV(tiny(), {"epoch": [1, 2]}, cv=2).fit(X, Y)


_magnitudes = st.sampled_from([0.0, 1e-38, 1e-30, 1e-3, 1.0, 1e3, 1e10, 1e20, 1e30, 1e38])


@st.composite
def _problems(draw):
    n, d, L = draw(st.integers(8, 30)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    unit = hnp.arrays(np.float64, (n, d), elements=st.floats(-1, 1))
    scale = hnp.arrays(np.float64, (1, d), elements=_magnitudes)
    X = draw(unit) * draw(scale)
    Y = draw(hnp.arrays(np.int64, (n, L), elements=st.integers(0, 1)))
    return X, Y


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(problem=_problems(), threshold=st.sampled_from([0.5, "f1"]))
@pytest.mark.filterwarnings("ignore:Few training samples:UserWarning")
def test_any_finite_problem_fits_to_finite_probabilities_or_raises(problem, threshold):
    X, Y = problem
    clf = tiny(threshold=threshold, epochs=2, min_positives=0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, Y)
    except ValueError as exc:
        # (a one-column target is binary: one class alone is refused)
        assert str(exc).startswith(("Training failed", "The scores to tune",
                                    "y has only one class"))
        assert not hasattr(clf, "model_")
        return
    assert np.isfinite(clf.predict_proba(X)).all()
    assert np.isfinite(clf.thresholds_).all()


def test_a_second_fit_from_another_thread_is_refused_and_undoes_nothing(data):
    """The first fit holds the estimator; a concurrent one raises at once and
    leaves the first one's result in place (it used to roll it back)."""
    import threading

    X, Y = data
    entered, release = threading.Event(), threading.Event()

    def build(meta):
        entered.set()
        assert release.wait(60)
        inputs = keras.Input((meta["n_features_in_"],))
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(inputs))

    clf = tiny(model=build)
    errors = []
    worker = threading.Thread(target=lambda: errors.append(clf.fit(X, Y) and None))
    worker.start()
    try:
        assert entered.wait(60)
        with pytest.raises(RuntimeError, match="already being fitted, in another thread"):
            clf.fit(X, Y)
    finally:
        release.set()
        worker.join(120)
    assert errors == [None]  # the first fit completed
    assert clf.predict(X).shape == Y.shape
    clf.fit(X, Y)  # and the estimator fits again afterwards


@pytest.mark.parametrize("params, networks", [
    ({"threshold": 0.5}, "a network of"),
    ({"threshold": "f1", "threshold_cv": 3, "refit": False}, "3 networks of"),
])
def test_a_fit_larger_than_the_memory_limit_is_refused_before_training(
        data, params, networks):
    from sklearn_mlk import _memory

    X, Y = data
    clf = tiny(**params).fit(X, Y)
    before = clf.predict_proba(X)
    n_weights = (X.shape[1] + 1) * 8 + (8 + 1) * Y.shape[1]
    count = 3 if "3" in networks else 1
    limit = int(_memory.estimate(n_weights, count)) - 1
    with pytest.raises(MemoryError, match=(
            rf"fit would need about {_memory.size(limit + 1)} to train {networks} "
            rf"{n_weights} weights, but memory_limit is .*threshold_cv=0\.2.*"
            r"memory_limit=None")):
        clf.set_params(memory_limit=limit).fit(X, Y)
    np.testing.assert_array_equal(clf.predict_proba(X), before)  # as it was
    clf.set_params(memory_limit=limit + 1).fit(X, Y)  # the estimate itself fits


def test_auto_checks_the_available_memory_and_none_skips_the_check(data, monkeypatch):
    from sklearn_mlk import _memory

    X, Y = data
    monkeypatch.setattr(_memory, "available", lambda: 2**20)
    with pytest.raises(MemoryError, match="but 1 MiB is available"):
        tiny().fit(X, Y)
    tiny(memory_limit=None).fit(X, Y)
