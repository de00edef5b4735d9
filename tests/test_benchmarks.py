"""The benchmark's quick mode runs and writes its report."""

import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import datasets  # noqa: E402

pytestmark = pytest.mark.benchmarks


needs_data = pytest.mark.skipif(
    not all((datasets.data_dir() / f"{name}.npz").exists() for name in datasets.SETS),
    reason="shared benchmark data sets not found",
)


@needs_data
def test_quick_benchmark_writes_report(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "quality_quick.json").read_text())
    emotions = report["results"]["emotions"]
    boomer = emotions.pop("BOOMER (mlrl-boomer defaults)")  # own environment
    assert "error" not in boomer or boomer["error"].startswith("not run")
    assert set(emotions) == {
        "MLPClassifier", "MLPClassifier(256, early stopping)", "OvR(LogReg)",
        "MultiOutput(TunedThresholdCV(LogReg))", "ClassifierChain(LogReg)", "RandomForestClassifier", "ExtraTreesClassifier",
        "OvR(HistGradientBoosting)", "scikeras (0.5)", "mlk (0.5)",
        "mlk macro-F1 thresholds", "mlk micro-F1 thresholds",
    }
    for name, figures in emotions.items():
        assert "error" not in figures, (name, figures)
        assert 0.3 < figures["micro_f1"] <= 1.0
        assert figures["fit_seconds"] > 0
    markdown = (tmp_path / "quality_quick.md").read_text()
    assert "| mlk (0.5) |" in markdown and "fit_ratio" in markdown
    assert "| mlk macro-F1 thresholds |" in markdown and "subset accuracy" in markdown


def test_readme_block_is_replaced(tmp_path):
    import report

    start, end = "<!-- table:start -->", "<!-- table:end -->"
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{start}\nold\n{end}\noutro\n")
    report.update_readme("table", "new table", readme)
    assert readme.read_text() == f"intro\n{start}\nnew table\n{end}\noutro\n"
    readme.write_text("no block")
    with pytest.raises(ValueError, match="no .* block"):
        report.update_readme("table", "x", readme)


@needs_data
def test_emotions_protocol_is_five_fold():
    X, Y, splits = datasets.load("emotions")
    assert len(splits) == 5
    test_rows = np.concatenate([test for _, test in splits])
    assert sorted(test_rows) == list(range(len(X)))



@needs_data
def test_speed_benchmark_reports_every_figure(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "speed.py"), "--quick",
         "--models", "MLPClassifier", "mlk (0.5)", "--fits", "2", "--calls", "20",
         "--skip", "grid", "sparse", "builders", "backends", "load", "--out",
         str(tmp_path)],
        capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "speed_quick.json").read_text())
    assert report["meta"]["fits"] == 2
    for name in ("MLPClassifier", "mlk (0.5)"):
        figures = report["results"]["models"][name]
        assert "error" not in figures, figures
        assert 0 < figures["latency_median_ms"] <= figures["latency_p90_ms"]
        assert figures["rows_per_second"] > 0 and figures["peak_rss_mb"] > 50
        assert figures["fit_seconds"] > 0 and figures["warm_fit_seconds"] > 0
        # The prediction figures are the best of two fresh processes.
        processes = figures["prediction_processes"]
        assert len(processes) == 2
        assert figures["latency_median_ms"] == min(p["latency_median_ms"] for p in processes)
        assert figures["rows_per_second"] == max(p["rows_per_second"] for p in processes)
    imports = report["results"]["import"]
    assert set(imports) == {"sklearn.base", "sklearn_mlk", "keras"}
    assert all(seconds > 0 for seconds in imports.values())
    assert not {"grid", "sparse", "builders", "backends"} & set(report["results"])
    text = (tmp_path / "speed_quick.md").read_text()
    assert "| mlk (0.5) |" in text and "| `import sklearn_mlk` |" in text


@needs_data
def test_grid_search_section_times_both_settings(monkeypatch):
    import speed

    monkeypatch.setattr(speed, "EPOCHS", 2)
    monkeypatch.setattr(speed, "GRID_FOLDS", 2)
    monkeypatch.setattr(speed, "LEARNING_RATES", [1e-3, 1e-2])
    figures = {f"n_jobs={n}": speed.grid_search("mlk (0.5)", n) for n in (1, 2)}
    for r in figures.values():
        assert r["first_seconds"] > 0 and r["repeat_seconds"] > 0
    text = speed.sections_markdown({"grid": {"mlk (0.5)": figures}})
    speedup = figures["n_jobs=1"]["repeat_seconds"] / figures["n_jobs=2"]["repeat_seconds"]
    assert f"| {speedup:.2f}x |" in text


def test_sparse_section_fits_from_disk(tmp_path, monkeypatch):
    import speed

    monkeypatch.setattr(speed, "sparse_shape", lambda quick: (3_000, 20_000))
    speed.write_sparse_set(tmp_path, quick=True)
    r = speed.sparse_fit("mlk (0.5)", tmp_path)
    assert r["shape"] == [3_000, 20_000] and 0 < r["nnz"] <= 30_000
    assert r["fit_seconds"] > 0 and r["peak_rss_mb"] >= r["rss_before_fit_mb"] > 0
    text = speed.sections_markdown({"sparse": {"mlk (0.5)": r}})
    assert "3,000 x 20,000 CSR" in text and "| mlk (0.5) |" in text


def test_generated_sparse_set_is_tfidf_shaped():
    import scaling

    X, Y = scaling.sparse_set(300, 5_000, 12, nnz_per_row=40)
    assert X.shape == (300, 5_000) and X.format == "csr" and X.dtype == np.float32
    assert X.nnz <= 300 * 40 and X.min() >= 0
    np.testing.assert_allclose(np.sqrt(X.multiply(X).sum(axis=1)).A.ravel(), 1, rtol=1e-5)
    assert Y.shape == (300, 12) and 0.05 < Y.mean() < 0.15


def test_scaling_and_plots_write_their_files(tmp_path, monkeypatch):
    import plots
    import scaling

    monkeypatch.setattr(scaling, "sweeps", lambda quick, max_samples: {
        "samples": [("dense", n, 10, 3) for n in (100, 200)],
        "features": [("sparse", 100, d, 3) for d in (50, 100)],
    })
    scaling.main(["--quick", "--models", "OvR(LogReg)", "mlk (0.5)",
                  "--out", str(tmp_path)])
    report = json.loads((tmp_path / "scaling_quick.json").read_text())
    rows = report["results"]["samples"]
    assert [r["n_samples"] for r in rows] == [100, 200]
    assert all(r["fit_seconds"]["mlk (0.5)"] > 0 for r in rows)
    written = plots.main(["--results", str(tmp_path), "--suffix", "_quick"])
    assert [p.name for p in written] == ["scaling_quick.png"]
    assert written[0].stat().st_size > 10_000


def test_boomer_figures_are_merged_or_reported_as_not_run(tmp_path):
    import run

    figures = {"macro_f1": 0.5, "micro_f1": 0.6, "samples_f1": 0.6, "hamming_loss": 0.2,
               "subset_accuracy": 0.1, "fit_seconds": 2.0}
    results = {"yeast": {"OvR(LogReg)": dict(figures, fit_seconds=0.5)}}
    run.add_boomer(results, tmp_path)
    missing = results["yeast"]["BOOMER (mlrl-boomer defaults)"]
    assert missing["error"].startswith("not run")
    meta = {"command": "python benchmarks/run.py", "machine": "m", "date": "d"}
    assert "| BOOMER (mlrl-boomer defaults) | not run:" in run.summary(results, meta)

    (tmp_path / "boomer.json").write_text(json.dumps(
        {"results": {"yeast": dict(figures, reference_fit_seconds=0.25)}}))
    run.add_boomer(results, tmp_path)
    table = run.summary(results, meta)
    # BOOMER's fit ratio is to OvR measured in its own run: 2.0 / 0.25.
    assert "| BOOMER (mlrl-boomer defaults) | **0.500** |" in table and "| 8.0x |" in table


def test_builders_section_times_both_model_callables():
    import speed

    figures = speed.builder_fits(1)
    assert set(figures) == {"Sequential", "functional"}
    for r in figures.values():
        assert len(r["seconds"]) == 1 and r["median_seconds"] == r["seconds"][0] > 0
    text = speed.sections_markdown({"builders": figures})
    assert "| `keras.Sequential` |" in text and "| a functional `keras.Model` |" in text


