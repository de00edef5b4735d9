"""Many labels with a long tail of rare ones: the default beside the peers.

    python benchmarks/many_labels.py              # both sets, 2 seeds
    python benchmarks/many_labels.py --quick      # the 100-label set, 1 seed
    python benchmarks/many_labels.py --models default 'no hidden layer' \
        --name many_labels_variants               # the estimator's variants
    python benchmarks/many_labels.py --merge --models default  # rerun one, keep the rest

The shared sets hold at most 174 labels (cal500), and their rare labels are
few. Large label spaces (bookmarks, tags) have hundreds to about a thousand
labels, most of them rare. This benchmark generates such sets the way a
tagged text arises: tags first, then the words they bring.

- **tags**: label ``i`` (from 1) is present in a row with probability
  ``min(0.2, 3 / i ** 0.9)``, independently of the others: about 11 labels
  a row of 100, about 23 of 1,000, the rarest label of 1,000 in about 0.6%
  of the rows;
- **words**: 500 binary features. Each label owns 8 words drawn at random
  (with 1,000 labels every word is owned by about 16 of them, which share
  it by chance, not by meaning). A word is present with probability 0.02 by itself, and each of a
  row's labels that owns it brings it with probability 0.35.

A third set asks for the hidden layer, where the tagged texts' labels are
each a linear rule of words: **digit pairs**, 330 labels of objects in
images. Each row is three slots of scikit-learn's 8 x 8 digit images side by
side (192 pixels, as in ``benchmarks/large_data.py``), each slot empty or
holding a digit (probability 0.6), with Gaussian pixel noise (standard
deviation 2 on the 0-16 scale). Its labels are the digit in each slot (30)
and each pair of digits in a pair of slots, "a 3 in slot 1 and a 7 in slot
2" (300, each in about 0.4% of the rows). Training and test rows use
different halves of the digit images.

Each set has 10,000 training rows and 4,000 test rows, drawn apart; each seed
draws a fresh set and seeds the models with it.

Models, behind a ``MaxAbsScaler`` (as ``benchmarks/peers.py`` configures
them): the default; ``mlk (0.5)``, one network of the same architecture
at a fixed 0.5 (``threshold=0.5``), for what the learned thresholds add;
``MLPClassifier(256, early stopping)``,
``OvR(LogReg)`` and ``MultiOutput(TunedThresholdCV(LogReg))``, the peer that
tunes a threshold per label for F1, as the default does. ``--models``
runs others in their place: the estimator without its linear path
(``linear_path=False``: the default up to a hundred labels, and the default
of earlier releases at any number), with no hidden layer (a logistic
model per label, trained together; also with ``alpha=1``, and with it
refitted on every row after the folds, ``refit=True``, or trained for 60
epochs without early stopping), with 1,024
hidden units, and "wide and deep" (the thresholds study's variant: a
model callable of the 256-unit MLP with a linear path beside it, trained as
any model callable's networks are, one after the other, at dropout 0.5),
and the default choosing whether to keep the linear path by both kinds'
fold networks ("choice by full fits", the choice of earlier releases)
rather than by a pilot network of each kind.
Each cell is the
mean over seeds of the test macro-F1, of the macro-F1 over the rarer half of
the labels (by training frequency), of the micro-F1, and of the fit seconds
(one process, the models one after the other, after an untimed
one-epoch fit of each of the estimator's models on 500 rows of the set,
which traces its networks).
Writes benchmarks/results/many_labels{,_quick}.{md,json}, or ``--name``.
"""

import contextlib
import os
import pathlib
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import peers  # noqa: E402
import report  # noqa: E402

TRAIN_ROWS, TEST_ROWS = 10_000, 4_000
WORDS, WORDS_PER_LABEL = 500, 8
TAIL, MOST_COMMON, HEAD = 0.9, 0.2, 3.0
BACKGROUND, SIGNAL = 0.02, 0.35
LABELS = (100, 1_000)
DIGIT_PAIRS = "330 (digit pairs)"
SLOTS, DIGIT_NOISE, DIGIT_PRESENT = 3, 2.0, 0.6
DEFAULT = "default"
FIXED = "mlk (0.5)"
MODELS = (DEFAULT, FIXED, "MLPClassifier(256, early stopping)", "OvR(LogReg)",
          "MultiOutput(TunedThresholdCV(LogReg))")
