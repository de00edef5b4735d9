"""Larger training sets than the seven shared ones: quality and fit time by size.

    python benchmarks/large_data.py                  # every size, 2 seeds
    python benchmarks/large_data.py --quick          # the smallest size, 1 seed

The shared sets train on at most 1,500 rows, so they cannot tell how a
default should change with many more rows. This benchmark generates
larger multi-label sets, with held-out test rows drawn apart from the
training rows:

- **digit images**: each row is three slots of scikit-learn's 8 x 8 digit
  images side by side (192 pixels), each slot empty or holding a digit
  (probability 0.6), with Gaussian pixel noise (standard deviation 2 on the
  0-16 scale); the labels are the digits present (10 labels, objects in an
  image). The digit images are split in two halves first: training rows use
  one half, the 6,000 test rows the other, so no image is seen in both.
  Training sizes: 2,500, 5,000, 10,000, 30,000 and 50,000 rows.
- **sparse text**: ``make_multilabel_classification(16000, 500,
  n_classes=22, sparse=True)`` with every count turned into 1 (word
  presence), the first 12,000 rows for training and the rest for testing:
  the shape of the cost benchmark's large set.

Models, behind a ``StandardScaler`` (``MaxAbsScaler`` for sparse X): the
default, the default MLP with ``dropout`` 0.5 and 0.25 set explicitly, the
default with 5 and with 3 fold networks set explicitly (``threshold_cv``), the
cheapest tuning scheme (``threshold_cv=0.2, refit=False``: one network
trained on 80% of the rows, its thresholds tuned on the other 20%, against
the default's five fold networks), and
``MLPClassifier(hidden_layer_sizes=(256,), early_stopping=True,
max_iter=300)``. Each cell is the mean over seeds of the test macro-F1, and
the mean fit seconds (one process, the models one after the other; warm).
Writes benchmarks/results/large_data{,_quick}.{md,json}.
"""

import os
import pathlib
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import report  # noqa: E402

DIGIT_SIZES = (2_500, 5_000, 10_000, 30_000, 50_000)
TEST_ROWS = 6_000
SLOTS = 3
NOISE = 2.0
DEFAULT = "default"
MLP = "MLPClassifier(256, early stopping)"
HOLDOUT = "hold-out 0.2, no refit"
# The number of fold networks set explicitly: threshold_cv="auto" takes 5
# below sklearn_mlk._tuning.LARGE rows and 3 from there.
FOLDS = ("5 folds", "3 folds")
MODELS = (DEFAULT, "dropout 0.5", "dropout 0.25", *FOLDS, HOLDOUT, MLP)


def digit_rows(n, images, digits, rng):
    """``n`` rows of ``SLOTS`` digit slots drawn from ``images``, and their labels."""
    X = np.zeros((n, SLOTS * images.shape[1]))
    Y = np.zeros((n, 10), dtype=int)
    width = images.shape[1]
    for slot in range(SLOTS):
        present = rng.random(n) < 0.6
        pick = rng.integers(0, len(images), n)[present]
        X[present, slot * width:(slot + 1) * width] = images[pick]
        Y[present, digits[pick]] = 1
    X += rng.normal(0.0, NOISE, X.shape)
    return X, Y


