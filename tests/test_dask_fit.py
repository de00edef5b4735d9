"""Fitting on Dask collections block by block, and lazy predictions."""

import sys
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
pytestmark = pytest.mark.dask

import dask  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

from sklearn_mlk import KerasMultiLabelClassifier  # noqa: E402
from sklearn_mlk._dask import _fit as dask_fit  # noqa: E402


@pytest.fixture(autouse=True)
def _threads():
    with dask.config.set(scheduler="threads"):
        yield


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(384, 8)).astype(np.float32)
    W = rng.normal(size=(8, 3))
    Y = (X @ W + rng.normal(scale=0.5, size=(384, 3)) > 0.3).astype(np.int64)
    return X, Y


def _small(**params):
    return KerasMultiLabelClassifier(hidden_layer_sizes=(16,), batch_size=32,
                                     random_state=0, **params)


def test_one_streamed_epoch_trains_as_in_memory(problem, monkeypatch):
    """The same folds, rows in the same order: a block-by-block epoch makes the
    same batches, so the fold networks and their losses are the same."""
    X, Y = problem
    blocks_of = np.repeat(np.arange(6), 64)  # six blocks of 64 rows
    folds = np.array([0, 1, 2, 0, 1, 2])  # a block's fold
    row_fold = folds[blocks_of]

    def kfold_splits(Y, k, seed):
        return [(np.flatnonzero(row_fold != j), np.flatnonzero(row_fold == j))
                for j in range(k)]

    monkeypatch.setattr("sklearn_mlk._splits.kfold_splits", kfold_splits)
    monkeypatch.setattr(dask_fit, "_folds", lambda rows, k, rng: folds)
    params = dict(epochs=2, threshold_cv=3, early_stopping=True, n_iter_no_change=5,
                  fit__shuffle=False)
    memory = _small(**params).fit(X, Y)
    streamed = _small(**params).fit(da.from_array(X, chunks=(64, 8)),
                                    da.from_array(Y, chunks=(64, 3)))
    for key in ("fold_0_loss", "fold_2_val_loss", "loss", "val_loss"):
        np.testing.assert_allclose(streamed.history_[key], memory.history_[key],
                                   rtol=1e-5)
    np.testing.assert_allclose(streamed.predict_proba(X), memory.predict_proba(X),
                               atol=1e-5)
    # The exact and the binned searches agree on these few hundred scores.
    np.testing.assert_allclose(streamed.threshold_scores_, memory.threshold_scores_,
                               atol=1e-3)


def test_a_shuffled_streamed_fit_learns_as_well_as_in_memory(problem):
    X, Y = problem
    X, Y = np.tile(X, (4, 1)), np.tile(Y, (4, 1))
    X = X + np.random.default_rng(1).normal(scale=0.3, size=X.shape).astype(np.float32)
    memory = _small().fit(X, Y)
    streamed = _small().fit(da.from_array(X, chunks=(200, 8)), da.from_array(Y))
    assert streamed.n_iter_.shape == (5,)  # five fold networks
    assert (np.array(streamed.threshold_status_) == "tuned").all()
    got = f1_score(Y, streamed.predict(X), average="macro")
    want = f1_score(Y, memory.predict(X), average="macro")
    assert abs(got - want) < 0.02


def test_predictions_are_lazy_and_equal_the_in_memory_ones(problem):
    X, Y = problem
    est = _small(epochs=3).fit(X, Y)
    Xd = da.from_array(X, chunks=(100, 8))
    for method in ("predict", "predict_proba", "decision_function"):
        lazy = getattr(est, method)(Xd)
        assert isinstance(lazy, da.Array)
        assert lazy.chunks[0] == Xd.chunks[0]
        np.testing.assert_array_equal(lazy.compute(), getattr(est, method)(X))
    with pytest.raises(ValueError, match="fitted on"):
        est.predict(da.zeros((10, 5), chunks=5))
    with pytest.raises(ValueError, match="min_labels=4 exceeds"):
        est.set_params(min_labels=4).predict(Xd)


def test_a_one_dimensional_target_predicts_lazily_as_a_column(problem):
    X, Y = problem
    est = _small(epochs=2).fit(X, Y[:, 0])
    lazy = est.predict(da.from_array(X, chunks=(100, 8)))
    assert lazy.ndim == 1
    np.testing.assert_array_equal(lazy.compute(), est.predict(X))


def test_workers_predict_without_importing_keras_or_scikit_learn(problem):
    """What the workers get carries the NumPy plan, not the network: a worker
    process imports neither Keras nor scikit-learn (which alone would take
    more memory than the out-of-core benchmark gives a worker)."""
    from distributed import Client, LocalCluster

    X, Y = problem
    est = _small(epochs=2).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            P = est.predict_proba(da.from_array(X, chunks=(100, 8))).compute()
            imported = client.run(lambda: sorted(
                {"keras", "tensorflow", "jax", "torch", "sklearn"} & set(sys.modules)))
    np.testing.assert_array_equal(P, est.predict_proba(X))
    assert list(imported.values()) == [[]]


