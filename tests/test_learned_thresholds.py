"""Learned thresholds in the estimator: tuning data, re-tuning, limits, quality."""

import pathlib

import numpy as np
import scipy.sparse as sp
import pytest
from conftest import sparse_products, tiny

keras = pytest.importorskip("keras")
from sklearn.datasets import make_multilabel_classification
from sklearn.metrics import f1_score

from sklearn_mlk import FBeta, KerasMultiLabelClassifier
from sklearn_mlk._training import _trainer
from sklearn_mlk._splits import holdout_split, kfold_splits

DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "datasets"


def _record_trainings(monkeypatch):
    """Record the rows and early-stopping data of every network trained."""
    calls = []
    original = _trainer.Trainer.train

    def train(self, X, Y, w, warm_model, seed, validation=None, epochs=None, **kwargs):
        net = original(self, X, Y, w, warm_model, seed, validation, epochs, **kwargs)
        calls.append({"rows": X.shape[0], "validation": validation, "epochs": epochs,
                      "X": X, "model": net.model})
        return net

    monkeypatch.setattr(_trainer.Trainer, "train", train)
    return calls


def test_holdout_is_tuning_and_early_stopping_data(data, monkeypatch):
    X, Y = data
    calls = _record_trainings(monkeypatch)
    clf = tiny(threshold="f1", threshold_cv=0.25, refit=False, early_stopping=True).fit(X, Y)
    assert len(calls) == 1
    held = calls[0]["validation"][0].shape[0]
    assert abs(held - 50) <= 5 and calls[0]["rows"] + held == 200
    assert "val_loss" in clf.history_
    assert set(clf.threshold_status_) == {"tuned"}


def test_holdout_refit_trains_again_on_all_rows_for_the_best_epoch(data, monkeypatch):
    X, Y = data
    calls = _record_trainings(monkeypatch)
    clf = tiny(threshold="f1", threshold_cv=0.25, epochs=8, early_stopping=True).fit(X, Y)
    assert len(calls) == 2 and calls[0]["validation"] is not None
    assert calls[1]["rows"] == 200 and calls[1]["validation"] is None
    assert 1 <= calls[1]["epochs"] <= 8 and len(clf.history_["loss"]) == calls[1]["epochs"]


def _rows(X):
    return {row.tobytes() for row in np.asarray(X, dtype=np.float32)}


def _record_checks(monkeypatch):
    """Record the training rows and model of every network trained, whether
    alone or stacked with its fold siblings."""
    calls = []
    original = _trainer._checked

    def checked(model, from_probability, history, X, *args, **kwargs):
        calls.append({"rows": X.shape[0], "X": X, "model": model})
        return original(model, from_probability, history, X, *args, **kwargs)

    monkeypatch.setattr(_trainer, "_checked", checked)
    return calls


@pytest.mark.parametrize("stacked", [True, False])
def test_ensemble_scores_each_row_only_with_the_network_that_did_not_see_it(
        data, monkeypatch, stacked):
    X, Y = data
    if not stacked:
        monkeypatch.setattr(_trainer.Trainer, "stacking", False)
    calls = _record_checks(monkeypatch)
    scored = []
    proba = _trainer.proba

    def spy(net, rows):
        scored.append((net.model, rows))
        return proba(net, rows)

    from sklearn_mlk._training import _schemes

    monkeypatch.setattr(_schemes, "proba", spy)
    clf = tiny(threshold="f1", threshold_cv=4, refit=False, epochs=6,
               early_stopping=True).fit(X, Y)
    assert [c["rows"] for c in calls] == [150] * 4  # no refit
    assert len(scored) == 4
    trained_on = {id(c["model"]): _rows(c["X"]) for c in calls}
    all_scored = set()
    for model, rows in scored:
        assert not _rows(rows) & trained_on[id(model)]  # out of fold
        assert not _rows(rows) & all_scored  # each row once
        all_scored |= _rows(rows)
    assert all_scored == _rows(X)
    # The kept model averages the four fold networks' probabilities.
    members = [layer for layer in clf.model_.layers if isinstance(layer, keras.Model)]
    assert len(members) == 4
    logits = np.array([keras.ops.convert_to_numpy(m(X.astype(np.float32))) for m in members])
    np.testing.assert_allclose(clf.predict_proba(X), np.mean(1 / (1 + np.exp(-logits)), axis=0),
                               rtol=1e-5, atol=1e-6)
    assert {f"fold_{i}_loss" for i in range(4)} <= set(clf.history_)