def digit_set(n_train, seed=0):
    """``(X_train, Y_train, X_test, Y_test)`` of the digit-image set."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(digits.target))
    half = len(order) // 2
    train, test = order[:half], order[half:]
    X, Y = digit_rows(n_train, digits.data[train], digits.target[train], rng)
    X_test, Y_test = digit_rows(TEST_ROWS, digits.data[test], digits.target[test], rng)
    return X, Y, X_test, Y_test


def text_set():
    """``(X_train, Y_train, X_test, Y_test)`` of the sparse text set."""
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(16_000, 500, n_classes=22, sparse=True,
                                          return_indicator="dense", random_state=0)
    X.data[:] = 1.0
    X = X.tocsr()
    return X[:12_000], Y[:12_000], X[12_000:], Y[12_000:]


def make(model, sparse, seed):
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler, StandardScaler

    from sklearn_mlk import KerasMultiLabelClassifier

    scaler = MaxAbsScaler() if sparse else StandardScaler()
    if model == MLP:
        estimator = MLPClassifier(hidden_layer_sizes=(256,), early_stopping=True,
                                  max_iter=300, random_state=seed)
    elif model == DEFAULT:
        estimator = KerasMultiLabelClassifier(random_state=seed)
    elif model in FOLDS:
        estimator = KerasMultiLabelClassifier(threshold_cv=int(model.split()[0]),
                                              random_state=seed)
    elif model == HOLDOUT:
        estimator = KerasMultiLabelClassifier(threshold_cv=0.2, refit=False,
                                              random_state=seed)
    else:
        estimator = KerasMultiLabelClassifier(dropout=float(model.split()[-1]),
                                              random_state=seed)
    return make_pipeline(scaler, estimator)


def run_set(X, Y, X_test, Y_test, seeds):
    """Each model's test macro-F1 and fit seconds, one list entry per seed."""
    import scipy.sparse as sp
    from sklearn.metrics import f1_score

    out = {model: {"macro_f1": [], "fit_seconds": [], "epochs": []} for model in MODELS}
    for seed in range(seeds):
        for model in MODELS:
            pipe = make(model, sp.issparse(X), seed)
            start = time.perf_counter()
            pipe.fit(X, Y)
            seconds = time.perf_counter() - start
            out[model]["fit_seconds"].append(seconds)
            # The mean epochs of its networks (fold networks, or MLPClassifier's one).
            out[model]["epochs"].append(float(np.mean(pipe[-1].n_iter_)))
            out[model]["macro_f1"].append(float(f1_score(Y_test, pipe.predict(X_test),
                                                         average="macro")))
    return out


def markdown(results, meta):
    # (the models a run measured: a saved run may predate some of MODELS)
    models = [m for m in MODELS if m in next(iter(results.values()))]
    lines = report.header("Larger training sets", meta)
    lines += [
        f"Test macro-F1 (mean over {report.seed_count(meta['seeds'])}), fit seconds and epochs "
        "per network (their means; one process, warm) by training rows; the sets "
        "are described in "
        "`benchmarks/large_data.py`. The default's `dropout=\"auto\"` is 0.5 below "
        f"{meta['large_dropout_rows']:,} rows and 0.25 from there"
        + (f"; its `threshold_cv=\"auto\"` is {meta['folds'][0]} fold networks below "
           f"{meta['folds'][2]:,} rows and {meta['folds'][1]} from there"
           if "folds" in meta else "")
        + ". Best macro-F1 of each row in bold.",
        "",
        "| set (training rows) | " + " | ".join(f"{m} F1 | s | epochs" for m in models)
        + " |",
        "|---|" + "---|---|---|" * len(models),
    ]
    for name, cells in results.items():
        scores = report.bold_best({m: np.mean(cells[m]["macro_f1"]) for m in models})
        row = [cell for m in models
               for cell in (scores[m], f"{np.mean(cells[m]['fit_seconds']):.1f}",
                            f"{np.mean(cells[m]['epochs']):.1f}")]
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    from sklearn_mlk._training._fit import LARGE_DROPOUT_ROWS
    from sklearn_mlk._tuning import AUTO_FOLDS, LARGE, LARGE_FOLDS

    args, seeds = report.generated_set_arguments(__doc__, argv)
    warnings.simplefilter("ignore")
    meta = report.run_meta("large_data.py", argv, seeds=seeds,
                           large_dropout_rows=LARGE_DROPOUT_ROWS,
                           folds=[AUTO_FOLDS, LARGE_FOLDS, LARGE])
    sets = [(f"digit images ({n:,})", lambda n=n: digit_set(n))
            for n in (DIGIT_SIZES[:1] if args.quick else DIGIT_SIZES)]
    if not args.quick:
        sets.append(("sparse text (12,000)", text_set))
    results = {}
    for name, load in sets:
        results[name] = run_set(*load(), seeds)
        print(name, {m: round(float(np.mean(v["macro_f1"])), 4)
                     for m, v in results[name].items()}, flush=True)
    stem = "large_data_quick" if args.quick else "large_data"
    report.write(args.out, stem, meta, results, markdown(results, meta))


if __name__ == "__main__":
    main()
