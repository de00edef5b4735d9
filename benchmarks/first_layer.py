"""The default MLP's first layer: Glorot's draws against draws sized to the input.

    python benchmarks/first_layer.py              # every set, 2 seeds
    python benchmarks/first_layer.py --quick      # the smallest set, 1 seed
    python benchmarks/first_layer.py --merge --models default  # rerun one, keep the rest

Sized to the input (``sklearn_mlk._keras._network.first_layer_gain``), the
first layer's initial weights are drawn wider on sparse input, so that its
hidden units start as wide as on standardised input. Of the shared sets only
genbase and enron are sparse, and they disagree (``benchmarks/thresholds.py``,
"first layer at Glorot's scale"). This benchmark generates sparse tag sets of
other shapes, each row a bag of words and each label a tag:

- words: ``n_words`` binary features, word ``r`` present in a row with
  probability proportional to ``r ** -0.8`` (a Zipf-like vocabulary), about
  ``per_row`` of them in a row;
- tags: each label is present where either of its two keywords is (drawn from
  the words ranked ``rarest_from`` and below, so that tags are rarer than
  the commonest words), and each label's entries flip with probability
  a tenth of its frequency (label noise);
- test rows are drawn apart from the training rows; labels with fewer than
  3 training positives or no test positive are left out.

Models, behind a ``MaxAbsScaler``: the default (Glorot's draws), the default
with the first layer sized to the input, the default MLP with its linear path
set (``linear_path=True``; the default chooses it by out-of-fold score where
the tags outnumber its hidden units, and the report says what it kept),
``MLPClassifier(
hidden_layer_sizes=(256,), early_stopping=True, max_iter=300)``, and
``OvR(LogReg)`` as ``benchmarks/peers.py`` builds it (one logistic model per
tag: a tag is its keywords' presence, a linear rule). Each cell is
the mean over seeds of the test macro-F1 and of the fit seconds (one process,
the models one after the other; warm).
Writes benchmarks/results/first_layer{,_quick}.{md,json}.
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

# name: (training rows, test rows, words, labels, words per row, rarest_from)
SETS = {
    "600 rows, 1,200 words, 3 a row, 30 tags": (600, 2_000, 1_200, 30, 3, 0),
    "600 rows, 1,200 words, 60 a row, 30 tags": (600, 2_000, 1_200, 30, 60, 100),
    "3,000 rows, 1,200 words, 3 a row, 100 tags": (3_000, 2_000, 1_200, 100, 3, 0),
    "3,000 rows, 1,200 words, 60 a row, 100 tags": (3_000, 2_000, 1_200, 100, 60, 100),
    "12,000 rows, 10,000 words, 60 a row, 1,000 tags": (12_000, 4_000, 10_000, 1_000, 60,
                                                        2_000),
}
DEFAULT = "default (Glorot's draws)"
SIZED = "first layer sized to the input"
LINEAR = "linear path"
MLP = "MLPClassifier(256, early stopping)"
OVR = "OvR(LogReg)"
MODELS = (DEFAULT, SIZED, LINEAR, MLP, OVR)
KEYWORDS = 2
FLIP_SHARE = 0.1  # a label's entries flip with this share of its frequency
MIN_TRAIN_POSITIVES = 3


def tag_set(n_rows, n_words, n_labels, per_row, rarest_from, seed=0):
    """``(X, Y)``: ``n_rows`` sparse binary rows and their tags (see the
    module's docstring)."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    frequency = 1.0 / np.arange(1, n_words + 1) ** 0.8
    frequency = np.minimum(frequency / frequency.sum() * per_row, 0.5)
    X = sp.csr_matrix((rng.random((n_rows, n_words)) < frequency).astype(np.float64))
    keywords = np.stack([rng.choice(np.arange(rarest_from, n_words), KEYWORDS, replace=False)
                         for _ in range(n_labels)])
    tags = sp.csr_matrix((np.ones(keywords.size), (keywords.ravel(),
                                                   np.repeat(np.arange(n_labels), KEYWORDS))),
                         shape=(n_words, n_labels))
    Y = (X @ tags).toarray() > 0
    Y ^= rng.random(Y.shape) < Y.mean(axis=0) * FLIP_SHARE
    return X, Y.astype(int), keywords


def split_set(name, seed=0):
    """``(X_train, Y_train, X_test, Y_test)`` of one of :data:`SETS`."""
    n_train, n_test, n_words, n_labels, per_row, rarest_from = SETS[name]
    X, Y, _ = tag_set(n_train + n_test, n_words, n_labels, per_row, rarest_from, seed)
    X_train, Y_train, X_test, Y_test = X[:n_train], Y[:n_train], X[n_train:], Y[n_train:]
    kept = (Y_train.sum(axis=0) >= MIN_TRAIN_POSITIVES) & (Y_test.sum(axis=0) >= 1)
    return X_train, Y_train[:, kept], X_test, Y_test[:, kept]


def make(model, seed):
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler

    from sklearn_mlk import KerasMultiLabelClassifier

    if model == OVR:
        import peers

        return peers.make(OVR, seed, sparse=True)
    if model == MLP:
        estimator = MLPClassifier(hidden_layer_sizes=(256,), early_stopping=True,
                                  max_iter=300, random_state=seed)
    else:
        estimator = KerasMultiLabelClassifier(random_state=seed,
                                              **({"linear_path": True} if model == LINEAR
                                                 else {}))
    return make_pipeline(MaxAbsScaler(), estimator)


def run_set(X, Y, X_test, Y_test, seeds, models=MODELS):
    """Each model's test macro-F1 and fit seconds, one list entry per seed."""
    from sklearn.metrics import f1_score

    from sklearn_mlk._keras import _network

    out = {model: {"macro_f1": [], "fit_seconds": []} for model in models}
    if DEFAULT in out:
        # Whether the default kept its linear path, where it chose (linear_path_).
        out[DEFAULT]["linear_path"] = []
    default = _network.SIZE_FIRST_LAYER
    try:
        for seed in range(seeds):
            for model in models:
                # The one place this benchmark reaches into the estimator.
                _network.SIZE_FIRST_LAYER = model == SIZED
                pipe = make(model, seed)
                start = time.perf_counter()
                pipe.fit(X, Y)
                out[model]["fit_seconds"].append(time.perf_counter() - start)
                out[model]["macro_f1"].append(float(f1_score(
                    Y_test, pipe.predict(X_test), average="macro", zero_division=0)))
                if model == DEFAULT and hasattr(pipe[-1], "linear_path_"):
                    out[model]["linear_path"].append(bool(pipe[-1].linear_path_))
    finally:
        _network.SIZE_FIRST_LAYER = default
    return out


def markdown(results, meta):
    lines = report.header("The first layer's initial scale on sparse tag sets", meta)
    seeds = report.seed_count(meta["seeds"])
    lines += [
        f"Test macro-F1 (mean over {seeds}) and fit seconds (their mean; one "
        "process, warm) on generated sparse tag sets, described in "
        "`benchmarks/first_layer.py`; labels kept: those with at least "
        f"{MIN_TRAIN_POSITIVES} training positives and a test positive. Best "
        "macro-F1 of each row in bold.",
        "",
        *report.merge_note(meta),
    ]
    models = [m for m in MODELS if any(m in cells for cells in results.values())]
    lines += [
        "| set (labels kept) | " + " | ".join(f"{m} F1 | s" for m in models) + " |",
        "|---|" + "---|---|" * len(models),
    ]
    for name, cells in results.items():
        scores = report.bold_best({m: np.mean(cells[m]["macro_f1"]) for m in models
                                   if m in cells})
        row = [cell for m in models
               for cell in ((scores[m], f"{np.mean(cells[m]['fit_seconds']):.1f}")
                            if m in cells else ("not run", ""))]
        lines.append(f"| {name} ({cells['labels']:,}) | " + " | ".join(row) + " |")
    chose = {name: cells[DEFAULT].get("linear_path") for name, cells in results.items()
             if DEFAULT in cells}
    chose = {name: kept for name, kept in chose.items() if kept}
    if chose:
        lines += ["", "Where the default chose whether to keep its linear path (more "
                  "labels than hidden units):", ""]
        lines += [f"- {name}: kept it on {sum(kept)} of {len(kept)} "
                  f"seed{'s' if len(kept) != 1 else ''}" for name, kept in chose.items()]
    return "\n".join(lines) + "\n"


def main(argv=None):
    args, seeds = report.generated_set_arguments(
        __doc__, argv, lambda parser: report.selection_arguments(parser, list(SETS), MODELS))
    warnings.simplefilter("ignore")
    meta = report.run_meta("first_layer.py", argv, seeds=seeds)
    names = args.sets or (list(SETS)[:1] if args.quick else list(SETS))
    models = args.models or MODELS
    results = {}
    for name in names:
        X, Y, X_test, Y_test = split_set(name)
        results[name] = {**run_set(X, Y, X_test, Y_test, seeds, models),
                         "labels": Y.shape[1]}
        print(name, {m: round(float(np.mean(results[name][m]["macro_f1"])), 4)
                     for m in models}, flush=True)
    stem = "first_layer_quick" if args.quick else "first_layer"
    if args.merge:
        results = report.merge_saved(args.out, stem, meta, results, MODELS)
    report.write(args.out, stem, meta, results, markdown(results, meta))


if __name__ == "__main__":
    main()