@pytest.mark.backend("tensorflow", "jax")  # stacked training is the loop's
@pytest.mark.smoke
def test_stacked_fold_networks_learn_only_from_their_own_rows(data, monkeypatch):
    """Changing the rows a fold network holds out leaves it exactly as it was,
    and changes its siblings: stacked members share batches, not gradients."""
    X, Y = data
    masks = _spy_on_stacked_training(monkeypatch)
    params = dict(threshold="f1", threshold_cv=4, refit=False, epochs=4,
                  early_stopping=False, dropout=0.0)
    first = tiny(**params).fit(X, Y)
    changed = X.copy()
    changed[~masks[0][:, 0]] *= -3.0  # the rows fold network 0 holds out
    second = tiny(**params).fit(changed, Y)
    assert len(masks) == 2 and (masks[0] == masks[1]).all()

    def weights(clf, i):
        (member,) = [layer for layer in clf.model_.layers if layer.name == f"fold_{i}"]
        return [keras.ops.convert_to_numpy(v) for v in member.weights]

    for a, b in zip(weights(first, 0), weights(second, 0)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    for i in range(1, 4):
        assert any(not np.allclose(a, b) for a, b in zip(weights(first, i), weights(second, i)))


@pytest.mark.parametrize("averages", ["probabilities", "logits"])
def test_fused_plan_equals_the_mean_of_the_members_plans(averages):
    """The fused plan gives what the ensemble gives: the mean of its members'
    probabilities (logit members through a sigmoid each), or, for an
    ensemble that averages logits (saved so, or the study switch off), the
    mean of their logits."""
    from scipy.special import expit

    from sklearn_mlk._keras._inference import fuse_plans, run_plan

    rng = np.random.default_rng(0)

    def plan(widths, last="linear"):
        return [(rng.normal(size=(a, b)).astype(np.float32),
                 rng.normal(size=b).astype(np.float32), activation)
                for (a, b), activation in zip(zip(widths, widths[1:]),
                                              ["relu"] * (len(widths) - 2) + [last])]

    def outputs(p, X):
        out = run_plan(p, X)
        return expit(out) if averages == "probabilities" and p[-1][2] == "linear" else out

    class Mean:  # stands in for the averaging Keras model
        def __init__(self, plans):
            self.plans = plans

        def __call__(self, X, training=False):
            return np.mean([outputs(p, X) for p in self.plans], axis=0)

    X = rng.normal(size=(50, 6)).astype(np.float32)
    # Members of different widths fuse too; of different depths they do not
    # (their products cannot be laid side by side), and predictions take
    # the averaging model's own path.
    for widths in ([[6, 3]] * 3, [[6, 8, 3]] * 3, [[6, 8, 5, 3]] * 3,
                   [[6, 8, 3], [6, 2, 3], [6, 16, 3]], [[6, 8, 5, 3], [6, 3, 7, 3]]):
        plans = [plan(w) for w in widths]
        fused = fuse_plans(plans, Mean(plans), 6)
        assert fused is not None and len(fused) == len(plans[0])
        expected = np.mean([outputs(p, X) for p in plans], axis=0)
        np.testing.assert_allclose(run_plan(fused, X), expected, rtol=1e-4, atol=1e-5)
        assert (expected.min() >= 0 and expected.max() <= 1) == (averages == "probabilities")
    big = rng.normal(size=(4000, 6))  # past the small-array path: scratch buffers
    plans = [plan([6, 8, 3]) for _ in range(3)]
    fused = fuse_plans(plans, Mean(plans), 6)
    for rows in (big, big[:1]):  # a row alone as in the batch
        np.testing.assert_allclose(run_plan(fused, rows), Mean(plans)(rows), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(run_plan(fused, big[:1]), run_plan(fused, big)[:1], rtol=1e-12)
    sparse = sp.csr_matrix(np.where(X > 1, X, 0))  # members without hidden layers read it
    plans = [plan([6, 3]) for _ in range(3)]
    np.testing.assert_allclose(run_plan(fuse_plans(plans, Mean(plans), 6), sparse),
                               Mean(plans)(sparse.toarray()), rtol=1e-4, atol=1e-5)
    mixed = [plan([6, 8, 3]), plan([6, 3])]
    assert fuse_plans(mixed, Mean(mixed), 6) is None
    # Members that end in their own sigmoids: their probabilities averaged.
    sigmoid_out = [plan([6, 4, 3], last="sigmoid") for _ in range(2)]
    fused = fuse_plans(sigmoid_out, Mean(sigmoid_out), 6)
    np.testing.assert_allclose(run_plan(fused, X), Mean(sigmoid_out)(X), rtol=1e-4, atol=1e-5)
    plans = [plan([6, 8, 3]) for _ in range(3)]
    other = [plan([6, 8, 3]) for _ in range(3)]
    assert fuse_plans(plans, Mean(other), 6) is None  # checked against the model


@pytest.mark.parametrize("average_probabilities", [True, False])
def test_a_member_sure_of_a_negative_does_not_outweigh_the_others(
        monkeypatch, average_probabilities):
    """Four fold networks give a label logit 2 and one, which never saw its
    positives, logit -14: the ensemble's probability is the mean of theirs
    (0.70), not the sigmoid of their mean logit (0.23), in the Keras model
    and its fused plan alike; with the study switch off, the latter."""
    from scipy.special import expit

    from sklearn_mlk._keras import _network
    from sklearn_mlk._keras._inference import dense_plan
    from sklearn_mlk._plan import run_plan

    monkeypatch.setattr(_network, "AVERAGE_PROBABILITIES", average_probabilities)
    nets = []
    for logit in (2.0, 2.0, 2.0, 2.0, -14.0):
        member = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                                   keras.layers.Dense(1)])
        member.layers[-1].set_weights([np.zeros((4, 1)), np.array([logit])])
        nets.append(_trainer.Trained(member, False, {"loss": [1.0]}, dense_plan(member, 3),
                                     0.5))
    net = _trainer.ensemble_of(nets, (3,))
    X = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    logits = np.array([2.0] * 4 + [-14.0])
    expected = expit(logits).mean() if average_probabilities else expit(logits.mean())
    outputs = keras.ops.convert_to_numpy(net.model(X))
    assert net.from_probability is average_probabilities
    assert net.plan is not None
    for got in (outputs, run_plan(net.plan, X)):
        got = got if average_probabilities else expit(got)
        np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert _trainer.members_of((net.model, net.from_probability)) == [
        (n.model, False) for n in nets]  # each member still ends in logits


