"""How fit time grows with samples, features and labels, on generated data.

    python benchmarks/scaling.py            # up to 1e5 samples, 1e5 features, 1000 labels
    python benchmarks/scaling.py --quick    # small sizes only, a minute or two
    python benchmarks/scaling.py --max-samples 1000000

Three sweeps, each from a base problem, one model at a time:

- samples: dense ``make_multilabel_classification`` data (100 features, 20 labels);
- features: sparse, TF-IDF-shaped CSR data (about 50 non-zeros per row,
  10,000 rows, 20 labels);
- labels: the same sparse data with 10,000 features and more labels.

Models: our estimator at a fixed 0.5 (the network alone) and with its default
learned thresholds, MLPClassifier and OvR(LogReg); the neural models run 5
epochs. A model whose previous size took over ``--budget`` seconds is not run
at larger sizes (reported as skipped). Writes
benchmarks/results/scaling{,_quick}.{md,json}.
"""

import argparse
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

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
EPOCHS = 5
MODELS = ("mlk (0.5)", "mlk macro-F1 thresholds", "MLPClassifier", "OvR(LogReg)")


def dense_set(n_samples, n_features=100, n_labels=20, seed=0):
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(
        n_samples=n_samples, n_features=n_features, n_classes=n_labels,
        n_labels=3, random_state=seed,
    )
    return X.astype(np.float32), Y


def sparse_set(n_samples, n_features, n_labels, nnz_per_row=50, seed=0):
    """A TF-IDF-shaped CSR matrix (non-negative, rows of unit norm) and labels
    driven by a sparse set of indicative features."""
    rng = np.random.default_rng(seed)
    nnz = min(nnz_per_row, n_features)
    # Zipf-like term frequencies: a few common terms, many rare ones.
    weights = 1.0 / np.arange(1, n_features + 1)
    weights /= weights.sum()
    cols = rng.choice(n_features, size=(n_samples, nnz), p=weights)
    cols.sort(axis=1)
    data = rng.random((n_samples, nnz)).astype(np.float32) + 0.1
    X = sp.csr_matrix((data.ravel(), cols.ravel(), np.arange(0, n_samples * nnz + 1, nnz)),
                      shape=(n_samples, n_features))
    X.sum_duplicates()
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
    X = sp.diags(1.0 / np.maximum(norms, 1e-12)) @ X
    W = sp.random(n_features, n_labels, density=min(1.0, 20 / n_features),
                  random_state=seed, format="csr", dtype=np.float32)
    scores = np.asarray((X @ W).todense()) + 0.02 * rng.standard_normal((n_samples, n_labels))
    Y = (scores > np.quantile(scores, 0.9, axis=0)).astype(np.int8)
    return X.tocsr().astype(np.float32), Y


def time_fit(name, X, Y):
    import peers

    warnings.simplefilter("ignore")
    model = peers.make(name, epochs=EPOCHS, scale=False)  # sparse input stays sparse
    start = time.perf_counter()
    model.fit(X, Y)
    return time.perf_counter() - start


def sweeps(quick, max_samples):
    if quick:
        return {
            "samples": [("dense", n, 100, 20) for n in (1_000, 3_000)],
            "features": [("sparse", 2_000, d, 20) for d in (1_000, 10_000)],
            "labels": [("sparse", 2_000, 10_000, n) for n in (10, 100)],
        }
    samples = [n for n in (1_000, 10_000, 100_000, 1_000_000) if n <= max_samples]
    return {
        "samples": [("dense", n, 100, 20) for n in samples],
        "features": [("sparse", 10_000, d, 20) for d in (1_000, 10_000, 100_000)],
        "labels": [("sparse", 10_000, 10_000, n) for n in (10, 100, 1000)],
    }


def run(quick, max_samples, budget, models):
    for name in models:  # start-up costs (TensorFlow, tracing) are not fit time
        time_fit(name, *dense_set(200, 10, 3))
    results = {}
    for axis, points in sweeps(quick, max_samples).items():
        results[axis] = []
        over = set()
        for kind, n, d, labels in points:
            X, Y = (dense_set(n, d, labels) if kind == "dense"
                    else sparse_set(n, d, labels))
            row = {"kind": kind, "n_samples": n, "n_features": d, "n_labels": labels,
                   "fit_seconds": {}}
            for name in models:
                if name in over:
                    row["fit_seconds"][name] = None
                    continue
                try:
                    seconds = time_fit(name, X, Y)
                except Exception as exc:  # reported, not fatal
                    row.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"[:200]
                    over.add(name)
                    continue
                row["fit_seconds"][name] = seconds
                if seconds > budget:
                    over.add(name)
            results[axis].append(row)
            shown = "  ".join(f"{m} {s:.1f}s" if s is not None else f"{m} skipped"
                              for m, s in row["fit_seconds"].items())
            print(f"{axis:8} {kind:6} n={n:<8} d={d:<7} L={labels:<5} {shown}", flush=True)
    return results


def markdown(results, meta):
    lines = ["# Fit time scaling", "", f"Command: `{meta['command']}`  ",
             f"Machine: {meta['machine']}; {meta['date']}; {EPOCHS} epochs for the "
             f"neural models; skipped: over the {meta['budget']} s budget at a smaller "
             "size.", ""]
    for axis, rows in results.items():
        models = list(rows[0]["fit_seconds"]) if rows else []
        lines += [f"## {axis}", "", "| data | samples | features | labels | "
                  + " | ".join(f"{m} s" for m in models) + " |",
                  "|---|---|---|---|" + "---|" * len(models)]
        for r in rows:
            cells = []
            for m in models:
                s = r["fit_seconds"].get(m)
                cells.append(r.get("errors", {}).get(m, "skipped") if s is None
                             else f"{s:.2f}")
            lines.append(f"| {r['kind']} | {r['n_samples']:,} | {r['n_features']:,} | "
                         f"{r['n_labels']:,} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--max-samples", type=int, default=100_000)
    parser.add_argument("--budget", type=float, default=300.0)
    parser.add_argument("--models", nargs="+", choices=MODELS)
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    results = run(args.quick, args.max_samples, args.budget, args.models or MODELS)
    meta = report.run_meta("scaling.py", argv, budget=args.budget, epochs=EPOCHS)
    stem = "scaling_quick" if args.quick else "scaling"
    report.write(args.out, stem, meta, results, markdown(results, meta))
    return results


if __name__ == "__main__":
    main()
