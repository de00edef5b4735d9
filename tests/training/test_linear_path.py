"""The default MLP's linear path from its input to its logits (linear_path)."""

import keras
import numpy as np
import pytest
import scipy.sparse as sp
from conftest import tiny
from sklearn.metrics import f1_score

from sklearn_mlk import _plan
from sklearn_mlk._keras import _network
from sklearn_mlk._training import _stacked

pytestmark = pytest.mark.network


def _members(clf):
    """The fitted networks: the fold networks of an ensemble, or the one."""
    nested = [layer for layer in clf.model_.layers if isinstance(layer, keras.Model)]
    return nested or [clf.model_]


def _has_path(clf):
    return [_stacked.has_linear_path(member) for member in _members(clf)]


def _keras_proba(clf, X):
    from sklearn_mlk._keras._backend import full_precision_matmul

    X = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float32)
    with full_precision_matmul():
        out = keras.ops.convert_to_numpy(clf.model_(X, training=False)).astype(np.float64)
    return out if clf._from_probability else 1 / (1 + np.exp(-out))


@pytest.fixture(scope="module")
def wide():
    """More labels (12) than the hidden units of ``tiny`` (8): X (240 x 16),
    each label the presence of its own binary feature, with a little noise."""
    rng = np.random.default_rng(0)
    X = (rng.random((240, 16)) < 0.3).astype(np.float64)
    Y = X[:, :12].astype(int)
    flip = rng.random(Y.shape) < 0.03
    return X, np.where(flip, 1 - Y, Y)


LEARNED = dict(threshold="f1", threshold_cv=3, refit=False)


@pytest.mark.parametrize("hidden, chooses", [((2,), True), ((12,), False),
                                             ((32, 2), True), ((), False)])
def test_auto_chooses_where_the_labels_outnumber_the_narrowest_hidden_layer(
        wide, hidden, chooses):
    X, Y = wide
    clf = tiny(hidden_layer_sizes=hidden, epochs=30, learning_rate=0.05, **LEARNED)
    clf.fit(X, Y)
    assert hasattr(clf, "linear_path_") == chooses
    assert hasattr(clf, "linear_path_scores_") == chooses
    if chooses:
        # twelve independent labels through two units: the path scores higher
        assert clf.linear_path_
        assert clf.linear_path_scores_[1] > clf.linear_path_scores_[0] + 0.1
    assert _has_path(clf) == [chooses] * len(_members(clf))


@pytest.mark.parametrize("threshold_cv, scored_by", [
    (3, dict(threshold_cv=1 / 3, refit=False)),  # pilots on one fold's share
    (0.25, dict(threshold_cv=0.25, refit=False)),  # a hold-out fit: each in full
])
def test_the_choice_keeps_the_fit_of_its_value_from_the_same_seed(wide, threshold_cv,
                                                                  scored_by):
    """The kept fit is the fit with the chosen value set, from the same seed.
    Each score is the mean threshold score of a fit from that seed: a pilot
    network on a hold-out of one fold's share where the fit trains folds, the
    fit itself otherwise. A clone chooses the same."""
    from sklearn.base import clone

    X, Y = wide
    params = dict(hidden_layer_sizes=(4,), epochs=8, threshold="f1")
    clf = tiny(**params, threshold_cv=threshold_cv, refit=False).fit(X, Y)
    scored = [tiny(**params, **scored_by, linear_path=value).fit(X, Y)
              for value in (False, True)]
    np.testing.assert_allclose(clf.linear_path_scores_,
                               [np.nanmean(f.threshold_scores_) for f in scored])
    kept = tiny(**params, threshold_cv=threshold_cv, refit=False,
                linear_path=clf.linear_path_).fit(X, Y)
    np.testing.assert_array_equal(clf.predict_proba(X), kept.predict_proba(X))
    np.testing.assert_array_equal(clf.thresholds_, kept.thresholds_)
    again = clone(clf).fit(X, Y)
    assert again.linear_path_ == clf.linear_path_
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_a_multiclass_target_chooses_by_its_pilots_argmax_macro_f1():
    """With more classes than hidden units, each pilot scores the macro-F1 of
    its hold-out argmax: the score a one-value list of alpha gives the same
    hold-out fit."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 12, 300)
    X = np.eye(12)[y] + 0.3 * rng.normal(size=(300, 12))
    params = dict(hidden_layer_sizes=(2,), epochs=10, learning_rate=0.05, threshold="f1")
    clf = tiny(**params, threshold_cv=3).fit(X, y)
    assert clf.classes_.tolist() == list(range(12)) and hasattr(clf, "linear_path_")
    pilots = [tiny(**params, threshold_cv=1 / 3, refit=False, alpha=[1.0],
                   linear_path=value).fit(X, y).alpha_scores_[0] for value in (False, True)]
    np.testing.assert_allclose(clf.linear_path_scores_, pilots)
    assert clf.linear_path_ == (pilots[1] > pilots[0])


@pytest.mark.parametrize("chosen", [False, True])
def test_only_the_chosen_kind_trains_fold_networks(wide, monkeypatch, chosen):
    """The pilots are one network each; the fold networks trained are the
    chosen kind's alone, once."""
    from sklearn_mlk import _choice
    from sklearn_mlk._training._trainer import Trainer

    folds = []
    train_folds = Trainer.train_folds

    def record(trainer, X, Y, w, splits, *args):
        nets = train_folds(trainer, X, Y, w, splits, *args)
        folds.append([_stacked.has_linear_path(net.model) for net in nets])
        return nets

    monkeypatch.setattr(Trainer, "train_folds", record)
    monkeypatch.setattr(_choice, "best", lambda scores: int(chosen))
    X, Y = wide
    clf = tiny(hidden_layer_sizes=(2,), epochs=2, **LEARNED).fit(X, Y)
    assert folds == [[chosen] * 3]
    assert clf.linear_path_ is chosen and _has_path(clf) == [chosen] * 3


