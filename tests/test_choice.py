"""alpha as a list: one fit per value, the best out-of-fold score kept
(the rules themselves, without a network: tests/test_choice_rules.py)."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_multilabel_classification
from sklearn.metrics import f1_score

from sklearn_mlk import KerasMultiLabelClassifier, _choice

pytestmark = pytest.mark.network

SMALL = dict(hidden_layer_sizes=(16,), epochs=5, random_state=0)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # few rows for early stopping
        yield


@pytest.fixture(scope="module")
def data():
    X, Y = make_multilabel_classification(n_samples=160, n_features=12, n_classes=4,
                                          random_state=0)
    return X.astype(np.float32), Y


def test_the_choice_passes_over_a_network_that_memorises_its_rows():
    """Without a penalty, a wide network trained long without dropout or
    early stopping fits its training rows almost exactly, and its labels are
    noisy: its out-of-fold scores are worse, so the penalised one is kept,
    though choosing on the training rows would pick the memoriser."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 100))
    Y = (rng.random((200, 4)) < 1 / (1 + np.exp(-3.0 * X[:, :4]))).astype(int)
    common = dict(hidden_layer_sizes=(256,), dropout=0.0, early_stopping=False,
                  epochs=100, threshold_cv=3, random_state=0)
    chosen = KerasMultiLabelClassifier(alpha=[0, 30], **common).fit(X, Y)
    memoriser = KerasMultiLabelClassifier(alpha=0, **common).fit(X, Y)

    assert chosen.alpha_ == 30.0
    assert chosen.alpha_scores_[1] > chosen.alpha_scores_[0]
    assert memoriser.history_["loss"][-1] < 0.1 * chosen.history_["loss"][-1]


@pytest.mark.smoke
@pytest.mark.parametrize("values", [[0.0, 100.0], [100.0, 0.0]])
def test_the_chosen_fit_is_the_fit_of_its_value_alone(data, values):
    """With an int random_state every value fits as it would alone: the
    chosen estimator predicts as the one fitted with alpha_, and each score
    is the mean of that value's own threshold_scores_. In one of the two
    orders the first value wins, whose fit is put back after the second."""
    X, Y = data
    chosen = KerasMultiLabelClassifier(alpha=values, **SMALL).fit(X, Y)
    alone = [KerasMultiLabelClassifier(alpha=a, **SMALL).fit(X, Y) for a in values]

    expected = [np.nanmean(a.threshold_scores_) for a in alone]
    assert expected[0] != expected[1]
    np.testing.assert_allclose(chosen.alpha_scores_, expected, rtol=0, atol=0)
    assert chosen.alpha_ == values[int(np.argmax(expected))]
    twin = alone[int(np.argmax(expected))]
    np.testing.assert_array_equal(chosen.predict_proba(X), twin.predict_proba(X))
    np.testing.assert_array_equal(chosen.thresholds_, twin.thresholds_)
    assert chosen.history_ == twin.history_
    assert chosen.alpha == values  # the parameter is left as given


def test_clone_and_refit_make_the_same_choice(data):
    X, Y = data
    first = KerasMultiLabelClassifier(alpha=[0.0, 2.0, 8.0], **SMALL).fit(X, Y)
    again = clone(first).fit(X, Y)
    assert again.alpha_ == first.alpha_
    np.testing.assert_array_equal(again.alpha_scores_, first.alpha_scores_)
    np.testing.assert_array_equal(again.predict(X), first.predict(X))


def test_an_unseeded_choice_fits_every_value_from_one_seed(data, monkeypatch):
    """random_state=None draws one seed for all the values, so they are
    compared on the same folds and first weights."""
    X, Y = data
    seen = []
    original = KerasMultiLabelClassifier._fit

    def spy(self, *args, **kwargs):
        if _choice.candidates(self.alpha) is None:
            seen.append(self.random_state)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(KerasMultiLabelClassifier, "_fit", spy)
    est = KerasMultiLabelClassifier(alpha=[0.0, 1.0, 2.0], **{**SMALL, "random_state": None})
    est.fit(X, Y)
    assert len(seen) == 3 and isinstance(seen[0], int) and len(set(seen)) == 1
    assert est.random_state is None


def test_a_multiclass_choice_scores_the_out_of_fold_argmax(data, monkeypatch):
    """On a multiclass target the thresholds are the argmax, which has no
    score of its own: each value is scored by the macro-F1 of its
    out-of-fold argmax, computed from the fit's own out-of-fold scores."""
    X, _ = data
    y = np.arange(len(X)) % 3
    calls = []
    original = _choice.score

    def spy(threshold_scores, out_of_fold=None):
        calls.append(out_of_fold)
        return original(threshold_scores, out_of_fold)

    monkeypatch.setattr(_choice, "score", spy)
    est = KerasMultiLabelClassifier(alpha=[0.0, 1.0], **SMALL).fit(X, y)
    assert len(calls) == 2 and all(c is not None for c in calls)
    S, Y, w = calls[0]
    assert S.shape == Y.shape == (len(X), 3)
    assert est.alpha_scores_[0] == pytest.approx(
        f1_score(y, np.argmax(S, axis=1), average="macro"))


@pytest.mark.parametrize("alpha, names", [
    ([], "holds no value"), ([0, -1], "-1"), ([0, "a"], "'a'"),
    ([0, np.nan], "nan"), ([0, np.inf], "inf"), ([True], "True"),
])
def test_a_bad_list_names_its_value(data, alpha, names):
    X, Y = data
    with pytest.raises(ValueError, match=names):
        KerasMultiLabelClassifier(alpha=alpha, **SMALL).fit(X, Y)


