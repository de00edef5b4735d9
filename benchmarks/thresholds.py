"""How to learn thresholds: the study behind the estimator's defaults.

    python benchmarks/thresholds.py                  # all variants, 3 seeds
    python benchmarks/thresholds.py --seeds 1 --variants default "fixed 0.5"

Each variant is the default estimator with a few parameters changed, run on
the shared sets under the benchmark protocol for several seeds. The report
gives the mean (and spread) of macro- and micro-F1, Hamming loss and fit
seconds, so the defaults can be chosen on quality per second of fitting.
Writes benchmarks/results/thresholds.{md,json}.
"""

import argparse
import json
import os
import pathlib
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from sklearn.base import BaseEstimator, ClassifierMixin, clone  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import MaxAbsScaler, StandardScaler  # noqa: E402

import datasets  # noqa: E402
import peers  # noqa: E402
import report  # noqa: E402
import run  # noqa: E402

SEQUENTIAL = "one by one"
GLOROT = "glorot"
SIZED = "sized"
SCALED_PENALTY = "input-scaled penalty"
LOGITS = "logits averaged"
# n_iter_no_change="auto"'s (floor, ceiling) of the patience
# (sklearn_mlk._tuning.AUTO_PATIENCE).
AUTO_PATIENCE = "auto patience"
# A list of alpha chosen per label (PerLabelChoice), not per set.
PER_LABEL = "per label"
# Whether the fold networks start from the same weights
# (sklearn_mlk._training._schemes.FOLDS_START_ALIKE), against the scheme's own.
STARTS_ALIKE = "starts alike"


def wide_and_deep(meta):
    """The default MLP (256 ReLU units, dropout 0.5, biases at the label
    priors) with a linear path from the input to the logits beside it: a
    linear model and the network, trained together. As a model callable it
    trains its fold networks one after the other, from Keras's draws under
    the fit's seed, at the default MLP's learning rate (given by the
    variant)."""
    from scipy.special import logit

    from sklearn_mlk._keras._backend import get_keras

    keras = get_keras()
    prior = np.clip(meta["label_prior_"], 1e-3, 1 - 1e-3)
    inputs = keras.Input(shape=(meta["n_features_in_"],))
    hidden = keras.layers.Dense(256, activation="relu")(inputs)
    hidden = keras.layers.Dropout(0.5)(hidden)
    deep = keras.layers.Dense(meta["n_labels_"],
                              bias_initializer=keras.initializers.Constant(logit(prior)))(hidden)
    wide = keras.layers.Dense(meta["n_labels_"], use_bias=False)(inputs)
    return keras.Model(inputs, keras.layers.Add()([deep, wide]))


class PerLabelChoice(ClassifierMixin, BaseEstimator):
    """One fit of the default per value of ``alpha``, from one seed (the same
    folds), each label predicted by the fit whose learned threshold scores
    best on that label's out-of-fold predictions (its ``threshold_scores_``;
    the first value on a tie or where no fit learned one). Every fit that
    wins a label is kept for prediction."""

    def __init__(self, seed, params):
        self.seed, self.params = seed, params

    def fit(self, X, Y):
        from sklearn_mlk import _choice

        self.fits_ = [peers.mlk(self.seed, **{**self.params, "alpha": value}).fit(X, Y)
                      for value in self.params["alpha"]]
        scores = np.vstack([fit.threshold_scores_ for fit in self.fits_])
        # The estimator's own rule, label by label: NaN loses, a tie keeps the first.
        self.choice_ = np.array([_choice.best(column) for column in scores.T])
        return self

    def predict(self, X):
        predictions = {i: self.fits_[i].predict(X) for i in set(self.choice_.tolist())}
        return np.column_stack([predictions[i][:, j] for j, i in enumerate(self.choice_)])


