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