@pytest.mark.parametrize("params", [{"threshold": 0.5}, {"linear_path": False},
                                    {"linear_path": True}])
def test_no_choice_without_out_of_fold_scores_or_with_a_bool(wide, params):
    X, Y = wide
    clf = tiny(epochs=1, **{**LEARNED, **params}).fit(X, Y)
    assert not hasattr(clf, "linear_path_")
    assert _has_path(clf)[0] == (params.get("linear_path") is True)


def test_the_pilots_and_the_fit_give_each_note_once(wide):
    import warnings

    X, Y = wide
    Y = np.column_stack([Y, np.zeros(len(Y), dtype=int)])  # a label in no row
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = tiny(hidden_layer_sizes=(2,), epochs=2, **LEARNED).fit(X, Y)
    assert hasattr(clf, "linear_path_")
    notes = [str(w.message) for w in caught if "present in all" in str(w.message)]
    assert notes == ["Label not 12 is present in all training examples."]


@pytest.mark.parametrize("networks_with_path", [0, 2])
def test_a_path_too_large_for_memory_leaves_the_network_without_it(
        wide, monkeypatch, networks_with_path):
    """Where memory holds no network with the path, its pilot is refused and
    scores NaN; where it holds the pilot but not the fold networks, the path
    is chosen and then refused. Either way the network without it is kept."""
    from sklearn_mlk import _choice, _memory

    X, Y = wide
    X = np.hstack([X, np.random.default_rng(1).random((X.shape[0], 2000))])
    plain = X.shape[1] * 2 + 2 + 2 * 12 + 12
    with_path = plain + X.shape[1] * 12
    # room for the three fold networks without the path, and for
    # networks_with_path networks with it
    limit = int(max(_memory.estimate(plain, 3),
                    _memory.estimate(with_path, networks_with_path))) + 1000
    monkeypatch.setattr(_choice, "best", lambda scores: int(np.isfinite(scores[-1])))
    clf = tiny(hidden_layer_sizes=(2,), epochs=2, memory_limit=limit, **LEARNED)
    with pytest.warns(UserWarning, match="kept the network without the linear path, "
                                         "whose fit was refused: This .* would need"):
        clf.fit(X, Y)
    assert clf.linear_path_ is False and not any(_has_path(clf))
    assert np.isfinite(clf.linear_path_scores_[0])
    assert np.isfinite(clf.linear_path_scores_[1]) == bool(networks_with_path)
    with pytest.raises(MemoryError):  # nor the network without it: refused as ever
        tiny(hidden_layer_sizes=(2,), epochs=2, memory_limit=limit // 4,
             **LEARNED).fit(X, Y)


