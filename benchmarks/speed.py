"""Speed and memory against the peers, each model in its own process.

    python benchmarks/speed.py                 # yeast, 50 repeated fits
    python benchmarks/speed.py --quick         # 5 repeated fits, fewer calls
    python benchmarks/speed.py --models "mlk (0.5)" MLPClassifier
    python benchmarks/speed.py --skip grid import sparse   # per-model figures only
    python benchmarks/speed.py --models "mlk (0.5)" --skip import sparse builders \
        --name speed_backends                  # backends, and the search on Dask

The grid section runs for the models given.

Per model, on yeast's standard training split with 20 epochs (the neural
models: one hidden layer of 256, batch 64):

- fit seconds: the first fit in the process (start-up included) and the
  median of the repeated fits (warm);
- ``predict_proba`` latency for one row: median and 90th percentile over
  ``--calls`` calls;
- rows per second of ``predict_proba`` on a 10,000-row batch (median of 15
  calls, after two untimed ones);
- both prediction figures at their best over ``--processes`` fresh processes
  (5; 2 with ``--quick``), each fitting the model again, run in rounds of one
  process per model: on some machines the same code runs up to twice as slow
  in one process as in another, or for a minute at a time, for every model
  alike, and one process per model would compare a fast process with a slow
  one. The figures of every process are in the JSON report;
- peak resident memory of the process (fit and predictions included);
- resident memory growth over ``--fits`` consecutive fits in one process
  (memory after the last fit minus memory after the first).

Six more sections:

- grid: ``GridSearchCV`` over 4 learning rates x 5 folds (20 fits and a refit)
  with ``n_jobs=1``, ``n_jobs=2`` and on a Dask ``LocalCluster`` of 2 worker
  processes (joblib's ``dask`` backend; where ``distributed`` is installed),
  each in a fresh process: the first call (worker start-up and imports
  included) and a repeat of it (workers warm);
- backends: warm fit seconds of ``mlk (0.5)`` on each Keras backend installed
  (TensorFlow, JAX, PyTorch), each in fresh processes run in alternating
  rounds, with the spread over rounds;
- load: warm fit seconds of ``mlk (0.5)`` on TensorFlow and PyTorch while
  ``LOAD_PROCESSES`` other processes keep every core busy (NumPy products),
  PyTorch with the library's thread settings (one intra-op thread for this
  small network) and with ``OMP_NUM_THREADS`` set to the cores (a pool as
  wide as the machine); ``LOAD_ROUNDS`` fresh processes each, median and
  range; ratios to the same fits without the load, measured in the same run
  (the backends section);
- import: seconds of ``import sklearn_mlk`` against ``import sklearn.base``
  and ``import keras``, each the median over fresh interpreters;
- builders: seconds per fit of the tour's grid example, its model callable
  returning a ``keras.Sequential`` against the same network built
  functionally, in one process;
- sparse: peak resident memory of one fit on a 1e6 x 1e5 CSR matrix with 10
  non-zeros per row (0.01% dense; densified it would take 400 GB), loaded
  from disk in a fresh process; one epoch at batch 1024 (``--quick``: 1e5 x
  1e5).

The estimator at its defaults against MLPClassifier with early stopping, on
three sets and side by side in one process, is ``benchmarks/cost.py``.

Models run one after another, each in a fresh process, so peak memory is the
model's own and no two models share the cores. Timings are also given as
ratios to MLPClassifier measured in the same run. Writes
benchmarks/results/speed{,_quick}.{md,json}.
"""

import argparse
import gc
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import report  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
MODELS = ("MLPClassifier", "scikeras (0.5)", "mlk (0.5)", "mlk macro-F1 thresholds",
          "OvR(LogReg)")
