"""The default's cost against MLPClassifier(256, early stopping), side by side.

    python benchmarks/cost.py                 # 5 rounds, 50 fits for memory
    python benchmarks/cost.py --quick         # 2 rounds, 10 fits

Both models at their defaults as a user writes them, behind a scaler
(``StandardScaler``; ``MaxAbsScaler`` for sparse X):
``KerasMultiLabelClassifier()`` against
``MLPClassifier(hidden_layer_sizes=(256,), early_stopping=True, max_iter=300)``,
the configuration of the peer whose quality the default is compared with.
Beside them, for the warm fits and predictions, the two schemes that
predict through one network: the cheapest, one network on a hold-out
(``KerasMultiLabelClassifier(threshold_cv=0.2, refit=False)``), and the
default's five fold networks kept as the mean of their weights
(``KerasMultiLabelClassifier(refit="average")``).

- warm fit seconds on three sets: yeast's training split (1500 x 103, 14
  labels); ``make_multilabel_classification(2000, 50, n_classes=10,
  random_state=0)``; and a sparse set of 12,000 x 500 binary features with 22
  labels (``make_multilabel_classification(12000, 500, n_classes=22,
  sparse=True, random_state=0)``, each count turned into 1: word presence).
  One process, one untimed fit of each model first, then ``--rounds`` rounds
  in which they fit one after the other (in turn first), so all see the same
  load. The report gives each model's median and range, the ratio of the
  medians to MLPClassifier's, and the range of the default's per-round
  ratios;
- on yeast, ``predict_proba`` latency of one row (median of ``CALLS`` calls)
  and rows per second on a 10,000-row batch (median of 15 calls), in the same
  process, the models fitted there;
- resident memory growth over ``--fits`` fits of the default on yeast in a
  fresh process (after the last fit minus after the first, and the highest
  after any fit), MLPClassifier's beside it, in ``MEMORY_RUNS`` processes
  each (the allocator's layout differs from one process to the next): the
  median and range of the growth, and the highest reading of any. Beside it,
  the growth of the memory the C allocator holds in use (``report.heap_mb``,
  where glibc tells it): a leak grows both, while free memory the allocator
  keeps for reuse grows only the resident size;
- the first fit in a fresh process (imports done, data loaded), against
  scikeras's ``KerasClassifier`` with the quality benchmark's settings
  (``benchmarks/peers.py``), ``--rounds`` fresh processes each, alternating.

Writes benchmarks/results/cost{,_quick}.{md,json}.
"""

import argparse
import gc
import json
import os
import pathlib
import subprocess
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import report  # noqa: E402

SETS = ("yeast", "2000 x 50 dense", "12,000 x 500 sparse binary")
DEFAULT = "KerasMultiLabelClassifier()"
HOLDOUT = "KerasMultiLabelClassifier(threshold_cv=0.2, refit=False)"
AVERAGE = "KerasMultiLabelClassifier(refit='average')"
MLP = "MLPClassifier(256, early stopping)"
SCIKERAS = "scikeras KerasClassifier"
# The models of the warm fits and predictions.
TIMED = (DEFAULT, MLP, HOLDOUT, AVERAGE)
# The schemes beside the default, each with its label in the tables.
ONE_NETWORK = {"hold-out": HOLDOUT, "averaged": AVERAGE}
CALLS = 300
# Fresh processes per model for the memory figures (1 with --quick).
MEMORY_RUNS = 3
BATCH_ROWS = 10_000


def load(name):
    """``(X, Y)`` of one of :data:`SETS`."""
    from sklearn.datasets import make_multilabel_classification

    if name == "yeast":
        import datasets

        X, Y, splits = datasets.load("yeast")
        train = splits[0][0]
        return X[train], Y[train]
    if name == SETS[1]:
        return make_multilabel_classification(2000, 50, n_classes=10, random_state=0)
    X, Y = make_multilabel_classification(12_000, 500, n_classes=22, sparse=True,
                                          return_indicator="dense", random_state=0)
    X.data[:] = 1.0
    return X.tocsr(), Y


def make(model, sparse, seed):
    """One of the models behind its scaler."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler, StandardScaler

    from sklearn_mlk import KerasMultiLabelClassifier

    scaler = MaxAbsScaler() if sparse else StandardScaler()
    if model == DEFAULT:
        return make_pipeline(scaler, KerasMultiLabelClassifier(random_state=seed))
    if model == HOLDOUT:
        return make_pipeline(scaler, KerasMultiLabelClassifier(
            threshold_cv=0.2, refit=False, random_state=seed))
    if model == AVERAGE:
        return make_pipeline(scaler, KerasMultiLabelClassifier(refit="average",
                                                               random_state=seed))
    return make_pipeline(scaler, MLPClassifier(hidden_layer_sizes=(256,),
                                               early_stopping=True, max_iter=300,
                                               random_state=seed))


def warm_fits(rounds):
    """Per set, each model's warm fit seconds, alternating in one process."""
    import scipy.sparse as sp

    warnings.simplefilter("ignore")
    out = {}
    for name in SETS:
        X, Y = load(name)
        sparse = sp.issparse(X)

        def timed(model, seed):
            start = time.perf_counter()
            make(model, sparse, seed).fit(X, Y)
            return time.perf_counter() - start

        times = report.alternating(TIMED, rounds, timed)
        out[name] = {"shape": list(X.shape), "labels": int(Y.shape[1]), "seconds": times}
        print(f"{name:28} " + "  ".join(f"{m} {np.median(t):.2f}s"
                                          for m, t in times.items()), flush=True)
    return out


