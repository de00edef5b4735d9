"""Speed and memory against the peers, each model in its own process.

    python benchmarks/speed.py                 # yeast, 50 repeated fits
    python benchmarks/speed.py --quick         # 5 repeated fits, fewer calls
    python benchmarks/speed.py --models "mlk (0.5)" MLPClassifier

Per model, on yeast's standard training split with 20 epochs (the neural
models: one hidden layer of 256, batch 64):

- fit seconds: the first fit in the process (start-up included) and the
  median of the repeated fits (warm);
- ``predict_proba`` latency for one row: median and 90th percentile over
  ``--calls`` calls;
- rows per second of ``predict_proba`` on a 10,000-row batch;
- peak resident memory of the process (fit and predictions included);
- resident memory growth over ``--fits`` consecutive fits in one process
  (memory after the last fit minus memory after the first).

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


def _rss_mb():
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _peak_rss_mb():
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def measure(name, calls, fits):
    """All figures of one model, in this process."""
    import datasets
    import peers

    X, Y, splits = datasets.load("yeast")
    train, test = splits[0]
    X_train, Y_train = X[train].astype(np.float32), Y[train]
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    model = peers.make(name, epochs=EPOCHS).fit(X_train, Y_train)
    fit_seconds = time.perf_counter() - start

    rows = X[test].astype(np.float32)
    model.predict_proba(rows[:1])  # first call may build caches
    latencies = []
    for i in range(calls):
        row = rows[i % len(rows): i % len(rows) + 1]
        t = time.perf_counter()
        model.predict_proba(row)
        latencies.append(time.perf_counter() - t)
    batch = np.resize(rows, (10_000, rows.shape[1]))
    model.predict_proba(batch)
    t = time.perf_counter()
    model.predict_proba(batch)
    rows_per_second = len(batch) / (time.perf_counter() - t)

    rss, warm_fits = [], []
    for _ in range(fits):
        start = time.perf_counter()
        model = peers.make(name, epochs=EPOCHS).fit(X_train, Y_train)
        warm_fits.append(time.perf_counter() - start)
        model.predict_proba(rows[:1])
        del model
        gc.collect()
        rss.append(_rss_mb())
    return {
        "fit_seconds": fit_seconds,
        "warm_fit_seconds": float(np.median(warm_fits)) if warm_fits else fit_seconds,
        "latency_median_ms": 1e3 * float(np.median(latencies)),
        "latency_p90_ms": 1e3 * float(np.percentile(latencies, 90)),
        "rows_per_second": rows_per_second,
        "peak_rss_mb": _peak_rss_mb(),
        "rss_growth_mb": rss[-1] - rss[0] if len(rss) > 1 else 0.0,
        "fits": fits,
    }


def run_in_subprocess(name, calls, fits):
    command = [sys.executable, __file__, "--one", name, "--calls", str(calls),
               "--fits", str(fits)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1][:300]
                if result.stderr.strip() else f"exit {result.returncode}"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def markdown(results, meta):
    ref = results.get(REFERENCE, {})
    lines = [
        "# Speed and memory", "",
        f"Command: `{meta['command']}`  ",
        f"Machine: {meta['machine']}; {meta['date']}", "",
        f"yeast training split, {EPOCHS} epochs; one process per model. Ratios are "
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--models", nargs="+", choices=MODELS)
    parser.add_argument("--calls", type=int, default=None)
    parser.add_argument("--fits", type=int, default=None)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--update-readme", action="store_true",
                        help="write the table into README.md")
    args = parser.parse_args(argv)
    calls = args.calls or (100 if args.quick else 300)
    fits = args.fits or (5 if args.quick else 50)
    if args.one:
        print(json.dumps(measure(args.one, calls, fits)))
        return None
    results = {}
    for name in args.models or MODELS:
        results[name] = run_in_subprocess(name, calls, fits)
        r = results[name]
        print(f"{name:28} " + (r.get("error") or
              f"fit {r['fit_seconds']:.2f}s (warm {r['warm_fit_seconds']:.2f}s)  1 row {r['latency_median_ms']:.3f} ms  "
              f"{r['rows_per_second']:,.0f} rows/s  peak {r['peak_rss_mb']:.0f} MB  "
              f"growth {r['rss_growth_mb']:+.1f} MB"), flush=True)
    meta = report.run_meta("speed.py", argv, fits=fits, calls=calls)
    stem = "speed_quick" if args.quick else "speed"
    report.write(args.out, stem, meta, results, markdown(results, meta))
    if args.update_readme:
        report.update_readme("speed-summary", markdown(results, meta).split("\n", 2)[2])
    return results


if __name__ == "__main__":
    main()
