"""The package's main job: a side-by-side report on embedded data.

Run with ``python -m sklearn_mlk``. The data is built from scikit-learn's
bundled digits images (no download): each 8x8 image carries every property
of its digit that holds (even, prime, five or more, has a closed loop, drawn
with straight strokes only), so most images have several labels.
"""

import argparse
import time

from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, hamming_loss, precision_recall_fscore_support
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .datasets import load_digit_properties


def _report(name, Y_true, Y_pred, seconds, labels):
    p, r, f, support = precision_recall_fscore_support(Y_true, Y_pred, zero_division=0)
    print(f"\n{name}  (fit {seconds:.1f} s)")
    print(f"  {'label':<18}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for i, label in enumerate(labels):
        print(f"  {label:<18}{p[i]:>10.3f}{r[i]:>8.3f}{f[i]:>8.3f}{support[i]:>9d}")
    micro = f1_score(Y_true, Y_pred, average="micro", zero_division=0)
    macro = f1_score(Y_true, Y_pred, average="macro", zero_division=0)
    print(f"  micro-F1 {micro:.3f}   macro-F1 {macro:.3f}   "
          f"Hamming loss {hamming_loss(Y_true, Y_pred):.3f}")
    return micro, macro


def main(argv=None):
    from ._classifier import KerasMultiLabelClassifier

    parser = argparse.ArgumentParser(prog="python -m sklearn_mlk", description=__doc__)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X, Y, labels = load_digit_properties()
    X_train, X_test, Y_train, Y_test = train_test_split(
        X, Y, test_size=0.3, random_state=args.seed
    )
    print(f"digit properties: {X_train.shape[0]} training and {X_test.shape[0]} test "
          f"images, {X.shape[1]} features, {Y.shape[1]} labels, "
          f"{Y.sum(axis=1).mean():.2f} labels per image")
    models = {
        "OneVsRestClassifier(LogisticRegression())": OneVsRestClassifier(
            LogisticRegression(max_iter=1000)
        ),
        "KerasMultiLabelClassifier()": KerasMultiLabelClassifier(
            epochs=args.epochs, random_state=args.seed
        ),
    }
    results = {}
    for name, model in models.items():
        pipe = make_pipeline(StandardScaler(), model)
        start = time.perf_counter()
        pipe.fit(X_train, Y_train)
        seconds = time.perf_counter() - start
        results[name] = _report(name, Y_test, pipe.predict(X_test), seconds, labels)
    return results


if __name__ == "__main__":
    main()