REFERENCE = "MLPClassifier"
EPOCHS = 20
GRID_FOLDS = 5
SECTIONS = ("grid", "import", "sparse", "builders", "backends", "load")
BACKENDS = ("tensorflow", "jax", "torch")
BACKEND_ROUNDS = 3
# The load section: busy processes beside the fits, and the fits' settings.
LOAD_PROCESSES = 2
LOAD_FITS = 2
LOAD_TIMEOUT = 600
LOAD_ROUNDS = 2
LOAD_RUNS = {
    "tensorflow": {"KERAS_BACKEND": "tensorflow"},
    "torch": {"KERAS_BACKEND": "torch"},
    f"torch, OMP_NUM_THREADS={os.cpu_count()}": {"KERAS_BACKEND": "torch",
                                                 "OMP_NUM_THREADS": str(os.cpu_count())},
}
_BUSY = ("import numpy as np; a = np.random.rand(400, 400)\n"
         "while True: a @ a")
# The tour's grid example: a model callable, 400 x 20 data, 30 epochs.
BUILDER_FITS = 10
LEARNING_RATES = [3e-4, 1e-3, 3e-3, 1e-2]
# Each model's learning-rate parameter inside peers.make's pipeline.
GRIDS = {
    "MLPClassifier": "mlpclassifier__learning_rate_init",
    "scikeras (0.5)": "kerasclassifier__optimizer__learning_rate",
    "mlk (0.5)": "kerasmultilabelclassifier__learning_rate",
}
IMPORTS = ("sklearn.base", "sklearn_mlk", "keras")
SPARSE_MODELS = ("mlk (0.5)", "mlk macro-F1 thresholds", "MLPClassifier")
SPARSE_BATCH = 1024
PREDICTION_FIGURES = ("latency_median_ms", "latency_p90_ms", "rows_per_second")


def _peak_rss_mb():
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _yeast():
    import datasets

    X, Y, splits = datasets.load("yeast")
    train, test = splits[0]
    return X[train].astype(np.float32), Y[train], X[test].astype(np.float32)


def measure(name, calls, fits):
    """All figures of one model, in this process."""
    import peers

    X_train, Y_train, rows = _yeast()
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    model = peers.make(name, epochs=EPOCHS).fit(X_train, Y_train)
    fit_seconds = time.perf_counter() - start
    figures = _prediction_figures(model, rows, calls)

    rss, warm_fits = [], []
    for _ in range(fits):
        start = time.perf_counter()
        model = peers.make(name, epochs=EPOCHS).fit(X_train, Y_train)
        warm_fits.append(time.perf_counter() - start)
        model.predict_proba(rows[:1])
        del model
        gc.collect()
        rss.append(report.rss_mb())
    return {
        "fit_seconds": fit_seconds,
        "warm_fit_seconds": float(np.median(warm_fits)) if warm_fits else fit_seconds,
        **figures,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_growth_mb": rss[-1] - rss[0] if len(rss) > 1 else 0.0,
        "fits": fits,
    }


def predict_only(name, calls):
    """The prediction figures of one model, fitted in this process."""
    import peers

    X_train, Y_train, rows = _yeast()
    warnings.simplefilter("ignore")
    model = peers.make(name, epochs=EPOCHS).fit(X_train, Y_train)
    return _prediction_figures(model, rows, calls)


def _prediction_figures(model, rows, calls):
    model.predict_proba(rows[:1])  # first call may build caches
    latencies = []
    for i in range(calls):
        row = rows[i % len(rows): i % len(rows) + 1]
        t = time.perf_counter()
        model.predict_proba(row)
        latencies.append(time.perf_counter() - t)
    batch = np.resize(rows, (10_000, rows.shape[1]))
    for _ in range(2):  # the first calls may map fresh memory
        model.predict_proba(batch)
    batch_seconds = []
    for _ in range(15):
        t = time.perf_counter()
        model.predict_proba(batch)
        batch_seconds.append(time.perf_counter() - t)
    return {
        "latency_median_ms": 1e3 * float(np.median(latencies)),
        "latency_p90_ms": 1e3 * float(np.percentile(latencies, 90)),
        "rows_per_second": len(batch) / float(np.median(batch_seconds)),
    }


