"""Grid searches on a Dask cluster (joblib's ``dask`` backend)."""

import warnings

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.dask

from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_mlk import KerasMultiLabelClassifier  # noqa: E402


def _search(n_jobs=None):
    # Learned thresholds (the fold ensemble) with dropout: every seeded draw
    # of a default fit is exercised.
    model = make_pipeline(StandardScaler(), KerasMultiLabelClassifier(
        hidden_layer_sizes=(8,), epochs=3, batch_size=32, threshold_cv=3,
        early_stopping=False, dropout=0.3, random_state=0))
    return GridSearchCV(model, {"kerasmultilabelclassifier__learning_rate": [1e-3, 1e-2]},
                        cv=2, scoring="f1_macro", n_jobs=n_jobs)


def _scores(search):
    results = search.cv_results_
    return np.array([results[f"split{i}_test_score"] for i in range(2)])


@pytest.mark.filterwarnings("ignore:Few training samples:UserWarning")
def test_seeded_search_on_a_local_cluster_equals_n_jobs_1(data):
    """Two worker processes: the same fold scores on two calls, equal to the
    search in this process, and fitted estimators that come back."""
    import joblib
    from distributed import Client, LocalCluster

    X, Y = data
    reference = _scores(_search().fit(X, Y))
    with warnings.catch_warnings():
        # The cluster's own notes (ports, memory) are not the library's.
        warnings.simplefilter("ignore", UserWarning)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster):
            with joblib.parallel_backend("dask"):
                first = _search(n_jobs=-1).fit(X, Y)
                second = _search(n_jobs=-1).fit(X, Y)
    np.testing.assert_array_equal(_scores(first), _scores(second))
    np.testing.assert_array_equal(_scores(first), reference)
    # The refitted best estimator predicts here.
    assert first.predict(X).shape == Y.shape


def test_the_docs_dask_snippet_runs_as_a_script(tmp_path):
    """Pasted into a file and run, as a user would (it once crashed so)."""
    from snippets import run_snippet

    stdout = run_snippet("guide/dask.md", "# Grid searches on a Dask cluster", tmp_path)
    assert "{'kerasmultilabelclassifier__learning_rate':" in stdout