def test_dataframes_name_the_labels_and_features(problem):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, Y = problem
    Xf = dd.from_pandas(pd.DataFrame(X, columns=[f"x{i}" for i in range(8)]),
                        npartitions=4)
    Yf = dd.from_pandas(pd.DataFrame(Y, columns=["a", "b", "c"]), npartitions=4)
    est = _small(epochs=2).fit(Xf, Yf)
    assert est.classes_.tolist() == ["a", "b", "c"]
    assert est.feature_names_in_.tolist() == [f"x{i}" for i in range(8)]
    assert est.predict_proba(Xf).compute().shape == (384, 3)
    with pytest.raises(ValueError, match="feature names"):
        est.predict(Xf.rename(columns={"x0": "other"}))


def test_unknown_entries_are_left_out_of_the_streamed_fit(problem):
    X, Y = problem
    Yu = Y.astype(float)
    Yu[::3, 0] = np.nan
    est = _small(epochs=2).fit(da.from_array(X, chunks=(64, 8)),
                               da.from_array(Yu, chunks=(64, 3)))
    assert np.isfinite(est.thresholds_).all()
    assert est.predict(X).shape == Y.shape


@pytest.mark.parametrize("params", [
    {"threshold_cv": 0.25},  # a hold-out, then a refit
    {"threshold_cv": 0.25, "refit": False},
    {"threshold": 0.5},
    {"threshold": 0.5, "early_stopping": True},
    {"threshold_cv": 3, "refit": True},  # folds, then a refit
])
def test_every_tuning_scheme_streams(problem, params):
    from sklearn_mlk._training._trainer import members_of

    X, Y = problem
    est = _small(epochs=3, **params).fit(da.from_array(X, chunks=(64, 8)),
                                         da.from_array(Y, chunks=(64, 3)))
    P = est.predict_proba(X)
    assert P.shape == Y.shape and np.isfinite(P).all()
    # One network is kept, not an ensemble of fold networks.
    assert members_of((est.model_, False)) == []
    if "threshold" in params:
        assert (est.thresholds_ == 0.5).all()
    else:
        assert (np.array(est.threshold_status_) == "tuned").all()


def test_tol_ends_a_streamed_fit_as_its_training_loss_settles(problem):
    """A streamed network that does not stop early reads tol as one in
    memory does: it stops once n_iter_no_change epochs lower its lowest
    training loss by at most tol; without tol it trains every epoch."""
    X, Y = problem
    Xd, Yd = da.from_array(X, chunks=(64, 8)), da.from_array(Y, chunks=(64, 3))
    params = dict(threshold=0.5, early_stopping=False, epochs=120, learning_rate=0.05,
                  n_iter_no_change=3)
    losses = np.array(_small(tol=1e-3, **params).fit(Xd, Yd).history_["loss"])
    assert len(losses) < 120
    lowest, last = np.inf, 0
    for epoch, loss in enumerate(losses):
        if loss < lowest - 1e-3:
            lowest, last = loss, epoch
    assert len(losses) == last + 1 + 3
    assert len(_small(**params).fit(Xd, Yd).history_["loss"]) == 120


@pytest.mark.parametrize("change, match", [
    ({"threshold": "samples_f1"}, "samples_f1"),
    ({"refit": "average"}, "refit other than 'average'"),
    ({"model": lambda meta: None}, "model=None"),
    ({"compile__jit_compile": False}, "compile__"),
])
def test_settings_a_streamed_fit_lacks_are_refused_before_any_work(problem, change,
                                                                   match):
    X, Y = problem
    with pytest.raises(ValueError, match=match):
        _small(**change).fit(da.from_array(X, chunks=64), da.from_array(Y, chunks=64))


