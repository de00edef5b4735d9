"""refit="average": one network holding the mean of the fold networks'
weights, its thresholds matched to the fold networks' predictions (the
matching itself, pure NumPy, is tested in tests/test_thresholds.py)."""

import numpy as np
import pytest
from conftest import tiny
from scipy.special import expit

keras = pytest.importorskip("keras")
from sklearn_mlk._training import _average, _trainer  # noqa: E402

AVERAGE = dict(threshold="f1", threshold_cv=3, refit="average", epochs=4)


def _weights(model):
    return [keras.ops.convert_to_numpy(v) for v in model.weights]


def _spy_on_average(monkeypatch):
    """Record the fold networks' weights at the mean, and what the
    thresholds were matched between."""
    seen = {}
    mean_weights = _average.mean_weights

    def spy_mean(models):
        seen["members"] = [[np.array(v) for v in m.get_weights()] for m in models]
        return mean_weights(models)

    from sklearn_mlk import _thresholds  # imported from at call time: patched there

    original = _thresholds.matched_thresholds

    def spy_matched(reference, scores, thresholds, w):
        seen["matched"] = (reference, thresholds, w)
        return original(reference, scores, thresholds, w)

    monkeypatch.setattr(_average, "mean_weights", spy_mean)
    monkeypatch.setattr(_thresholds, "matched_thresholds", spy_matched)
    return seen


def _spy_on_starts(monkeypatch):
    """Record the starting weights of every network built, alone or
    stacked with its fold siblings."""
    starts = []
    build, stacked_networks = _trainer.Trainer._build, _trainer.Trainer.stacked_networks

    def spy_build(self, *args, **kwargs):
        model, from_probability = build(self, *args, **kwargs)
        starts.append(_weights(model))
        return model, from_probability

    def spy_stacked(self, *args, **kwargs):
        members, model = stacked_networks(self, *args, **kwargs)
        starts.extend(_weights(m) for m in members)
        return members, model

    monkeypatch.setattr(_trainer.Trainer, "_build", spy_build)
    monkeypatch.setattr(_trainer.Trainer, "stacked_networks", spy_stacked)
    return starts


@pytest.mark.smoke  # the scheme on every backend
@pytest.mark.parametrize("stacked", [True, False])
def test_fold_networks_start_alike_and_the_kept_network_holds_their_mean(
        data, monkeypatch, stacked):
    X, Y = data
    if not stacked:
        monkeypatch.setattr(_trainer.Trainer, "stacking", False)
    starts = _spy_on_starts(monkeypatch)
    seen = _spy_on_average(monkeypatch)
    clf = tiny(**AVERAGE).fit(X, Y)
    assert len(starts) == 3
    # Every weight but the output bias, which starts at the label frequencies
    # of each fold network's own training rows where they train one by one.
    for other in starts[1:]:
        for a, b in zip(starts[0][:-1], other[:-1]):
            np.testing.assert_array_equal(a, b)
    members = seen["members"]
    assert len(members) == 3
    assert any(not np.array_equal(a, b) for a, b in zip(members[0], members[1]))
    for kept, *folds in zip(_weights(clf.model_), *members):
        np.testing.assert_allclose(kept, np.mean(folds, axis=0), rtol=1e-6, atol=1e-7)
    # One network, no fold networks inside it, predicting through its own plan.
    assert not [layer for layer in clf.model_.layers if isinstance(layer, keras.Model)]
    logits = np.asarray(clf.model_.predict(X.astype(np.float32), verbose=0))
    np.testing.assert_allclose(clf.predict_proba(X), expit(logits), rtol=1e-5, atol=1e-6)
    assert len(clf._plan) == 2  # hidden and output layer, not a fused ensemble
    assert clf.n_iter_.shape == (3,) and {f"fold_{i}_loss" for i in range(3)} <= set(
        clf.history_)


def test_the_fold_networks_of_an_ensemble_start_apart(data, monkeypatch):
    """The control of the test above: refit=False keeps independent starts,
    which the mean of weights needs not to have."""
    X, Y = data
    starts = _spy_on_starts(monkeypatch)
    tiny(**dict(AVERAGE, refit=False)).fit(X, Y)
    assert len(starts) == 3 and not np.array_equal(starts[0][0], starts[1][0])


@pytest.mark.smoke
def test_thresholds_predict_each_label_for_as_many_training_rows_as_the_folds(data,
                                                                              monkeypatch):
    X, Y = data
    seen = _spy_on_average(monkeypatch)
    clf = tiny(**AVERAGE).fit(X, Y)
    reference, thresholds, w = seen["matched"]
    # The reference is the fold networks' ensemble on the training rows, at
    # the thresholds learned on its out-of-fold scores.
    assert reference.shape == Y.shape and np.all(w == 1)
    np.testing.assert_array_equal(thresholds.shape, clf.thresholds_.shape)
    assert not np.array_equal(thresholds, clf.thresholds_)
    np.testing.assert_array_equal((clf.predict_proba(X) >= clf.thresholds_).sum(axis=0),
                                  (reference >= thresholds).sum(axis=0))
    np.testing.assert_array_equal(clf.predict(X), clf.predict_proba(X) >= clf.thresholds_)