def test_a_fixed_threshold_or_a_model_of_its_own_cannot_choose(data):
    import keras

    X, Y = data
    with pytest.raises(ValueError, match="threshold=0.5 is fixed"):
        KerasMultiLabelClassifier(alpha=[0, 1], threshold=0.5, **SMALL).fit(X, Y)

    def model(meta):
        return keras.Sequential([keras.Input((meta["n_features_in_"],)),
                                 keras.layers.Dense(meta["n_outputs_"])])

    with pytest.raises(ValueError, match="network of its own"):
        KerasMultiLabelClassifier(model, alpha=[0, 1], **SMALL).fit(X, Y)


def test_warm_start_and_partial_fit_continue_the_value_chosen(data, monkeypatch):
    X, Y = data
    est = KerasMultiLabelClassifier(alpha=[0.0, 4.0], warm_start=True, **SMALL).fit(X, Y)
    chosen, scores = est.alpha_, est.alpha_scores_.copy()
    epochs = len(est.history_["loss"])
    resolved = []
    from sklearn_mlk._training import _fit

    original = _fit.alpha_of
    monkeypatch.setattr(_fit, "alpha_of", lambda e, k: resolved.append(e.alpha) or original(e, k))
    est.fit(X, Y)
    assert len(est.history_["loss"]) > epochs  # the fitted networks trained on
    assert set(resolved) == {chosen}
    assert est.alpha_ == chosen
    np.testing.assert_array_equal(est.alpha_scores_, scores)
    assert est.alpha == [0.0, 4.0]
    resolved.clear()
    est.partial_fit(X, Y)
    assert set(resolved) == {chosen} and est.alpha == [0.0, 4.0]


def test_warm_start_or_partial_fit_without_a_choice_is_refused(data):
    X, Y = data
    est = KerasMultiLabelClassifier(alpha=1.0, warm_start=True, **SMALL).fit(X, Y)
    est.set_params(alpha=[0, 1])
    with pytest.raises(ValueError, match="not fitted with a list of alpha"):
        est.fit(X, Y)
    with pytest.raises(ValueError, match="partial_fit does not compute"):
        KerasMultiLabelClassifier(alpha=[0, 1], **SMALL).partial_fit(X, Y)


def test_a_fit_with_one_value_drops_the_choice(data):
    X, Y = data
    est = KerasMultiLabelClassifier(alpha=[0.0, 1.0], **SMALL).fit(X, Y)
    est.set_params(alpha=1.0).fit(X, Y)
    assert not hasattr(est, "alpha_") and not hasattr(est, "alpha_scores_")


def test_a_choice_that_fails_leaves_the_estimator_as_it_was(data, monkeypatch):
    X, Y = data
    est = KerasMultiLabelClassifier(alpha=[0.0, 1.0], **SMALL)
    original = KerasMultiLabelClassifier._keep
    count = []

    def second_fails(self, *args):
        count.append(1)
        if len(count) == 2:
            raise RuntimeError("planted")
        return original(self, *args)

    monkeypatch.setattr(KerasMultiLabelClassifier, "_keep", second_fails)
    with pytest.raises(RuntimeError, match="planted"):
        est.fit(X, Y)
    assert not hasattr(est, "model_") and not hasattr(est, "alpha_")
    assert est.get_params()["alpha"] == [0.0, 1.0]


def test_verbose_says_what_was_chosen_and_why(data, capsys):
    X, Y = data
    est = KerasMultiLabelClassifier(alpha=[0.0, 1.0], verbose=1, **SMALL).fit(X, Y)
    out = capsys.readouterr().out
    assert "Fitting with alpha=0 (1 of 2)" in out and "Fitting with alpha=1 (2 of 2)" in out
    other = 1 - [0.0, 1.0].index(est.alpha_)
    assert f"alpha={est.alpha_:g} chosen, its out-of-fold score " \
           f"{est.alpha_scores_.max():.4f} the highest " \
           f"(alpha={[0.0, 1.0][other]:g}: {est.alpha_scores_[other]:.4f})" in out


def test_the_choice_is_saved_and_loaded(data, tmp_path):
    from sklearn_mlk import load

    X, Y = data
    est = KerasMultiLabelClassifier(alpha=[0.0, 1.0], **SMALL).fit(X, Y)
    est.save(tmp_path / "m.mlk")
    loaded = load(tmp_path / "m.mlk")
    assert loaded.alpha == [0.0, 1.0] and loaded.alpha_ == est.alpha_
    np.testing.assert_array_equal(loaded.alpha_scores_, est.alpha_scores_)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_each_note_is_given_once_not_once_per_value(data):
    """Every value's fit checks the same data: a note on it (here, too few
    rows to stop early) reaches the user once, from their fit's line."""
    X, Y = data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        KerasMultiLabelClassifier(alpha=[0.0, 1.0, 2.0], **SMALL).fit(X, Y)
    notes = [w for w in caught if "Few training samples" in str(w.message)]
    assert len(notes) == 1
    assert notes[0].filename == __file__


def test_a_choice_in_one_thread_silences_no_note_of_another():
    """The notes a choice has given are kept per thread: a fit in another
    thread, meanwhile, still gives its own."""
    import threading

    from sklearn_mlk import _notes

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with _notes.once_per_choice():
            _notes._warn_once_per_search("a note")
            _notes._warn_once_per_search("a note")
            thread = threading.Thread(target=_notes._warn_once_per_search,
                                      args=("a note",))
            thread.start()
            thread.join()
        _notes._warn_once_per_search("a note")  # after the choice, as before
    assert [str(w.message) for w in caught] == ["a note"] * 3