@pytest.mark.parametrize("widths", [(8, 4, 16), ((8,), (), (4, 4))])
def test_members_of_different_architectures_predict_the_mean_of_their_probabilities(widths):
    """Fold networks that a model callable builds differently each time (other
    widths, or other depths) are kept as one ensemble whose probabilities are
    the mean of the sigmoids of the members' logits, as Keras computes them."""
    import itertools

    import keras
    from scipy.special import expit
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(n_samples=120, n_features=6, n_classes=3,
                                          random_state=0)
    shapes = itertools.cycle(widths)

    def build(meta):
        hidden = next(shapes)
        hidden = hidden if isinstance(hidden, tuple) else (hidden,)
        return keras.Sequential(
            [keras.Input((meta["n_features_in_"],))]
            + [keras.layers.Dense(units, activation="relu") for units in hidden]
            + [keras.layers.Dense(meta["n_labels_"])])

    clf = KerasMultiLabelClassifier(model=build, threshold="f1", threshold_cv=3,
                                    refit=False, epochs=3, early_stopping=False,
                                    random_state=0).fit(X, Y)
    members = [layer for layer in clf.model_.layers if isinstance(layer, keras.Model)]
    assert len({tuple(layer.units for layer in m.layers) for m in members}) == 3
    logits = [np.asarray(m.predict(X.astype(np.float32), verbose=0)) for m in members]
    np.testing.assert_allclose(clf.predict_proba(X), np.mean(expit(logits), axis=0),
                               rtol=1e-5, atol=1e-6)
    assert (clf._plan is not None) == all(isinstance(w, int) for w in widths)


