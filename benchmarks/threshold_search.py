"""The exact threshold search without sample weights, against the weighted one.

    python benchmarks/threshold_search.py             # 3 rounds
    python benchmarks/threshold_search.py --rounds 5

Without sample weights, :func:`sklearn_mlk._thresholds.label_curves` counts
each label's rows and positives from sorts of the scores alone; with weights
it sorts the scores with a stable argsort that carries targets and weights
along. This times :func:`sklearn_mlk._thresholds.tune` both ways on the same
scores, in one process, alternating: unit weights, and weights of 2 (the
weighted search; every count doubles, so the F1-optimal thresholds are the
same, which the run checks).

The scores are ``sigmoid(logits)`` of a random target's signal, as float32
probabilities; five labels have only two positives, so the pooled search
over every score (a fallback for rare labels) runs too, as it does whenever
one label of many is rare. Shapes: yeast's (1,500 x 14) and larger label
spaces up to 10,000 x 1,000 (the pooled search then sorts ten million
scores).

Writes benchmarks/results/threshold_search.{md,json}.
"""

import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import report  # noqa: E402

SHAPES = ((1_500, 14), (10_000, 100), (2_000, 1_000), (10_000, 1_000))


def problem(n, n_labels, seed=0):
    """Scores (float32 probabilities, as float64), a 0/1 target and its rare labels."""
    rng = np.random.default_rng(seed)
    Y = (rng.random((n, n_labels)) < rng.uniform(0.01, 0.3, n_labels)).astype(np.float64)
    Y[:, -5:] = 0.0
    Y[:2, -5:] = 1.0  # rare labels: the pooled search runs
    logits = 1.5 * (Y - 0.5) + rng.normal(size=(n, n_labels))
    S = (1.0 / (1.0 + np.exp(-logits))).astype(np.float32).astype(np.float64)
    return S, Y


def time_search(S, Y, rounds):
    """Seconds of each round for unit weights and for weights of 2; checks
    that both give the same thresholds."""
    from sklearn_mlk._thresholds import tune

    n = S.shape[0]
    weights = {"unit": np.ones(n), "weighted": np.full(n, 2.0)}
    seconds = {name: [] for name in weights}
    tuned = {}
    for i in range(rounds):
        for name in (("unit", "weighted") if i % 2 == 0 else ("weighted", "unit")):
            start = time.perf_counter()
            tuned[name] = tune(S, Y, weights[name], "f1")
            seconds[name].append(time.perf_counter() - start)
    same = bool(np.array_equal(tuned["unit"].thresholds, tuned["weighted"].thresholds)
                and np.array_equal(tuned["unit"].status, tuned["weighted"].status))
    if not same:
        raise AssertionError("the two searches chose different thresholds")
    return seconds


def _cells(ms):
    """``median | low to high`` of milliseconds."""
    return f"{np.median(ms):,.1f} | {ms.min():,.1f} to {ms.max():,.1f}"


def markdown(results, meta):
    """The report of a run's ``results`` (seconds per shape and search)."""
    lines = report.header("The threshold search without sample weights", meta)
    lines += [
        f"`tune(S, Y, w, \"f1\")` on the same scores, {meta['rounds']} rounds in one "
        "process, alternating: unit weights (counts from sorts of the scores "
        "alone) and weights of 2 (the stable argsort carrying targets and "
        "weights). Both chose the same thresholds on every shape. Five labels "
        "have two positives, so the pooled search over all scores runs too. "
        "Ratio: unit over weighted, of the medians.",
        "",
        "| scores (rows x labels) | unit ms | range | weighted ms | range | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for shape, seconds in results.items():
        unit, weighted = (1000 * np.array(seconds[k]) for k in ("unit", "weighted"))
        lines.append(f"| {shape} | {_cells(unit)} | {_cells(weighted)} | "
                     f"{np.median(unit) / np.median(weighted):.2f}x |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = report.timing_arguments(__doc__, argv)
    meta = report.run_meta("threshold_search.py", argv, rounds=args.rounds)
    results = {}
    for n, n_labels in SHAPES:
        S, Y = problem(n, n_labels)
        seconds = time_search(S, Y, args.rounds)
        results[f"{n:,} x {n_labels:,}"] = seconds
        print(f"{n:>6} x {n_labels:<5} unit {np.median(seconds['unit']):.3f}s  "
              f"weighted {np.median(seconds['weighted']):.3f}s", flush=True)
    report.write(args.out, "threshold_search", meta, results, markdown(results, meta))


if __name__ == "__main__":
    main()
