"""
Rare labels in tabular data: learned thresholds and positive weights
====================================================================

Labels range from common to rare. At the fixed 0.5 threshold the rare labels
are missed. Two remedies are compared: ``class_weight="balanced"`` (each
label's positives weighted by its negative/positive ratio in the loss) and the
default learned per-label thresholds, with the threshold each label got and
why (``threshold_status_``).

Run it as::

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
    settings = {
        "threshold=0.5": dict(threshold=0.5),
        "threshold=0.5, class_weight=balanced": dict(threshold=0.5, class_weight="balanced"),
        "learned thresholds (default)": {},
    }
    for name, params in settings.items():
        clf = make_pipeline(
            StandardScaler(),
            KerasMultiLabelClassifier(
                hidden_layer_sizes=(64,), epochs=3 if fast else 40, random_state=0,
                **params,
            ),
        ).fit(X_train, Y_train)
        pred = clf.predict(X_test)
        print(f"{name:38} macro-F1 "
              f"{f1_score(Y_test, pred, average='macro', zero_division=0):.3f}  "
              f"recall per label {np.round(recall_score(Y_test, pred, average=None, zero_division=0), 2)}")
    network = clf[-1]
    for label, cut, status in zip(network.classes_, network.thresholds_,
                                  network.threshold_status_):
        print(f"  label {label}: threshold {cut:.3f} ({status})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--fast", action="store_true", help="few epochs, for tests")
    main(parser.parse_args().fast)