def test_ensemble_round_trips_and_warm_starts_each_member(data, tmp_path):
    import pickle

    X, Y = data
    clf = tiny(threshold="f1", threshold_cv=3, refit=False, epochs=4).fit(X, Y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    before = clf.predict_proba(X)
    clf.set_params(warm_start=True).fit(X, Y)
    assert len(clf.history_["fold_0_loss"]) == 8  # four more epochs each
    assert not np.allclose(clf.predict_proba(X), before)
    with pytest.raises(ValueError, match="continues each of 4 fold networks.*holds 3"):
        clf.set_params(threshold_cv=4).fit(X, Y)


def test_an_ensemble_saved_averaging_logits_loads_and_predicts_as_saved(
        data, tmp_path, monkeypatch):
    """A fold ensemble fitted while the default averaged logits (as files
    saved before the mean of probabilities did) loads with its own mean: the
    plan rebuilt at load is the logit mean's, and its predictions are those
    it was saved with."""
    import pickle

    from scipy.special import expit

    import sklearn_mlk
    from sklearn_mlk._keras import _network

    X, Y = data
    monkeypatch.setattr(_network, "AVERAGE_PROBABILITIES", False)
    clf = tiny(threshold="f1", threshold_cv=3, refit=False, epochs=3).fit(X, Y)
    assert clf._from_probability is False and clf._plan[-1][2] == "linear"
    saved, decisions = clf.predict_proba(X), clf.decision_function(X)
    clf.save(tmp_path / "old.mlk")
    pickled = pickle.dumps(clf)
    monkeypatch.setattr(_network, "AVERAGE_PROBABILITIES", True)
    members = [layer for layer in clf.model_.layers if isinstance(layer, keras.Model)]
    logits = np.mean([keras.ops.convert_to_numpy(m(X.astype(np.float32))) for m in members],
                     axis=0)
    for loaded in (sklearn_mlk.load(tmp_path / "old.mlk"), pickle.loads(pickled)):
        assert loaded._plan is not None and loaded._plan[-1][2] == "linear"
        np.testing.assert_allclose(loaded.predict_proba(X), saved, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(loaded.predict_proba(X), expit(logits), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
        np.testing.assert_allclose(loaded.decision_function(X), decisions, rtol=1e-6, atol=1e-6)


def test_kfold_trains_each_fold_then_refits_on_all_rows(data, monkeypatch):
    X, Y = data
    calls = _record_trainings(monkeypatch)
    tiny(threshold="f1", threshold_cv=4, refit=True, early_stopping=False).fit(X, Y)
    assert [c["rows"] for c in calls] == [150, 150, 150, 150, 200]
    assert all(c["validation"] is None for c in calls)
    # With early stopping, each fold stops on its own tuning rows and the
    # refit runs their median best epoch.
    calls.clear()
    clf = tiny(threshold="f1", threshold_cv=4, refit=True, epochs=6,
               early_stopping=True).fit(X, Y)
    assert [c["validation"][0].shape[0] for c in calls[:4]] == [50] * 4
    assert calls[4]["validation"] is None and 1 <= calls[4]["epochs"] <= 6
    assert len(clf.history_["loss"]) == calls[4]["epochs"]


def test_fixed_threshold_trains_once_on_all_rows(data, monkeypatch):
    X, Y = data
    calls = _record_trainings(monkeypatch)
    tiny(threshold=0.4).fit(X, Y)
    assert [c["rows"] for c in calls] == [200]


def test_splits_keep_rare_labels_on_both_sides():
    rng = np.random.default_rng(0)
    Y = (rng.random((300, 8)) < 0.3).astype(int)
    Y[:, 0] = 0
    Y[rng.choice(300, 6, replace=False), 0] = 1  # a rare label
    train, test = holdout_split(Y, 0.2, seed=0)
    # Iterative stratification trades exact sizes for label balance.
    assert abs(len(test) - 60) <= 6 and len(train) + len(test) == 300
    assert len(np.intersect1d(train, test)) == 0
    assert Y[test, 0].sum() >= 1 and Y[train, 0].sum() >= 4
    folds = kfold_splits(Y, 3, seed=0)
    assert sorted(np.concatenate([t for _, t in folds]).tolist()) == list(range(300))
    assert all(Y[t, 0].sum() == 2 for _, t in folds)
    # One label: scikit-learn's stratified splitters.
    train, test = holdout_split(Y[:, :1], 0.5, seed=0)
    assert Y[test, 0].sum() == 3


def test_too_few_samples_to_tune_is_a_clear_error(data):
    X, Y = data
    with pytest.raises(ValueError, match="at least 5 samples.*fixed threshold"):
        tiny(threshold="f1", threshold_cv=5).fit(X[:4], Y[:4])
    with pytest.raises(ValueError, match="1 sample"):
        tiny(threshold="f1", threshold_cv=0.2).fit(X[:1], Y[:1])
    with pytest.warns(UserWarning, match="thresholds are fixed at 0.5"):  # and constant labels
        clf = tiny(threshold="f1").fit(X[:1], Y[:1])  # "auto": the fixed fallback
    assert set(clf.threshold_status_) == {"fallback: 1 samples < 10"}


def test_tune_thresholds_changes_thresholds_not_the_network(data):
    X, Y = data
    clf = tiny(threshold="f1", epochs=5).fit(X[:150], Y[:150])
    weights = [w.copy() for w in clf.model_.get_weights()]
    proba = clf.predict_proba(X[150:])
    clf.set_params(threshold=FBeta(3)).tune_thresholds(X[150:], Y[150:])
    recall_heavy = clf.thresholds_.copy()
    clf.set_params(threshold=FBeta(0.3)).tune_thresholds(X[150:], Y[150:])
    assert np.all(recall_heavy <= clf.thresholds_ + 1e-12)
    assert np.any(recall_heavy < clf.thresholds_)
    for before, after in zip(weights, clf.model_.get_weights()):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(clf.predict_proba(X[150:]), proba)
    # The thresholds are the exact optimum on the data given.
    clf.set_params(threshold="f1").tune_thresholds(X[150:], Y[150:])
    pred = clf.predict(X[150:])
    for k in range(Y.shape[1]):
        assert f1_score(Y[150:, k], pred[:, k]) == pytest.approx(clf.threshold_scores_[k])
    clf.set_params(threshold=0.3).tune_thresholds(X[150:], Y[150:])
    np.testing.assert_array_equal(clf.thresholds_, 0.3)
    assert set(clf.threshold_status_) == {"fixed"}


def test_tune_thresholds_accepts_label_sets_and_checks_lengths(data):
    X, Y = data
    clf = tiny(epochs=2).fit(X, [tuple(np.flatnonzero(row)) for row in Y])
    clf.set_params(threshold="micro_f1").tune_thresholds(
        X[:50], [tuple(np.flatnonzero(row)) for row in Y[:50]]
    )
    assert all(s == "tuned" or s.startswith("fallback: ") for s in clf.threshold_status_)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        clf.tune_thresholds(X[:50], Y[:40])


@pytest.mark.parametrize(
    ("low", "high"), [(1, None), (0, 1), (2, 2), (1, 3)]
)
def test_label_limits_at_predict(data, low, high):
    X, Y = data
    clf = tiny(threshold="f1", epochs=2).fit(X, Y)
    plain = clf.predict(X)
    clf.set_params(min_labels=low, max_labels=high)
    counts = clf.predict(X).sum(axis=1)
    assert counts.min() >= low
    assert high is None or counts.max() <= high
    assert len(clf.predict_label_sets(X)[0]) >= low
    if (plain.sum(axis=1) < low).any() or (high and (plain.sum(axis=1) > high).any()):
        assert not np.array_equal(clf.predict(X), plain)


def test_label_limits_are_validated(data):
    X, Y = data
    with pytest.raises(ValueError, match="min_labels=5 exceeds the number of labels, 4"):
        tiny(min_labels=5).fit(X, Y)
    with pytest.raises(ValueError, match="max_labels=1 is below min_labels=2"):
        tiny(min_labels=2, max_labels=1).fit(X, Y)
    clf = tiny().fit(X, Y).set_params(min_labels=9)
    with pytest.raises(ValueError, match="min_labels=9"):
        clf.predict(X)


@pytest.mark.parametrize("bad", ["f2", "macro", 1.5, -0.1])
def test_bad_threshold_is_rejected(data, bad):
    X, Y = data
    with pytest.raises(ValueError, match="threshold"):
        tiny(threshold=bad).fit(X, Y)


def test_one_label_and_rare_labels_fit(data):
    X, Y = data
    clf = tiny(threshold="f1").fit(X, Y[:, :1])
    assert clf.thresholds_.shape == (1,)
    Y_rare = Y.copy()
    Y_rare[:, 0] = 0
    Y_rare[:2, 0] = 1  # out-of-fold scores of every row: 2 positives in all
    clf = tiny(threshold="f1", min_positives=3).fit(X, Y_rare)
    assert clf.threshold_status_[0].startswith("fallback: ")
    assert np.all(np.isfinite(clf.thresholds_))


@pytest.mark.skipif(not (DATA / "yeast.npz").exists(), reason="shared data sets not found")
@pytest.mark.parametrize(("objective", "average"), [("f1", "macro"), ("micro_f1", "micro")])
def test_learned_thresholds_beat_half_on_held_out_yeast(objective, average):
    """On yeast's standard test split, over three seeds, learned thresholds win
    on the metric they target by a margin well above the seed-to-seed spread."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    bundle = np.load(DATA / "yeast.npz")
    X, Y, test = bundle["X"], bundle["Y"], bundle["is_test"]
    gains = []
    for seed in range(3):
        scores = {}
        for threshold in (0.5, objective):
            model = make_pipeline(StandardScaler(), KerasMultiLabelClassifier(
                hidden_layer_sizes=(64,), epochs=15, threshold=threshold,
                random_state=seed,
            )).fit(X[~test], Y[~test])
            scores[threshold] = f1_score(Y[test], model.predict(X[test]),
                                         average=average, zero_division=0)
        gains.append(scores[objective] - scores[0.5])
    assert min(gains) > 0.01, gains


@pytest.mark.parametrize(
    "threshold_cv, refit, early_stopping, n, expected",
    [
        ("auto", "auto", "auto", 1000, dict(k=5, ensemble=True, early_stopping=True)),
        ("auto", "auto", "auto", 60_000, dict(k=3, ensemble=True, early_stopping=True)),
        ("auto", True, "auto", 1000, dict(k=5, ensemble=False, refit=True)),
        (4, "auto", "auto", 1000, dict(k=4, ensemble=True)),
        (0.2, "auto", "auto", 1000, dict(k=None, fraction=0.2, refit=True)),
        (0.2, False, "auto", 1000, dict(k=None, refit=False, ensemble=False)),
        ("auto", "auto", "auto", 319, dict(k=5, early_stopping=False)),  # folds of 63
        ("auto", "auto", "auto", 320, dict(k=5, early_stopping=True, notes=())),
        ("auto", "auto", True, 319, dict(early_stopping=True, notes=())),  # as asked
        (0.2, "auto", "auto", 315, dict(early_stopping=False)),  # a hold-out of 63
        (0.2, "auto", "auto", 320, dict(early_stopping=True)),
        ("auto", "auto", "auto", 9, dict(fixed=True, early_stopping=False)),
        ("auto", "auto", "auto", 10, dict(fixed=False, k=5)),
        (3, "auto", "auto", 9, dict(fixed=False, k=3)),  # only "auto" falls back
    ],
)
def test_auto_scheme_follows_the_data_size(threshold_cv, refit, early_stopping, n,
                                           expected):
    from sklearn_mlk import _tuning

    plan = _tuning.scheme(threshold_cv, refit, early_stopping, n)
    for field, value in expected.items():
        assert getattr(plan, field) == value, (field, plan)
    if plan.fixed or not plan.early_stopping and early_stopping == "auto":
        assert len(plan.notes) == 1


@pytest.mark.parametrize("tol, n_iter_no_change, stopping, expected", [
    (None, "auto", False, None),  # every epoch
    (1e-4, "auto", False, (1e-4, 10)),  # MLPClassifier's patience
    (1e-3, 3, False, (1e-3, 3)),
    (1e-4, "auto", True, None),  # early stopping on held-out rows reads no tol
])
def test_tol_settles_only_a_network_that_does_not_stop_early(tol, n_iter_no_change,
                                                             stopping, expected):
    from sklearn_mlk import _tuning

    assert _tuning.settle(tol, n_iter_no_change, stopping) == expected


def test_tiny_data_warns_once_and_seeded_runs_agree():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    texts = ["cup final tonight", "minister talks ai rules", "new phone chip",
             "club buys app"]
    Y = np.array([[0, 1, 0], [1, 0, 1], [0, 0, 1], [0, 1, 1]])
    predictions = []
    for _ in range(2):
        model = make_pipeline(TfidfVectorizer(), KerasMultiLabelClassifier(
            hidden_layer_sizes=(16,), epochs=60, random_state=0))
        with pytest.warns(UserWarning) as caught:
            model.fit(texts, Y)
        messages = [str(w.message) for w in caught if w.category is UserWarning]
        assert len(messages) == 1
        assert messages[0].startswith("Few training samples: fewer than 10, so the "
                                      "thresholds are fixed at 0.5")
        clf = model[-1]
        assert len(clf.history_["loss"]) == 60  # every epoch: no early stopping
        assert set(clf.threshold_status_) == {"fallback: 4 samples < 10"}
        np.testing.assert_array_equal(clf.thresholds_, 0.5)
        predictions.append(model.predict(["ai rules for phones", "cup tonight"]))
    np.testing.assert_array_equal(predictions[0], predictions[1])
    assert predictions[0].sum(axis=1).min() >= 1  # a label for each, as trained


@pytest.mark.skipif(not (DATA / "yeast.npz").exists(), reason="shared data sets not found")
def test_default_is_not_worse_than_the_former_default_on_held_out_yeast():
    """The k-fold ensemble against the former hold-out with refit, on yeast's
    standard test split, for each of three seeds."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    bundle = np.load(DATA / "yeast.npz")
    X, Y, test = bundle["X"], bundle["Y"], bundle["is_test"]
    for seed in range(3):
        scores = {}
        for name, params in {"default": {},
                             "former": {"threshold_cv": 0.2, "refit": True}}.items():
            model = make_pipeline(StandardScaler(), KerasMultiLabelClassifier(
                hidden_layer_sizes=(64,), epochs=15, random_state=seed, **params,
            )).fit(X[~test], Y[~test])
            scores[name] = f1_score(Y[test], model.predict(X[test]), average="macro",
                                    zero_division=0)
        assert scores["default"] >= scores["former"] - 0.005, (seed, scores)


def _spy_on_stacked_training(monkeypatch):
    """Record the masks (rows x members) of every stacked training."""
    from sklearn_mlk._training import _compiled

    masks = []
    original = _compiled.train_members

    def spy(model, loss, X, Y, w, mask, **kwargs):
        masks.append(mask)
        return original(model, loss, X, Y, w, mask, **kwargs)

    monkeypatch.setattr(_compiled, "train_members", spy)
    return masks


@pytest.mark.backend("tensorflow", "jax")  # stacked training is the loop's
@pytest.mark.smoke
def test_stacked_members_keep_their_own_best_epoch(data, monkeypatch):
    from sklearn_mlk._training._losses import weighted_binary_crossentropy

    X, Y = data
    masks = _spy_on_stacked_training(monkeypatch)
    clf = tiny(threshold="f1", threshold_cv=4, refit=False, epochs=40, learning_rate=0.05,
               early_stopping=True, n_iter_no_change=3).fit(X, Y)
    (mask,) = masks
    loss = weighted_binary_crossentropy(np.ones(Y.shape[1]), from_logits=True)
    lengths = []
    for j in range(4):
        (member,) = [layer for layer in clf.model_.layers if layer.name == f"fold_{j}"]
        held = ~mask[:, j]
        logits = member(X[held].astype(np.float32))
        final = float(np.mean(keras.ops.convert_to_numpy(loss(Y[held], logits))))
        curve = clf.history_[f"fold_{j}_val_loss"]
        # The member's weights are those of its own lowest validation loss.
        assert final == pytest.approx(min(curve), rel=1e-4)
        lengths.append(len(curve))
        assert len(clf.history_[f"fold_{j}_loss"]) == len(curve)
    assert min(lengths) < 40 and len(set(lengths)) > 1  # each stopped on its own


@pytest.mark.backend("tensorflow", "jax")  # stacked training is the loop's
def test_stacked_members_plans_are_checked_against_the_stacked_network(data, monkeypatch):
    """The fold networks' plans are checked in one call of the stacked
    network, the fused plan in one of the ensemble; a member whose weights
    are not the stacked network's gets no plan, and the ensemble then
    predicts through Keras."""
    from sklearn_mlk._keras import _inference
    from sklearn_mlk._training import _stacked

    X, Y = data
    called = []
    outputs = _inference.model_outputs
    monkeypatch.setattr(_inference, "model_outputs",
                        lambda model, probe: called.append(model.name) or outputs(model, probe))
    params = dict(threshold="f1", threshold_cv=3, refit=False)
    clf = tiny(**params).fit(X, Y)
    assert called[0] == "stacked" and len(called) == 2 and clf._plan is not None
    members = [layer for layer in clf.model_.layers if isinstance(layer, keras.Model)]
    assert called[1] == clf.model_.name and len(members) == 3
    np.testing.assert_allclose(clf.predict_proba(X), keras.ops.convert_to_numpy(
        clf.model_(X.astype(np.float32))), rtol=1e-5, atol=1e-6)

    unstack = _stacked.unstack

    def unstack_wrongly(model, members):
        unstack(model, members)
        kernel = members[1].layers[-1].kernel
        kernel.assign(2 * keras.ops.convert_to_numpy(kernel))

    monkeypatch.setattr(_stacked, "unstack", unstack_wrongly)
    plans = []
    checked = _trainer._checked

    def record(*args, **kwargs):
        net = checked(*args, **kwargs)
        plans.append(net.plan)
        return net

    monkeypatch.setattr(_trainer, "_checked", record)
    wrong = tiny(**params).fit(X, Y)
    assert [plan is None for plan in plans] == [False, True, False]
    assert wrong._plan is None  # the ensemble predicts through its Keras model
    np.testing.assert_allclose(wrong.predict_proba(X), keras.ops.convert_to_numpy(
        wrong.model_(X.astype(np.float32))), rtol=1e-5, atol=1e-6)


def test_stacked_sparse_training_matches_dense(data, monkeypatch):
    X, Y = data
    masks = _spy_on_stacked_training(monkeypatch)
    params = dict(threshold="f1", threshold_cv=3, refit=False, fit__shuffle=False)
    # X counts as sparse enough for TensorFlow's sparse products.
    sparse_products(monkeypatch)
    dense = tiny(**params).fit(X, Y)
    sparse = tiny(**params).fit(sp.csr_matrix(X), Y)
    assert len(masks) == 2
    np.testing.assert_allclose(dense.predict_proba(X), sparse.predict_proba(X), atol=1e-4)
    np.testing.assert_allclose(dense.thresholds_, sparse.thresholds_, atol=1e-3)


def test_history_keeps_every_run_with_its_epochs(data):
    X, Y = data
    common = dict(threshold="f1", epochs=12, learning_rate=0.05, n_iter_no_change=2,
                  early_stopping=True)
    refit = tiny(threshold_cv=0.25, refit=True, **common).fit(X, Y)
    tuning = refit.history_["tuning_val_loss"]
    assert len(refit.history_["tuning_loss"]) == len(tuning)
    assert refit.best_epoch_ == int(np.argmin(tuning)) + 1
    assert refit.n_iter_ == len(refit.history_["loss"]) == refit.best_epoch_

    ensemble = tiny(threshold_cv=3, refit=False, **common).fit(X, Y)
    assert ensemble.n_iter_.shape == ensemble.best_epoch_.shape == (3,)
    for j in range(3):
        curve = ensemble.history_[f"fold_{j}_val_loss"]
        assert ensemble.best_epoch_[j] == int(np.argmin(curve)) + 1
        assert ensemble.n_iter_[j] == len(curve) == len(ensemble.history_[f"fold_{j}_loss"])
    # The mean curve runs over the epochs every member trained: no step where
    # a member stopped.
    assert len(ensemble.history_["loss"]) == ensemble.n_iter_.min()
    assert ensemble.n_iter_.min() < ensemble.n_iter_.max()  # (the case is tested)
    np.testing.assert_allclose(ensemble.history_["loss"], np.mean(
        [ensemble.history_[f"fold_{j}_loss"][:ensemble.n_iter_.min()] for j in range(3)],
        axis=0))

    plain = tiny(threshold=0.5, epochs=4, early_stopping=False).fit(X, Y)
    assert plain.n_iter_ == 4 and plain.best_epoch_ is None


@pytest.mark.parametrize("level", [0.6, 0.95])
def test_precision_at_least_holds_on_the_tuning_data(data, level):
    from sklearn.metrics import precision_score, recall_score

    from sklearn_mlk import PrecisionAtLeast, RecallAtLeast

    X, Y = data
    clf = tiny(threshold="f1", threshold_cv=3, refit=False, epochs=10).fit(X[:120], Y[:120])
    X_tune, Y_tune = X[120:], Y[120:]
    clf.set_params(threshold=PrecisionAtLeast(level)).tune_thresholds(X_tune, Y_tune)
    pred = clf.predict(X_tune)
    for k, status in enumerate(clf.threshold_status_):
        if status == "tuned":
            assert precision_score(Y_tune[:, k], pred[:, k]) >= level
        else:
            assert status == f"unreachable: precision >= {level:g}" and not pred[:, k].any()
    clf.set_params(threshold=RecallAtLeast(level)).tune_thresholds(X_tune, Y_tune)
    pred = clf.predict(X_tune)
    assert set(clf.threshold_status_) == {"tuned"}
    for k in range(Y.shape[1]):
        assert recall_score(Y_tune[:, k], pred[:, k]) >= level


def test_a_search_shows_the_small_data_warning_once_at_the_users_line(data):
    """Each split of a search has a few rows more or fewer; the warning is
    worded from the parameters, so the search's fits give it once, at the
    line that called the search (not inside scikit-learn)."""
    import warnings

    from sklearn.model_selection import GridSearchCV

    X, Y = data
    search = GridSearchCV(tiny(threshold="f1", early_stopping="auto", epochs=1),
                          {"learning_rate": [0.01, 0.02]},
                          cv=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's own: once per message and line
        search.fit(X[:150], Y[:150])
    few = [w for w in caught if str(w.message).startswith("Few training samples")]
    assert len(few) == 1, [str(w.message) for w in few]
    assert few[0].filename == __file__
    assert str(few[0].message) == ("Few training samples: early stopping on 5 tuning "
                                   "folds needs 64 rows in each, from 320 samples; every "
                                   "network trains for all epochs (or, with tol, until "
                                   "its training loss settles).")
    with pytest.warns(UserWarning, match="; every network trains until its training loss "
                      r"settles \(tol=0.001\)\.$"):
        tiny(threshold="f1", early_stopping="auto", epochs=1, tol=1e-3).fit(X[:150],
                                                                            Y[:150])


@pytest.mark.parametrize("target", ["multilabel", "multiclass"])
def test_a_clone_refitted_makes_the_same_choices(target, capsys):
    """Every "auto" setting left as it is, on enough rows for early stopping
    on 5 folds: a seeded fit and its clone, refitted, resolve them alike
    (verbose's line), stop at the same epochs, learn the same thresholds and
    predict the same probabilities."""
    from sklearn.base import clone
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(n_samples=400, n_features=12, n_classes=4,
                                          random_state=1)
    y = Y if target == "multilabel" else Y.argmax(axis=1)
    first = KerasMultiLabelClassifier(hidden_layer_sizes=(16,), epochs=6, verbose=2,
                                      random_state=3).fit(X, y)
    said = capsys.readouterr().out.splitlines()[0]
    assert said.startswith("'auto' settings for 400 rows: threshold_cv: 5 folds")
    assert "early_stopping: on" in said
    again = clone(first).fit(X, y)
    assert capsys.readouterr().out.splitlines()[0] == said
    np.testing.assert_array_equal(again.n_iter_, first.n_iter_)  # per fold network
    np.testing.assert_array_equal(again.best_epoch_, first.best_epoch_)
    np.testing.assert_array_equal(again.thresholds_, first.thresholds_)
    np.testing.assert_array_equal(again.predict_proba(X), first.predict_proba(X))


def test_a_binary_target_tunes_balanced_accuracy_by_default():
    X, Y = make_multilabel_classification(n_samples=300, n_features=10, n_classes=3,
                                          random_state=1)
    y = np.where(Y[:, 0] == 1, "yes", "no")  # about a third positive
    params = dict(threshold_cv=3, refit=False, epochs=4, dropout=0.0)
    auto = tiny(threshold="auto", **params).fit(X, y)
    balanced = tiny(threshold="balanced_accuracy", **params).fit(X, y)
    f1 = tiny(threshold="f1", **params).fit(X, y)
    assert KerasMultiLabelClassifier().threshold == "auto"
    np.testing.assert_array_equal(auto.thresholds_, balanced.thresholds_)
    np.testing.assert_array_equal(auto.threshold_scores_, balanced.threshold_scores_)
    # The two objectives cut these scores differently, so the test can tell.
    assert auto.thresholds_[0] != f1.thresholds_[0]


def test_a_multilabel_target_tunes_each_labels_f1_by_default(data):
    X, Y = data
    params = dict(threshold_cv=3, refit=False, epochs=4)
    auto = tiny(threshold="auto", **params).fit(X, Y)
    f1 = tiny(threshold="f1", **params).fit(X, Y)
    balanced = tiny(threshold="balanced_accuracy", **params).fit(X, Y)
    np.testing.assert_array_equal(auto.thresholds_, f1.thresholds_)
    assert not np.array_equal(auto.thresholds_, balanced.thresholds_)
    # tune_thresholds resolves "auto" by the fitted target as fit does.
    retuned = auto.tune_thresholds(X[:100], Y[:100]).thresholds_.copy()
    np.testing.assert_array_equal(
        retuned, f1.tune_thresholds(X[:100], Y[:100]).thresholds_)
