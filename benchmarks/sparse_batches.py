"""TensorFlow: warm fit seconds with sparse batches kept sparse or densified.

    python benchmarks/sparse_batches.py            # 3 rounds
    python benchmarks/sparse_batches.py --rounds 5

On TensorFlow the default MLP can multiply sparse batches as they are
(``tf.sparse.sparse_dense_matmul``); the library does so only below
``sklearn_mlk._training._loop.SPARSE_BATCH_DENSITY``, for a first layer of at least
``SPARSE_READER_WEIGHTS`` weights, and densifies other batches.
This measures where that pays: generated binary sparse data of several
densities and widths (one network at a fixed 0.5, 3 epochs, no early
stopping), and the default estimator on genbase and enron when the shared data
sets are found (``$SKLEARN_MLK_DATA``). For each case fits alternate between
the two paths, after one untimed fit of each. Runs under ``KERAS_BACKEND=tensorflow``.
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
# (features, densities): X of 1000 features is densified whole, wider X one
# batch at a time.
CASES = [(1000, (0.001, 0.003, 0.01, 0.1)), (10000, (0.001, 0.003, 0.01, 0.1)),
         (100000, (0.0003, 0.001))]
REAL = ("genbase", "enron")
# The settings of (SPARSE_BATCH_DENSITY, SPARSE_READER_WEIGHTS) forcing each path.
PATHS = {"sparse": (1.0, 0), "densified": (0.0, 0)}


def _generated(features, density, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(ROWS, features, density=density, format="csr", random_state=seed,
                  data_rvs=np.ones, dtype=np.float32)
    signal = X @ rng.standard_normal((features, LABELS)).astype(np.float32)
    Y = (signal > np.quantile(signal, 0.8, axis=0)).astype(int)
    return X, Y


def _real(name):
    try:
        import datasets
        from sklearn.preprocessing import MaxAbsScaler

        X, Y, splits = datasets.load(name)
    except FileNotFoundError:
        return None
    train = splits[0][0]
    return MaxAbsScaler().fit_transform(X[train]), Y[train]


def _time(case, X, Y, path, timed):
    from sklearn_mlk import KerasMultiLabelClassifier
    from sklearn_mlk._training import _loop

    _loop.SPARSE_BATCH_DENSITY, _loop.SPARSE_READER_WEIGHTS = PATHS[path]
    params = ({} if case == "real" else
              dict(threshold=0.5, epochs=EPOCHS, early_stopping=False))
    est = KerasMultiLabelClassifier(random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        est.fit(X, Y)
        seconds = time.perf_counter() - start
    return seconds if timed else None


def _library_path(X, hidden, chosen):
    """The path the library's own settings ``chosen`` take."""
    density, weights = chosen
    dense = X.nnz >= density * X.shape[0] * X.shape[1]
    return "densified" if dense or X.shape[1] * hidden < weights else "sparse"


def measure(rounds):
    from sklearn_mlk._training import _loop

    chosen = (_loop.SPARSE_BATCH_DENSITY, _loop.SPARSE_READER_WEIGHTS)
    # (name, kind, X, Y, width of the first layer)
    cases = [(f"{f} features", "generated", *_generated(f, d), 256)
             for f, densities in CASES for d in densities]
    for name in REAL:
        data = _real(name)
        if data is not None:  # the default's five fold networks, stacked
            cases.append((f"{name}, default estimator", "real", *data, 5 * 256))
    results = []
    try:
        for name, kind, X, Y, hidden in cases:
            path = _library_path(X, hidden, chosen)
            seconds = {path: [] for path in PATHS}
            for timed in [False] + [True] * rounds:
                for forced in PATHS:
                    value = _time(kind, X, Y, forced, timed)
                    if timed:
                        seconds[forced].append(value)
            results.append({"case": name, "rows": X.shape[0], "features": X.shape[1],
                            "density": X.nnz / (X.shape[0] * X.shape[1]),
                            "first_layer_weights": X.shape[1] * hidden,
                            "library_path": path, **seconds})
            print(f"{name}, density {results[-1]['density']:.4f}: sparse "
                  f"{np.median(seconds['sparse']):.2f}s, densified "
                  f"{np.median(seconds['densified']):.2f}s", flush=True)
    finally:
        _loop.SPARSE_BATCH_DENSITY, _loop.SPARSE_READER_WEIGHTS = chosen
    return results, chosen


def markdown(results, meta):
    lines = [*report.header("TensorFlow: sparse batches kept sparse or densified", meta),
             f"Warm fit seconds; median and range over alternating rounds. Generated "
             f"cases: {ROWS} rows, {LABELS} labels, binary features, one network "
             f"(256 hidden, batch 64) at a fixed 0.5 for {EPOCHS} epochs; X of 1000 "
             "features is densified whole, wider X one batch at a time. genbase "
             "and enron: the default estimator (five stacked fold networks, early "
             "stopping) on the first benchmark fold's training rows. Ratio: sparse over "
             "densified (above 1: densifying is faster). The library keeps batches "
             f"sparse below a density of {meta['sparse_batch_density']} where the "
             f"first layer has at least {meta['sparse_reader_weights']:,} weights.", "",
             "| case | density | first-layer weights | sparse s | range | densified s "
             "| range | ratio | the library's path |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r['case']} | {r['density']:.4f} | {r['first_layer_weights']:,} "
            f"| {report.paired_cells(r['sparse'], r['densified'])} "
            f"| {r['library_path']} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = report.timing_arguments(__doc__, argv)
    os.environ["KERAS_BACKEND"] = "tensorflow"  # before Keras is imported
    results, chosen = measure(args.rounds)
    meta = report.run_meta("sparse_batches.py", argv, rounds=args.rounds,
                           sparse_batch_density=chosen[0], sparse_reader_weights=chosen[1])
    report.write(args.out, "sparse_batches", meta, results, markdown(results, meta))


if __name__ == "__main__":
    main()
