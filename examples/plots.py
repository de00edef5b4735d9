"""
Look at what the thresholds did, and at training: the three displays
====================================================================

Fits the default estimator on the digit-properties data that ships with the
package (no download), then draws, on the held-out rows: each label's F1
against its threshold with the learned cut marked, precision against recall
with the operating point marked, and the training curves of the five fold
networks with the epochs early stopping kept. Needs matplotlib
(``pip install "sklearn-mlk[plot]"``).

Run it as::

    python examples/plots.py                      # writes ./plots/*.png
    python examples/plots.py --out docs/images    # the docs' images
"""

import argparse
import pathlib
import tempfile

import matplotlib

matplotlib.use("Agg")
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from sklearn_mlk import (  # noqa: E402
    KerasMultiLabelClassifier,
    LabelPrecisionRecallDisplay,
    ThresholdDisplay,
    TrainingHistoryDisplay,
)
from sklearn_mlk.datasets import load_digit_properties  # noqa: E402

# In the current folder: a run never overwrites the repository's own images.
DEFAULT_OUT = pathlib.Path("plots")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Draw the three displays.")
    parser.add_argument("--out", default=None,
                        help=f"folder for the PNGs (default ./{DEFAULT_OUT})")
    parser.add_argument("--fast", action="store_true",
                        help="few epochs, PNGs to a temporary folder unless --out")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out or (tempfile.mkdtemp() if args.fast else DEFAULT_OUT))
    out.mkdir(parents=True, exist_ok=True)

    X, Y, names = load_digit_properties()
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=0.3,
                                                        random_state=0)
    scaler = StandardScaler().fit(X_train)
    clf = KerasMultiLabelClassifier(epochs=5 if args.fast else 50, random_state=0)
    clf.fit(scaler.transform(X_train), [[n for n, y in zip(names, row) if y]
                                        for row in Y_train])
    test_sets = [[n for n, y in zip(names, row) if y] for row in Y_test]
    X_test = scaler.transform(X_test)

    # One small plot per label (facets=True): the five F1 curves, all close to
    # 1 near their best cut, would otherwise lie on top of each other.
    displays = {
        "thresholds.png": ThresholdDisplay.from_estimator(clf, X_test, test_sets,
                                                          facets=True),
        "precision_recall.png": LabelPrecisionRecallDisplay.from_estimator(
            clf, X_test, test_sets, facets=True),
        "training_history.png": TrainingHistoryDisplay.from_estimator(clf),
    }
    for name, display in displays.items():
        display.figure_.tight_layout()
        display.figure_.savefig(out / name, dpi=100)
        print(f"wrote {out / name} ({len(display.lines_)} curves)")
    print("thresholds:", {str(label): round(float(cut), 3)
                          for label, cut in zip(clf.classes_, clf.thresholds_)})
    print("epochs run:", clf.n_iter_.tolist(), "best epochs:",
          None if clf.best_epoch_ is None else clf.best_epoch_.tolist())


if __name__ == "__main__":
    main()
