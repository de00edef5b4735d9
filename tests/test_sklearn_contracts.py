"""scikit-learn's OneVsRest, MultiOutput and ClassifierChain contracts, with
this estimator where scikit-learn's tests build those meta-estimators.

The contracts come from scikit-learn 1.9's ``sklearn/tests/test_multiclass.py``
and ``test_multioutput.py`` (their multi-label and 1-D tests), checked here in
tests of our own. Each runs twice: with the defaults (learned thresholds, a
fold ensemble) and with ``threshold=0.5``. What the originals assert about the
API is kept; what they assert about one base estimator's numbers (a
``MultinomialNB``'s precision, an ``SGDClassifier``'s exact predictions) is
left out, or kept as the plain bar every reasonable classifier meets.

Where an original compares ``predict`` with ``predict_proba > 0.5`` (or
``argmax`` of a binary ``predict_proba``), the default mode compares it with
``predict_proba >= thresholds_``: learned thresholds are not 0.5, by design
(``test_a_learned_cut_is_not_the_half_cut`` shows it). Those assertions are:

- ``test_ovr_fit_predict_sparse``: ``Y_proba > 0.5 == predict``;
- ``test_ovr_binary``: ``classes_[argmax(predict_proba)] == predict``;
- ``test_ovr_multilabel_predict_proba``: ``Y_proba > 0.5 == predict``;
- ``test_classifier_chain_fit_and_predict``: ``Y_prob >= 0.5 == predict``.

Left out, with the reason:

- every assertion on ``estimators_`` (one network serves every label: use the
  columns of ``decision_function`` or ``predict_proba``, or ``model_``);
- ``test_ovr_ties``, ``test_ovr_single_label_predict_proba_zero``,
  ``test_ovr_ovo_regressor``, ``test_ovr_multilabel_predict_proba``'s
  ``SVR``/``SVC`` parts, ``test_hasattr_multi_output_predict_proba``: they
  plant base estimators without ``predict_proba`` (this estimator always has
  it, so the check could not fail);
- ``test_multi_output_classification``,
  ``test_multiclass_multioutput_estimator*``, ``test_multi_output_classes_``:
  multiclass-multioutput targets (several classes per column), which a
  multi-label classifier does not take (it refuses them with a
  ``ValueError``, checked in ``test_ovr_exceptions``);
- ``test_multi_output_exceptions``' 1-D target: a multi-label classifier that
  replaces ``OneVsRestClassifier`` takes 1-D targets;
- ``test_classifier_chain_vs_independent_models``,
  ``test_ovr_multilabel_dataset``'s precision and recall: numbers of specific
  base estimators;
- ``test_support_missing_values``: NaN in X, which the network cannot take
  (a ``ValueError`` says so);
- ``test_classifier_chain_verbose``, ``test_base_chain_*``: chain-specific
  options (``order``, ``cv``, ``verbose``) with no counterpart.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import datasets
from sklearn.base import ClassifierMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklearn_mlk import KerasMultiLabelClassifier

pytestmark = pytest.mark.filterwarnings("ignore:Few training samples:UserWarning")

MODES = {"defaults": {}, "threshold=0.5": {"threshold": 0.5}}
iris = datasets.load_iris()


@pytest.fixture(params=list(MODES))
def make(request):
    """A factory of estimators in one mode: small, seeded networks that learn
    the toy data sets of the originals."""
    def factory(**params):
        base = dict(hidden_layer_sizes=(32,), epochs=150, learning_rate=0.01,
                    dropout=0.0, batch_size=32, random_state=0)
        return KerasMultiLabelClassifier(**{**base, **MODES[request.param], **params})
    factory.mode = request.param
    return factory


def cut(clf):
    """The cut ``predict`` applies to ``predict_proba``: 0.5 where that is the
    threshold, else the learned thresholds."""
    return clf.thresholds_


def multilabel_data(n_labels=3, allow_unlabeled=True):
    return datasets.make_multilabel_classification(
        n_samples=100, n_features=20, n_classes=5, n_labels=n_labels, length=50,
        allow_unlabeled=allow_unlabeled, random_state=0)


def test_a_learned_cut_is_not_the_half_cut(make):
    X, Y = multilabel_data()
    clf = make().fit(X[:80], Y[:80])
    if make.mode == "threshold=0.5":
        assert (clf.thresholds_ == 0.5).all()
    else:
        assert (clf.thresholds_ != 0.5).any()


def test_ovr_exceptions(make):
    with pytest.raises(NotFittedError):
        make().predict([])
    X = np.array([[1, 0], [0, 1]])
    for y in (np.array([[1, 2], [3, 1]]), np.array([[1.5, 2.4], [3.1, 0.8]])):
        with pytest.raises(ValueError):
            make().fit(X, y)


def test_ovr_fit_predict(make):
    pred = make().fit(iris.data, iris.target).predict(iris.data)
    assert np.mean(iris.target == pred) > 0.65


def test_ovr_partial_fit(make):
    rng = np.random.RandomState(0)
    order = rng.permutation(len(iris.target))
    X, y = iris.data[order], iris.target[order]
    clf = make(learning_rate=0.05)
    for _ in range(12):
        clf.partial_fit(X[:100], y[:100], np.unique(y))
        clf.partial_fit(X[100:], y[100:])
    pred = clf.predict(X)
    assert pred.shape == y.shape and set(pred) <= set(y)
    assert np.mean(y == pred) > 0.65
    # Mini-batches need not hold every class.
    X = np.abs(rng.randn(14, 2))
    y = [1, 1, 1, 1, 2, 3, 3, 0, 0, 2, 3, 1, 2, 3]
    clf = make().partial_fit(X[:7], y[:7], np.unique(y)).partial_fit(X[7:], y[7:])
    assert clf.predict(X).shape == (14,)


def test_ovr_partial_fit_exceptions(make):
    X = np.abs(np.random.RandomState(0).randn(14, 2))
    y = [1, 1, 1, 1, 2, 3, 3, 0, 0, 2, 3, 1, 2, 3]
    clf = make().partial_fit(X[:7], y[:7], np.unique(y))
    with pytest.raises(ValueError, match=r"Mini-batch contains \[.+\] while classes "
                                         r"must be subset of \[.+\]"):
        clf.partial_fit(X=X[7:], y=[5] + y[7:-1])


@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csc_matrix, sp.coo_matrix,
                                       sp.dok_matrix, sp.lil_matrix])
def test_ovr_fit_predict_sparse(make, container):
    X, Y = multilabel_data()
    dense = make().fit(X[:80], Y[:80])
    sparse = make().fit(X[:80], container(Y[:80]))
    assert dense.multilabel_
    predicted = sparse.predict(X[80:])
    assert sp.issparse(predicted)
    np.testing.assert_array_equal(predicted.toarray(), dense.predict(X[80:]))
    proba = sparse.predict_proba(X[80:])
    np.testing.assert_array_equal(proba >= cut(sparse), predicted.toarray())
    decided = (sparse.decision_function(X[80:]) > 0).astype(int)
    np.testing.assert_array_equal(decided, predicted.toarray())


def test_ovr_always_present(make):
    X = np.ones((10, 2))
    X[:5] = 0
    y = np.zeros((10, 3))
    y[5:, 0] = 1
    y[:, 1] = 1
    y[:, 2] = 1
    with pytest.warns(UserWarning, match=r"Label .+ is present in all training examples"):
        clf = make().fit(X, y)
    np.testing.assert_array_equal(clf.predict(X), y)
    assert (clf.decision_function(X)[:, -2:] > 0).all()
    np.testing.assert_array_equal(clf.predict_proba(X)[:, -1], np.ones(10))
    y = np.zeros((10, 2))
    y[5:, 0] = 1
    with pytest.warns(UserWarning, match=r"Label not 1 is present in all training "
                                         r"examples"):
        clf = make().fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X)[:, -1], np.zeros(10))


TOY = np.array([[0, 0, 5], [0, 5, 0], [3, 0, 0], [0, 0, 6], [6, 0, 0]])


def test_ovr_multiclass(make):
    y = ["eggs", "spam", "ham", "eggs", "ham"]
    Y = np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 1], [1, 0, 0]])
    clf = make().fit(TOY, y)
    assert set(clf.classes_) == {"ham", "eggs", "spam"}
    np.testing.assert_array_equal(clf.predict(np.array([[0, 0, 4]]))[0], ["eggs"])
    clf = make().fit(TOY, Y)
    np.testing.assert_array_equal(clf.predict([[0, 0, 4]])[0], [0, 0, 1])


def test_ovr_binary(make):
    y = ["eggs", "spam", "spam", "eggs", "spam"]
    clf = make().fit(TOY, y)
    assert set(clf.classes_) == {"eggs", "spam"}
    assert clf.predict(np.array([[0, 0, 4]]))[0] == "eggs"
    assert clf.decision_function(TOY).shape == (5,)
    probabilities = clf.predict_proba(np.array([[0, 0, 4]]))
    assert len(probabilities[0]) == 2
    # The second class where its probability reaches its threshold.
    passed = probabilities[:, 1] >= cut(clf)[0]
    assert clf.classes_[passed.astype(int)] == clf.predict([[0, 0, 4]])
    # A 0/1 column is a binary target, as OneVsRestClassifier takes it.
    clf = make().fit(TOY, np.array([[0, 1, 1, 0, 1]]).T)
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    assert clf.predict([[3, 0, 0]])[0] == 1
    assert not clf.multilabel_ and clf.predict_proba(TOY).shape == (5, 2)


def test_ovr_multilabel(make):
    X = np.array([[0, 4, 5], [0, 5, 0], [3, 3, 3], [4, 0, 6], [6, 0, 0]])
    y = np.array([[0, 1, 1], [0, 1, 0], [1, 1, 1], [1, 0, 1], [1, 0, 0]])
    clf = make().fit(X, y)
    np.testing.assert_array_equal(clf.predict([[0, 4, 4]])[0], [0, 1, 1])
    assert clf.multilabel_


def test_ovr_fit_predict_score(make):
    clf = make().fit(iris.data, iris.target)
    assert clf.n_classes_ == 3
    assert clf.score(iris.data, iris.target) > 0.9


@pytest.mark.parametrize("allow_unlabeled", [True, False])
def test_ovr_multilabel_dataset(make, allow_unlabeled):
    X, Y = multilabel_data(n_labels=2, allow_unlabeled=allow_unlabeled)
    clf = make().fit(X[:80], Y[:80])
    assert clf.multilabel_ and clf.label_binarizer_.y_type_ == "multilabel-indicator"
    assert clf.predict(X[80:]).shape == Y[80:].shape


@pytest.mark.parametrize("allow_unlabeled", [False, True])
def test_ovr_multilabel_predict_proba(make, allow_unlabeled):
    X, Y = multilabel_data(allow_unlabeled=allow_unlabeled)
    clf = make().fit(X[:80], Y[:80])
    np.testing.assert_array_equal(clf.predict_proba(X[80:]) >= cut(clf),
                                  clf.predict(X[80:]))


def test_ovr_single_label_predict_proba(make):
    clf = make().fit(iris.data[:80], iris.target[:80])
    proba = clf.predict_proba(iris.data[80:])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert not (proba.argmax(axis=1) - clf.predict(iris.data[80:])).any()


def test_ovr_multilabel_decision_function(make):
    X, Y = multilabel_data()
    clf = make().fit(X[:80], Y[:80])
    np.testing.assert_array_equal((clf.decision_function(X[80:]) > 0).astype(int),
                                  clf.predict(X[80:]))


def test_ovr_single_label_decision_function(make):
    X, y = datasets.make_classification(n_samples=100, n_features=20, random_state=0)
    clf = make().fit(X[:80], y[:80])
    np.testing.assert_array_equal(clf.decision_function(X[80:]).ravel() > 0,
                                  clf.predict(X[80:]))


def test_ovr_gridsearch(make):
    rates = [0.001, 0.01, 0.05]
    search = GridSearchCV(make(epochs=30), {"learning_rate": rates}, cv=3)
    search.fit(iris.data, iris.target)
    assert search.best_estimator_.learning_rate in rates


def test_ovr_pipeline(make):
    piped = Pipeline([("network", make())]).fit(iris.data, iris.target)
    bare = make().fit(iris.data, iris.target)
    np.testing.assert_array_equal(piped.predict(iris.data), bare.predict(iris.data))


# -- test_multioutput.py -------------------------------------------------------


def multioutput_data():
    X, y = datasets.make_multilabel_classification(n_samples=100, n_features=10,
                                                   n_classes=3, random_state=1)
    return X, y


def test_multi_output_classification_partial_fit(make):
    X, y = multioutput_data()
    classes = [np.unique(y[:, i]) for i in range(y.shape[1])]
    half = X.shape[0] // 2
    clf = make().partial_fit(X[:half], y[:half], classes=classes)
    first = clf.predict(X)
    assert first.shape == y.shape
    clf.partial_fit(X[half:], y[half:])
    assert clf.predict(X).shape == y.shape
    # Each call trained the same network on, one epoch each.
    assert len(clf.history_["loss"]) == 2 and clf.n_iter_ == 2


def test_multi_output_classification_partial_fit_no_first_classes_exception(make):
    X, y = multioutput_data()
    with pytest.raises(ValueError, match="classes must be passed on the first call to "
                                         "partial_fit."):
        make().partial_fit(X, y)


@pytest.mark.parametrize("response_method", ["predict", "predict_proba",
                                             "predict_log_proba", "decision_function"])
def test_multi_output_not_fitted_error(make, response_method):
    X, _ = multioutput_data()
    with pytest.raises(NotFittedError):
        getattr(make(), response_method)(X)


def correlated_labels():
    """Labels that are the bits of a four-class problem's class (as the
    originals' chain data set)."""
    X, y = datasets.make_classification(n_samples=1000, n_features=100, n_classes=16,
                                        n_informative=10, random_state=0)
    Y = np.array([[int(bit) for bit in format(value, "#06b")[2:]] for value in y])
    return X, Y