@needs_data
def test_backends_section_times_this_backend_and_reports_ratios():
    import keras
    import speed

    figures = speed.backend_fits(1)
    assert figures["backend"] == keras.backend.backend()
    assert figures["first_seconds"] > 0 and figures["warm_fit_seconds"] > 0
    runs = {"tensorflow": [{"first_seconds": 3.0, "warm_fit_seconds": 0.5},
                           {"first_seconds": 3.2, "warm_fit_seconds": 0.7}],
            "jax": [{"first_seconds": 5.0, "warm_fit_seconds": 0.4},
                    {"first_seconds": 5.5, "warm_fit_seconds": 0.5}],
            "torch": [{"error": "ImportError: no torch"}]}
    text = speed.sections_markdown({"backends": runs})
    assert "| jax | 5.25 | 0.450 | 0.400 to 0.500 | 0.75x |" in text
    assert "| tensorflow | 3.10 | 0.600 | 0.500 to 0.700 | 1.00x |" in text
    assert "| torch | crashed: ImportError: no torch |" in text


def test_load_section_reports_ratios_to_the_quiet_fits():
    import speed

    runs = {"tensorflow": [{"first_seconds": 3.0, "warm_fit_seconds": 0.5}],
            "torch": [{"first_seconds": 3.0, "warm_fit_seconds": 0.8},
                      {"first_seconds": 3.0, "warm_fit_seconds": 1.2}]}
    load = {"tensorflow": [{"first_seconds": 4.0, "warm_fit_seconds": 1.0}],
            "torch": [{"first_seconds": 4.0, "warm_fit_seconds": 2.0},
                      {"first_seconds": 4.0, "warm_fit_seconds": 3.0},
                      {"error": "over 600 s"}],
            "torch, OMP_NUM_THREADS=2": [{"error": "over 600 s"}]}
    text = speed.sections_markdown({"backends": runs, "load": load})
    assert "| tensorflow | 1.00 | 1.00 to 1.00 | 2.0x |" in text
    # The median of the fits that finished, against the quiet median, 1.0 s.
    assert "| torch | 2.50 | 2.00 to 3.00 (1 failed) | 2.5x |" in text
    assert "| torch, OMP_NUM_THREADS=2 | over 600 s | | |" in text


def test_dask_grid_figures_are_reported_against_n_jobs_1():
    import speed

    grid = {"mlk (0.5)": {
        "n_jobs=1": {"first_seconds": 10.0, "repeat_seconds": 8.0},
        "n_jobs=2": {"first_seconds": 7.0, "repeat_seconds": 5.0},
        "dask": {"first_seconds": 9.0, "repeat_seconds": 6.0}}}
    text = speed.sections_markdown({"grid": grid})
    assert "| mlk (0.5) | 9.0 | 6.0 | 0.75x |" in text


def test_features_touched_counts_distinct_columns_of_a_batch():
    import scipy.sparse as sp

    # Row i holds column i only: a batch of k rows touches k columns.
    X = sp.identity(200, format="csr")
    assert datasets.features_touched(X, batch_size=64, batches=5) == 64.0
    # Every row holds columns 0 and 1: any batch touches those two.
    Y = sp.csr_matrix(np.tile([1.0, 2.0, 0.0, 0.0], (100, 1)))
    assert datasets.features_touched(Y, batch_size=10, batches=5) == 2.0
    assert datasets.features_touched(np.ones((5, 7))) == 7.0  # dense: all of them


def test_torch_threads_report_gives_ratios_and_the_librarys_choice():
    import torch_threads

    results = [{"rows": 2000, "features": 100, "hidden": [256], "labels": 14,
                "weights": 29_454, "cores": 2, "library_threads": 1,
                "one_thread": [0.5, 0.4, 0.6], "all_cores": [1.0, 0.9, 1.1]}]
    meta = {"command": "python benchmarks/torch_threads.py", "machine": "m",
            "date": "d"}
    text = torch_threads.markdown(results, meta)
    assert ("| 2000 x 100 | (256,) | 29,454 | 0.50 | 0.40 to 0.60 | 1.00 "
            "| 0.90 to 1.10 | 0.50x | 1 |") in text
    assert torch_threads._weights(100, (256,), 14) == 100 * 256 + 256 + 256 * 14 + 14


@pytest.mark.backend("tensorflow")
def test_sparse_batches_benchmark_times_both_paths(tmp_path, monkeypatch):
    import sparse_batches

    from sklearn_mlk._training import _loop

    chosen = _loop.SPARSE_BATCH_DENSITY
    monkeypatch.setattr(_loop, "SPARSE_READER_WEIGHTS", 200 * 256)
    monkeypatch.setattr(sparse_batches, "CASES", [(200, (chosen * 4, chosen / 2))])
    monkeypatch.setattr(sparse_batches, "ROWS", 300)
    monkeypatch.setattr(sparse_batches, "REAL", ())
    multiplied = []
    original = _loop.Loop._batches_of

    def spy(self, X):
        X = original(self, X)
        multiplied.append(self.sparse_batches)
        return X

    monkeypatch.setattr(_loop.Loop, "_batches_of", spy)
    sparse_batches.main(["--rounds", "1", "--out", str(tmp_path)])
    assert _loop.SPARSE_BATCH_DENSITY == chosen  # restored
    assert _loop.SPARSE_READER_WEIGHTS == 200 * 256
    # Each case: one untimed and one timed fit per path, each path forced.
    assert multiplied == [True, False] * 4
    report = json.loads((tmp_path / "sparse_batches.json").read_text())
    rows = report["results"]
    # The library's own path, though each fit forced one.
    assert [r["library_path"] for r in rows] == ["densified", "sparse"]
    assert all(len(r["sparse"]) == len(r["densified"]) == 1 for r in rows)
    text = (tmp_path / "sparse_batches.md").read_text()
    assert f"below a density of {chosen} where the first layer has at least 51,200" in text
    assert text.count("| 200 features") == 2


def test_memory_benchmark_measures_a_case_against_the_estimate(tmp_path, monkeypatch):
    import memory

    from sklearn_mlk import _memory

    monkeypatch.setattr(memory, "CASES", [("tiny, 0.5", 300, 50, False, 0.5)])
    memory.main(["--out", str(tmp_path)])
    (row,) = json.loads((tmp_path / "memory.json").read_text())["results"]
    weights = 50 * 256 + 256 + 256 * 20 + 20  # the default MLP, 20 labels
    assert (row["n_weights"], row["n_networks"]) == (weights, 1)
    assert row["estimate"] == _memory.estimate(weights, 1)
    assert row["growth"] == row["peak"] - row["before"] and row["growth"] > 0
    text = (tmp_path / "memory.md").read_text()
    assert f"| tiny, 0.5 | 1 x {weights:,} |" in text


def test_gallery_examples_report_both_estimators_scores():
    import sklearn_examples
    from sklearn.linear_model import LogisticRegression

    scores = sklearn_examples.plot_roc(LogisticRegression)
    assert 0.5 < scores["micro ROC AUC"] < 1.0
    results = [{"example": "plot_roc", "original": "LogisticRegression()",
                "original_scores": {"micro ROC AUC": 0.77}, "original_seconds": 0.1,
                "ours_scores": {"micro ROC AUC": 0.91, "other": 0.5},
                "ours_seconds": 2.0}]
    text = sklearn_examples.markdown(results, {"command": "c", "machine": "m", "date": "d"})
    assert "| plot_roc | micro ROC AUC | LogisticRegression() | 0.770 | 0.910 | 0.1 | 2.0 |" \
        in text
    assert "|  | other |  |  | 0.500 |  |  |" in text