def test_bad_blocks_are_named_and_a_failed_fit_changes_nothing(problem):
    X, Y = problem
    est = _small(epochs=1).fit(X, Y)
    before = est.predict_proba(X)
    bad = X.copy()
    bad[200, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinity \(block 3: rows 192 to 255\)"):
        est.fit(da.from_array(bad, chunks=(64, 8)), da.from_array(Y, chunks=(64, 3)))
    with pytest.raises(ValueError, match=r"0 and 1.*\[2\.0\]"):
        est.fit(da.from_array(X, chunks=(64, 8)), da.from_array(Y * 2, chunks=(64, 3)))
    with pytest.raises(ValueError, match="2-D target"):
        est.fit(da.from_array(X, chunks=(64, 8)), da.from_array(Y[:, 0], chunks=64))
    np.testing.assert_array_equal(est.predict_proba(X), before)


def test_parallel_post_fit_predicts_multi_label_probabilities(problem):
    """dask-ml's wrapper gives predict_proba its label columns (its predict
    drops axis 1 of every block, so multi-label labels come from the
    estimator's own lazy predict)."""
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X, Y = problem
    post = wrappers.ParallelPostFit(_small(epochs=2)).fit(X, Y)
    P = post.predict_proba(da.from_array(X, chunks=(100, 8)))
    assert P.shape == Y.shape
    np.testing.assert_array_equal(P.compute(), post.predict_proba(X))


def test_thresholds_tune_again_on_dask_blocks_as_on_arrays(problem):
    X, Y = problem
    est = _small(epochs=3).fit(X, Y)
    est.set_params(threshold="micro_f1")
    exact = est.tune_thresholds(X, Y).threshold_scores_.copy()
    streamed = est.tune_thresholds(da.from_array(X, chunks=(50, 8)), Y)
    np.testing.assert_allclose(streamed.threshold_scores_, exact, atol=1e-3)
    with pytest.raises(ValueError, match="y has 2 labels; the estimator was fitted on 3"):
        est.tune_thresholds(da.from_array(X, chunks=50), Y[:, :2])
    with pytest.raises(ValueError, match=r"0 and 1.*\(block 0\)"):
        est.tune_thresholds(da.from_array(X, chunks=50), Y + 1)


def test_the_workers_unknown_entry_is_the_targets_one():
    from sklearn_mlk._dask import _worker
    from sklearn_mlk._targets import UNKNOWN

    assert _worker.UNKNOWN == UNKNOWN


def test_the_docs_out_of_core_recipe_runs_as_a_script(tmp_path):
    """The recipe of the Dask guide, pasted into a file and run."""
    from snippets import run_snippet

    stdout = run_snippet("guide/dask.md", "## Data larger than memory", tmp_path)
    thresholds = np.array(stdout.split("[")[-1].split("]")[0].split(), dtype=float)
    assert thresholds.shape == (4,) and ((0 < thresholds) & (thresholds < 1)).all()
    assert (tmp_path / "labels.zarr").exists() and (tmp_path / "model.mlk").exists()


def test_the_out_of_core_benchmark_reports_every_figure(tmp_path):
    import json
    import pathlib

    bench = pathlib.Path(__file__).parents[1] / "benchmarks"
    sys.path.insert(0, str(bench))
    try:
        import out_of_core
    finally:
        sys.path.remove(str(bench))
    # The data: the same block from the same seed, labels from 2% to 40%.
    first = out_of_core.features(block_id=(3,), rows=5)
    np.testing.assert_array_equal(first, out_of_core.features(block_id=(3,), rows=5))
    X, Y = out_of_core.dask_data(40_000, 10_000)
    assert X.shape == (40_000, 100) and Y.shape == (40_000, 20)
    frequencies = Y.mean(axis=0).compute()
    assert 0.01 < frequencies.min() < 0.05 and 0.3 < frequencies.max() < 0.5
    out_of_core.main(["--rows", "40000", "--memory-limit", "400", "--epochs", "1",
                      "--slice", "20000", "--seeds", "1", "--skip", "thresholds",
                      "--out", str(tmp_path)])
    results = json.loads((tmp_path / "out_of_core.json").read_text())["results"]
    stream = results["stream"]
    assert not stream["worker_restarted"]
    assert len(stream["worker_peak_mb"]) == 2
    assert max(stream["worker_peak_mb"]) < stream["memory_limit_mb"]
    assert len(stream["train_pass_s"]) == 1 and stream["predict_rows_per_s"] > 0
    assert len(results["quality"]["memory"]) == len(results["quality"]["streamed"]) == 1
    text = (tmp_path / "out_of_core.md").read_text()
    assert "worker peak memory" in text and "streamed minus in memory" in text


def test_auto_dropout_counts_every_streamed_row(problem, monkeypatch):
    """dropout="auto" resolves on the rows of all blocks together, as an
    in-memory fit of the same rows does."""
    import keras

    from sklearn_mlk._training import _fit

    X, Y = problem
    monkeypatch.setattr(_fit, "LARGE_DROPOUT_ROWS", 300)  # 384 rows, 6 blocks of 64
    streamed = _small(epochs=1, threshold_cv=3).fit(da.from_array(X, chunks=(64, 8)),
                                                    da.from_array(Y, chunks=(64, 3)))
    rates = [layer.rate for member in streamed.model_.layers
             if isinstance(member, keras.Model)
             for layer in member.layers if isinstance(layer, keras.layers.Dropout)]
    assert rates == [_fit.LARGE_DROPOUT] * 3


def test_a_list_of_alpha_chooses_on_the_streamed_out_of_fold_scores(problem):
    """Each value streams a fit of its own, from one seed, and the one whose
    thresholds score best on its streamed out-of-fold scores is kept, as the
    fit of that value alone."""
    X, Y = problem
    Xd, Yd = da.from_array(X, chunks=(64, 8)), da.from_array(Y, chunks=(64, 3))
    params = dict(epochs=2, threshold_cv=3)
    chosen = _small(alpha=[0.0, 300.0], **params).fit(Xd, Yd)
    alone = [_small(alpha=a, **params).fit(Xd, Yd) for a in (0.0, 300.0)]
    scores = [np.nanmean(a.threshold_scores_) for a in alone]
    assert scores[0] != scores[1]
    np.testing.assert_array_equal(chosen.alpha_scores_, scores)
    best = alone[int(np.argmax(scores))]
    assert chosen.alpha_ == (0.0, 300.0)[int(np.argmax(scores))]
    np.testing.assert_array_equal(chosen.thresholds_, best.thresholds_)
    np.testing.assert_array_equal(chosen.predict_proba(X), best.predict_proba(X))
