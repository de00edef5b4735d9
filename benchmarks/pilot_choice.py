"""Choosing the linear path by pilot networks against by full fits.

    python benchmarks/pilot_choice.py              # the shared sets, 3 seeds
    python benchmarks/pilot_choice.py --quick      # foodtruck, 1 seed
    python benchmarks/pilot_choice.py --tagged --name pilot_choice_tagged

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

With ``--tagged``, the sets are instead generated tagged texts of 300 labels
(``benchmarks/many_labels.py``'s, fewer rows: 1,000 and 3,000 for training and
1,000 for testing, one draw for every seed, labels with fewer than 3
training positives left out),
more labels than the default's 256 hidden units, and the MLP keeps its
default width (``--hidden 256``): where the choice runs with the default
network.

Each row gives, over the seeds, the mean test macro-F1 of each fixed kind and
of each choice, the seeds on which each choice kept the path and those on
which the two choices agree, and the mean fit seconds of each choice (one
process, warm: an untimed fit of each kind traces the networks first).
Writes benchmarks/results/pilot_choice{,_quick}.{md,json}, or ``--name``.
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


# --tagged: the generated sets' training rows, and their labels and test rows.
TAGGED_ROWS, TAGGED_LABELS, TAGGED_TEST = (1_000, 3_000), 300, 1_000


def shared_set(name):
    """``(X, Y, train, test)``: a shared set and the first split of its protocol."""
    X, Y, splits = datasets.load(name)
    return (X, Y, *splits[0])


def tagged_set(rows, seed=0):
    """``(X, Y, train, test)``: a generated tagged text of ``rows`` training
    rows (see the module's docstring)."""
    import many_labels

    X, Y, _ = many_labels.tagged_set(rows + TAGGED_TEST, TAGGED_LABELS, seed)
    train, test = np.arange(rows), np.arange(rows, rows + TAGGED_TEST)
    kept = Y[train].sum(axis=0) >= 3
    return X, Y[:, kept], train, test


def run_set(data, hidden, seeds):
    """Per seed: each kind's test macro-F1 and fit seconds, the fixed kinds'
    out-of-fold scores and the pilots' choice, on ``data``, ``(X, Y, train,
    test)``."""
    import scipy.sparse as sp
    from sklearn.metrics import f1_score

    X, Y, train, test = data
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
    where = (f"generated tagged texts of {TAGGED_LABELS} labels, more than its units" if
             meta.get("tagged") else "the first split of each shared set with more labels")
    lines += [
        f"The default MLP {'of' if meta.get('tagged') else 'narrowed to'} "
        f"{meta['hidden']} hidden units, on {where}; test macro-F1 (mean over "
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
    parser.add_argument("--hidden", type=int, default=None,
                        help="the hidden units of the MLP (default 8; 256 with --tagged)")
    parser.add_argument("--tagged", action="store_true",
                        help="generated tagged texts of 300 labels instead of the "
                             "shared sets")
    parser.add_argument("--name", default=None,
                        help="the results' file stem (default pilot_choice)")


def main(argv=None):
    args, seeds = report.seeded_arguments(__doc__, argv, 3, "foodtruck", _arguments)
    warnings.simplefilter("ignore")
    hidden = args.hidden or (256 if args.tagged else 8)
    meta = report.run_meta("pilot_choice.py", argv, seeds=seeds, hidden=hidden,
                           tagged=args.tagged)
    if args.tagged:
        sets = {f"tagged, {rows:,} rows": lambda rows=rows: tagged_set(rows)
                for rows in TAGGED_ROWS[: 1 if args.quick else None]}
    else:
        sets = {name: lambda name=name: shared_set(name)
                for name in (("foodtruck",) if args.quick else datasets.SETS)}
    results = {}
    for name, load in sets.items():
        data = load()
        if data[1].shape[1] <= hidden:
            continue
        results[name] = run_set(data, hidden, seeds)
        print(name, summary(results[name]), flush=True)
    stem = args.name or ("pilot_choice_quick" if args.quick else "pilot_choice")
    report.write(args.out, stem, meta, results, markdown(results, meta))


if __name__ == "__main__":
    main()
