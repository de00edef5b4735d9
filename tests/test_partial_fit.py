"""partial_fit: one epoch per batch, labels fixed by the first call, the
optimizer's state kept, thresholds kept until tune_thresholds learns them."""

import numpy as np
import pytest
from conftest import tiny
from sklearn.metrics import f1_score

keras = pytest.importorskip("keras")


def _stream(X, Y, clf, rounds, size=50, classes=None):
    for _ in range(rounds):
        for start in range(0, 150, size):
            clf.partial_fit(X[start:start + size], Y[start:start + size],
                            classes=np.arange(Y.shape[1]) if classes is None else classes)
    return clf


@pytest.mark.slow
def test_each_call_trains_one_epoch_and_the_optimizer_state_carries_over(data):
    X, Y = data
    clf = tiny(learning_rate=0.01)
    clf.partial_fit(X[:50], Y[:50], classes=np.arange(Y.shape[1]))
    steps = int(clf.model_.optimizer.iterations.numpy())
    assert steps == 2  # one epoch of 50 rows in batches of 32
    _stream(X, Y, clf, rounds=30, size=75)
    assert int(clf.model_.optimizer.iterations.numpy()) == steps + 30 * 2 * 3
    assert clf.n_iter_ == 61 and len(clf.history_["loss"]) == 61
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]
    # 30 passes over the stream learn about what 30 epochs of fit learn.
    fitted = tiny(learning_rate=0.01, epochs=30).fit(X[:150], Y[:150])
    reference = f1_score(Y[150:], fitted.predict(X[150:]), average="micro")
    assert f1_score(Y[150:], clf.predict(X[150:]), average="micro") > reference - 0.05


def test_thresholds_wait_for_tune_thresholds_and_are_then_kept(data):
    X, Y = data
    clf = _stream(X, Y, tiny(threshold="f1", learning_rate=0.01), rounds=3)
    assert (clf.thresholds_ == 0.5).all()
    assert all(s.startswith("fallback: partial_fit") for s in clf.threshold_status_)
    clf.tune_thresholds(X[150:], Y[150:])
    tuned = clf.thresholds_.copy()
    assert (clf.threshold_status_ != "fixed").all() and (tuned != 0.5).any()
    clf.partial_fit(X[:50], Y[:50])
    np.testing.assert_array_equal(clf.thresholds_, tuned)
    # A fixed threshold is set at once.
    clf = tiny(threshold=0.3).partial_fit(X[:50], Y[:50], classes=np.arange(4))
    assert (clf.thresholds_ == 0.3).all()


def test_the_first_call_fixes_the_labels(data):
    X, Y = data
    names = ["a", "b", "c", "d"]
    sets = [[names[j] for j in np.flatnonzero(row)] for row in Y]
    clf = tiny().partial_fit(X[:50], sets[:50], classes=names + ["e"])
    assert clf.classes_.tolist() == names + ["e"]
    with pytest.raises(ValueError, match=r"Mini-batch contains \['z'\] while classes "
                                         r"must be subset of"):
        clf.partial_fit(X[50:52], [["a"], ["z"]])
    with pytest.raises(ValueError, match="is not the same as on the first call"):
        clf.partial_fit(X[:2], sets[:2], classes=names)
    with pytest.raises(ValueError, match="classes has 3 entries, but y has 4 label"):
        tiny().partial_fit(X, Y, classes=[0, 1, 2])


def test_a_failing_call_leaves_the_estimator_as_it_was(data):
    X, Y = data
    clf = tiny().partial_fit(X[:50], Y[:50], classes=np.arange(4))
    before, n_iter = clf.predict_proba(X), clf.n_iter_
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:10, :5], Y[:10])
    np.testing.assert_array_equal(clf.predict_proba(X), before)
    assert clf.n_iter_ == n_iter


def test_balanced_class_weight_is_refused(data):
    X, Y = data
    with pytest.raises(ValueError, match="class_weight='balanced' is not supported by "
                                         "partial_fit"):
        tiny(class_weight="balanced").partial_fit(X, Y, classes=np.arange(4))


def test_partial_fit_continues_a_fitted_network(data):
    X, Y = data
    clf = tiny(epochs=5).fit(X, Y)
    tuned = clf.thresholds_.copy()
    before = clf.predict_proba(X)
    clf.partial_fit(X[:50], Y[:50])
    assert not np.allclose(clf.predict_proba(X), before)
    np.testing.assert_array_equal(clf.thresholds_, tuned)


def test_a_pickle_round_trip_between_calls_changes_nothing(data, tmp_path):
    """The optimizer's state travels with the pickle (dask-ml moves models so),
    and an unpickled estimator still saves."""
    import pickle

    from sklearn_mlk import load

    X, Y = data
    classes = np.arange(Y.shape[1])
    straight = tiny(learning_rate=0.01).partial_fit(X[:100], Y[:100], classes=classes)
    moved = pickle.loads(pickle.dumps(tiny(learning_rate=0.01)))
    moved.partial_fit(X[:100], Y[:100], classes=classes)
    for start in (100, 0, 100):
        straight.partial_fit(X[start:start + 100], Y[start:start + 100])
        moved = pickle.loads(pickle.dumps(moved))
        assert int(moved._resumed_optimizer.iterations.numpy()) == \
            int(straight.model_.optimizer.iterations.numpy()) - 4
        moved.partial_fit(X[start:start + 100], Y[start:start + 100])
        np.testing.assert_allclose(moved.predict_proba(X), straight.predict_proba(X),
                                   rtol=1e-5, atol=1e-6)
    copy = pickle.loads(pickle.dumps(moved))
    copy.save(tmp_path / "moved.mlk")
    np.testing.assert_allclose(load(tmp_path / "moved.mlk").predict_proba(X),
                               moved.predict_proba(X), atol=1e-6)