def best_of(processes):
    """Each prediction figure at its best over fresh processes, and all of them.

    The same code runs at one speed in one process and up to twice as slow
    in another on some machines (every model alike, even a scaler's
    ``transform`` alone), so one process per model can compare a fast
    process with a slow one.
    """
    best = min(processes, key=lambda r: r["latency_median_ms"])
    return {
        "latency_median_ms": best["latency_median_ms"],
        "latency_p90_ms": best["latency_p90_ms"],
        "rows_per_second": max(r["rows_per_second"] for r in processes),
        "prediction_processes": processes,
    }


def grid_search(name, n_jobs):
    """Seconds of a first GridSearchCV call and of a repeat, in this process."""
    import peers
    from sklearn.model_selection import GridSearchCV, KFold

    X_train, Y_train, _ = _yeast()
    warnings.simplefilter("ignore")
    search = GridSearchCV(
        peers.make(name, epochs=EPOCHS), {GRIDS[name]: LEARNING_RATES},
        cv=KFold(GRID_FOLDS, shuffle=True, random_state=0), scoring="f1_macro",
        n_jobs=n_jobs,
    )
    seconds = []
    for _ in range(2):
        start = time.perf_counter()
        if n_jobs == "dask":
            _on_dask(search, X_train, Y_train)
        else:
            search.fit(X_train, Y_train)
        seconds.append(time.perf_counter() - start)
    return {"first_seconds": seconds[0], "repeat_seconds": seconds[1]}


_CLUSTER = {}


def _on_dask(search, X, Y):
    """Fit ``search`` on a LocalCluster of 2 worker processes (started by the
    first call, its start-up timed there), through joblib's dask backend."""
    import joblib
    from distributed import Client, LocalCluster

    if not _CLUSTER:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        _CLUSTER["client"] = Client(cluster)
    search.set_params(n_jobs=-1)
    with joblib.parallel_backend("dask"):
        search.fit(X, Y)


def backend_fits(fits):
    """Seconds of the first and the warm fits of ``mlk (0.5)`` on the Keras
    backend of this process (KERAS_BACKEND)."""
    import keras
    import peers

    X_train, Y_train, _ = _yeast()
    warnings.simplefilter("ignore")
    seconds = []
    for _ in range(fits + 1):
        start = time.perf_counter()
        peers.make("mlk (0.5)", epochs=EPOCHS).fit(X_train, Y_train)
        seconds.append(time.perf_counter() - start)
    return {"backend": keras.backend.backend(), "first_seconds": seconds[0],
            "warm_fit_seconds": float(np.median(seconds[1:]))}


def import_seconds(module, repeats):
    """Median seconds of ``import module`` in fresh interpreters."""
    code = ("import time; t = time.perf_counter(); import {}; "
            "print(time.perf_counter() - t)").format(module)
    seconds = []
    for _ in range(repeats):
        result = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                text=True, check=True)
        seconds.append(float(result.stdout.strip().splitlines()[-1]))
    return float(np.median(seconds))


def sparse_shape(quick):
    return (100_000 if quick else 1_000_000), 100_000


def write_sparse_set(path, quick):
    """Save the sparse problem (10 non-zeros per row, 20 labels) to ``path``."""
    import scipy.sparse as sp
    from scaling import sparse_set

    n_samples, n_features = sparse_shape(quick)
    X, Y = sparse_set(n_samples, n_features, 20, nnz_per_row=10)
    sp.save_npz(path / "X.npz", X, compressed=False)
    np.save(path / "Y.npy", Y)


def sparse_fit(name, path):
    """Peak memory of one fit on the saved sparse problem, in this process."""
    import peers
    import scipy.sparse as sp

    X = sp.load_npz(path / "X.npz").tocsr()
    Y = np.load(path / "Y.npy")
    warnings.simplefilter("ignore")
    model = peers.make(name, epochs=1, scale=False)
    model.set_params(batch_size=SPARSE_BATCH)
    before = report.rss_mb()
    start = time.perf_counter()
    model.fit(X, Y)
    seconds = time.perf_counter() - start
    model.predict_proba(X[:10_000])
    return {
        "shape": list(X.shape), "nnz": int(X.nnz),
        "data_mb": (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20,
        "rss_before_fit_mb": before, "peak_rss_mb": _peak_rss_mb(),
        "fit_seconds": seconds,
    }


def run_in_subprocess(*args, env=None, timeout=None):
    command = [sys.executable, __file__, "--one", json.dumps(args)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                env=None if env is None else {**os.environ, **env})
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout} s"}
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1][:300]
                if result.stderr.strip() else f"exit {result.returncode}"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def _build_sequential(meta, units):
    import keras

    return keras.Sequential([
        keras.Input((meta["n_features_in_"],)),
        keras.layers.Dense(units, activation="relu"),
        keras.layers.Dense(meta["n_labels_"], activation="sigmoid"),
    ])