def test_missing_or_different_data_get_a_message_that_says_what_to_do(tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv("SKLEARN_MLK_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="MULAN and MEKA collections.*SHA-256"):
        datasets.load("emotions")
    (tmp_path / "emotions.npz").write_bytes(b"not the bundle")
    with pytest.raises(ValueError, match="not the 9768f349.* of the emotions bundle"):
        datasets.load("emotions")


def test_single_label_benchmark_scores_every_model_on_every_set(tmp_path):
    import single_label

    results = single_label.main(["--quick", "--out", str(tmp_path)])
    assert set(results) == {"iris", "wine"}
    for models in results.values():
        assert set(models) == set(single_label.MODELS)
        assert all(0.8 < s <= 1.0 for scores in models.values() for s in scores)
    saved = json.loads((tmp_path / "single_label_quick.json").read_text())
    assert saved["results"]["results"] == results
    for rows in saved["results"]["leave_one_out"].values():
        assert set(rows) == {"iris", "wine"}
    text = (tmp_path / "single_label_quick.md").read_text()
    assert "| iris |" in text and text.count("**") >= 4  # one best per row


def test_single_label_benchmark_runs_only_the_sets_named(tmp_path, monkeypatch):
    import single_label

    monkeypatch.setattr(single_label, "MODELS", {
        "LogisticRegression": single_label.MODELS["LogisticRegression"]})
    results = single_label.main(["--sets", "wine", "--seeds", "2", "--out", str(tmp_path)])
    assert list(results) == ["wine"] and len(results["wine"]["LogisticRegression"]) == 2
    saved = json.loads((tmp_path / "single_label_sets.json").read_text())
    assert saved["results"]["leave_one_out"] == {}  # no other set to choose on
    assert "| wine |" in (tmp_path / "single_label_sets.md").read_text()


def test_single_label_leave_one_out_chooses_on_the_other_sets():
    import single_label

    def scores(default, alpha_0, peer):
        row = {name: [0.5] for name in single_label.MODELS}
        row["sklearn-mlk (default)"], row["sklearn-mlk (alpha=0)"] = [default], [alpha_0]
        row["MLPClassifier"] = [peer]
        return row

    # alpha 0 wins on a and b and loses on c: it is chosen for c (out of
    # sample, where it loses); for a and b, the default's mean rank on the
    # other two sets is the better.
    results = {"a": scores(0.6, 0.7, 0.65), "b": scores(0.6, 0.8, 0.1),
               "c": scores(0.9, 0.2, 0.95)}
    rows = single_label.leave_one_out(results)
    assert rows["c"] == {"chosen": "alpha 0", "chosen_score": 0.2, "default_score": 0.9,
                         "best_peer": "MLPClassifier", "best_peer_score": 0.95}
    assert rows["a"]["chosen"] == rows["b"]["chosen"] == "default"
    assert rows["a"]["best_peer_score"] == 0.65
    only_two = single_label.leave_one_out(results, {"default": "sklearn-mlk (default)",
                                                    "alpha 3": "sklearn-mlk (alpha=3)"})
    assert {row["chosen"] for row in only_two.values()} == {"default"}


def test_binary_targets_benchmark_scores_every_objective_and_metric(tmp_path):
    import binary_targets

    results = binary_targets.main(["--quick", "--out", str(tmp_path)])
    assert list(results) == ["breast_cancer"]
    models = results["breast_cancer"]
    assert set(models) == set(binary_targets.MODELS)
    for runs in models.values():
        assert all(set(run) == set(binary_targets.METRICS) for run in runs)
        assert all(0.9 < run["balanced accuracy"] <= 1.0 for run in runs)
    saved = json.loads((tmp_path / "binary_targets_quick.json").read_text())
    assert saved["results"]["results"] == results
    text = (tmp_path / "binary_targets_quick.md").read_text()
    assert text.count("| breast_cancer |") == len(binary_targets.METRICS)


def test_seeded_arguments_give_the_default_seeds_one_when_quick_and_any_asked_for():
    import report

    def sets(parser):
        parser.add_argument("--sets", nargs="+")

    assert report.seeded_arguments("d", [], 3, "q")[1] == 3
    assert report.seeded_arguments("d", ["--quick"], 3, "q")[1] == 1
    assert report.seeded_arguments("d", ["--quick", "--seeds", "2"], 3, "q")[1] == 2
    args, seeds = report.seeded_arguments("d", ["--sets", "a", "b", "--out", "o"], 3, "q",
                                          extra=sets)
    assert (args.sets, args.out, args.quick, seeds) == (["a", "b"], "o", False, 3)
    assert report.generated_set_arguments("d", [])[1] == 2


def test_tol_benchmark_scores_and_times_both_models(tmp_path):
    import tol

    results = tol.main(["--quick", "--out", str(tmp_path)])
    assert list(results) == ["iris"]
    assert set(results["iris"]) == set(tol.MODELS)
    for run in results["iris"].values():
        assert len(run["scores"]) == len(run["seconds"]) == 1
        assert 0.8 < run["scores"][0] <= 1.0 and run["seconds"][0] > 0
    saved = json.loads((tmp_path / "tol_quick.json").read_text())
    assert saved["results"] == results
    (row,) = [line for line in (tmp_path / "tol_quick.md").read_text().splitlines()
              if line.startswith("| iris |")]
    default, settled = (results["iris"][m]["seconds"][0] for m in tol.MODELS)
    assert row.endswith(f"| {default:.1f} | {settled:.1f} | {settled / default:.2f}x |")


@needs_data
def test_small_data_benchmark_runs_the_variants_named_and_times_each_fit(tmp_path,
                                                                        monkeypatch):
    import small_data

    monkeypatch.setattr(small_data, "SETS", ("emotions",))
    names = ["the default", "the default, tol=1e-4"]
    small_data.main(["--sizes", "20", "--draws", "1", "--variants", *names,
                     "--out", str(tmp_path), "--name", "small"])
    saved = json.loads((tmp_path / "small.json").read_text())["results"]
    row = saved["emotions"]["20"]
    assert list(row) == names
    for figures in row.values():
        assert 0.0 < figures["mean"] <= 1.0 and figures["std"] == 0.0
        assert figures["fit_seconds"] > 0
    text = (tmp_path / "small.md").read_text()
    assert "| rows | the default | s | the default, tol=1e-4 | s |" in text
    cells = [f"{row[n]['mean']:.3f} (0.000) | {row[n]['fit_seconds']:.1f}" for n in names]
    assert f"| 20 | {cells[0]} | {cells[1]} |" in text
    meta = json.loads((tmp_path / "small.json").read_text())["meta"]
    block = small_data.block({"emotions": {20: row}}, meta)
    assert f"| emotions | 20 | {cells[0]} | {cells[1]} |" in block
    assert "## " not in block  # one table, no headings inside a page


def test_tol_report_names_each_cases_score_and_the_median_seconds():
    import tol

    def runs(scores, seconds):
        return {"scores": scores, "seconds": seconds}

    default, settled = tol.MODELS
    results = {"wine": {default: runs([0.9, 1.0], [4.0, 8.0]),
                        settled: runs([0.95, 0.95], [1.0, 3.0])},
               "plot_roc": {default: runs([0.7], [10.0]), settled: runs([0.6], [5.0])}}
    text = tol.markdown(results, {"command": "c", "machine": "m", "date": "d"})
    assert ("| wine | balanced accuracy | 0.9500 | 0.9000 to 1.0000 | 0.9500 | "
            "0.9500 to 0.9500 | 6.0 | 2.0 | 0.33x |") in text
    assert "| plot_roc | micro ROC AUC | 0.7000 |" in text and "| 0.50x |" in text


def test_the_two_classes_f1_is_scikit_learns_macro_f1_at_every_cut():
    import binary_targets
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 40)
    y[:2] = [0, 1]
    scores = rng.random(40)
    for cut in np.unique(scores):
        predicted = (scores >= cut).astype(int)
        tp = np.sum((predicted == 1) & (y == 1))
        fp = np.sum((predicted == 1) & (y == 0))
        fn = np.sum((predicted == 0) & (y == 1))
        tn = np.sum((predicted == 0) & (y == 0))
        assert binary_targets.two_classes_f1(tp, fp, fn, tn) == pytest.approx(
            f1_score(y, predicted, average="macro"))
    # Every row one class: scikit-learn's 0 for the absent class's F1.
    assert binary_targets.two_classes_f1(5, 0, 0, 0) == 0.5


def test_binary_targets_leave_one_set_out_chooses_on_the_other_sets():
    """A set's tasks are left out together; the score of an objective on a
    set is its tasks' mean, and ties go to "f1"."""
    import binary_targets

    def run(**by_model):
        models = {m: [{"balanced accuracy": 0.5}] for m in binary_targets.MODELS}
        for model, score in by_model.items():
            models[model] = [{"balanced accuracy": score}]
        return models

    ba, f1 = "sklearn-mlk (balanced_accuracy)", "sklearn-mlk (f1)"
    results = {"a1": run(**{ba: 0.8, f1: 0.6}), "a2": run(**{ba: 0.6, f1: 0.7}),
               "b": run(**{ba: 0.9, f1: 0.6, "MLPClassifier": 0.95}),
               "c": run(**{ba: 0.4, f1: 0.6})}
    sets = {"a": ["a1", "a2"], "b": ["b"], "c": ["c"]}
    rows = binary_targets.leave_one_set_out(results, sets, "balanced accuracy")
    assert rows["a"]["scores"]["balanced_accuracy"] == pytest.approx(0.7)
    assert rows["a"]["scores"]["f1"] == pytest.approx(0.65)
    # Left out a: f1 ranks first on c and second on b, balanced accuracy
    # first and last, the two classes' F1 (0.5 everywhere) below f1 on both.
    assert rows["a"]["chosen"] == "f1"
    # On a (0.7 over 0.65) and b, balanced accuracy ranks first: chosen for
    # c, where it scores below f1.
    assert rows["c"]["chosen"] == "balanced_accuracy"
    assert rows["c"]["chosen_score"] == pytest.approx(0.4)
    assert rows["b"]["best_peer"] == "MLPClassifier"
    assert rows["b"]["best_peer_score"] == pytest.approx(0.95)


def test_the_noisy_iris_set_is_scikit_learns_roc_example():
    import single_label

    X, y = single_label.SETS["iris + 800 noise features"]()
    assert X.shape == (150, 804) and len(y) == 150
    np.testing.assert_array_equal(X[:, :4], single_label.load_iris().data)


def test_leave_one_set_out_never_sees_the_held_out_set():
    """A variant that wins only on the held-out set is not chosen for it; one
    that wins on every other set is, and ties go to the default."""
    import loso

    study = {"a": {"default": 0.50, "tuned": 0.60, "lucky": 0.40},
             "b": {"default": 0.50, "tuned": 0.60, "lucky": 0.40},
             "c": {"default": 0.50, "tuned": 0.40, "lucky": 0.90}}
    assert loso.choose(study, "c")[0] == "tuned"   # best on a and b; c unseen
    assert loso.choose(study, "a")[0] == "default"  # all three tie on b and c
    rows = loso.leave_one_out(study, {"c": {"peer": {"macro_f1": 0.7},
                                            "mlk x": {"macro_f1": 0.99}}})
    assert rows["c"]["chosen_macro_f1"] == 0.40 and rows["c"]["best_variant"] == "lucky"
    assert rows["c"]["best_peer"] == "peer"  # the library's own rows are not peers
    assert "best_peer" not in rows["a"]


def test_leave_one_set_out_within_a_budget_weighs_only_the_other_sets_times():
    """Under a fit-time budget, a variant competes where its time over the
    default's, averaged over the sets other than the held-out one, is within
    it: a variant slow only on the held-out set still competes there."""
    import loso

    study = {s: {"default": 0.50, "slow": 0.60, "cheap": 0.55} for s in "abc"}
    ratios = {"a": {"default": 1.0, "slow": 3.0, "cheap": 0.5},
              "b": {"default": 1.0, "slow": 3.0, "cheap": 0.5},
              "c": {"default": 1.0, "slow": 0.9, "cheap": 1.4}}
    assert loso.choose(study, "a")[0] == "slow"  # no budget: the best rank
    assert loso.choose(study, "a", ratios, budget=1.0)[0] == "cheap"  # slow: 1.95x
    assert loso.choose(study, "c", ratios, budget=1.0)[0] == "cheap"  # slow 3x on a, b
    # cheap's mean over b and c is 0.95x, slow's 1.95x.
    rows = loso.leave_one_out(study, None, ratios, budget=1.0)
    assert rows["a"]["chosen"] == "cheap" and rows["a"]["chosen_fit_ratio"] == 0.5
    study["a"]["cheap"] = 0.40  # the default wins ties and ranks
    assert loso.choose(study, "b", ratios, budget=1.0)[0] == "default"


def test_the_choice_for_cost_alone_takes_the_cheapest_variant_that_loses_nowhere():
    """For cost alone, a variant competes where it scores at least the default
    on every other set; the cheapest of those is chosen, a loss on the
    held-out set alone does not keep it out, and the default stays where no
    variant qualifies or none is cheaper."""
    import loso

    study = {"a": {"default": 0.50, "same": 0.50, "cheaper": 0.50, "dear": 0.60},
             "b": {"default": 0.50, "same": 0.50, "cheaper": 0.49, "dear": 0.60},
             "c": {"default": 0.50, "same": 0.50, "cheaper": 0.50, "dear": 0.60}}
    ratios = {s: {"default": 1.0, "same": 0.8, "cheaper": 0.5, "dear": 1.5}
              for s in "abc"}
    assert loso.cheapest_without_loss(study, "a", ratios)[0] == "same"  # cheaper: b
    chosen, costs = loso.cheapest_without_loss(study, "b", ratios)
    assert chosen == "cheaper" and set(costs) == {"default", "same", "cheaper", "dear"}
    rows = loso.leave_one_out(study, None, ratios, cheapest=True)
    assert rows["b"]["chosen_macro_f1"] == 0.49 and rows["b"]["chosen_fit_ratio"] == 0.5
    assert rows["b"]["mean_fit_ratio_on_others"]["cheaper"] == 0.5
    assert "mean_rank_on_others" not in rows["b"]
    for ratio in ratios.values():  # nothing below the default's time
        ratio.update(same=1.0, cheaper=1.2)
    assert loso.cheapest_without_loss(study, "b", ratios)[0] == "default"


@needs_data
@pytest.mark.parametrize("name", datasets.SETS)
def test_every_shared_set_trains_networks_that_stop_early(name):
    """So epochs="auto" is 50 epochs there, as before it existed: the quality
    tables of the seven sets hold for the default as it is."""
    from sklearn_mlk import _tuning

    _, _, splits = datasets.load(name)
    for train, _ in splits:
        assert _tuning.scheme("auto", "auto", "auto", len(train)).early_stopping


def test_the_cost_report_gives_ratios_of_medians_and_per_round_ranges():
    """benchmarks/cost.py's report: each ratio is the default's (or the
    hold-out's, or the averaged network's) median over MLPClassifier's, and
    the per-round range comes from paired rounds."""
    import cost

    warm = {name: {"shape": [100, 5], "labels": 3,
                   "seconds": {cost.DEFAULT: [2.0, 4.0, 3.0], cost.MLP: [1.0, 1.0, 2.0],
                               cost.HOLDOUT: [0.5, 0.75, 1.0],
                               cost.AVERAGE: [2.5, 3.5, 5.0]}}
            for name in cost.SETS}
    figures = {"latency_median_ms": 0.2, "latency_p90_ms": 0.4, "rows_per_second": 1000.0}
    results = {
        "warm_fits": warm,
        "prediction": {cost.DEFAULT: dict(figures, rows_per_second=250.0),
                       cost.MLP: figures,
                       cost.HOLDOUT: dict(figures, latency_median_ms=0.1,
                                          rows_per_second=2000.0),
                       cost.AVERAGE: dict(figures, latency_p90_ms=0.3,
                                          rows_per_second=900.0)},
        "memory": {m: [{"first_mb": 100.0, "last_mb": 112.5, "growth_mb": 12.5,
                        "highest_mb": 130.0, "heap_growth_mb": 0.5,
                        "late_heap_growth_mb": 0.25},
                       {"first_mb": 90.0, "last_mb": 85.0, "growth_mb": -5.0,
                        "highest_mb": 95.0, "heap_growth_mb": -0.25,
                        "late_heap_growth_mb": -1.0},
                       {"first_mb": 110.0, "last_mb": 130.0, "growth_mb": 20.0,
                        "highest_mb": 125.0,
                        "heap_growth_mb": 2.0 if m == cost.DEFAULT else None,
                        "late_heap_growth_mb": 1.5 if m == cost.DEFAULT else None}]
                   for m in (cost.DEFAULT, cost.MLP)},
        "first_fit": {cost.DEFAULT: [1.0, 3.0, 2.0], cost.SCIKERAS: [4.0, 4.0, 4.0]},
    }
    meta = {"command": "python benchmarks/cost.py", "machine": "m", "date": "d",
            "rounds": 3, "calls": 10, "fits": 5}
    text = cost.markdown(results, meta)
    # medians 3.0 and 1.0; rounds 2x, 4x, 1.5x
    assert ("| 3.00 | 2.00 to 4.00 | 1.00 | 1.00 to 2.00 | 3.00x | 1.50x to 4.00x "
            "| 0.75 | 0.50 to 1.00 | 0.75x | 3.50 | 2.50 to 5.00 | 3.50x |") in text
    # latency, p90, throughput
    assert "| ratio (default / MLPClassifier) | 1.00x | 1.00x | 0.25x |" in text
    assert "| ratio (hold-out / MLPClassifier) | 0.50x | 1.00x | 2.00x |" in text
    assert "| ratio (averaged / MLPClassifier) | 1.00x | 0.75x | 0.90x |" in text
    # medians 100 MB and +12.5 MB, range -5.0 to +20.0, highest 130 - 100; the
    # heap's median and range over the processes that could tell it, over
    # all the fits and over their second half
    assert (f"| {cost.DEFAULT} | 100 | +12.5 | -5.0 to +20.0 | 30 | +0.5 | -0.2 to +2.0 "
            "| +0.2 | -1.0 to +1.5 |") in text
    assert (f"| {cost.MLP} | 100 | +12.5 | -5.0 to +20.0 | 30 | +0.1 | -0.2 to +0.5 "
            "| -0.4 | -1.0 to +0.2 |") in text
    assert "| 2.00 | 1.00 to 3.00 | 4.00 | 4.00 to 4.00 | 0.50x |" in text


def test_the_heap_measure_follows_memory_held_and_given_back():
    """report.heap_mb counts memory handed out by malloc until it is freed."""
    import report

    before = report.heap_mb()
    if before is None:
        pytest.skip("the C library does not report its heap (mallinfo2)")
    block = np.ones(64 * 2**20 // 8)  # 64 MB through the C allocator
    held = report.heap_mb()
    del block
    after = report.heap_mb()
    assert held - before > 60
    assert held - after > 60


def test_the_threshold_search_report_times_both_searches(tmp_path, monkeypatch):
    """benchmarks/threshold_search.py times the unit-weight and the weighted
    search on the same scores, checks they agree, and reports their ratio."""
    import threshold_search

    monkeypatch.setattr(threshold_search, "SHAPES", ((60, 8),))
    threshold_search.main(["--rounds", "2", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "threshold_search.json").read_text())
    seconds = saved["results"]["60 x 8"]
    assert len(seconds["unit"]) == len(seconds["weighted"]) == 2
    ratio = np.median(seconds["unit"]) / np.median(seconds["weighted"])
    text = (tmp_path / "threshold_search.md").read_text()
    assert f"| {ratio:.2f}x |" in text and "| 60 x 8 |" in text
    # Rare labels: the pooled search runs in both.
    S, Y = threshold_search.problem(60, 8)
    assert (Y.sum(axis=0) == 2).sum() == 5


def test_the_threshold_search_benchmark_refuses_searches_that_disagree(monkeypatch):
    import threshold_search

    from sklearn_mlk import _thresholds

    real = _thresholds.tune

    def shifted(S, Y, w, objective):
        tuned = real(S, Y, w, objective)
        if w[0] == 1:
            return tuned._replace(thresholds=tuned.thresholds + 1e-9)
        return tuned

    monkeypatch.setattr(_thresholds, "tune", shifted)
    S, Y = threshold_search.problem(40, 6)
    with pytest.raises(AssertionError, match="different thresholds"):
        threshold_search.time_search(S, Y, 1)


def test_the_large_data_digit_rows_keep_training_and_test_images_apart(monkeypatch):
    """benchmarks/large_data.py: each slot of a row is empty or one digit
    image of its own half of the images, and the labels are the digits in
    the slots."""
    import large_data
    from sklearn.datasets import load_digits

    monkeypatch.setattr(large_data, "NOISE", 0.0)
    monkeypatch.setattr(large_data, "TEST_ROWS", 200)
    X, Y, X_test, Y_test = large_data.digit_set(300)
    assert X.shape == (300, 192) and Y.shape == (300, 10) and X_test.shape == (200, 192)
    digits = load_digits()
    lookup = {image.tobytes(): label for image, label in zip(digits.data, digits.target)}

    def slots(rows):
        return [row[i * 64:(i + 1) * 64] for row in rows for i in range(3)]

    train_images = {s.tobytes() for s in slots(X) if s.any()}
    test_images = {s.tobytes() for s in slots(X_test) if s.any()}
    assert train_images and test_images and not train_images & test_images
    for row, labels in zip(X, Y):
        present = {lookup[s.tobytes()] for s in slots([row]) if s.any()}
        assert set(np.flatnonzero(labels)) == present


def test_the_large_data_report_scores_every_model(tmp_path, monkeypatch):
    import large_data

    monkeypatch.setattr(large_data, "DIGIT_SIZES", (150,))
    monkeypatch.setattr(large_data, "TEST_ROWS", 100)
    large_data.main(["--quick", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "large_data_quick.json").read_text())
    (cells,) = saved["results"].values()
    assert set(cells) == set(large_data.MODELS)
    for model in large_data.MODELS:
        assert len(cells[model]["macro_f1"]) == len(cells[model]["fit_seconds"]) == 1
        assert cells[model]["epochs"][0] >= 1
    text = (tmp_path / "large_data_quick.md").read_text()
    best = max(cells[m]["macro_f1"][0] for m in large_data.MODELS)
    assert f"**{best:.3f}**" in text and "| digit images (150) |" in text
    assert "mean over 1 seed)" in text


def test_the_first_layer_tags_are_their_keywords_present(monkeypatch):
    """benchmarks/first_layer.py: without label noise a tag is present exactly
    where one of its keywords is; keywords come from the rarer words; rows
    hold about the words asked for; noise flips few entries."""
    import first_layer

    X, Y, keywords = first_layer.tag_set(3000, 400, 12, per_row=20, rarest_from=50, seed=1)
    monkeypatch.setattr(first_layer, "FLIP_SHARE", 0.0)
    X0, Y0, keywords0 = first_layer.tag_set(3000, 400, 12, per_row=20, rarest_from=50, seed=1)
    assert (X0 != X).nnz == 0 and (keywords0 == keywords).all()
    dense = X0.toarray().astype(bool)
    assert keywords.shape == (12, 2) and keywords.min() >= 50
    expected = dense[:, keywords[:, 0]] | dense[:, keywords[:, 1]]
    np.testing.assert_array_equal(Y0, expected.astype(int))
    assert 0.05 * Y0.mean() < (Y != Y0).mean() < 0.2 * Y0.mean()  # FLIP_SHARE of it
    assert 17 < dense.sum(axis=1).mean() < 23 and set(np.unique(X.data)) == {1.0}


def test_the_first_layer_report_compares_both_draws(tmp_path, monkeypatch):
    """Only the sized model's fits draw a first layer wider than Glorot's, the
    switch is put back afterwards, and rare labels are left out."""
    import first_layer

    from sklearn_mlk._keras import _network

    monkeypatch.setattr(first_layer, "SETS", {"tiny": (150, 80, 200, 8, 3, 0)})
    gains = []
    original = _network.first_layer_gain
    monkeypatch.setattr(_network, "first_layer_gain",
                        lambda meta: gains.append(original(meta)) or gains[-1])
    first_layer.main(["--quick", "--out", str(tmp_path)])
    assert _network.SIZE_FIRST_LAYER is False
    # Five fold networks each, Glorot's (gain 1) first, then sized.
    assert len(gains) >= 2 and gains[0] == 1.0 and max(gains) > 10
    saved = json.loads((tmp_path / "first_layer_quick.json").read_text())
    cells = saved["results"]["tiny"]
    X, Y, X_test, Y_test = first_layer.split_set("tiny")
    assert cells["labels"] == Y.shape[1] == Y_test.shape[1] < 8
    assert Y.sum(axis=0).min() >= first_layer.MIN_TRAIN_POSITIVES and Y_test.sum(axis=0).min() >= 1
    text = (tmp_path / "first_layer_quick.md").read_text()
    best = max(cells[m]["macro_f1"][0] for m in first_layer.MODELS)
    assert f"**{best:.3f}**" in text and f"| tiny ({Y.shape[1]}) |" in text
    assert "mean over 1 seed)" in text


def test_the_first_layer_report_says_where_the_default_kept_its_linear_path():
    import first_layer

    def cells(chose):
        out = {m: {"macro_f1": [0.5, 0.5], "fit_seconds": [1.0, 1.0]}
               for m in first_layer.MODELS}
        out[first_layer.DEFAULT]["linear_path"] = chose
        return {**out, "labels": 9}

    meta = {"command": "c", "machine": "m", "date": "d", "seeds": 2}
    text = first_layer.markdown({"small": cells([]), "large": cells([True, False])}, meta)
    assert "- large: kept it on 1 of 2 seeds" in text
    assert "- small" not in text
    assert "Where the default chose" not in first_layer.markdown({"small": cells([])}, meta)
    assert first_layer.make(first_layer.LINEAR, 0)[-1].linear_path is True
    assert first_layer.make(first_layer.DEFAULT, 0)[-1].linear_path == "auto"


def test_the_many_labels_tags_bring_their_own_words(monkeypatch):
    """benchmarks/many_labels.py: labels come at their rates; each owns its
    number of words; without background words and with every owned word
    brought, a row holds exactly the words its labels own, and with no
    signal the words are background alone."""
    import many_labels

    X, Y, owned = many_labels.tagged_set(20_000, 40, seed=3)
    rates = many_labels.label_rates(40)
    assert rates[0] == many_labels.MOST_COMMON and np.all(np.diff(rates) <= 0)
    assert np.abs(Y.mean(axis=0) - rates).max() < 0.015
    assert np.all(owned.sum(axis=1) == many_labels.WORDS_PER_LABEL)
    assert X.shape == (20_000, many_labels.WORDS) and set(np.unique(X.data)) == {1.0}
    monkeypatch.setattr(many_labels, "BACKGROUND", 0.0)
    monkeypatch.setattr(many_labels, "SIGNAL", 1.0)
    X, Y, owned = many_labels.tagged_set(500, 40, seed=3)
    np.testing.assert_array_equal(X.toarray(), (Y @ owned > 0).astype(float))
    monkeypatch.setattr(many_labels, "BACKGROUND", 0.1)
    monkeypatch.setattr(many_labels, "SIGNAL", 0.0)
    X, _, _ = many_labels.tagged_set(2_000, 40, seed=3)
    assert abs(X.mean() - 0.1) < 0.005


def test_a_report_counts_seeds_in_words():
    import report

    assert report.seed_count(1) == "1 seed" and report.seed_count(3) == "3 seeds"


def test_the_many_labels_rare_half_is_the_rarer_labels():
    import many_labels

    Y = np.zeros((10, 5), dtype=int)
    for label, positives in enumerate([5, 1, 4, 2, 3]):
        Y[:positives, label] = 1
    np.testing.assert_array_equal(many_labels.rare_half(Y), [1, 3])


def test_the_many_labels_report_scores_every_model(tmp_path, monkeypatch):
    import many_labels

    monkeypatch.setattr(many_labels, "TRAIN_ROWS", 400)
    monkeypatch.setattr(many_labels, "TEST_ROWS", 200)
    monkeypatch.setattr(many_labels, "LABELS", (12,))
    many_labels.main(["--quick", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "many_labels_quick.json").read_text())
    cells = saved["results"]["12"]
    assert set(cells) == set(many_labels.MODELS)
    for model in many_labels.MODELS:
        assert all(len(cells[model][key]) == 1
                   for key in (*many_labels.METRICS, "fit_seconds"))
        assert 0 <= cells[model]["rare_half_macro_f1"][0] <= 1
    text = (tmp_path / "many_labels_quick.md").read_text()
    for metric in many_labels.METRICS:
        best = max(cells[m][metric][0] for m in many_labels.MODELS)
        assert f"**{best:.3f}**" in text
    assert text.count("| 12 | ") == len(many_labels.MODELS)


def test_the_many_labels_variants_are_the_estimator_with_their_parameters(tmp_path,
                                                                          monkeypatch):
    import many_labels
    import thresholds

    assert many_labels.make("no hidden layer", 3)[-1].get_params()["hidden_layer_sizes"] == ()
    wide = many_labels.make("wide and deep", 3)[-1]
    assert wide.model is thresholds.wide_and_deep and wide.random_state == 3
    monkeypatch.setattr(many_labels, "TRAIN_ROWS", 300)
    monkeypatch.setattr(many_labels, "TEST_ROWS", 100)
    monkeypatch.setattr(many_labels, "LABELS", (6,))
    many_labels.main(["--quick", "--models", "default", "no hidden layer",
                      "--name", "variants", "--out", str(tmp_path)])
    cells = json.loads((tmp_path / "variants.json").read_text())["results"]["6"]
    assert list(cells) == ["default", "no hidden layer"]


def test_same_fits_saves_the_defaults_probabilities_and_compares_them(tmp_path,
                                                                     monkeypatch):
    import same_fits

    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(80, 4)), (rng.random((80, 3)) < 0.4).astype(int)
    splits = [(np.arange(60), np.arange(60, 80))]
    monkeypatch.setattr(same_fits.datasets, "load", lambda name: (X + len(name), Y, splits))
    monkeypatch.setattr(same_fits.datasets, "SETS", ("aa", "bbb"))
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    assert same_fits.main([str(first)]) == 0
    assert same_fits.main([str(second), "bbb"]) == 0
    saved = np.load(first)
    assert sorted(saved.files) == ["aa", "bbb"] and saved["aa"].shape == (20, 3)
    assert same_fits.compare(first, second) == {"bbb": True}  # the sets both hold
    assert same_fits.main(["--compare", str(first), str(second)]) == 0  # bbb: equal
    np.savez(second, bbb=saved["bbb"] + 1e-12)
    assert same_fits.compare(first, second) == {"bbb": False}
    assert same_fits.main(["--compare", str(first), str(second)]) == 1


def test_pilot_choice_compares_both_choices_on_sets_with_more_labels_than_units(
        tmp_path, monkeypatch):
    """Sets with no more labels than the hidden units are left out; the full
    fits' choice is the higher out-of-fold score's kind; the pilots' choice
    is the default's, whose fit is that kind's fit."""
    import pilot_choice

    rng = np.random.default_rng(0)
    X = (rng.random((160, 12)) < 0.3).astype(float)
    Y = np.where(rng.random((160, 6)) < 0.03, 1 - X[:, :6], X[:, :6]).astype(int)
    splits = [(np.arange(120), np.arange(120, 160))]
    monkeypatch.setattr(pilot_choice.datasets, "load",
                        lambda name: (X, Y[:, : len(name)], splits))
    monkeypatch.setattr(pilot_choice.datasets, "SETS", ("ab", "abcdef"))
    pilot_choice.main(["--hidden", "2", "--seeds", "1", "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "pilot_choice.json").read_text())
    assert list(saved["results"]) == ["abcdef"] and saved["meta"]["hidden"] == 2
    (run,) = saved["results"]["abcdef"]["runs"]
    assert run["full_kept_path"] == (run["True"]["score"] > run["False"]["score"])
    kept = run[str(run["pilot_kept_path"])]
    assert run["auto"]["macro_f1"] == kept["macro_f1"]
    assert run["auto"]["score"] == kept["score"]
    text = (tmp_path / "pilot_choice.md").read_text()
    row = pilot_choice.summary(saved["results"]["abcdef"])
    assert f"| abcdef (6) | {row['no path']:.4f} | {row['path']:.4f} |" in text
    assert f"| {int(run['full_kept_path'])} of 1 | {int(run['pilot_kept_path'])} of 1 |" in text


def test_pilot_choice_on_tagged_texts_keeps_the_default_width(tmp_path, monkeypatch):
    """--tagged: generated sets at the default's 256 units, whose labels with
    fewer than 3 training positives are left out."""
    import pilot_choice

    monkeypatch.setattr(pilot_choice, "TAGGED_ROWS", (150,))
    monkeypatch.setattr(pilot_choice, "TAGGED_LABELS", 10)
    monkeypatch.setattr(pilot_choice, "TAGGED_TEST", 60)
    X, Y, train, test = pilot_choice.tagged_set(150)
    assert X.shape[0] == 210 and len(train) == 150 and len(test) == 60
    assert Y[train].sum(axis=0).min() >= 3
    pilot_choice.main(["--tagged", "--hidden", "4", "--seeds", "1", "--name", "t",
                       "--out", str(tmp_path)])
    saved = json.loads((tmp_path / "t.json").read_text())
    assert list(saved["results"]) == ["tagged, 150 rows"]
    assert saved["meta"]["tagged"] is True and saved["meta"]["hidden"] == 4
    assert "MLP of 4 hidden units, on generated tagged texts" in (tmp_path / "t.md").read_text()


def test_the_digit_pairs_labels_are_the_slots_digits_and_their_pairs(monkeypatch):
    """benchmarks/many_labels.py's digit-pairs set: a label per digit and slot,
    and one per pair of them, each true exactly where its parts are."""
    import many_labels

    monkeypatch.setattr(many_labels, "TRAIN_ROWS", 3_000)
    monkeypatch.setattr(many_labels, "TEST_ROWS", 500)
    X, Y, X_test, Y_test = many_labels.digit_pairs_set(seed=2)
    assert X.shape == (3_000, 192) and X_test.shape == (500, 192)
    assert Y.shape[1] == Y_test.shape[1] == 330
    singles = Y[:, :30].reshape(-1, 3, 10)  # (rows, slot, digit)
    assert singles.sum(axis=2).max() == 1  # at most one digit in a slot
    empty = singles.sum(axis=2) == 0
    assert abs(1 - empty.mean() - many_labels.DIGIT_PRESENT) < 0.03
    # the pair label of (slot 0, digit 3) and (slot 2, digit 7)
    pair = 30 + 100 * 1 + 10 * 3 + 7  # pairs (0, 1), then (0, 2), ...
    np.testing.assert_array_equal(Y[:, pair], singles[:, 0, 3] & singles[:, 2, 7])
    # an empty slot is noise around 0; a digit's pixels are not
    pixels = X[:, :64][empty[:, 0]]
    assert abs(pixels.std() - many_labels.DIGIT_NOISE) < 0.1
    assert X[:, :64][~empty[:, 0]].mean() > 3


def test_the_many_labels_merge_replaces_only_the_models_run(tmp_path, monkeypatch):
    import many_labels

    monkeypatch.setattr(many_labels, "TRAIN_ROWS", 300)
    monkeypatch.setattr(many_labels, "TEST_ROWS", 100)
    monkeypatch.setattr(many_labels, "LABELS", (6, 8))
    args = ["--seeds", "1", "--out", str(tmp_path)]
    many_labels.main([*args, "--sets", "6", "8", "--models", "default", "OvR(LogReg)"])
    first = json.loads((tmp_path / "many_labels.json").read_text())
    many_labels.main([*args, "--merge", "--sets", "8", "--models", "no linear path",
                      "default"])
    saved = json.loads((tmp_path / "many_labels.json").read_text())
    results = saved["results"]
    assert list(results) == ["6", "8"]
    assert results["6"] == first["results"]["6"]  # a set not run is kept
    assert list(results["8"]) == ["default", "no linear path", "OvR(LogReg)"]
    assert results["8"]["OvR(LogReg)"] == first["results"]["8"]["OvR(LogReg)"]
    assert saved["meta"]["merged_from"] == [first["meta"]["command"]]
    text = (tmp_path / "many_labels.md").read_text()
    assert f"come from, in order: `{first['meta']['command']}`" in text
    assert many_labels.make("no linear path", 0)[-1].linear_path is False


def test_the_full_fit_choice_variant_switches_the_pilots_off_for_its_fits_alone(
        monkeypatch):
    import many_labels

    from sklearn_mlk import _choice

    seen = []
    monkeypatch.setattr(many_labels, "make", lambda model, seed, sparse=True: type(
        "Fit", (), {"fit": lambda self, X, Y: seen.append((model, _choice.PILOT)),
                    "set_params": lambda self, **params: self,
                    "predict": lambda self, X: np.zeros((len(X), 3), dtype=int)})())
    monkeypatch.setattr(many_labels, "load_set", lambda name, seed: (
        np.zeros((4, 2)), np.eye(4, 3, dtype=int), np.zeros((4, 2)), np.eye(4, 3, dtype=int)))
    many_labels.run_set("100", 1, ["choice by full fits", "default"])
    # the untimed tracing fits first, then the timed ones
    assert seen[-2:] == [("choice by full fits", False), ("default", True)]
    assert _choice.PILOT is True


def test_the_first_layer_merge_replaces_only_the_models_run(tmp_path, monkeypatch):
    import first_layer

    monkeypatch.setattr(first_layer, "SETS", {"a": (150, 80, 200, 8, 3, 0),
                                              "b": (150, 80, 200, 6, 3, 0)})
    monkeypatch.setattr(first_layer, "MODELS", (first_layer.DEFAULT, first_layer.OVR))
    args = ["--seeds", "1", "--out", str(tmp_path)]
    first_layer.main([*args, "--models", first_layer.OVR])
    first = json.loads((tmp_path / "first_layer.json").read_text())
    first_layer.main([*args, "--merge", "--sets", "b", "--models", first_layer.DEFAULT])
    saved = json.loads((tmp_path / "first_layer.json").read_text())
    results = saved["results"]
    assert list(results) == ["a", "b"] and results["a"] == first["results"]["a"]
    assert list(results["b"]) == [first_layer.DEFAULT, first_layer.OVR, "labels"]
    assert results["b"][first_layer.OVR] == first["results"]["b"][first_layer.OVR]
    assert saved["meta"]["merged_from"] == [first["meta"]["command"]]
    text = (tmp_path / "first_layer.md").read_text()
    assert f"come from, in order: `{first['meta']['command']}`" in text


def test_a_merged_study_keeps_the_sets_in_their_order():
    """A run on some sets merged into a study puts them back in place."""
    import thresholds

    merged = {"genbase": 1, "extra": 2, "yeast": 3, "cal500": 4}
    assert list(thresholds.in_set_order(merged)) == ["yeast", "cal500", "genbase", "extra"]


def _study_recording(monkeypatch, read):
    """benchmarks/thresholds.py's study on a tiny stub set, its fits
    replaced by a record of each variant's name and ``read()`` at the time."""
    import run
    import thresholds
    from sklearn.dummy import DummyClassifier

    X, Y = np.random.default_rng(0).normal(size=(40, 3)), np.eye(2, dtype=int)[[0, 1] * 20]
    monkeypatch.setattr(thresholds.datasets, "load",
                        lambda name: (X, Y, [(np.arange(30), np.arange(30, 40))]))
    monkeypatch.setattr(thresholds.peers, "mlk", lambda seed, **params: DummyClassifier())
    seen = []

    def evaluate(name, *args, **kwargs):
        seen.append((name, read()))
        return {f: 0.5 for f in thresholds.FIGURES}

    monkeypatch.setattr(run, "evaluate", evaluate)
    return seen


def test_the_study_switches_the_ensembles_mean_per_variant_and_puts_it_back(monkeypatch):
    """benchmarks/thresholds.py: the variant "fold logits averaged" fits with
    the ensemble's logits averaged, the default with its probabilities, and
    the switch is as it was after the study, also when a fit fails."""
    import run
    import thresholds

    from sklearn_mlk._keras import _network

    seen = _study_recording(monkeypatch, lambda: _network.AVERAGE_PROBABILITIES)
    thresholds.study(["default", "fold logits averaged", "default"], ["yeast"], 1)
    assert seen == [("default", True), ("fold logits averaged", False), ("default", True)]
    monkeypatch.setattr(_network, "AVERAGE_PROBABILITIES", "as it was")

    def fails(*args, **kwargs):
        raise RuntimeError("a fit failed")

    monkeypatch.setattr(run, "evaluate", fails)
    with pytest.raises(RuntimeError):
        thresholds.study(["fold logits averaged"], ["yeast"], 1)
    assert _network.AVERAGE_PROBABILITIES == "as it was"


def test_a_study_beside_the_peers_gives_fit_time_ratios_and_each_sets_best_peer():
    """benchmarks/loso.py's study_beside_peers: each variant's fit seconds over
    the default's of the same set, and the best peer that is not this
    estimator, or 'not run' where the quality benchmark has no set."""
    import loso

    def cell(f1, seconds):
        return {"macro_f1": {"mean": f1}, "fit_seconds": {"mean": seconds}}

    results = {"a": {"default": cell(0.5, 4.0), "cheap": cell(0.4, 1.0)},
               "b": {"default": cell(0.6, 2.0), "cheap": cell(0.7, 1.0)}}
    quality = {"a": {"LogReg": {"macro_f1": 0.45}, "mlk (0.5)": {"macro_f1": 0.9},
                     "Broken": {"error": "x"}, "Trees": {"macro_f1": 0.3}}}
    text = loso.study_beside_peers(results, {"command": "c", "date": "d", "seeds": 1},
                                   quality)
    assert "| a | 0.25x | 0.450 LogReg |" in text
    assert "| b | 0.50x | not run |" in text
    assert "| cheap | 0.400 | **0.700** | **1.5** |" in text  # tied mean rank


def test_fit_parts_report_splits_the_fit_and_compares_the_work():
    import fit_parts

    default = [{"seconds": 1.0, "epoch_seconds": 0.8, "epochs": 10, "members": 5,
                "rows_trained": 80_000, "release_seconds": 0.002},
               {"seconds": 1.2, "epoch_seconds": 0.9, "epochs": 12, "members": 5,
                "rows_trained": 96_000, "release_seconds": 0.004},
               {"seconds": 3.0, "epoch_seconds": 2.9, "epochs": 20, "members": 5,
                "rows_trained": 160_000, "release_seconds": 0.003}]
    mlp = [{"seconds": 0.3, "epochs": 20, "rows_trained": 36_000}] * 3
    no_dropout = [{"seconds": 0.8, "epoch_seconds": 0.6, "epochs": 12, "members": 5,
                   "rows_trained": 96_000}] * 3
    results = {"yeast": {"shape": [2000, 50], "labels": 10, "fits": {
        fit_parts.cost.DEFAULT: default, fit_parts.cost.MLP: mlp,
        fit_parts.NO_DROPOUT: no_dropout}}}
    d = fit_parts.summary(default, fit_parts.cost.DEFAULT)
    assert d["seconds"] == 1.2 and d["epochs"] == 12 and d["rows_trained"] == 96_000
    assert d["fixed_seconds"] == pytest.approx(0.2)  # medians of 0.2, 0.3, 0.1
    assert d["ms_per_1000_rows"] == pytest.approx(10.0)  # 0.8 s / 80k, 0.9 / 96k, ...
    assert d["ms_per_epoch"] == pytest.approx(80.0)  # 80, 75, 145 ms
    assert d["release_ms"] == pytest.approx(3.0)
    m = fit_parts.summary(mlp, fit_parts.cost.MLP)
    assert "release_ms" not in m and m["fixed_seconds"] == 0.0
    assert m["ms_per_1000_rows"] == pytest.approx(0.3e6 / 36_000)
    meta = {"command": "python benchmarks/fit_parts.py", "machine": "m", "date": "d",
            "rounds": 3}
    text = fit_parts.markdown(results, meta)
    # Per round: (0.8 / 80k) / (0.3 / 36k) = 1.20, then 1.125, then 2.175.
    assert fit_parts.per_row_ratios(default, mlp) == pytest.approx([1.2, 1.125, 2.175])
    assert ("| yeast (2,000 x 50, 10) | 1.20 | 0.20 | 3.0 | 12 | 96,000 | 0.30 | 20 "
            "| 36,000 | 2.67x | 10.0 | 8.3 | 1.20x | 1.12x to 2.17x |") in text
    assert "| yeast | 80.0 | 50.0 | 38% |" in text


def test_fit_parts_counts_the_loops_epochs_and_rows(monkeypatch):
    import fit_parts
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(200, 10, n_classes=4, random_state=0)
    monkeypatch.setattr(fit_parts.cost, "make", lambda model, sparse, seed: tiny_pipe(
        model, seed))
    got = fit_parts._one_fit(fit_parts.cost.DEFAULT, X, Y, False, 0)
    assert got["members"] == 5 and got["epochs"] == 4  # every epoch, no early stopping
    assert got["rows_trained"] == 4 * 200 * 4  # 4 epochs of 4 folds' worth of rows
    assert 0 < got["epoch_seconds"] < got["seconds"]
    assert 0 < got["release_seconds"] < got["seconds"] - got["epoch_seconds"]
    got = fit_parts._one_fit(fit_parts.cost.MLP, X, Y, False, 0)
    assert got["rows_trained"] == got["epochs"] * 180


def tiny_pipe(model, seed):
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklearn_mlk import KerasMultiLabelClassifier

    import fit_parts

    if model == fit_parts.cost.MLP:
        return make_pipeline(StandardScaler(), MLPClassifier(
            (8,), early_stopping=True, max_iter=30, random_state=seed))
    return make_pipeline(StandardScaler(), KerasMultiLabelClassifier(
        hidden_layer_sizes=(8,), epochs=4, early_stopping=False, random_state=seed))


def test_alternating_runs_each_model_once_a_round_each_first_in_turn():
    import report

    calls = []
    out = report.alternating(["a", "b", "c"], 3, lambda m, i: calls.append((m, i)) or i)
    assert calls == [("a", 0), ("b", 0), ("c", 0),  # untimed
                     ("a", 0), ("b", 0), ("c", 0),
                     ("b", 1), ("c", 1), ("a", 1),
                     ("c", 2), ("a", 2), ("b", 2)]
    assert out == {"a": [0, 1, 2], "b": [0, 1, 2], "c": [0, 1, 2]}


def test_splits_report_gives_times_ratios_and_whether_the_parts_agree():
    import splits

    results = [{"target": "yeast", "rows": 2417, "labels": 14, "positives": 10_238,
                "split": "folds", "same": True, splits.OWN: [0.010, 0.009, 0.012],
                splits.PACKAGE: [0.050, 0.040, 0.045]},
               {"target": "other", "rows": 10, "labels": 2, "positives": 5,
                "split": "hold-out", "same": False, splits.OWN: [0.001] * 3,
                splits.PACKAGE: [0.002] * 3}]
    meta = {"command": "python benchmarks/splits.py", "machine": "m", "date": "d"}
    text = splits.markdown(results, meta)
    assert ("| yeast (2,417 x 14, 10,238) | folds | 10.00 | 9.00 to 12.00 | 45.00 "
            "| 40.00 to 50.00 | 0.22x | yes |") in text
    assert "| other (10 x 2, 5) | hold-out | 1.00 | 1.00 to 1.00 | 2.00 | 2.00 to 2.00 " \
           "| 0.50x | **no** |" in text


def test_splits_benchmark_times_both_and_compares_their_parts(monkeypatch):
    import splits

    Y = splits.generated(300, 200, 0.9)
    assert Y.shape == (300, 200) and Y.dtype == np.int8
    rates = Y.mean(axis=0)
    assert rates[:5].mean() > 0.15 and rates[-5:].mean() < 0.1  # a tail of rare labels
    monkeypatch.setattr(splits, "targets", lambda: [("small", Y)])
    results = splits.measure(rounds=2)
    assert [r["split"] for r in results] == ["folds", "hold-out"]
    for r in results:
        assert r["same"] and r["rows"] == 300 and r["positives"] == int(Y.sum())
        assert len(r[splits.OWN]) == len(r[splits.PACKAGE]) == 2
        assert all(s > 0 for s in r[splits.OWN] + r[splits.PACKAGE])
    # A different part anywhere is reported.
    monkeypatch.setattr(splits, "own_parts", lambda Y, split, seed: np.zeros(len(Y), int))
    assert not any(r["same"] for r in splits.measure(rounds=1))


def test_the_distill_students_imitate_the_ensemble_at_its_thresholds(tmp_path, monkeypatch):
    """benchmarks/distill.py: each student trains on the scaled training rows
    with the ensemble's probabilities on them as its targets, and predicts
    at the ensemble's learned thresholds; the report holds every model."""
    from scipy.special import logit
    from sklearn.datasets import make_multilabel_classification

    import distill

    X, Y = make_multilabel_classification(150, 10, n_classes=3, random_state=0)
    X = X.astype(np.float64) * 7.0 + 3.0  # far from standardised
    splits = [(np.arange(100), np.arange(100, 150))]
    monkeypatch.setattr(distill.datasets, "load", lambda name: (X, Y, splits))
    monkeypatch.setattr(distill, "STUDENTS", {"recipe": (0.5, 1, 2), "none": (0.0, 1, 3)})
    ensembles, targets = [], []
    fit = distill.KerasMultiLabelClassifier.fit

    def spied_fit(self, *args, **kwargs):
        ensembles.append(self)
        return fit(self, *args, **kwargs)

    def constant_student(X_train, P, seed, dropout, patience, epochs):
        np.testing.assert_allclose(X_train.mean(axis=0), 0, atol=1e-9)  # scaled
        targets.append(P)
        ensemble = ensembles[-1]
        np.testing.assert_allclose(P, ensemble.predict_proba(X_train))

        class Student:  # gives every row the thresholds themselves: all positive
            def predict(self, X, verbose=0):
                return np.tile(logit(np.clip(ensemble.thresholds_, 1e-6, 1 - 1e-6)) + 1e-3,
                               (X.shape[0], 1))

        return Student(), epochs

    monkeypatch.setattr(distill.KerasMultiLabelClassifier, "fit", spied_fit)
    monkeypatch.setattr(distill, "train_student", constant_student)
    results = distill.main(["--datasets", "tiny", "--seeds", "2", "--out", str(tmp_path)])
    assert len(targets) == 4 and all(P.shape == (100, 3) for P in targets)
    cells = results["tiny"]
    every_label = distill._macro_f1(Y[100:], np.ones_like(Y[100:]))
    assert cells["recipe"]["macro_f1"] == cells["none"]["macro_f1"] == pytest.approx(every_label)
    assert cells["recipe"]["epochs"] == 2 and cells["none"]["epochs"] == 3
    assert cells["none"]["fit_ratio"] > 0
    saved = json.loads((tmp_path / "distill.json").read_text())
    assert saved["results"]["tiny"]["ensemble"]["macro_f1_range"][0] <= \
        cells["ensemble"]["macro_f1"]
    text = (tmp_path / "distill.md").read_text()
    assert "| tiny |" in text and "recipe | epochs | fit" in text


def test_the_per_label_choice_predicts_each_label_from_its_best_fit(monkeypatch):
    """benchmarks/thresholds.py's PerLabelChoice: one fit per alpha from one
    seed; each label's column comes from the fit whose threshold score on it
    is highest (the first on a tie, and where a score is NaN it loses)."""
    import thresholds

    scores = {0.0: [0.5, 0.7, np.nan, 0.4], 3.0: [0.6, 0.7, 0.2, np.nan],
              10.0: [0.1, 0.1, 0.1, np.nan]}
    seeds = []

    class Fit:
        def __init__(self, seed, alpha, **params):
            seeds.append(seed)
            self.alpha, self.threshold_scores_ = alpha, np.array(scores[alpha])

        def fit(self, X, Y):
            return self

        def predict(self, X):  # each column holds the fit's alpha
            return np.full((len(X), 4), self.alpha)

    monkeypatch.setattr(thresholds.peers, "mlk", lambda seed, **params: Fit(seed, **params))
    choice = thresholds.PerLabelChoice(7, {"alpha": [0.0, 3.0, 10.0]}).fit(np.zeros((5, 2)), None)
    assert seeds == [7, 7, 7]
    assert choice.choice_.tolist() == [1, 0, 1, 0]
    np.testing.assert_array_equal(choice.predict(np.zeros((2, 2))), [[3.0, 0.0, 3.0, 0.0]] * 2)
    scores[3.0] = [0.1, 0.1, 0.1, 0.1]  # one fit wins every label: its predictions alone
    choice = thresholds.PerLabelChoice(7, {"alpha": [0.0, 3.0]}).fit(np.zeros((5, 2)), None)
    assert choice.choice_.tolist() == [0, 0, 1, 0]
    scores[0.0] = [0.5, 0.7, 0.3, 0.4]
    choice = thresholds.PerLabelChoice(7, {"alpha": [0.0, 3.0]}).fit(np.zeros((5, 2)), None)
    np.testing.assert_array_equal(choice.predict(np.zeros((2, 2))), np.zeros((2, 4)))


def test_the_study_switches_the_fold_networks_starts_per_variant_and_puts_them_back(
        monkeypatch):
    """benchmarks/thresholds.py: the two variants that swap the fold
    networks' starts set the switch for their fits only."""
    import thresholds

    from sklearn_mlk._training import _schemes

    seen = _study_recording(monkeypatch, lambda: _schemes.FOLDS_START_ALIKE)
    monkeypatch.setattr(_schemes, "FOLDS_START_ALIKE", "as it was")
    thresholds.study(["5-fold ensemble, started alike", "5-fold, averaged weights",
                      "5-fold, averaged weights, started apart"], ["yeast"], 1)
    assert seen == [("5-fold ensemble, started alike", True),
                    ("5-fold, averaged weights", None),
                    ("5-fold, averaged weights, started apart", False)]
    assert _schemes.FOLDS_START_ALIKE == "as it was"
