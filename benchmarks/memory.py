"""A fit's measured peak memory against the estimate its memory check uses.

    python benchmarks/memory.py                   # every case
    python benchmarks/memory.py --quick           # the three smallest cases
    python benchmarks/memory.py --update-readme   # also the docs' table
    python benchmarks/memory.py --from-json --update-readme  # the saved run's

Each case fits one estimator, one epoch, in a fresh process, on a sparse
TF-IDF-shaped matrix (50 non-zeros per row) or dense data, 20 labels:

- the default estimator (a 5-fold ensemble of fold networks trained side by
  side) and a single network (``threshold=0.5``), at 10^3 to 10^5 features;
- the peak growth is the process's peak resident memory after the fit
  (``ru_maxrss``) minus its resident memory just before it, with the data
  already loaded;
- the estimate is :func:`sklearn_mlk._memory.estimate` of the fitted
  network's weights and the number of networks trained at once.

A ratio of measured to estimated growth at or below 1 means the check would
have refused no fit that fits. Writes ``results/memory.{json,md}``.
"""

import argparse
import json
import pathlib
import subprocess
import sys

import report

CASES = [
    # (name, n_samples, n_features, sparse, threshold)
    ("default, 1e3 dense features", 2000, 1_000, False, "f1"),
    ("0.5, 1e4 sparse features", 2000, 10_000, True, 0.5),
    ("default, 1e4 sparse features", 2000, 10_000, True, "f1"),
    ("0.5, 1e5 sparse features", 2000, 100_000, True, 0.5),
    ("default, 3e4 sparse features", 2000, 30_000, True, "f1"),
    ("default, 1e5 sparse features", 2000, 100_000, True, "f1"),
]

_CHILD = """
import json, resource, sys, warnings
warnings.simplefilter("ignore")
import numpy as np, psutil
sys.path.insert(0, "benchmarks")
from scaling import dense_set, sparse_set
from sklearn_mlk import KerasMultiLabelClassifier
from sklearn_mlk import _memory

n, d, sparse, threshold = json.loads(sys.argv[1])
X, Y = sparse_set(n, d, 20) if sparse else dense_set(n, d, 20)
est = KerasMultiLabelClassifier(epochs=1, threshold=threshold, random_state=0,
                                memory_limit=None)
before = psutil.Process().memory_info().rss
est.fit(X, Y)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
members = [layer for layer in est.model_.layers if hasattr(layer, "count_params")
           and hasattr(layer, "layers")]
n_weights = members[0].count_params() if members else est.model_.count_params()
n_networks = max(len(members), 1)
print(json.dumps({"before": before, "peak": peak, "n_weights": n_weights,
                  "n_networks": n_networks,
                  "estimate": _memory.estimate(n_weights, n_networks),
                  "weight_bytes": 4 * n_weights * n_networks}))
"""


def run_case(n, d, sparse, threshold):
    out = subprocess.run([sys.executable, "-c", _CHILD, json.dumps([n, d, sparse, threshold])],
                         check=True, capture_output=True, text=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["growth"] = result["peak"] - result["before"]
    result["ratio"] = result["growth"] / result["estimate"]
    return result


def table(results):
    """The results as Markdown, for the report and the docs."""
    mb = 2**20
    start = min(r["growth"] for r in results)
    lines = [
        "Growth past start-up is the growth less the smallest case's "
        f"({start / mb:.0f} MB: the backend's start-up and compilation, which every "
        "first fit in a process pays), per byte of weights.", "",
        "| case | networks x weights | weights MB | measured growth MB | estimate MB "
        "| measured / estimate | growth past start-up / weights |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['case']} | {r['n_networks']} x {r['n_weights']:,} "
            f"| {r['weight_bytes'] / mb:.0f} | {r['growth'] / mb:.0f} "
            f"| {r['estimate'] / mb:.0f} | {r['ratio']:.2f} "
            f"| {(r['growth'] - start) / r['weight_bytes']:.1f} |")
    return lines


def block(results, meta):
    """The docs' memory table: the run's command and date, then the table."""
    return "\n".join([f"From `{meta['command']}` ({meta['date']}):", "", *table(results)])


def markdown(results, meta):
    lines = report.header("Peak memory of a fit against its estimate", meta) + table(results)
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(report.RESULTS))
    parser.add_argument("--update-readme", action="store_true",
                        help="replace the docs' memory table with this run's")
    parser.add_argument("--from-json", action="store_true",
                        help="render the saved results/memory.json instead of running")
    args = parser.parse_args(argv)
    stem = "memory_quick" if args.quick else "memory"
    if args.from_json:
        saved = json.loads((pathlib.Path(args.out) / f"{stem}.json").read_text())
        results, meta = saved["results"], saved["meta"]
    else:
        results, meta = run(CASES[:3] if args.quick else CASES), report.run_meta(
            "memory.py", argv)
        report.write(args.out, stem, meta, results, markdown(results, meta))
    if args.update_readme:
        import tables

        tables.update("memory", results, meta)


def run(cases):
    results = []
    for name, n, d, sparse, threshold in cases:
        result = dict(case=name, **run_case(n, d, sparse, threshold))
        print(f"{name}: growth {result['growth'] / 2**20:.0f} MB, estimate "
              f"{result['estimate'] / 2**20:.0f} MB ({result['ratio']:.2f})", flush=True)
        results.append(result)
    return results


if __name__ == "__main__":
    main()