VARIANTS = {
    "default": {},
    "epochs 50": {"epochs": 50},
    "epochs 200": {"epochs": 200},
    "epochs 200, rare labels from 1 positive": {"epochs": 200, "min_positives": 1},
    "epochs 200, rare labels from 2 positives": {"epochs": 200, "min_positives": 2},
    # The fold networks trained one after another instead of stacked side by
    # side (sklearn_mlk._training._stacked): the same networks, batched differently.
    "fold networks one by one": {SEQUENTIAL: True},
    # The first layer drawn at Glorot's scale whatever the input (the default
    # since the sized layer below lost on benchmarks/first_layer.py's sets).
    "first layer at Glorot's scale": {GLOROT: True},
    # The first layer sized to the input
    # (sklearn_mlk._keras._network.first_layer_gain), the default before.
    "first layer sized to the input": {SIZED: True},
    # alpha's penalty on the first layer divided by its gain: the penalty of
    # the input scaled to unit power (sklearn_mlk._keras._network.
    # SCALE_PENALTY_TO_INPUT).
    "alpha 3, input-scaled": {"alpha": 3.0, SCALED_PENALTY: True},
    "alpha 10, input-scaled": {"alpha": 10.0, SCALED_PENALTY: True},
    # Chosen per fit from the out-of-fold scores (alpha as a list): each value
    # is fitted, and the one whose thresholds score best on its own
    # out-of-fold predictions (mean of threshold_scores_) predicts.
    "alpha 0 or 3, by out-of-fold F1": {"alpha": [0.0, 3.0]},
    "alpha 0, 3 or 10, by out-of-fold F1": {"alpha": [0.0, 3.0, 10.0]},
    "alpha 0 or 3, per label by out-of-fold F1": {"alpha": [0.0, 3.0], PER_LABEL: True},
    "alpha 0, 3 or 10, per label by out-of-fold F1": {"alpha": [0.0, 3.0, 10.0],
                                                      PER_LABEL: True},
    # The fold networks' logits averaged, not their probabilities
    # (sklearn_mlk._keras._network.AVERAGE_PROBABILITIES off): the default
    # before. The same fits and thresholds; only the ensemble's output differs.
    "fold logits averaged": {LOGITS: True},
    "micro-F1 objective": {"threshold": "micro_f1"},
    "fixed 0.5": {"threshold": 0.5},
    "hold-out 0.2, refit": {"threshold_cv": 0.2, "refit": True},
    "hold-out 0.2, no refit": {"threshold_cv": 0.2, "refit": False},
    "3-fold, refit": {"threshold_cv": 3, "refit": True},
    "5-fold, refit": {"refit": True},
    # The fold networks started alike and kept as the mean of their weights,
    # each label's threshold matched to the ensemble's share of rows.
    "5-fold, averaged weights": {"refit": "average"},
    # Its two halves apart: the mean of fold networks started apart, and the
    # ensemble of fold networks started alike.
    "5-fold, averaged weights, started apart": {"refit": "average", STARTS_ALIKE: False},
    "5-fold ensemble, started alike": {STARTS_ALIKE: True},
    "3-fold ensemble": {"threshold_cv": 3, "refit": False},
    "5-fold ensemble": {"threshold_cv": 5, "refit": False},
    "10-fold ensemble": {"threshold_cv": 10, "refit": False},
    "no early stopping": {"early_stopping": False},
    # Trained as MLPClassifier is: no dropout, no early stopping, 200 epochs.
    "no early stopping, no dropout, epochs 200": {"early_stopping": False,
                                                  "dropout": 0.0, "epochs": 200},
    "no early stopping, epochs 200": {"early_stopping": False, "epochs": 200},
    "no dropout": {"dropout": 0.0},
    "class_weight=balanced": {"class_weight": "balanced"},
    "focal loss (gamma 2)": {"focal_gamma": 2.0},
    "SCutFBR floor 0.1": {"fbr": 0.1},
    "no rare-label fallback": {"min_positives": 0},
    "rare-label fallback below 5": {"min_positives": 5},
    "rare-label fallback below 10": {"min_positives": 10},
    # Cheaper fold networks (the default's fit time against MLPClassifier's,
    # benchmarks/cost.py): narrower members, larger batches, a larger step.
    "64 units, batch 200": {"hidden_layer_sizes": (64,), "batch_size": 200},
    "64 units, batch 200, lr 3e-3, dropout 0.25": {
        "hidden_layer_sizes": (64,), "batch_size": 200, "learning_rate": 3e-3,
        "dropout": 0.25},
    "128 units, batch 200, lr 3e-3": {"hidden_layer_sizes": (128,), "batch_size": 200,
                                      "learning_rate": 3e-3},
    "3-fold, 128 units, batch 200, lr 3e-3": {
        "threshold_cv": 3, "hidden_layer_sizes": (128,), "batch_size": 200,
        "learning_rate": 3e-3},
    "32 units, batch 256, lr 3e-3, dropout 0.25, patience 5": {
        "hidden_layer_sizes": (32,), "batch_size": 256, "learning_rate": 3e-3,
        "dropout": 0.25, "n_iter_no_change": 5},
    "lr 3e-3": {"learning_rate": 3e-3},
    "batch 200, lr 3e-3": {"batch_size": 200, "learning_rate": 3e-3},
    # Around learning_rate="auto" (3e-3, from the variants above).
    "lr 1e-3": {"learning_rate": 1e-3},
    "lr 6e-3": {"learning_rate": 6e-3},
    "lr 1e-2": {"learning_rate": 1e-2},
    "patience 5": {"n_iter_no_change": 5},
    "patience 3": {"n_iter_no_change": 3},
    # The default before n_iter_no_change="auto": what the "default" rows of
    # the study that chose it (thresholds_patience) measured.
    "patience 10": {"n_iter_no_change": 10},
    # n_iter_no_change="auto": the patience is the best epoch so far, between
    # a floor and a ceiling.
    "patience = best epoch, 3 to 10": {"n_iter_no_change": "auto", AUTO_PATIENCE: (3, 10)},
    "patience = best epoch, 4 to 10": {"n_iter_no_change": "auto", AUTO_PATIENCE: (4, 10)},
    "patience = best epoch, 5 to 10": {"n_iter_no_change": "auto", AUTO_PATIENCE: (5, 10)},
    "patience = best epoch, 6 to 10": {"n_iter_no_change": "auto", AUTO_PATIENCE: (6, 10)},
    "patience = best epoch, 7 to 10": {"n_iter_no_change": "auto", AUTO_PATIENCE: (7, 10)},
    "128 units": {"hidden_layer_sizes": (128,)},
    "batch 128": {"batch_size": 128},
    "dropout 0.25": {"dropout": 0.25},
    # An L2 penalty on the kernels (MLPClassifier's alpha).
    "alpha 0.1": {"alpha": 0.1},
    "alpha 1": {"alpha": 1.0},
    "alpha 3": {"alpha": 3.0},
    "alpha 10": {"alpha": 10.0},
    # A linear (logistic) network: no hidden layer.
    "linear, no hidden layer": {"hidden_layer_sizes": ()},
    "linear, alpha 1": {"hidden_layer_sizes": (), "alpha": 1.0},
    "wide and deep": {"model": wide_and_deep, "learning_rate": 3e-3},
}