def test_classifier_chain_fit_and_predict_with_decision_function(make):
    X, Y = correlated_labels()
    clf = make(epochs=20).fit(X, Y)
    predicted = clf.predict(X)
    assert predicted.shape == Y.shape
    np.testing.assert_array_equal(clf.decision_function(X) >= 0, predicted)


def test_classifier_chain_fit_and_predict_with_sparse_data(make):
    X, Y = correlated_labels()
    sparse = make(epochs=5).fit(sp.csr_matrix(X), Y).predict(sp.csr_matrix(X))
    dense = make(epochs=5).fit(X, Y).predict(X)
    np.testing.assert_array_equal(sparse, dense)


@pytest.mark.parametrize("response_method", ["predict_proba", "predict_log_proba"])
def test_classifier_chain_fit_and_predict(make, response_method):
    X, Y = correlated_labels()
    clf = make(epochs=20).fit(X, Y)
    predicted = clf.predict(X)
    assert predicted.shape == Y.shape
    proba = getattr(clf, response_method)(X)
    if response_method == "predict_log_proba":
        proba = np.exp(proba)
    np.testing.assert_array_equal(proba >= cut(clf), predicted)
    assert isinstance(clf, ClassifierMixin)


def test_multioutput_estimator_with_fit_params(make):
    X, y = datasets.make_multilabel_classification(random_state=0)
    clf = make(epochs=5)
    clf.fit(X, y, shuffle=False)  # Keras's Model.fit arguments are routed
    assert clf.predict(X).shape == y.shape


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_fit_params_no_routing(make, method):
    X, y = datasets.make_classification(n_samples=50, random_state=0)
    clf = make(epochs=2)
    kwargs = {"classes": [0, 1]} if method == "partial_fit" else {}
    with pytest.raises(ValueError, match="got unexpected keyword arguments \\['test'\\]"):
        getattr(clf, method)(X, y, test=1, **kwargs)


@pytest.mark.parametrize("target", ["multilabel", "binary", "multiclass"])
def test_predict_log_proba_is_the_log_of_predict_proba(make, target):
    X, y = {"multilabel": multilabel_data()[:2],
            "binary": (iris.data[:100], iris.target[:100]),
            "multiclass": (iris.data, iris.target)}[target]
    clf = make(epochs=5).fit(X, y)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X),
                               rtol=1e-12)


def test_a_clone_is_unfitted_and_keeps_the_mode(make):
    clf = make().fit(iris.data, iris.target)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    with pytest.raises(NotFittedError):
        copy.predict(iris.data)