def prediction(calls):
    """One-row latency and 10,000-row throughput of the models on yeast."""
    import datasets

    warnings.simplefilter("ignore")
    X, Y, splits = datasets.load("yeast")
    train, test = splits[0]
    rows = X[test]
    batch = np.resize(rows, (BATCH_ROWS, rows.shape[1]))
    models = {m: make(m, False, 0).fit(X[train], Y[train]) for m in TIMED}
    latency = {m: [] for m in models}
    throughput = {m: [] for m in models}
    for model in models.values():  # first calls build caches, map memory
        model.predict_proba(rows[:1])
        model.predict_proba(batch)
    for i in range(calls):
        row = rows[i % len(rows): i % len(rows) + 1]
        for name, model in models.items():
            start = time.perf_counter()
            model.predict_proba(row)
            latency[name].append(time.perf_counter() - start)
    for _ in range(15):
        for name, model in models.items():
            start = time.perf_counter()
            model.predict_proba(batch)
            throughput[name].append(BATCH_ROWS / (time.perf_counter() - start))
    return {m: {"latency_median_ms": 1e3 * float(np.median(latency[m])),
                "latency_p90_ms": 1e3 * float(np.percentile(latency[m], 90)),
                "rows_per_second": float(np.median(throughput[m]))} for m in models}


def memory(model, fits):
    """Resident memory after the first and the last of ``fits`` fits on yeast."""
    import datasets

    warnings.simplefilter("ignore")
    X, Y, splits = datasets.load("yeast")
    train = splits[0][0]
    rss, heap = [], []
    for i in range(fits):
        make(model, False, i).fit(X[train], Y[train]).predict_proba(X[:1])
        gc.collect()
        rss.append(report.rss_mb())
        heap.append(report.heap_mb())
    half = fits // 2
    return {"first_mb": rss[0], "last_mb": rss[-1], "growth_mb": rss[-1] - rss[0],
            "highest_mb": max(rss),
            "heap_growth_mb": None if heap[0] is None else heap[-1] - heap[0],
            # Over the second half of the fits: a leak grows as much there as
            # in the first half, caches filled by the first fits do not.
            "late_heap_growth_mb": None if heap[0] is None else heap[-1] - heap[half]}


def first_fit(model):
    """Seconds of the first fit in this (fresh) process, imports done."""
    import datasets
    import peers

    warnings.simplefilter("ignore")
    X, Y, splits = datasets.load("yeast")
    train = splits[0][0]
    if model == DEFAULT:
        estimator = make(DEFAULT, False, 0)
    else:
        estimator = peers.make("scikeras (0.5)", seed=0)
    import keras  # noqa: F401  (imported before the clock: only the fit is timed)

    start = time.perf_counter()
    estimator.fit(X[train], Y[train])
    return {"seconds": time.perf_counter() - start}