def _build_functional(meta, units):
    import keras

    inputs = keras.Input((meta["n_features_in_"],))
    hidden = keras.layers.Dense(units, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"],
                                                  activation="sigmoid")(hidden))


def builder_fits(fits):
    """Per-fit seconds of the tour's model callable, written as a
    Sequential and as a functional model, alternating in one process."""
    from sklearn.datasets import make_multilabel_classification

    from sklearn_mlk import KerasMultiLabelClassifier

    warnings.simplefilter("ignore")
    X, Y = make_multilabel_classification(400, 20, n_classes=5, random_state=0)
    builders = {"Sequential": _build_sequential, "functional": _build_functional}
    times = {name: [] for name in builders}
    for i in range(fits + 1):  # the first round traces: not timed
        for name, build in builders.items():
            start = time.perf_counter()
            KerasMultiLabelClassifier(model=build, model__units=64, epochs=30,
                                      random_state=i).fit(X, Y)
            if i:
                times[name].append(time.perf_counter() - start)
    return {name: {"median_seconds": float(np.median(t)), "seconds": t}
            for name, t in times.items()}


def _one(args):
    """Run one measurement named by the parent process."""
    kind, *rest = args
    if kind == "model":
        return measure(*rest)
    if kind == "builders":
        return builder_fits(*rest)
    if kind == "predict":
        return predict_only(*rest)
    if kind == "grid":
        return grid_search(*rest)
    if kind == "backend":
        return backend_fits(*rest)
    return sparse_fit(rest[0], pathlib.Path(rest[1]))


