"""TensorFlow: warm fit seconds with sparse batches kept sparse or densified.

    python benchmarks/sparse_batches.py            # 3 rounds
    python benchmarks/sparse_batches.py --rounds 5

On TensorFlow the default MLP can multiply sparse batches as they are
(``tf.sparse.sparse_dense_matmul``); the library does so only below
``sklearn_mlk._compiled.SPARSE_BATCH_DENSITY`` and densifies denser batches.
This measures where that pays: generated binary sparse data of several
densities and widths (one network at a fixed 0.5, 3 epochs, no early
stopping), and the default estimator on enron when the shared data sets are
found (``$SKLEARN_MLK_DATA``). For each case fits alternate between the two
paths, after one untimed fit of each. Runs under ``KERAS_BACKEND=tensorflow``.
Writes benchmarks/results/sparse_batches.{md,json}.
"""

import os
import pathlib
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

import report  # noqa: E402

ROWS, LABELS, EPOCHS = 2000, 20, 3
FEATURES = (1000, 10000)
DENSITIES = (0.001, 0.003, 0.01, 0.03, 0.1)
PATHS = {"sparse": 1.0, "densified": 0.0}  # SPARSE_BATCH_DENSITY forcing each


def _generated(features, density, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(ROWS, features, density=density, format="csr", random_state=seed,
                  data_rvs=np.ones, dtype=np.float32)
    signal = X @ rng.standard_normal((features, LABELS)).astype(np.float32)
    Y = (signal > np.quantile(signal, 0.8, axis=0)).astype(int)
    return X, Y


def _enron():
    try:
        import datasets
        from sklearn.preprocessing import MaxAbsScaler

        X, Y, splits = datasets.load("enron")
    except FileNotFoundError:
        return None
    train = splits[0][0]
    return MaxAbsScaler().fit_transform(X[train]), Y[train]


def _time(case, X, Y, path, timed):
    from sklearn_mlk import KerasMultiLabelClassifier, _compiled

    _compiled.SPARSE_BATCH_DENSITY = PATHS[path]
    params = ({} if case == "enron" else
              dict(threshold=0.5, epochs=EPOCHS, early_stopping=False))
    est = KerasMultiLabelClassifier(random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est.fit(X, Y)
        seconds = time.perf_counter() - start
    return seconds if timed else None


def measure(rounds):
    from sklearn_mlk import _compiled

    chosen = _compiled.SPARSE_BATCH_DENSITY
    cases = [(f"{f} features, density {d}", f, d, *_generated(f, d))
             for f in FEATURES for d in DENSITIES]
    enron = _enron()
    if enron is not None:
        X, Y = enron
        cases.append(("enron, default estimator", X.shape[1],
                      X.nnz / (X.shape[0] * X.shape[1]), X, Y))
    results = []
    try:
        for name, features, density, X, Y in cases:
            case = "enron" if name.startswith("enron") else "generated"
            seconds = {path: [] for path in PATHS}
            for timed in [False] + [True] * rounds:
                for path in PATHS:
                    value = _time(case, X, Y, path, timed)
                    if timed:
                        seconds[path].append(value)
            results.append({"case": name, "rows": X.shape[0], "features": features,
                            "density": density,
                            "library_path": "sparse" if density < chosen else "densified",
                            **seconds})
            print(f"{name}: sparse {np.median(seconds['sparse']):.2f}s, densified "
                  f"{np.median(seconds['densified']):.2f}s", flush=True)
    finally:
        _compiled.SPARSE_BATCH_DENSITY = chosen
    return results, chosen


def markdown(results, meta):
    lines = ["# TensorFlow: sparse batches kept sparse or densified", "",
             f"Command: `{meta['command']}`  ",
             f"Machine: {meta['machine']}; {meta['date']}", "",
             f"Warm fit seconds; median and range over alternating rounds. Generated "
             f"cases: {ROWS} rows, {LABELS} labels, binary features, one network "
             f"(256 hidden, batch 64) at a fixed 0.5 for {EPOCHS} epochs. enron: "
             "the default estimator (five stacked fold networks, early stopping) "
             "on the first benchmark fold's training rows. Ratio: sparse over "
             "densified (above 1: densifying is faster). The library keeps batches "
             f"sparse below a density of {meta['sparse_batch_density']}.", "",
             "| case | density | sparse s | range | densified s | range | ratio "
             "| the library's path |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        a, b = r["sparse"], r["densified"]
        lines.append(
            f"| {r['case']} | {r['density']:.4f} "
            f"| {report.median_range(a)} | {report.median_range(b)} "
            f"| {np.median(a) / np.median(b):.2f}x | {r['library_path']} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = report.timing_arguments(__doc__, argv)
    os.environ["KERAS_BACKEND"] = "tensorflow"  # before Keras is imported
    results, chosen = measure(args.rounds)
    meta = report.run_meta("sparse_batches.py", argv, rounds=args.rounds,
                           sparse_batch_density=chosen)
    report.write(args.out, "sparse_batches", meta, results, markdown(results, meta))


if __name__ == "__main__":
    main()