def test_seeded_average_fits_repeat_and_clone_alike(data):
    from sklearn.base import clone

    X, Y = data
    first = tiny(**AVERAGE).fit(X, Y)
    second = clone(first).fit(X, Y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    np.testing.assert_array_equal(first.thresholds_, second.thresholds_)


def test_unseeded_average_still_starts_every_fold_network_alike(data, monkeypatch):
    X, Y = data
    seeds = []
    train_folds = _trainer.Trainer.train_folds

    def spy(self, X, Y, w, folds, warm_members, fold_seeds):
        seeds.append(list(fold_seeds))
        return train_folds(self, X, Y, w, folds, warm_members, fold_seeds)

    monkeypatch.setattr(_trainer.Trainer, "train_folds", spy)
    tiny(**dict(AVERAGE, random_state=None)).fit(X, Y)
    tiny(**dict(AVERAGE, random_state=None)).fit(X, Y)
    assert all(len(set(s)) == 1 and s[0] is not None for s in seeds)
    assert seeds[0][0] != seeds[1][0]


def test_warm_start_continues_every_fold_network_from_the_averaged_one(data):
    X, Y = data
    clf = tiny(**AVERAGE).fit(X, Y)
    model, before = clf.model_, clf.predict_proba(X)
    clf.set_params(warm_start=True).fit(X, Y)
    assert clf.model_ is model  # the fitted network stays one object
    assert len(clf.history_["fold_0_loss"]) == 8
    assert not np.allclose(clf.predict_proba(X), before)


def test_warm_start_between_an_ensemble_and_an_average_is_refused(data):
    X, Y = data
    ensemble = tiny(**dict(AVERAGE, refit=False)).fit(X, Y)
    before = ensemble.predict_proba(X)
    with pytest.raises(ValueError, match="refit='average' continues every fold network "
                                         "from the fitted network, but the fitted model "
                                         "holds 3 fold networks"):
        ensemble.set_params(warm_start=True, refit="average").fit(X, Y)
    np.testing.assert_array_equal(ensemble.predict_proba(X), before)
    average = tiny(**AVERAGE).fit(X, Y)
    with pytest.raises(ValueError, match="continues each of 3 fold networks, but the "
                                         "fitted model holds no fold networks"):
        average.set_params(warm_start=True, refit=False).fit(X, Y)


def test_average_needs_folds(data):
    X, Y = data
    clf = tiny(**dict(AVERAGE, threshold_cv=0.2))
    with pytest.raises(ValueError, match="refit='average' averages the weights of the "
                                         "fold networks, but threshold_cv=0.2"):
        clf.fit(X, Y)
    assert not hasattr(clf, "model_")


def test_average_of_a_multiclass_target_predicts_the_argmax(data):
    X, _ = data
    y = np.argmax(X[:, :3], axis=1)
    clf = tiny(**AVERAGE).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(proba, axis=1)])
    assert set(clf.threshold_status_) == {"argmax"}


def test_average_saves_and_loads(data, tmp_path):
    import sklearn_mlk

    X, Y = data
    clf = tiny(**AVERAGE).fit(X, Y)
    clf.save(tmp_path / "averaged.mlk")
    loaded = sklearn_mlk.load(tmp_path / "averaged.mlk")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_a_model_callable_is_averaged_when_its_folds_agree_in_shape(data):
    X, Y = data

    def build(meta):
        inputs = keras.Input(shape=(meta["n_features_in_"],))
        hidden = keras.layers.Dense(6, activation="relu")(inputs)
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(hidden))

    clf = tiny(**dict(AVERAGE, hidden_layer_sizes=(), model=build)).fit(X, Y)
    assert len(clf._plan) == 2
    widths = iter([4, 5, 6])

    def uneven(meta):
        inputs = keras.Input(shape=(meta["n_features_in_"],))
        hidden = keras.layers.Dense(next(widths), activation="relu")(inputs)
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(hidden))

    clf = tiny(**dict(AVERAGE, model=uneven))
    with pytest.raises(ValueError, match="weights differ in shape from fold to fold"):
        clf.fit(X, Y)
    assert not hasattr(clf, "model_")


@pytest.mark.parametrize("refit, alike", [(False, True), ("average", False)])
def test_the_study_switch_sets_the_fold_networks_starts_for_either_scheme(
        data, monkeypatch, refit, alike):
    from sklearn_mlk._training import _schemes

    X, Y = data
    monkeypatch.setattr(_schemes, "FOLDS_START_ALIKE", alike)
    starts = _spy_on_starts(monkeypatch)
    tiny(**dict(AVERAGE, refit=refit)).fit(X, Y)
    assert len(starts) == 3
    assert np.array_equal(starts[0][0], starts[1][0]) == alike


def test_verbose_says_the_fold_networks_were_averaged(data, capsys):
    X, Y = data
    tiny(**dict(AVERAGE, verbose=1)).fit(X, Y)
    out = capsys.readouterr().out
    assert "Kept one network holding the mean of the 3 fold networks' weights" in out
    tiny(**dict(AVERAGE, refit=False, verbose=1)).fit(X, Y)
    assert "Kept one network" not in capsys.readouterr().out