def _installed(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


def run_sections(sections, quick, models=tuple(GRIDS)):
    out = {}
    if "grid" in sections:
        out["grid"] = {}
        for name in [m for m in GRIDS if m in models]:
            r = {f"n_jobs={n}": run_in_subprocess("grid", name, n) for n in (1, 2)}
            if _installed("distributed"):
                r["dask"] = run_in_subprocess("grid", name, "dask")
            out["grid"][name] = r
            print(f"grid     {name:24} " + "  ".join(
                f"{k}: {v.get('error') or format(v['repeat_seconds'], '.1f') + 's'}"
                for k, v in r.items()), flush=True)
    if "backends" in sections:
        installed = [b for b in BACKENDS if _installed(b)]
        runs = {b: [] for b in installed}
        for _ in range(1 if quick else BACKEND_ROUNDS):
            for backend in installed:  # alternating: each round sees the same load
                runs[backend].append(run_in_subprocess(
                    "backend", 2 if quick else 10, env={"KERAS_BACKEND": backend}))
        out["backends"] = runs
        print("backends " + "  ".join(
            f"{b} {np.median([r['warm_fit_seconds'] for r in rs if 'error' not in r]):.2f}s"
            for b, rs in runs.items()), flush=True)
    if "load" in sections:
        out["load"] = {}
        for name, env in LOAD_RUNS.items():
            if not _installed(env["KERAS_BACKEND"]):
                continue
            runs = []
            for _ in range(1 if quick else LOAD_ROUNDS):
                busy = [subprocess.Popen([sys.executable, "-c", _BUSY],
                                         env={**os.environ, "OMP_NUM_THREADS": "1"})
                        for _ in range(LOAD_PROCESSES)]
                try:
                    runs.append(run_in_subprocess(
                        "backend", 1 if quick else LOAD_FITS, env=env,
                        timeout=LOAD_TIMEOUT))
                finally:
                    for process in busy:
                        process.kill()
                        process.wait()
            out["load"][name] = runs
            print(f"load     {name:32} " + "  ".join(
                r.get("error") or f"{r['warm_fit_seconds']:.2f}s" for r in runs), flush=True)
    if "builders" in sections:
        out["builders"] = run_in_subprocess("builders", 3 if quick else BUILDER_FITS)
        print("builders " + "  ".join(
            f"{k} {v['median_seconds']:.2f}s" for k, v in out["builders"].items()
            if isinstance(v, dict)), flush=True)
    if "import" in sections:
        out["import"] = {m: import_seconds(m, 3 if quick else 7) for m in IMPORTS}
        print("import   " + "  ".join(f"{m} {s:.2f}s" for m, s in out["import"].items()),
              flush=True)
    if "sparse" in sections:
        out["sparse"] = {}
        with tempfile.TemporaryDirectory() as tmp:
            write_sparse_set(pathlib.Path(tmp), quick)
            for name in SPARSE_MODELS:
                r = run_in_subprocess("sparse", name, tmp)
                out["sparse"][name] = r
                print(f"sparse   {name:24} " + (r.get("error") or
                      f"peak {r['peak_rss_mb']:.0f} MB, fit {r['fit_seconds']:.1f}s"),
                      flush=True)
    return out


def markdown(results, meta):
    ref = results.get(REFERENCE, {})
    lines = [
        "# Speed and memory", "",
        f"Command: `{meta['command']}`  ",
        f"Machine: {meta['machine']}; {meta['date']}", "",
        f"yeast training split, {EPOCHS} epochs; one process per model, and the "
        f"prediction figures at their best over {meta['prediction_processes']} fresh "
        "processes per model. Ratios are "
        f"to {REFERENCE} in the same run (below 1 is faster for times).", "",
        "| model | first fit s | warm fit s | warm fit ratio "
        "| predict_proba 1 row median ms | p90 ms "
        "| latency ratio | rows/s, 10k batch | throughput ratio | peak RSS MB "
        f"| RSS growth over {meta['fits']} fits MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"| {name} | crashed: {r['error']} |" + " |" * 9)
            continue

        def ratio(key):
            return f"{r[key] / ref[key]:.2f}x" if ref.get(key) else "n/a"

        lines.append(
            f"| {name} | {r['fit_seconds']:.2f} | {r['warm_fit_seconds']:.2f} "
            f"| {ratio('warm_fit_seconds')} "
            f"| {r['latency_median_ms']:.3f} | {r['latency_p90_ms']:.3f} "
            f"| {ratio('latency_median_ms')} | {r['rows_per_second']:,.0f} "
            f"| {ratio('rows_per_second')} | {r['peak_rss_mb']:.0f} "
            f"| {r['rss_growth_mb']:+.1f} |"
        )
    return "\n".join(lines) + "\n"


def sections_markdown(sections):
    lines = []
    grid = sections.get("grid")
    if grid:
        lines += [
            "", f"GridSearchCV, {len(LEARNING_RATES)} learning rates x 5 folds on yeast, "
            "each setting in a fresh process. Speed-up is n_jobs=1 seconds over "
            "n_jobs=2 seconds (above 1: parallel is faster).", "",
            "| model | n_jobs=1 first s | n_jobs=2 first s | speed-up first "
            "| n_jobs=1 repeat s | n_jobs=2 repeat s | speed-up repeat |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, r in grid.items():
            one, two = r["n_jobs=1"], r["n_jobs=2"]
            if "error" in one or "error" in two:
                lines.append(f"| {name} | crashed: {one.get('error') or two.get('error')} |"
                             + " |" * 5)
                continue
            lines.append(
                f"| {name} | {one['first_seconds']:.1f} | {two['first_seconds']:.1f} "
                f"| {one['first_seconds'] / two['first_seconds']:.2f}x "
                f"| {one['repeat_seconds']:.1f} | {two['repeat_seconds']:.1f} "
                f"| {one['repeat_seconds'] / two['repeat_seconds']:.2f}x |"
            )
        dask = {name: r["dask"] for name, r in grid.items() if "dask" in r}
        if dask:
            lines += ["", "The same search on a Dask LocalCluster of 2 worker processes "
                      "(1 thread each) through joblib's dask backend; ratio to n_jobs=1 "
                      "(below 1: faster).", "",
                      "| model | dask first s | dask repeat s | repeat ratio to n_jobs=1 |",
                      "|---|---|---|---|"]
            for name, r in dask.items():
                one = grid[name]["n_jobs=1"]
                if "error" in r or "error" in one:
                    lines.append(f"| {name} | crashed: {r.get('error') or one.get('error')} "
                                 "| | |")
                    continue
                lines.append(f"| {name} | {r['first_seconds']:.1f} "
                             f"| {r['repeat_seconds']:.1f} "
                             f"| {r['repeat_seconds'] / one['repeat_seconds']:.2f}x |")
    backends = sections.get("backends")
    if backends:
        reference = [r["warm_fit_seconds"] for r in backends.get("tensorflow", [])
                     if "error" not in r]
        lines += ["", f"Keras backends: `mlk (0.5)` on yeast, {EPOCHS} epochs; warm fit "
                  "seconds, the median over fits in one fresh process per backend and "
                  "round (rounds alternate the backends), median and range over "
                  "rounds; ratio of medians to TensorFlow.", "",
                  "| backend | first fit s | warm fit s (median) | range over rounds "
                  "| ratio to TensorFlow |", "|---|---|---|---|---|"]
        for backend, runs in backends.items():
            ok = [r for r in runs if "error" not in r]
            if not ok:
                lines.append(f"| {backend} | crashed: {runs[0]['error']} | | | |")
                continue
            warm = [r["warm_fit_seconds"] for r in ok]
            first = np.median([r["first_seconds"] for r in ok])
            ratio = (f"{np.median(warm) / np.median(reference):.2f}x" if reference
                     else "n/a")
            lines.append(f"| {backend} | {first:.2f} | {np.median(warm):.3f} "
                         f"| {min(warm):.3f} to {max(warm):.3f} | {ratio} |")
    load = sections.get("load")
    if load:
        quiet = {b: np.median([r["warm_fit_seconds"] for r in runs if "error" not in r])
                 for b, runs in (backends or {}).items()
                 if any("error" not in r for r in runs)}
        lines += ["", f"Under load: the same warm fits while {LOAD_PROCESSES} other "
                  "processes keep every core busy; ratio to the backend's median "
                  "without load above.", "",
                  "| backend and settings | warm fit s under load (median) | range over "
                  "processes | ratio to no load |",
                  "|---|---|---|---|"]
        for name, runs in load.items():
            ok = [r["warm_fit_seconds"] for r in runs if "error" not in r]
            if not ok:
                lines.append(f"| {name} | {runs[0]['error']} | | |")
                continue
            base = quiet.get(LOAD_RUNS.get(name, {}).get("KERAS_BACKEND"))
            ratio = f"{np.median(ok) / base:.1f}x" if base else "n/a"
            failed = len(runs) - len(ok)
            spread = f"{min(ok):.2f} to {max(ok):.2f}" + (f" ({failed} failed)" if failed else "")
            lines.append(f"| {name} | {np.median(ok):.2f} | {spread} | {ratio} |")
    builders = sections.get("builders")
    if builders and "error" not in builders:
        base = builders["functional"]["median_seconds"]
        lines += ["", "The tour's grid example (a model callable; 400 x 20 data, 30 "
                  "epochs): median seconds per fit over "
                  f"{len(builders['functional']['seconds'])} fits of each, alternating "
                  "in one process after one untimed round; ratio to the functional "
                  "model.", "", "| model callable returns | s per fit | ratio |",
                  "|---|---|---|"]
        lines += [f"| {'`keras.Sequential`' if k == 'Sequential' else 'a functional `keras.Model`'} "
                  f"| {v['median_seconds']:.3f} | {v['median_seconds'] / base:.2f}x |"
                  for k, v in builders.items()]
    elif builders:
        lines += ["", f"Builders section crashed: {builders['error']}"]
    imports = sections.get("import")
    if imports:
        base = imports["sklearn.base"]
        lines += ["", "Import time, median over fresh interpreters; ratio to "
                  "`import sklearn.base`.", "", "| import | seconds | ratio |",
                  "|---|---|---|"]
        lines += [f"| `import {m}` | {s:.2f} | {s / base:.2f}x |"
                  for m, s in imports.items()]
    sparse = sections.get("sparse")
    if sparse:
        first = next((r for r in sparse.values() if "shape" in r), None)
        if first:
            n, d = first["shape"]
            lines += ["", f"Sparse X: {n:,} x {d:,} CSR, {first['nnz']:,} non-zeros "
                      f"({first['data_mb']:.0f} MB as CSR; {n * d * 4 / 1e9:,.0f} GB "
                      f"as dense float32); one fit of 1 epoch at batch {SPARSE_BATCH}, "
                      "in a fresh process that loads the matrix.", "",
                      "| model | RSS before fit MB | peak RSS MB | fit s |",
                      "|---|---|---|---|"]
        for name, r in sparse.items():
            lines.append(f"| {name} | crashed: {r['error']} | | |" if "error" in r else
                         f"| {name} | {r['rss_before_fit_mb']:.0f} "
                         f"| {r['peak_rss_mb']:.0f} | {r['fit_seconds']:.1f} |")
    return "\n".join(lines) + ("\n" if lines else "")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--models", nargs="+", choices=MODELS)
    parser.add_argument("--calls", type=int, default=None)
    parser.add_argument("--fits", type=int, default=None)
    parser.add_argument("--processes", type=int, default=None,
                        help="fresh processes per model for the prediction figures")
    parser.add_argument("--skip", nargs="+", choices=SECTIONS, default=[],
                        help="sections not to run")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--name", default=None,
                        help="file stem of the report (default speed, speed_quick)")
    parser.add_argument("--update-readme", action="store_true",
                        help="write the table into docs/benchmarks.md")
    args = parser.parse_args(argv)
    calls = args.calls or (100 if args.quick else 300)
    fits = args.fits or (5 if args.quick else 50)
    processes = args.processes or (2 if args.quick else 5)
    if args.one:
        print(json.dumps(_one(json.loads(args.one))))
        return None
    names = list(args.models or MODELS)
    results = {name: run_in_subprocess("model", name, calls, fits) for name in names}
    # The further prediction processes run in rounds, one per model each, so
    # that every model's processes are spread over the run alike.
    measured = {name: [r] for name, r in results.items() if "error" not in r}
    for _ in range(processes - 1):
        for name, runs in measured.items():
            p = run_in_subprocess("predict", name, calls)
            if "error" not in p:
                runs.append(p)
    for name, r in results.items():
        if name in measured:
            r.update(best_of([{key: p[key] for key in PREDICTION_FIGURES}
                              for p in measured[name]]))
        print(f"{name:28} " + (r.get("error") or
              f"fit {r['fit_seconds']:.2f}s (warm {r['warm_fit_seconds']:.2f}s)  1 row {r['latency_median_ms']:.3f} ms  "
              f"{r['rows_per_second']:,.0f} rows/s  peak {r['peak_rss_mb']:.0f} MB  "
              f"growth {r['rss_growth_mb']:+.1f} MB"), flush=True)
    sections = run_sections([s for s in SECTIONS if s not in args.skip], args.quick, names)
    meta = report.run_meta("speed.py", argv, fits=fits, calls=calls,
                           prediction_processes=processes)
    stem = args.name or ("speed_quick" if args.quick else "speed")
    text = markdown(results, meta) + sections_markdown(sections)
    report.write(args.out, stem, meta, {"models": results, **sections}, text)
    if args.update_readme:
        import tables

        tables.update("speed-summary", {"models": results, **sections}, meta)
    return results


if __name__ == "__main__":
    main()