# Other networks of the estimator, by their parameters; the model
# "wide_and_deep" is benchmarks/thresholds.py's, imported when it runs.
VARIANTS = {
    "no linear path": {"linear_path": False},
    "no hidden layer": {"hidden_layer_sizes": ()},
    "no hidden layer, alpha 1": {"hidden_layer_sizes": (), "alpha": 1.0},
    "no hidden layer, alpha 1, refit": {"hidden_layer_sizes": (), "alpha": 1.0,
                                        "refit": True},
    "no hidden layer, alpha 1, 60 epochs": {"hidden_layer_sizes": (), "alpha": 1.0,
                                            "early_stopping": False, "epochs": 60},
    "1,024 hidden units": {"hidden_layer_sizes": (1024,)},
    "wide and deep": {"model": "wide_and_deep", "learning_rate": 3e-3},
    "choice by full fits": {},
}
# Variants that fit with a study switch of sklearn_mlk._choice set: the choice
# of the linear path by both kinds' fold networks, not by pilot networks.
SWITCHES = {"choice by full fits": {"PILOT": False}}
OWN = (DEFAULT, FIXED, *VARIANTS)
METRICS = ("macro_f1", "rare_half_macro_f1", "micro_f1")


def label_rates(n_labels):
    """The probability of each label in a row, falling off with its rank."""
    return np.minimum(MOST_COMMON, HEAD / np.arange(1, n_labels + 1) ** TAIL)


