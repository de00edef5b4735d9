"""Single-label targets: the estimator as a drop-in for LogisticRegression,
OneVsRestClassifier and MLPClassifier on small binary and multiclass data.

    python benchmarks/single_label.py              # five sets, 3 seeds
    python benchmarks/single_label.py --quick      # iris and wine, 1 seed

Protocol: ``StratifiedKFold(5, shuffle=True, random_state=0)``, a
``StandardScaler`` in a pipeline, every model at its defaults (LogReg with
``max_iter=1000``), balanced accuracy on the held-out fold. The model seed
changes with the seed (the folds do not); each cell is the mean over seeds of
the 5-fold mean, with the range over seeds. The sets: iris, wine,
breast_cancer, digits, and iris with 800 standard-normal noise features
(``RandomState(0)``, as scikit-learn's ROC example builds it). Writes
benchmarks/results/single_label.{md,json}.
"""

import argparse
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
    # MLPClassifier's L2 penalty, which the default leaves at 0
    # (docs/guide/thresholds.md, "An L2 penalty").
    "sklearn-mlk (alpha=1)": lambda seed: KerasMultiLabelClassifier(alpha=1.0,
                                                                    random_state=seed),
    "LogisticRegression": lambda seed: LogisticRegression(max_iter=1000),
    "OvR(LogReg)": lambda seed: OneVsRestClassifier(LogisticRegression(max_iter=1000)),
    "MLPClassifier": lambda seed: MLPClassifier(random_state=seed),
}


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
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="iris and wine, 1 seed")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--out", default=str(report.RESULTS))
    args = parser.parse_args(argv)
    sets = ["iris", "wine"] if args.quick else list(SETS)
    seeds = range(args.seeds or (1 if args.quick else 3))
    results = {}
    for data in sets:
        X, y = SETS[data]()
        results[data] = {name: [evaluate(make, X, y, seed) for seed in seeds]
                         for name, make in MODELS.items()}
        print(data, {name: round(float(np.mean(v)), 3)
                     for name, v in results[data].items()}, flush=True)
    meta = report.run_meta("single_label.py", argv)
    stem = "single_label_quick" if args.quick else "single_label"
    report.write(args.out, stem, meta, results, markdown(results, meta))
    return results


if __name__ == "__main__":
    main()
