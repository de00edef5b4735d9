"""Look at what the thresholds did, and at training: the three displays.

    python examples/plots.py                      # writes ./plots/*.png
    python examples/plots.py --out docs/images    # the README's images

Fits the default estimator on the digit-properties data that ships with the
package (no download), then draws, on the held-out rows: each label's F1
against its threshold with the learned cut marked, precision against recall
with the operating point marked, and the training curves of the five fold
networks with the epochs early stopping kept. Needs matplotlib
(``pip install "sklearn-mlk[plot]"``).
"""

import argparse
import pathlib
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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

    figures = {
        "thresholds.png": lambda ax: ThresholdDisplay.from_estimator(
            clf, X_test, test_sets, ax=ax),
        "precision_recall.png": lambda ax: LabelPrecisionRecallDisplay.from_estimator(
            clf, X_test, test_sets, ax=ax),
        "training_history.png": lambda ax: TrainingHistoryDisplay.from_estimator(
            clf, ax=ax),
    }
    for name, draw in figures.items():
        fig, ax = plt.subplots(figsize=(6, 4))
        display = draw(ax)
        ax.set_title(name[:-4].replace("_", " "))
        fig.tight_layout()
        fig.savefig(out / name, dpi=100)
        plt.close(fig)
        print(f"wrote {out / name} ({len(display.lines_)} curves)")
    print("thresholds:", {str(label): round(float(cut), 3)
                          for label, cut in zip(clf.classes_, clf.thresholds_)})
    print("epochs run:", clf.n_iter_.tolist(), "best epochs:",
          None if clf.best_epoch_ is None else clf.best_epoch_.tolist())


if __name__ == "__main__":
    main()