FIGURES = ("macro_f1", "micro_f1", "hamming_loss", "fit_seconds")


def study(variants, sets, seeds, learning_rate=None):
    """Each variant's figures per set; ``learning_rate`` is given to every
    variant that does not set its own (the studies made before
    ``learning_rate="auto"`` ran at 1e-3: ``--learning-rate 1e-3`` reruns
    them as they were). The estimator's study switches are put back after."""
    from sklearn_mlk import _tuning
    from sklearn_mlk._keras import _network
    from sklearn_mlk._training import _schemes, _trainer

    switches = (_trainer.Trainer.stacking, _network.SIZE_FIRST_LAYER,
                _network.SCALE_PENALTY_TO_INPUT, _network.AVERAGE_PROBABILITIES,
                _tuning.AUTO_PATIENCE, _schemes.FOLDS_START_ALIKE)
    try:
        return _study(variants, sets, seeds, learning_rate)
    finally:
        (_trainer.Trainer.stacking, _network.SIZE_FIRST_LAYER,
         _network.SCALE_PENALTY_TO_INPUT, _network.AVERAGE_PROBABILITIES,
         _tuning.AUTO_PATIENCE, _schemes.FOLDS_START_ALIKE) = switches


def _study(variants, sets, seeds, learning_rate):
    from sklearn_mlk import _tuning

    patience_before = _tuning.AUTO_PATIENCE
    results = {}
    for data in sets:
        X, Y, splits = datasets.load(data)
        scaler = MaxAbsScaler() if sp.issparse(X) else StandardScaler()  # sparse stays sparse
        results[data] = {}
        for name in variants:
            params = dict(VARIANTS[name])
            if learning_rate is not None:
                params.setdefault("learning_rate", learning_rate)
            sequential = params.pop(SEQUENTIAL, False)
            glorot = params.pop(GLOROT, False)
            sized = params.pop(SIZED, False)
            scaled = params.pop(SCALED_PENALTY, False)
            logits = params.pop(LOGITS, False)
            auto_patience = params.pop(AUTO_PATIENCE, None)
            per_label = params.pop(PER_LABEL, False)
            starts_alike = params.pop(STARTS_ALIKE, None)
            # The places a study reaches into the estimator's internals.
            from sklearn_mlk._keras import _network
            from sklearn_mlk._training import _schemes, _trainer

            _schemes.FOLDS_START_ALIKE = starts_alike

            _tuning.AUTO_PATIENCE = auto_patience or patience_before
            _trainer.Trainer.stacking = not sequential
            _network.SIZE_FIRST_LAYER = sized and not glorot
            _network.SCALE_PENALTY_TO_INPUT = scaled
            _network.AVERAGE_PROBABILITIES = not logits
            # One untimed fit first: tracing the training loop of this
            # configuration is start-up, not fit time.
            train = splits[0][0]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                make_pipeline(clone(scaler), peers.mlk(0, **{**params, "epochs": 1})).fit(
                    X[train], Y[train])
            runs = [
                run.evaluate(name, X, Y, splits, seed=seed, factory=lambda s: make_pipeline(
                    clone(scaler),
                    PerLabelChoice(s, params) if per_label else peers.mlk(s, **params)))
                for seed in range(seeds)
            ]
            errors = [r["error"] for r in runs if "error" in r]
            if errors:
                results[data][name] = {"error": errors[0]}
            else:
                results[data][name] = {
                    f: {"mean": float(np.mean([r[f] for r in runs])),
                        "std": float(np.std([r[f] for r in runs]))}
                    for f in FIGURES
                }
            r = results[data][name]
            shown = r.get("error") or "  ".join(
                f"{f} {r[f]['mean']:.3f}" for f in FIGURES)
            print(f"{data:9} {name:32} {shown}", flush=True)
    return results


