"""Rare labels in tabular data: per-label positive weights in the loss.

Compares plain binary cross-entropy with ``class_weight="balanced"`` (each
label's positives weighted by its negative/positive ratio) on labels whose
frequencies range from common to rare. Weighting raises the recall of rare
labels and lowers their precision: use it when missing a rare label costs more
than a false alarm.

    python examples/imbalanced_tabular.py [--fast]
"""

import argparse

import numpy as np
from sklearn.metrics import f1_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mlk import KerasMultiLabelClassifier


def make_data(n_samples, seed=0):
    """Labels driven by feature thresholds; later labels are rarer."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 20))
    scores = X[:, :5] + 0.5 * rng.normal(size=(n_samples, 5))
    cutoffs = np.quantile(scores, [0.6, 0.8, 0.9, 0.95, 0.98], axis=0).diagonal()
    return X, (scores > cutoffs).astype(int)


def main(fast=False):
    X, Y = make_data(600 if fast else 5000)
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, random_state=0)
    print("label frequency:", np.round(Y.mean(axis=0), 3))
    for class_weight in (None, "balanced"):
        clf = make_pipeline(
            StandardScaler(),
            KerasMultiLabelClassifier(
                hidden_layer_sizes=(64,), class_weight=class_weight,
                epochs=3 if fast else 40, random_state=0,
            ),
        ).fit(X_train, Y_train)
        pred = clf.predict(X_test)
        print(f"class_weight={class_weight!s:9} macro-F1 "
              f"{f1_score(Y_test, pred, average='macro', zero_division=0):.3f}  "
              f"recall per label {np.round(recall_score(Y_test, pred, average=None, zero_division=0), 2)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--fast", action="store_true", help="few epochs, for tests")
    main(parser.parse_args().fast)
