"""Iterative stratification: the library's own loop against the package's.

    python benchmarks/splits.py              # 3 rounds
    python benchmarks/splits.py --rounds 5

The threshold-tuning folds of a multi-label target come from
``sklearn_mlk._splits.stratify``, which gives the ``iterative-stratification``
package's folds row for row. This times both on the shared sets' targets
(all their rows) and on generated targets of the sizes the defaults are
judged at, up to 30,000 rows and 1,000 labels: 5 shuffled folds (the
default ensemble's) and a hold-out of a fifth (``threshold_cv=0.2``), each
in alternating rounds after one untimed run of each. Every run's parts are
compared, and the report says whether they were the same. Writes
benchmarks/results/splits.{md,json}.
"""

import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import datasets  # noqa: E402
import report  # noqa: E402

FOLDS = 5
HOLDOUT = 0.2
# Generated targets: (rows, labels, label frequencies), the frequencies
# falling off as a power of the label's rank (a long tail of rare labels).
GENERATED = [(12_000, 22, 0.5), (30_000, 1_000, 0.9)]
OWN, PACKAGE = "library", "iterative-stratification"


def generated(rows, labels, tail, seed=0):
    """A target of ``rows`` x ``labels``, label ``i`` (from 1) positive with
    probability ``min(0.2, 3 / i ** tail)``."""
    rng = np.random.default_rng(seed)
    rate = np.minimum(0.2, 3.0 / np.arange(1, labels + 1) ** tail)
    return (rng.random((rows, labels)) < rate).astype(np.int8)


def targets():
    """``[(name, Y)]``: the shared sets' targets, then the generated ones."""
    found = []
    for name in datasets.SETS:
        Y = datasets.load(name)[1]
        found.append((name, (np.asarray(Y.toarray() if hasattr(Y, "toarray") else Y)
                             > 0).astype(np.int8)))
    for rows, labels, tail in GENERATED:
        found.append(("generated", generated(rows, labels, tail)))
    return found


def package_parts(Y, split, seed):
    """Each row's part as the package's splitter gives it."""
    from iterstrat.ml_stratifiers import (MultilabelStratifiedKFold,
                                          MultilabelStratifiedShuffleSplit)

    X, Yb = np.zeros((Y.shape[0], 1)), Y.astype(bool)
    part = np.zeros(Y.shape[0], dtype=int)
    if split == "folds":
        for i, (_, test) in enumerate(
                MultilabelStratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(X, Yb)):
            part[test] = i
    else:
        _, test = next(MultilabelStratifiedShuffleSplit(
            1, test_size=_holdout_rows(Y), random_state=seed).split(X, Yb))
        part[test] = 1
    return part


def own_parts(Y, split, seed):
    from sklearn_mlk._splits import stratify

    if split == "folds":
        return stratify(Y, np.full(FOLDS, 1 / FOLDS), seed)
    n_test = _holdout_rows(Y)
    return stratify(Y, np.array([Y.shape[0] - n_test, n_test]) / Y.shape[0], seed)


def _holdout_rows(Y):
    from sklearn_mlk._splits import holdout_size

    return holdout_size(Y.shape[0], HOLDOUT)


def measure(rounds):
    results = []
    for name, Y in targets():
        for split in ("folds", "hold-out"):
            parts = {}

            def run(model, i, Y=Y, split=split, parts=parts):
                start = time.perf_counter()
                part = (own_parts if model == OWN else package_parts)(Y, split, i)
                seconds = time.perf_counter() - start
                parts.setdefault(i, {})[model] = part
                return seconds

            seconds = report.alternating([OWN, PACKAGE], rounds, run)
            same = all(np.array_equal(p[OWN], p[PACKAGE]) for p in parts.values())
            results.append({"target": name, "rows": Y.shape[0], "labels": Y.shape[1],
                            "positives": int(Y.sum()), "split": split, "same": same,
                            OWN: seconds[OWN], PACKAGE: seconds[PACKAGE]})
            print(f"{name} {split}: {np.median(seconds[OWN]) * 1000:.1f} ms against "
                  f"{np.median(seconds[PACKAGE]) * 1000:.1f} ms, same parts: {same}",
                  flush=True)
    return results


def markdown(results, meta):
    lines = [*report.header("Iterative stratification: the library's loop and the package's",
                            meta),
             f"Each row's part of {FOLDS} shuffled folds, and of a hold-out of "
             f"{HOLDOUT} (`threshold_cv={HOLDOUT}`), from `sklearn_mlk._splits.stratify` "
             "and from `iterative-stratification`'s `MultilabelStratifiedKFold` and "
             "`MultilabelStratifiedShuffleSplit`, seeded alike; milliseconds, median "
             "and range over alternating rounds (the seed is the round's number). "
             "Ratio: the library's median over the package's. Same parts: whether every "
             "round gave both the same part for every row.", "",
             "| target (rows x labels, positives) | split | library ms | range "
             "| package ms | range | ratio | same parts |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        own = [s * 1000 for s in r[OWN]]
        package = [s * 1000 for s in r[PACKAGE]]
        lines.append(
            f"| {r['target']} ({r['rows']:,} x {r['labels']:,}, {r['positives']:,}) "
            f"| {r['split']} | {report.paired_cells(own, package)} "
            f"| {'yes' if r['same'] else '**no**'} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = report.timing_arguments(__doc__, argv)
    results = measure(args.rounds)
    meta = report.run_meta("splits.py", argv, rounds=args.rounds)
    report.write(args.out, "splits", meta, results, markdown(results, meta))


if __name__ == "__main__":
    main()
