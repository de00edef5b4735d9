"""Single-label targets: the estimator as a drop-in for LogisticRegression,
OneVsRestClassifier and MLPClassifier on small binary and multiclass data.

    python benchmarks/single_label.py              # five sets, 3 seeds
    python benchmarks/single_label.py --quick      # iris and wine, 1 seed
    python benchmarks/single_label.py --sets wine  # some sets, 3 seeds

Protocol: ``StratifiedKFold(5, shuffle=True, random_state=0)``, a
``StandardScaler`` in a pipeline, every model at its defaults (LogReg with
``max_iter=1000``), balanced accuracy on the held-out fold. The model seed
changes with the seed (the folds do not); each cell is the mean over seeds of
the 5-fold mean, with the range over seeds. The sets: iris, wine,
breast_cancer, digits, and iris with 800 standard-normal noise features
(``RandomState(0)``, as scikit-learn's ROC example builds it). Writes
benchmarks/results/single_label.{md,json}.
"""

import os
import pathlib
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import balanced_accuracy_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.multiclass import OneVsRestClassifier  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import report  # noqa: E402

from sklearn_mlk import KerasMultiLabelClassifier  # noqa: E402


def _noisy_iris():
    X, y = load_iris(return_X_y=True)
    noise = np.random.RandomState(0).randn(X.shape[0], 200 * X.shape[1])
    return np.hstack([X, noise]), y


