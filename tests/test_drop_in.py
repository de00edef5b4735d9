"""Recipes written for OneVsRestClassifier work unchanged with our estimator.

Each recipe is a function of a classifier factory and runs twice: once with
``OneVsRestClassifier(LogisticRegression())``, once with
``KerasMultiLabelClassifier``.
"""

import pickle

import joblib
import numpy as np
import pytest
from conftest import tiny
from sklearn.base import clone, is_classifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MultiLabelBinarizer, StandardScaler

TEXTS = [
    "the match ended with a late goal", "parliament votes on the budget",
    "new phone chip doubles battery life", "the striker signs for a record fee",
    "minister resigns after budget row", "startup raises money for ai chips",
    "league final sold out in minutes", "election campaign turns to tech policy",
    "football club buys a data analytics firm", "government bans the new app",
    "coach praises young goalkeeper", "chip maker lobbies parliament on tariffs",
] * 4
TAGS = [
    ["sport"], ["politics"], ["tech"], ["sport"], ["politics"], ["tech"],
    ["sport"], ["politics", "tech"], ["sport", "tech"], ["politics", "tech"],
    ["sport"], ["politics", "tech"],
] * 4


def ovr():
    return OneVsRestClassifier(LogisticRegression())


def keras_mlk():
    # The default learned thresholds, as a user would get them.
    return tiny(hidden_layer_sizes=(16,), epochs=30, learning_rate=0.01, threshold="f1")


FACTORIES = [pytest.param(ovr, id="OneVsRest"), pytest.param(keras_mlk, id="Keras")]


@pytest.fixture(scope="module")
def text_data():
    mlb = MultiLabelBinarizer()
    return TEXTS, mlb.fit_transform(TAGS), mlb


@pytest.mark.parametrize("make", FACTORIES)
def test_is_a_classifier(make):
    assert is_classifier(make())


@pytest.mark.parametrize("make", FACTORIES)
def test_text_pipeline_with_multilabel_binarizer(make, text_data):
    texts, Y, mlb = text_data
    pipe = Pipeline([("tfidf", TfidfVectorizer()), ("clf", make())]).fit(texts, Y)
    pred = pipe.predict(texts)
    assert pred.shape == Y.shape
    tags = mlb.inverse_transform(pred)
    assert len(tags) == len(texts)
    assert (pred == Y).mean() > 0.8  # the tiny corpus is learnable


@pytest.mark.smoke
@pytest.mark.parametrize("make", FACTORIES)
def test_grid_search_over_pipeline(make, text_data):
    texts, Y, _ = text_data
    pipe = Pipeline([("tfidf", TfidfVectorizer()), ("clf", make())])
    grid = GridSearchCV(
        pipe, {"tfidf__min_df": [1, 2], "tfidf__sublinear_tf": [False, True]},
        scoring="f1_micro", cv=KFold(3, shuffle=True, random_state=0),
    ).fit(texts, Y)
    assert np.isfinite(grid.best_score_)
    assert grid.predict(texts).shape == Y.shape


@pytest.mark.parametrize("make", FACTORIES)
# Some rows of the data have no label: samples-averaged scores warn about them.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_cross_validate_with_multilabel_scorers(make, data):
    X, Y = data
    scoring = ["f1_macro", "f1_samples", "jaccard_samples", "roc_auc", "average_precision"]
    scores = cross_validate(
        make_pipeline(StandardScaler(), make()), X, Y, cv=3, scoring=scoring,
        error_score="raise",
    )
    for name in scoring:
        values = scores[f"test_{name}"]
        assert values.shape == (3,) and np.all((values >= 0) & (values <= 1))
    assert scores["test_roc_auc"].mean() > 0.6


@pytest.mark.parametrize("make", FACTORIES)
def test_clone_pickle_and_joblib(make, data, tmp_path):
    X, Y = data
    est = make()
    unfitted = clone(est)
    assert repr(unfitted) == repr(est) and unfitted is not est
    est.fit(X, Y)
    for restored in (pickle.loads(pickle.dumps(est)),
                     joblib.load(joblib.dump(est, tmp_path / "m.joblib")[0])):
        np.testing.assert_array_equal(restored.predict(X), est.predict(X))
        np.testing.assert_array_equal(restored.predict_proba(X), est.predict_proba(X))


def test_grid_search_in_two_processes(data):
    X, Y = data
    grid = GridSearchCV(
        keras_mlk(), {"hidden_layer_sizes": [(8,), (16,)], "learning_rate": [0.01, 0.001]},
        scoring="f1_micro", cv=2, n_jobs=2, error_score="raise",
    ).fit(X, Y)
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_estimator_.predict(X).shape == Y.shape


def test_grid_search_over_routed_parameters(data):
    import keras

    X, Y = data

    def build(meta, units):
        return keras.Sequential([
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(meta["n_labels_"]),
        ])

    grid = GridSearchCV(
        tiny(model=build, model__units=4), {"model__units": [4, 12]}, cv=2,
        scoring="f1_micro", error_score="raise",
    ).fit(X, Y)
    assert grid.best_params_["model__units"] in (4, 12)
    assert grid.best_estimator_.model_.layers[0].units == grid.best_params_["model__units"]


@pytest.fixture(scope="module")
def single_label_data():
    from sklearn.datasets import make_classification

    X, y = make_classification(240, 8, n_informative=5, n_classes=3, random_state=0)
    return X, np.array(["cat", "dog", "emu"])[y]


@pytest.mark.parametrize("make", FACTORIES)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_single_label_recipes_run_unchanged(make, single_label_data, n_classes):
    """Binary and multiclass 1-D targets go through the same recipes as
    OneVsRestClassifier: same shapes and classes, scorers included."""
    X, y = single_label_data
    if n_classes == 2:
        y = np.where(y == "cat", "cat", "other")
    pipe = make_pipeline(StandardScaler(), make())
    grid = GridSearchCV(pipe, {"standardscaler__with_mean": [True, False]},
                        scoring="f1_macro", cv=KFold(3, shuffle=True, random_state=0),
                        error_score="raise").fit(X, y)
    clf = grid.best_estimator_
    assert clf.classes_.tolist() == sorted(set(y))
    pred = clf.predict(X)
    assert pred.shape == (len(X),) and set(pred) <= set(y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    decision = clf.decision_function(X)
    assert decision.shape == ((len(X),) if n_classes == 2 else (len(X), n_classes))
    if n_classes == 3:  # the most probable class is predicted
        np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], pred)
    scoring = ["f1_macro", "accuracy", "roc_auc_ovr" if n_classes == 3 else "roc_auc"]
    scores = cross_validate(pipe, X, y, cv=3, scoring=scoring, error_score="raise")
    for name in scoring:
        assert 0.6 < scores[f"test_{name}"].mean() <= 1.0, name
