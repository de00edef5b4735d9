"""Bad, edge and hostile inputs: what each does to a fit, and what the checks cost.

    python benchmarks/failures.py

Each case starts from an estimator fitted on good data, then fits (or tunes,
or sets parameters) with one bad input, and records whether it raised (error
type and message), warned, or returned, and whether the earlier fitted model
still predicts exactly as before. Then it times the checks that run after
each training (loss history, weights, outputs on the training rows) against
the fit they belong to, on yeast. Writes benchmarks/results/failures.{md,json}.
"""

import os
import pathlib
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from sklearn.datasets import make_multilabel_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

import report  # noqa: E402
from sklearn_mlk import KerasMultiLabelClassifier  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def tiny(**params):
    defaults = dict(hidden_layer_sizes=(8,), epochs=3, batch_size=32, random_state=0,
                    threshold=0.5, dropout=0.0)
    return KerasMultiLabelClassifier(**{**defaults, **params})


def _build_needing_units(meta, units):
    import keras

    return keras.Sequential([keras.Input((meta["n_features_in_"],)),
                             keras.layers.Dense(units),
                             keras.layers.Dense(meta["n_labels_"])])


def cases(X, Y):
    """name -> (estimator parameters, action on the fitted estimator)."""
    huge = X.copy()
    huge[:, 0] = 1e30
    n = len(X)
    return {
        "X with a column of 1e30": ({"threshold": "f1"}, lambda c: c.fit(huge, Y)),
        "learning_rate=1e6 (Adam)": (
            {"threshold": "f1"}, lambda c: c.set_params(learning_rate=1e6, epochs=20).fit(X, Y)),
        "learning_rate=1e6 (SGD)": (
            {"threshold": "f1"}, lambda c: c.set_params(learning_rate=1e6, optimizer="sgd",
                                       epochs=20).fit(X, Y)),
        "sample_weight=-1 in fit": ({}, lambda c: c.fit(X, Y, sample_weight=-np.ones(n))),
        "sample_weight=-1 in tune_thresholds": (
            {"threshold": "f1"},
            lambda c: c.tune_thresholds(X, Y, sample_weight=-np.ones(n))),
        "set_params(fit__shufle=False)": (
            {}, lambda c: c.set_params(fit__shufle=False).fit(X, Y)),
        "set_params(compile__jit_compil=False)": (
            {}, lambda c: c.set_params(compile__jit_compil=False).fit(X, Y)),
        "warm_start refit on 5 of 10 features": (
            {"warm_start": True}, lambda c: c.fit(X[:, :5], Y)),
        "label sets with unhashable items": (
            {}, lambda c: c.fit(X[:3], [[["a"]], [["b"], ["c"]], []])),
        "label sets with mixed items": ({}, lambda c: c.fit(X[:3], [["a", 1], ["b"], []])),
        "model callable without model__units": (
            {}, lambda c: c.set_params(model=_build_needing_units).fit(X, Y)),
        "KerasMultiLabelClassifier(epoch=2)": (
            {}, lambda c: KerasMultiLabelClassifier(epoch=2).fit(X, Y)),
        "min_labels=1, max_labels=2 set on a fitted model": (
            {"threshold": "f1"}, lambda c: c.set_params(min_labels=1, max_labels=2)),
        "param grid {'epoch': [2]}": (
            {}, lambda c: GridSearchCV(tiny(), {"epoch": [2]}, cv=2).fit(X, Y)),
    }


def run_case(X, Y, params, action):
    clf = tiny(**params).fit(X, Y)
    before = clf.predict_proba(X)
    outcome = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            action(clf)
            outcome["outcome"] = "returned"
        except Exception as exc:  # the point is to see which
            outcome["outcome"] = f"{type(exc).__name__}: {exc}"
    warned = [f"ConvergenceWarning: {w.message}" for w in caught
              if issubclass(w.category, ConvergenceWarning)]
    outcome["warning"] = warned[0] if warned else ""
    outcome["previous model kept"] = bool(np.array_equal(clf.predict_proba(X), before))
    if outcome["outcome"] == "returned":
        disagree = (clf.decision_function(X) > 0) != clf.predict(X)
        outcome["outcome"] += (f"; thresholds in [{clf.thresholds_.min():.3g}, "
                               f"{clf.thresholds_.max():.3g}]; decision_function > 0 "
                               f"disagrees with predict in {int(disagree.sum())} of "
                               f"{disagree.size} cells")
    return outcome


def check_cost(repeats=5):
    """Seconds of the post-training checks, against the whole fit, on yeast.

    The checks run on the kept model over every training row: as many rows
    as the default's five fold networks are checked on in a fit (each on four
    fifths of them)."""
    import datasets
    from sklearn_mlk._training._divergence import check_history, check_outputs, check_weights
    from sklearn_mlk._keras._network import forward

    X, Y, splits = datasets.load("yeast")
    X = X[splits[0][0]]
    Y = Y[splits[0][0]]
    KerasMultiLabelClassifier(epochs=1, random_state=0).fit(X, Y)  # traced once
    figures = []
    for seed in range(repeats):
        start = time.perf_counter()
        clf = KerasMultiLabelClassifier(random_state=seed).fit(X, Y)
        fit = time.perf_counter() - start
        start = time.perf_counter()
        check_history(clf.history_)
        check_weights(clf.model_)
        check_outputs(forward(clf.model_, X.astype(np.float32), plan=clf._plan))
        figures.append({"fit_seconds": fit, "check_seconds": time.perf_counter() - start})
    return figures


def main(argv=None):
    X, Y = make_multilabel_classification(n_samples=200, n_features=10, n_classes=4,
                                          n_labels=2, random_state=0)
    X = X.astype(np.float64)
    results = {name: run_case(X, Y, *case) for name, case in cases(X, Y).items()}
    cost = check_cost()
    meta = report.run_meta("failures.py", argv)
    lines = [f"Generated by `{meta['command']}` on {meta['machine']}, {meta['date']}.",
             "", "| input | outcome | warning | previous model kept |", "|---|---|---|---|"]
    for name, r in results.items():
        outcome = r["outcome"].replace("|", "/")[:220]
        kept = "yes" if r["previous model kept"] else "no"
        if r["outcome"].startswith("returned"):
            kept = "n/a (no error)"
        lines.append(f"| {name} | {outcome} | {r['warning'][:120]} | {kept} |")
    ratios = [c["check_seconds"] / c["fit_seconds"] for c in cost]
    lines += ["", "Label limits apply to predict only, by design: decision_function is "
              "the margin before them.", "", "Post-training checks on yeast's training split (default estimator, "
              f"{len(cost)} fits): {np.median([c['check_seconds'] for c in cost]) * 1e3:.2f} "
              f"ms median per fit, {min(ratios):.2%} to {max(ratios):.2%} of the "
              "fit (the checks of the ensemble's five networks, together as many "
              "rows as four passes over the training rows)."]
    text = "\n".join(lines) + "\n"
    print(text)
    report.write(RESULTS, "failures", meta, {"cases": results, "check_cost": cost}, text)


if __name__ == "__main__":
    main()
