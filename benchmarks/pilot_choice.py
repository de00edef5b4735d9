"""Choosing the linear path by pilot networks against by full fits.

    python benchmarks/pilot_choice.py              # the shared sets, 3 seeds
    python benchmarks/pilot_choice.py --quick      # foodtruck, 1 seed

``linear_path="auto"`` chooses whether the default MLP keeps its linear path
where the labels outnumber its narrowest hidden layer's units. It chooses by
one pilot network of each kind, trained on all rows but a hold-out of one
fold's share and scored there, and then fits the chosen kind's fold
networks; the choice of earlier releases fitted both kinds' fold networks
and kept the one whose out-of-fold score was higher. Both fit the chosen kind
from the same seed, so where they choose alike their fits are the same.

The shared sets have fewer labels than the default's 256 hidden units, so
no choice is made on them. Here the default MLP is narrowed to ``--hidden``
units (8), fewer than the labels of every shared set with more than 8
(yeast, enron, cal500, genbase, foodtruck), and each set's first split of its
protocol (``benchmarks/datasets.py``) is fitted from each seed:

- the estimator with ``linear_path=False`` and with ``True``, each one's
  out-of-fold score (the mean of its ``threshold_scores_``, what the full
  fits' choice compares) and test macro-F1; the full fits' choice is the
  higher score's kind, the first on a tie;
- the estimator with ``linear_path="auto"``, which chooses by its pilots;
  its fit is that of the kind it chose, and its fit seconds are timed against
  the two fits' sum, the full fits' choice's cost.

Each row gives, over the seeds, the mean test macro-F1 of each fixed kind and
of each choice, the seeds on which each choice kept the path and those on
which the two choices agree, and the mean fit seconds of each choice (one
process, warm: an untimed fit of each kind traces the networks first).
Writes benchmarks/results/pilot_choice{,_quick}.{md,json}.
"""

import os
import pathlib
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import datasets  # noqa: E402
import report  # noqa: E402

KINDS = (False, True, "auto")


def make(hidden, linear_path, seed, sparse):
    """The estimator narrowed to ``hidden`` units behind the benchmark's
    scaler (``MaxAbsScaler`` for ``sparse`` X)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler, StandardScaler

    from sklearn_mlk import KerasMultiLabelClassifier

    return make_pipeline(MaxAbsScaler() if sparse else StandardScaler(),
                         KerasMultiLabelClassifier(hidden_layer_sizes=(hidden,),
                                                   linear_path=linear_path,
                                                   random_state=seed))


def run_set(name, hidden, seeds):
    """Per seed: each kind's test macro-F1 and fit seconds, the fixed kinds'
    out-of-fold scores and the pilots' choice."""
    import scipy.sparse as sp
    from sklearn.metrics import f1_score

    X, Y, splits = datasets.load(name)
    train, test = splits[0]
    sparse = sp.issparse(X)
    out = {"labels": int(Y.shape[1]), "runs": []}
    for kind in KINDS[:2]:  # untimed: the networks traced for this shape
        make(hidden, kind, 0, sparse).set_params(
            kerasmultilabelclassifier__epochs=1).fit(X[train], Y[train])
    for seed in range(seeds):
        run = {}
        for kind in KINDS:
            pipe = make(hidden, kind, seed, sparse)
            start = time.perf_counter()
            pipe.fit(X[train], Y[train])
            seconds = time.perf_counter() - start
            clf = pipe[-1]
            run[str(kind)] = {
                "macro_f1": float(f1_score(Y[test], pipe.predict(X[test]),
                                           average="macro", zero_division=0)),
                "fit_seconds": seconds,
                "score": float(np.nanmean(clf.threshold_scores_)),
            }
            if kind == "auto":
                run["pilot_kept_path"] = bool(clf.linear_path_)
                run["pilot_scores"] = [float(s) for s in clf.linear_path_scores_]
        run["full_kept_path"] = bool(run["True"]["score"] > run["False"]["score"])
        out["runs"].append(run)
    return out


def summary(cells):
    """A set's row: the means over seeds and the counts of kept paths."""
    runs = cells["runs"]

    def mean(values):
        return float(np.mean(values))

    full = [run[str(run["full_kept_path"])] for run in runs]
    return {
        "no path": mean([run["False"]["macro_f1"] for run in runs]),
        "path": mean([run["True"]["macro_f1"] for run in runs]),
        "full fits' choice": mean([f["macro_f1"] for f in full]),
        "pilots' choice": mean([run["auto"]["macro_f1"] for run in runs]),
        "full kept": sum(run["full_kept_path"] for run in runs),
        "pilot kept": sum(run["pilot_kept_path"] for run in runs),
        "agree": sum(run["full_kept_path"] == run["pilot_kept_path"] for run in runs),
        "full seconds": mean([run["False"]["fit_seconds"] + run["True"]["fit_seconds"]
                              for run in runs]),
        "pilot seconds": mean([run["auto"]["fit_seconds"] for run in runs]),
    }


def markdown(results, meta):
    lines = report.header("Choosing the linear path by pilots or by full fits", meta)
    seeds = report.seed_count(meta["seeds"])
    lines += [
        f"The default MLP narrowed to {meta['hidden']} hidden units, on the first "
        f"split of each shared set with more labels; test macro-F1 (mean over "
        f"{seeds}) of the network without and with the linear path, and of the "
        "kind each choice kept; the seeds on which each choice kept the path and "
        "on which they agree; the fit seconds of each choice (their mean; the full "
        "fits' choice is the two fits' sum). Described in "
        "`benchmarks/pilot_choice.py`.",
        "",
        "| set (labels) | no path | path | full fits' choice | pilots' choice | "
        "path kept: full fits | pilots | agree | full fits' s | pilots' s | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    n = meta["seeds"]
    for name, cells in results.items():
        row = summary(cells)
        full, pilots = row["full fits' choice"], row["pilots' choice"]
        lines.append(
            f"| {name} ({cells['labels']}) | {row['no path']:.4f} | {row['path']:.4f} "
            f"| {full:.4f} | {pilots:.4f} "
            f"| {row['full kept']} of {n} | {row['pilot kept']} of {n} "
            f"| {row['agree']} of {n} | {row['full seconds']:.1f} "
            f"| {row['pilot seconds']:.1f} "
            f"| {row['pilot seconds'] / row['full seconds']:.2f}x |")
    return "\n".join(lines) + "\n"


def _arguments(parser):
    parser.add_argument("--hidden", type=int, default=8,
                        help="the hidden units of the narrowed MLP (default 8)")


def main(argv=None):
    args, seeds = report.seeded_arguments(__doc__, argv, 3, "foodtruck", _arguments)
    warnings.simplefilter("ignore")
    meta = report.run_meta("pilot_choice.py", argv, seeds=seeds, hidden=args.hidden)
    results = {}
    for name in ("foodtruck",) if args.quick else datasets.SETS:
        X, Y, _ = datasets.load(name)
        if Y.shape[1] <= args.hidden:
            continue
        results[name] = run_set(name, args.hidden, seeds)
        print(name, summary(results[name]), flush=True)
    stem = "pilot_choice_quick" if args.quick else "pilot_choice"
    report.write(args.out, stem, meta, results, markdown(results, meta))


if __name__ == "__main__":
    main()