def test_a_warm_start_continues_the_network_the_choice_kept(wide):
    X, Y = wide
    clf = tiny(hidden_layer_sizes=(2,), epochs=30, learning_rate=0.05, **LEARNED).fit(X, Y)
    assert clf.linear_path_
    scores = clf.linear_path_scores_.copy()
    epochs = len(clf.history_["loss"])
    clf.set_params(warm_start=True, epochs=2).fit(X, Y)
    assert len(clf.history_["loss"]) > epochs  # continued, not refitted twice
    assert clf.linear_path_ and all(_has_path(clf))
    np.testing.assert_array_equal(clf.linear_path_scores_, scores)


def test_within_a_list_of_alpha_each_value_chooses(wide):
    X, Y = wide
    clf = tiny(hidden_layer_sizes=(2,), epochs=30, learning_rate=0.05, alpha=[0.0, 1.0],
               **LEARNED).fit(X, Y)
    assert clf.alpha_ in (0.0, 1.0) and clf.linear_path_
    # each value's score is its kept fit's, not its pilots'
    assert np.max(clf.alpha_scores_) == pytest.approx(np.nanmean(clf.threshold_scores_))


@pytest.mark.parametrize("linear_path", [True, False, np.True_])
def test_a_bool_sets_it_whatever_the_labels(data, wide, linear_path):
    for X, Y in (data, wide):
        clf = tiny(linear_path=linear_path, epochs=1).fit(X, Y)
        assert _has_path(clf) == [linear_path]
    # without a hidden layer the network is linear already
    clf = tiny(hidden_layer_sizes=(), linear_path=linear_path, epochs=1).fit(*data)
    assert _has_path(clf) == [False]


def test_the_rest_of_the_network_is_drawn_as_without_it(data):
    meta = {"n_features_in_": 10, "n_labels_": 4, "label_prior_": np.full(4, 0.3)}
    args = dict(hidden_layer_sizes=(8,), activation="relu", dropout=0.5, seed=3)
    plain = _network.build_default_mlp(meta, **args)
    with_path = _network.build_default_mlp(meta, **args, linear_path=True)
    for a, b in zip(_stacked.dense_layers(plain), _stacked.dense_layers(with_path)):
        np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])
    path = with_path.get_layer(_network.LINEAR_PATH)
    assert path.kernel.shape == (10, 4) and path.bias is None
    assert np.abs(keras.ops.convert_to_numpy(path.kernel)).max() > 0  # drawn, not zeros


@pytest.mark.smoke
def test_it_learns_labels_that_a_narrow_hidden_layer_cannot_carry(wide):
    """Twelve independent labels through two hidden units: the linear path
    carries each label's own feature straight to its logit."""
    X, Y = wide
    params = dict(hidden_layer_sizes=(2,), epochs=60, learning_rate=0.05)
    scores = {on: f1_score(Y, tiny(linear_path=on, **params).fit(X, Y).predict(X),
                           average="macro")
              for on in (False, True)}
    assert scores[True] > 0.9
    assert scores[True] > scores[False] + 0.2


@pytest.mark.smoke
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("params", [
    {},  # one network
    {"threshold": "f1", "threshold_cv": 3, "refit": False,
     "early_stopping": True, "dropout": 0.2},  # fold networks, stacked
    {"threshold": "f1", "threshold_cv": 3, "refit": "average"},
])
def test_the_numpy_plan_predicts_as_the_network(wide, sparse, params):
    X, Y = wide
    X = sp.csr_matrix(X) if sparse else X
    clf = tiny(epochs=4, linear_path=True, **params).fit(X, Y)
    assert all(_has_path(clf))
    assert clf._plan is not None
    np.testing.assert_allclose(clf.predict_proba(X), _keras_proba(clf, X),
                               rtol=1e-5, atol=1e-6)
    # a row predicts the same alone as in a batch (to float64 rounding)
    np.testing.assert_allclose(clf.predict_proba(X[3:4]), clf.predict_proba(X)[3:4],
                               rtol=1e-12, atol=1e-12)


