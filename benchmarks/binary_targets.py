"""Binary 1-D targets: which objective ``threshold="auto"`` tunes on them.

    python benchmarks/binary_targets.py              # every task, 3 seeds
    python benchmarks/binary_targets.py --quick      # breast_cancer, 1 seed

A binary target's threshold can be tuned for the second class's F1 (the
multi-label default, ``"f1"``), for balanced accuracy, or for the mean F1 of
the two classes (scikit-learn's ``f1_score(average="macro")``, given here as a
callable). The tasks: breast_cancer, and from each shared multi-label set its
most frequent label and the label whose prevalence is nearest 10%, each as a
binary 1-D target of all the set's rows (real features, real imbalance).

Protocol: ``StratifiedKFold(5, shuffle=True, random_state=0)``, a
``StandardScaler`` in a pipeline (without centring for sparse X), every model
at its defaults but the objective (LogReg with ``max_iter=1000``). Each cell
is the mean over seeds of the 5-fold mean. The objective is then chosen set by
set: for each data set left out (both its tasks), the objective of the best
mean rank on the other sets (ties go to ``"f1"``, the objective before),
scored on the set left out; once by balanced accuracy (the single-label
benchmark's measure) and once by the two classes' mean F1. Writes
benchmarks/results/binary_targets.{md,json}. Needs the shared sets
(``benchmarks/datasets.py``) unless ``--quick``.
"""

import os
import pathlib
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import loso  # noqa: E402
import report  # noqa: E402

from sklearn_mlk import KerasMultiLabelClassifier  # noqa: E402
from sklearn_mlk._thresholds import _f1  # noqa: E402


def two_classes_f1(tp, fp, fn, tn):
    """The mean of the positive and the negative class's F1 at each cut: the
    library's per-label F1 of the counts, and of the counts with the classes
    swapped."""
    return (_f1(tp, fp, fn, tn) + _f1(tn, fn, fp, tp)) / 2


# The objectives compared; "f1" is the one binary targets had before "auto"
# (loso.choose's "default", which wins ties).
OBJECTIVES = {"f1": "f1", "balanced_accuracy": "balanced_accuracy",
              "two classes' F1": two_classes_f1}


def _tuned_for(objective):
    """The default estimator with ``threshold=objective``, by seed."""
    return lambda seed: KerasMultiLabelClassifier(threshold=objective, random_state=seed)


MODELS = {
    **{f"sklearn-mlk ({name})": _tuned_for(objective) for name, objective in OBJECTIVES.items()},
    "LogisticRegression": lambda seed: LogisticRegression(max_iter=1000),
    "MLPClassifier": lambda seed: MLPClassifier(random_state=seed),
}
DETERMINISTIC = {"LogisticRegression"}
METRICS = {
    "balanced accuracy": balanced_accuracy_score,
    "two classes' F1": lambda y, p: f1_score(y, p, average="macro"),
    "second class's F1": f1_score,
    "accuracy": accuracy_score,
}


def tasks(quick):
    """{task: (data set, X, y)}: breast_cancer and two labels of each shared set."""
    X, y = load_breast_cancer(return_X_y=True)
    found = {"breast_cancer": ("breast_cancer", X, y)}
    if quick:
        return found
    import datasets

    for name in datasets.SETS:
        X, Y, _ = datasets.load(name)
        prevalence = np.asarray(Y.mean(axis=0)).ravel()
        picks = {"most frequent label": int(np.argmax(prevalence)),
                 "label nearest 10%": int(np.argmin(np.abs(prevalence - 0.1)))}
        for what, k in picks.items():
            found[f"{name}, {what} ({prevalence[k]:.0%})"] = (name, X, np.asarray(Y[:, k]))
    return found