SETS = {
    "iris": lambda: load_iris(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "digits": lambda: load_digits(return_X_y=True),
    "iris + 800 noise features": _noisy_iris,
}

MODELS = {
    "sklearn-mlk (default)": lambda seed: KerasMultiLabelClassifier(random_state=seed),
    # The default's alpha="auto" is 1 on these 1-D targets; its neighbours,
    # for the leave-one-set-out choice below.
    "sklearn-mlk (alpha=0)": lambda seed: KerasMultiLabelClassifier(alpha=0.0,
                                                                    random_state=seed),
    "sklearn-mlk (alpha=0.1)": lambda seed: KerasMultiLabelClassifier(alpha=0.1,
                                                                      random_state=seed),
    "sklearn-mlk (alpha=3)": lambda seed: KerasMultiLabelClassifier(alpha=3.0,
                                                                    random_state=seed),
    # alpha chosen per fit among the three by out-of-fold score (alpha as a
    # list; the default's 1 first, so that it wins ties).
    "sklearn-mlk (alpha 1, 0.1 or 3, out of fold)": lambda seed: KerasMultiLabelClassifier(
        alpha=[1.0, 0.1, 3.0], random_state=seed),
    "LogisticRegression": lambda seed: LogisticRegression(max_iter=1000),
    "OvR(LogReg)": lambda seed: OneVsRestClassifier(LogisticRegression(max_iter=1000)),
    "MLPClassifier": lambda seed: MLPClassifier(random_state=seed),
}
# The variants of the default that the leave-one-set-out choice picks from
# (loso.choose's names: "default" wins ties).
VARIANTS = {"default": "sklearn-mlk (default)", "alpha 0": "sklearn-mlk (alpha=0)",
            "alpha 0.1": "sklearn-mlk (alpha=0.1)", "alpha 3": "sklearn-mlk (alpha=3)",
            "alpha 1, 0.1 or 3, out of fold": "sklearn-mlk (alpha 1, 0.1 or 3, out of fold)"}
PEERS = ("LogisticRegression", "OvR(LogReg)", "MLPClassifier")
# The questions left out set by set: a penalty or none (the default against
# alpha 0, the default before "auto"), which penalty, and whether to choose
# it per fit out of fold.
LOSO = {"a penalty or none": {v: VARIANTS[v] for v in ("default", "alpha 0")},
        "which alpha": VARIANTS,
        "the default or the choice out of fold": {
            v: VARIANTS[v] for v in ("default", "alpha 1, 0.1 or 3, out of fold")}}


def evaluate(make, X, y, seed):
    """Mean balanced accuracy over the five stratified folds."""
    folds = StratifiedKFold(5, shuffle=True, random_state=0).split(X, y)
    scores = []
    for train, test in folds:
        model = make_pipeline(StandardScaler(), make(seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence and small-data notes
            model.fit(X[train], y[train])
        scores.append(balanced_accuracy_score(y[test], model.predict(X[test])))
    return float(np.mean(scores))


def markdown(results, meta):
    lines = report.header("Single-label targets: balanced accuracy", meta)
    lines += ["Mean over seeds of the 5-fold mean; the range over seeds in brackets. "
              "Best mean of each row in bold.", "",
              "| data | " + " | ".join(MODELS) + " |", "|---|" + "---|" * len(MODELS)]
    for data, models in results.items():
        best = max(np.mean(v) for v in models.values())
        cells = []
        for name in MODELS:
            values = models[name]
            mean = f"{np.mean(values):.3f}"
            cells.append((f"**{mean}**" if np.mean(values) == best else mean)
                         + (f" [{min(values):.3f}, {max(values):.3f}]"
                            if len(values) > 1 else ""))
        lines.append(f"| {data} | " + " | ".join(cells) + " |")
    if len(results) > 2:
        for title, variants in LOSO.items():
            lines += ["", f"Leave one set out, {title}: for each set, the variant with the "
                      "best mean rank of balanced accuracy on the other sets (ties go to "
                      "the default, whose alpha is 1 here), scored on the set left out; "
                      "the bar is the best of the three peers.", "",
                      "| held-out set | chosen on the others | its balanced accuracy "
                      "| default | best peer |", "|---|---|---|---|---|"]
            for data, row in leave_one_out(results, variants).items():
                lines.append(f"| {data} | {row['chosen']} | {row['chosen_score']:.3f} | "
                             f"{row['default_score']:.3f} | "
                             f"{row['best_peer_score']:.3f} {row['best_peer']} |")
    return "\n".join(lines) + "\n"


def leave_one_out(results, variants=VARIANTS):
    """Per set: the one of ``variants`` (loso's names, by model name) chosen
    on the other sets (:func:`loso.choose`), its mean balanced accuracy on
    the set, the default's and the best peer's."""
    import loso

    study = {data: {v: float(np.mean(models[name])) for v, name in variants.items()}
             for data, models in results.items()}
    rows = {}
    for data, scores in study.items():
        chosen, _ = loso.choose(study, data)
        peers = {name: float(np.mean(results[data][name])) for name in PEERS}
        best = max(peers, key=peers.get)
        rows[data] = {"chosen": chosen, "chosen_score": scores[chosen],
                      "default_score": scores["default"], "best_peer": best,
                      "best_peer_score": peers[best]}
    return rows


def main(argv=None):
    def sets_argument(parser):
        parser.add_argument("--sets", nargs="+", choices=list(SETS), default=None,
                            help="only these sets (the report is then named "
                                 "single_label_sets)")

    args, n_seeds = report.seeded_arguments(__doc__, argv, 3, "iris and wine",
                                            extra=sets_argument)
    sets = args.sets or (["iris", "wine"] if args.quick else list(SETS))
    seeds = range(n_seeds)
    results = {}
    for data in sets:
        X, y = SETS[data]()
        results[data] = {name: [evaluate(make, X, y, seed) for seed in seeds]
                         for name, make in MODELS.items()}
        print(data, {name: round(float(np.mean(v)), 3)
                     for name, v in results[data].items()}, flush=True)
    meta = report.run_meta("single_label.py", argv)
    stem = ("single_label_sets" if args.sets else
            "single_label_quick" if args.quick else "single_label")
    loso_rows = ({title: leave_one_out(results, variants) for title, variants in LOSO.items()}
                 if len(results) > 1 else {})  # one set leaves none to choose on
    report.write(args.out, stem, meta, {"results": results, "leave_one_out": loso_rows},
                 markdown(results, meta))
    return results


if __name__ == "__main__":
    main()