def test_an_ensemble_averaging_logits_fuses_its_paths_too(wide, monkeypatch):
    monkeypatch.setattr(_network, "AVERAGE_PROBABILITIES", False)
    X, Y = wide
    clf = tiny(epochs=4, linear_path=True, **LEARNED).fit(X, Y)
    assert clf._plan is not None and clf._plan[0][2] == _plan.LINEAR_STEP
    assert clf._plan[0][0].shape == (16, 12)  # the members' mean, added once
    np.testing.assert_allclose(clf.predict_proba(X), _keras_proba(clf, X),
                               rtol=1e-5, atol=1e-6)


def test_a_stacked_network_trains_each_members_own_path():
    members = [_network.build_default_mlp(
        {"n_features_in_": 5, "n_labels_": 6, "label_prior_": np.full(6, 0.2)},
        (4,), "relu", 0.0, seed=seed, linear_path=True) for seed in range(3)]
    stacked = _stacked.stack(members, "relu", 0.0, seed=0)
    assert _stacked.own_rows_ready(stacked)
    x = np.random.default_rng(0).normal(size=(7, 3, 5)).astype(np.float32)
    own = keras.ops.convert_to_numpy(_stacked.own_rows_outputs(stacked, x))
    for j, member in enumerate(members):
        alone = keras.ops.convert_to_numpy(member(x[:, j]))
        whole = keras.ops.convert_to_numpy(stacked(x[:, j], training=False))[:, j]
        np.testing.assert_allclose(whole, alone, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(own[:, j], alone, rtol=1e-5, atol=1e-6)
    # trained weights go back to their own member: change only member 1's path
    path = stacked.get_layer(_stacked.STACKED_LINEAR)
    kernel = keras.ops.convert_to_numpy(path.kernel).copy()
    kernel[:, 6:12] += 1.0
    path.kernel.assign(kernel)
    before = [keras.ops.convert_to_numpy(m.get_layer(_network.LINEAR_PATH).kernel)
              for m in members]
    _stacked.unstack(stacked, members)
    after = [keras.ops.convert_to_numpy(m.get_layer(_network.LINEAR_PATH).kernel)
             for m in members]
    np.testing.assert_allclose(after[0], before[0])
    np.testing.assert_allclose(after[1], before[1] + 1.0, rtol=1e-6)
    np.testing.assert_allclose(after[2], before[2])


def test_verbose_says_what_auto_chose_and_why(wide, capsys):
    X, Y = wide
    clf = tiny(hidden_layer_sizes=(2,), epochs=30, learning_rate=0.05, verbose=1,
               **LEARNED).fit(X, Y)
    out = capsys.readouterr().out
    assert "by one pilot network of each kind" in out
    assert "The pilot network without the linear path (1 of 2):" in out
    assert "The pilot network with the linear path (2 of 2):" in out
    without, with_path = clf.linear_path_scores_
    assert (f"The network with the linear path chosen, its pilot's score on its "
            f"hold-out {with_path:.4f} the higher (the other's {without:.4f}); it is "
            "fitted on the folds.") in out
    assert out.count("'auto' settings") == 1  # the fit's, not the pilots'
    tiny(hidden_layer_sizes=(2,), epochs=3, verbose=1, threshold="f1", threshold_cv=0.25,
         refit=False).fit(X, Y)
    out = capsys.readouterr().out
    assert "Fitting without the linear path (1 of 2):" in out and "pilot" not in out
    assert "linear path kept, its out-of-fold score" in out
    tiny(epochs=1, verbose=1).fit(X, Y)  # a fixed threshold: no scores to choose by
    assert ("linear_path: off (12 outputs, more than the 8 units of the narrowest "
            "hidden layer, but no out-of-fold scores to choose by)") in capsys.readouterr().out
    tiny(hidden_layer_sizes=(16,), epochs=1, verbose=1).fit(X, Y)
    assert "linear_path: off (12 outputs, at most the 16 units" in capsys.readouterr().out


def test_a_saved_network_with_a_path_loads_and_predicts_alike(wide, tmp_path):
    from sklearn_mlk import load, save

    X, Y = wide
    clf = tiny(epochs=3, linear_path=True, **LEARNED).fit(X, Y)
    save(clf, tmp_path / "clf.mlk")
    loaded = load(tmp_path / "clf.mlk")
    assert all(_has_path(loaded))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