def in_set_order(results):
    """``results`` with its sets in the order of ``datasets.SETS`` (a merge
    of a run on some sets would otherwise put those first), others after."""
    rank = {name: i for i, name in enumerate(datasets.SETS)}
    return {name: results[name]
            for name in sorted(results, key=lambda name: rank.get(name, len(rank)))}


def markdown(results, meta):
    lines = ["# Threshold learning: variants of the default", "",
             f"Command: `{meta['command']}`  ",
             f"Machine: {meta['machine']}; {meta['date']}; seeds: {meta['seeds']}", "",
             "Mean over seeds (standard deviation in brackets). Fit seconds are "
             "summed over the folds (the 5 of the sets without a standard split).", ""]
    for data, variants in results.items():
        lines += [f"## {data}", "",
                  "| variant | macro-F1 | micro-F1 | Hamming loss | fit s |",
                  "|---|---|---|---|---|"]
        for name, r in variants.items():
            if "error" in r:
                lines.append(f"| {name} | crashed: {r['error']} | | | |")
                continue
            cells = [f"{r[f]['mean']:.3f} ({r[f]['std']:.3f})" for f in FIGURES[:3]]
            cells.append(f"{r['fit_seconds']['mean']:.1f}")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS))
    parser.add_argument("--datasets", nargs="+", choices=datasets.SETS)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="for every variant that does not set its own (1e-3 reruns "
                             "the studies made before learning_rate='auto')")
    parser.add_argument("--out", default=str(run.RESULTS))
    parser.add_argument("--name", default="thresholds", help="file stem of the report")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other variants' results of an earlier report of "
                             "the same name (same seeds), replacing what this run measures")
    args = parser.parse_args(argv)
    variants = args.variants or list(VARIANTS)
    sets = args.datasets or list(datasets.SETS)
    results = study(variants, sets, args.seeds, args.learning_rate)
    meta = report.run_meta("thresholds.py", argv, seeds=args.seeds)
    earlier = pathlib.Path(args.out) / f"{args.name}.json"
    if args.merge and earlier.exists():
        before = json.loads(earlier.read_text())
        if before["meta"].get("seeds") != args.seeds:
            raise SystemExit(f"{earlier} has {before['meta'].get('seeds')} seeds, this run "
                             f"{args.seeds}: they do not merge.")
        for name, rows in before["results"].items():
            kept = {v: r for v, r in rows.items() if v not in results.get(name, {})}
            results[name] = {v: {**kept, **results.get(name, {})}[v]
                             for v in VARIANTS if v in {**kept, **results.get(name, {})}}
        meta["merged_from"] = [*before["meta"].get("merged_from", []),
                               before["meta"]["command"]]
    results = in_set_order(results)
    report.write(args.out, args.name, meta, results, markdown(results, meta))


if __name__ == "__main__":
    main()