def evaluate(make, X, y, seed):
    """Each metric's mean over the five stratified folds."""
    scores = {metric: [] for metric in METRICS}
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        model = make_pipeline(StandardScaler(with_mean=not sp.issparse(X)), make(seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence and small-data notes
            model.fit(X[train], y[train])
        predicted = model.predict(X[test])
        for metric, score in METRICS.items():
            scores[metric].append(score(y[test], predicted))
    return {metric: float(np.mean(values)) for metric, values in scores.items()}


def leave_one_set_out(results, sets, metric):
    """Per data set: the objective chosen on the other sets by ``metric``
    (:func:`loso.choose`; a set's score is its tasks' mean), its score on the
    set, the score of each objective and of the best peer there."""
    def mean(task_names, model):
        return float(np.mean([np.mean([seed[metric] for seed in results[t][model]])
                              for t in task_names]))

    study = {data: {(loso.DEFAULT if name == "f1" else name): mean(names, f"sklearn-mlk ({name})")
                    for name in OBJECTIVES}
             for data, names in sets.items()}
    rows = {}
    for data, names in sets.items():
        chosen, _ = loso.choose(study, data)
        peers = {p: mean(names, p) for p in ("LogisticRegression", "MLPClassifier")}
        best = max(peers, key=peers.get)
        rows[data] = {"chosen": "f1" if chosen == loso.DEFAULT else chosen,
                      "chosen_score": study[data][chosen],
                      "scores": {("f1" if v == loso.DEFAULT else v): s
                                 for v, s in study[data].items()},
                      "best_peer": best, "best_peer_score": peers[best]}
    return rows


def markdown(results, loso_rows, meta):
    lines = report.header("Binary targets: the objective of the learned threshold", meta)
    lines += ["Mean over seeds of the 5-fold mean, per metric; sklearn-mlk with each "
              "objective (`threshold=`), `balanced_accuracy` being what `\"auto\"` "
              "tunes on a binary target. Best of each row in bold."]
    for metric in METRICS:
        lines += ["", f"**{metric}**", "", "| task | " + " | ".join(MODELS) + " |",
                  "|---|" + "---|" * len(MODELS)]
        for task, models in results.items():
            means = {m: float(np.mean([seed[metric] for seed in models[m]])) for m in MODELS}
            cells = report.bold_best(means)
            lines.append(f"| {task} | " + " | ".join(cells[m] for m in MODELS) + " |")
    for metric, rows in loso_rows.items():
        lines += ["", f"Leave one data set out, by {metric}: for each data set (both its "
                  "tasks), the objective of the best mean rank on the other sets (ties go "
                  "to `f1`), scored on the set left out (its tasks' mean).", "",
                  "| held-out set | chosen on the others | its score | "
                  + " | ".join(OBJECTIVES) + " | best peer |",
                  "|---|---|---|" + "---|" * len(OBJECTIVES) + "---|"]
        for data, row in rows.items():
            lines.append(f"| {data} | {row['chosen']} | {row['chosen_score']:.3f} | "
                         + " | ".join(f"{row['scores'][v]:.3f}" for v in OBJECTIVES)
                         + f" | {row['best_peer_score']:.3f} {row['best_peer']} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    args, n_seeds = report.seeded_arguments(__doc__, argv, 3, "breast_cancer")
    seeds = range(n_seeds)
    found = tasks(args.quick)
    results, sets = {}, {}
    for task, (data, X, y) in found.items():
        sets.setdefault(data, []).append(task)
        results[task] = {}
        for name, make in MODELS.items():
            runs = seeds[:1] if name in DETERMINISTIC else seeds
            scores = [evaluate(make, X, y, seed) for seed in runs]
            results[task][name] = scores * (len(seeds) if name in DETERMINISTIC else 1)
        print(task, {m: round(float(np.mean([s["balanced accuracy"] for s in v])), 3)
                     for m, v in results[task].items()}, flush=True)
    meta = report.run_meta("binary_targets.py", argv)
    stem = "binary_targets_quick" if args.quick else "binary_targets"
    loso_rows = ({} if len(sets) < 3 else
                 {metric: leave_one_set_out(results, sets, metric)
                  for metric in ("balanced accuracy", "two classes' F1")})
    report.write(args.out, stem, meta, {"results": results, "leave_one_out": loso_rows},
                 markdown(results, loso_rows, meta))
    return results


if __name__ == "__main__":
    main()