def _subprocess(*args):
    command = [sys.executable, __file__, "--one", json.dumps(args)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        return {"error": (result.stderr.strip().splitlines() or ["exit"])[-1][:300]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def _one(args):
    kind, *rest = args
    return {"warm": warm_fits, "prediction": prediction, "memory": memory,
            "first": first_fit}[kind](*rest)


def run(rounds, fits, calls, memory_runs):
    results = {"warm_fits": _subprocess("warm", rounds),
               "prediction": _subprocess("prediction", calls)}
    print("prediction " + json.dumps(results["prediction"]), flush=True)
    results["memory"] = {m: [_subprocess("memory", m, fits) for _ in range(memory_runs)]
                         for m in (DEFAULT, MLP)}
    print("memory " + json.dumps(results["memory"]), flush=True)
    first = {DEFAULT: [], SCIKERAS: []}
    for _ in range(rounds):
        for model in first:
            r = _subprocess("first", model)
            if "error" in r:
                raise SystemExit(f"first fit of {model}: {r['error']}")
            first[model].append(r["seconds"])
    results["first_fit"] = first
    print("first fit " + "  ".join(f"{m} {np.median(s):.2f}s" for m, s in first.items()))
    return results


def _median_and_range(values):
    """The cells of a growth's median and range over the processes that
    measured it; n/a where none did (no glibc)."""
    values = [v for v in values if v is not None]
    if not values:
        return "n/a | n/a"
    return f"{np.median(values):+.1f} | {min(values):+.1f} to {max(values):+.1f}"


def markdown(results, meta):
    lines = report.header("The default's cost", meta)
    warm = results["warm_fits"]
    lines += [
        f"Warm fits in one process, {meta['rounds']} rounds, the models one after "
        f"the other in each; `{DEFAULT}` against `MLPClassifier(hidden_layer_sizes="
        "(256,), early_stopping=True, max_iter=300)`, both behind a scaler. Ratio: "
        "the default's median over MLPClassifier's (at most 1.00x is the bar); per "
        "round: the range of the rounds' own ratios. Hold-out: one network, "
        f"`{HOLDOUT}`; averaged: `{AVERAGE}`; each with its ratio to MLPClassifier.", "",
        "| data (rows x features, labels) | default s | range | MLPClassifier s | range "
        "| ratio | per round | hold-out s | range | ratio | averaged s | range | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in warm.items():
        a, b = r["seconds"][DEFAULT], r["seconds"][MLP]
        rounds = np.array(a) / np.array(b)
        n, d = r["shape"]
        lines.append(f"| {name} ({n:,} x {d}, {r['labels']}) | "
                     f"{report.paired_cells(a, b)} "
                     f"| {rounds.min():.2f}x to {rounds.max():.2f}x | "
                     + " | ".join(f"{report.median_range(r['seconds'][m])} | "
                                  f"{np.median(r['seconds'][m]) / np.median(b):.2f}x"
                                  for m in ONE_NETWORK.values()) + " |")
    pred = results["prediction"]
    theirs = pred[MLP]
    lines += [
        "", "Predictions on yeast's test rows, the models fitted in one process; "
        f"`predict_proba` of one row (median and 90th percentile of {meta['calls']} "
        f"calls) and rows per second on a {BATCH_ROWS:,}-row batch (median of 15).", "",
        "| model | 1 row median ms | p90 ms | rows/s |", "|---|---|---|---|"]
    for name, r in pred.items():
        lines.append(f"| {name} | {r['latency_median_ms']:.3f} | {r['latency_p90_ms']:.3f} "
                     f"| {r['rows_per_second']:,.0f} |")
    for label, model in (("default", DEFAULT), *ONE_NETWORK.items()):
        mine = pred[model]
        lines.append(f"| ratio ({label} / MLPClassifier) | "
                     f"{mine['latency_median_ms'] / theirs['latency_median_ms']:.2f}x | "
                     f"{mine['latency_p90_ms'] / theirs['latency_p90_ms']:.2f}x | "
                     f"{mine['rows_per_second'] / theirs['rows_per_second']:.2f}x |")
    mem = results["memory"]
    runs = len(next(iter(mem.values())))
    lines += ["", f"Resident memory over {meta['fits']} fits on yeast, in {runs} fresh "
              "processes per model: the growth (after the last fit minus after the "
              "first), its median and range over the processes, and the highest "
              "reading after any fit above the first, the most of any process. "
              "Heap in use: the growth of the memory the C allocator has handed out "
              "and not had back (glibc's `mallinfo2`), over the same fits; a leak "
              "grows it, free memory kept for reuse does not. Its growth over the "
              "second half of the fits alone: a leak grows about half as much there "
              "as over all of them, caches that the first fits fill do not.", "",
              "| model | after first fit MB (median) | growth MB (median) | range "
              "| highest above first MB | heap in use growth MB (median) | range "
              "| second half MB (median) | range |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name, rs in mem.items():
        growth = [r["growth_mb"] for r in rs]
        heap_cells = " | ".join(
            _median_and_range([r.get(key) for r in rs])
            for key in ("heap_growth_mb", "late_heap_growth_mb"))
        lines.append(f"| {name} | {np.median([r['first_mb'] for r in rs]):.0f} "
                     f"| {np.median(growth):+.1f} | {min(growth):+.1f} to {max(growth):+.1f} "
                     f"| {max(r['highest_mb'] - r['first_mb'] for r in rs):.0f} "
                     f"| {heap_cells} |")
    first = results["first_fit"]
    a, b = first[DEFAULT], first[SCIKERAS]
    lines += ["", f"The first fit in a fresh process on yeast ({meta['rounds']} processes "
              "each, alternating; imports and data loading not timed), against scikeras's "
              "`KerasClassifier` as the quality benchmark configures it.", "",
              "| default s | range | scikeras s | range | ratio |", "|---|---|---|---|---|",
              f"| {report.paired_cells(a, b)} |"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--fits", type=int, default=None)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(report.RESULTS))
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(_one(json.loads(args.one))))
        return None
    rounds = args.rounds or (2 if args.quick else 5)
    fits = args.fits or (10 if args.quick else 50)
    calls = 100 if args.quick else CALLS
    memory_runs = 1 if args.quick else MEMORY_RUNS
    results = run(rounds, fits, calls, memory_runs)
    meta = report.run_meta("cost.py", argv, rounds=rounds, fits=fits, calls=calls,
                           memory_runs=memory_runs)
    stem = "cost_quick" if args.quick else "cost"
    report.write(args.out, stem, meta, results, markdown(results, meta))
    return results


if __name__ == "__main__":
    main()