def tagged_set(n_rows, n_labels, seed=0):
    """``(X, Y, owned)``: ``n_rows`` sparse binary rows of words, their tags
    (see the module's docstring), and the words each label owns (a 0/1 array
    of labels x words)."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    Y = (rng.random((n_rows, n_labels)) < label_rates(n_labels)).astype(np.int8)
    owned = np.zeros((n_labels, WORDS), dtype=np.int32)
    for label in range(n_labels):
        owned[label, rng.choice(WORDS, WORDS_PER_LABEL, replace=False)] = 1
    # How many of each row's labels own each word.
    owners = np.asarray(sp.csr_matrix(Y, dtype=np.int32) @ owned)
    present = 1.0 - (1.0 - BACKGROUND) * (1.0 - SIGNAL) ** owners
    X = sp.csr_matrix((rng.random(present.shape) < present).astype(np.float64))
    return X, Y.astype(int), owned


def split_set(n_labels, seed=0):
    """``(X_train, Y_train, X_test, Y_test)`` of the set of ``n_labels``."""
    X, Y, _ = tagged_set(TRAIN_ROWS + TEST_ROWS, n_labels, seed)
    return X[:TRAIN_ROWS], Y[:TRAIN_ROWS], X[TRAIN_ROWS:], Y[TRAIN_ROWS:]


def digit_pairs_set(seed=0):
    """``(X_train, Y_train, X_test, Y_test)`` of the digit-pairs set (see the
    module's docstring)."""
    from itertools import combinations

    from sklearn.datasets import load_digits

    digits = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(digits.target))
    halves = order[: len(order) // 2], order[len(order) // 2 :]
    width = digits.data.shape[1]

    def rows(n, images):
        X = np.zeros((n, SLOTS * width))
        held = np.full((n, SLOTS), -1)  # the digit in each slot, -1 for none
        for slot in range(SLOTS):
            present = rng.random(n) < DIGIT_PRESENT
            pick = rng.choice(images, n)[present]
            X[present, slot * width : (slot + 1) * width] = digits.data[pick]
            held[present, slot] = digits.target[pick]
        X += rng.normal(0.0, DIGIT_NOISE, X.shape)
        singles = [held[:, slot] == d for slot in range(SLOTS) for d in range(10)]
        pairs = [(held[:, i] == a) & (held[:, j] == b)
                 for i, j in combinations(range(SLOTS), 2)
                 for a in range(10) for b in range(10)]
        return X, np.column_stack(singles + pairs).astype(int)

    return (*rows(TRAIN_ROWS, halves[0]), *rows(TEST_ROWS, halves[1]))


def load_set(name, seed=0):
    """``(X_train, Y_train, X_test, Y_test)`` of the set ``name``: a tagged
    text of ``name`` labels, or :data:`DIGIT_PAIRS`."""
    if name == DIGIT_PAIRS:
        return digit_pairs_set(seed)
    return split_set(int(name.replace(",", "")), seed)


def rare_half(Y_train):
    """The columns of the rarer half of the labels by training frequency."""
    order = np.argsort(Y_train.sum(axis=0), kind="stable")
    return np.sort(order[: Y_train.shape[1] // 2])


def make(model, seed, sparse=True):
    """A fresh pipeline of ``model`` (a name of MODELS or VARIANTS) seeded by
    ``seed``, behind a ``MaxAbsScaler`` for ``sparse`` X and a
    ``StandardScaler`` for dense X, as ``benchmarks/peers.py`` builds them."""
    if model == DEFAULT or model in VARIANTS:
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import MaxAbsScaler, StandardScaler

        from sklearn_mlk import KerasMultiLabelClassifier

        params = dict(VARIANTS.get(model, {}))
        if params.get("model") == "wide_and_deep":
            import thresholds

            params["model"] = thresholds.wide_and_deep
        return make_pipeline(MaxAbsScaler() if sparse else StandardScaler(),
                             KerasMultiLabelClassifier(random_state=seed, **params))
    return peers.make(model, seed, sparse=sparse)


@contextlib.contextmanager
def switched(switches):
    """The study switches ``switches`` of :mod:`sklearn_mlk._choice` set
    within this block, and put back after."""
    from sklearn_mlk import _choice

    before = {name: getattr(_choice, name) for name in switches}
    for name, value in switches.items():
        setattr(_choice, name, value)
    try:
        yield
    finally:
        for name, value in before.items():
            setattr(_choice, name, value)


def scores(Y_test, predicted, rare):
    """The test macro-F1, the rarer half's macro-F1 and the micro-F1."""
    from sklearn.metrics import f1_score

    return {
        "macro_f1": float(f1_score(Y_test, predicted, average="macro", zero_division=0)),
        "rare_half_macro_f1": float(f1_score(Y_test[:, rare], predicted[:, rare],
                                             average="macro", zero_division=0)),
        "micro_f1": float(f1_score(Y_test, predicted, average="micro", zero_division=0)),
    }


def run_set(name, seeds, models=MODELS):
    """Each model's scores and fit seconds on the set ``name`` (of
    :func:`load_set`), one list entry per seed."""
    out = {model: {**{m: [] for m in METRICS}, "fit_seconds": []} for model in models}
    for seed in range(seeds):
        X, Y, X_test, Y_test = load_set(name, seed)
        rare = rare_half(Y)
        sparse = name != DIGIT_PAIRS
        for model in models if seed == 0 else ():
            if model in OWN:  # untimed: its networks traced for this shape
                make(model, seed, sparse).set_params(
                    kerasmultilabelclassifier__epochs=1).fit(X[:500], Y[:500])
        for model in models:
            pipe = make(model, seed, sparse)
            with switched(SWITCHES.get(model, {})):
                start = time.perf_counter()
                pipe.fit(X, Y)
                out[model]["fit_seconds"].append(time.perf_counter() - start)
            for metric, value in scores(Y_test, np.asarray(pipe.predict(X_test)),
                                        rare).items():
                out[model][metric].append(value)
    return out


def markdown(results, meta):
    lines = report.header("Many labels, most of them rare", meta)
    seeds = report.seed_count(meta["seeds"])
    lines += [
        f"Test scores (mean over {seeds}; a fresh set each) and fit seconds (their "
        "mean; one process, warm) on generated sets described in "
        "`benchmarks/many_labels.py`, each of 10,000 training and 4,000 test rows: "
        "tagged texts of 500 binary words, and digit images whose labels are the "
        "digits in their slots and pairs of them. Rare half: the macro-F1 over the "
        "rarer half of the labels by training frequency. Best of each score in bold.",
        "",
    ]
    lines += report.merge_note(meta)
    lines += [
        "| labels | model | macro-F1 | rare half | micro-F1 | fit s |",
        "|---|---|---|---|---|---|",
    ]
    for name, cells in results.items():
        bold = {metric: report.bold_best({m: np.mean(cells[m][metric]) for m in cells})
                for metric in METRICS}
        for model in cells:
            lines.append(f"| {name} | {model} | "
                         + " | ".join(bold[metric][model] for metric in METRICS)
                         + f" | {np.mean(cells[model]['fit_seconds']):.1f} |")
    return "\n".join(lines) + "\n"


def _arguments(parser):
    report.selection_arguments(parser, [f"{n:,}" for n in LABELS] + [DIGIT_PAIRS],
                               [*MODELS, *VARIANTS])
    parser.add_argument("--name", default=None,
                        help="the results' file stem (default many_labels)")


# A merged report's rows: the default, its variants, the peers.
ORDER = (DEFAULT, *VARIANTS, *MODELS)


def main(argv=None):
    args, seeds = report.seeded_arguments(__doc__, argv, 2, "the 100-label set",
                                          _arguments)
    warnings.simplefilter("ignore")
    meta = report.run_meta("many_labels.py", argv, seeds=seeds)
    results = {}
    names = args.sets or ([f"{LABELS[0]:,}"] if args.quick
                          else [f"{n:,}" for n in LABELS] + [DIGIT_PAIRS])
    for name in names:
        results[name] = run_set(name, seeds, args.models or MODELS)
        print(name, {m: round(float(np.mean(v["macro_f1"])), 4)
                     for m, v in results[name].items()}, flush=True)
    stem = args.name or ("many_labels_quick" if args.quick else "many_labels")
    if args.merge:
        results = report.merge_saved(args.out, stem, meta, results, ORDER)
    report.write(args.out, stem, meta, results, markdown(results, meta))


if __name__ == "__main__":
    main()
