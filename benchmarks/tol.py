"""tol on small data: the default against tol=1e-4, score and fit time.

    python benchmarks/tol.py            # three sets and two gallery examples, 3 seeds
    python benchmarks/tol.py --quick    # iris, 1 seed

On a few hundred rows the fold networks are too small to stop early on
their tuning rows, and ``epochs="auto"`` gives each at least 1000 optimizer
steps. ``tol`` stops a network once its training loss settles. This runs the
estimator at its defaults and with ``tol=1e-4`` (MLPClassifier's default),
taking turns (``report.alternating``), on:

- iris, wine and iris with 800 noise features under the single-label
  benchmark's protocol (``benchmarks/single_label.py``: stratified 5 folds,
  a scaler, balanced accuracy), each seed's fit seconds summed over the
  folds;
- scikit-learn's ``plot_roc`` and ``plot_precision_recall`` examples as
  ``benchmarks/sklearn_examples.py`` sets them up (one split; the model seed
  changes with the seed), the seconds of the whole example.

Writes benchmarks/results/tol.{json,md}.
"""

import os
import pathlib
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import report  # noqa: E402
import single_label  # noqa: E402
import sklearn_examples  # noqa: E402

from sklearn_mlk import KerasMultiLabelClassifier  # noqa: E402

MODELS = {"default (tol=None)": {}, "tol=1e-4": {"tol": 1e-4}}
SETS = ("iris", "wine", "iris + 800 noise features")
EXAMPLES = {
    "plot_roc": (sklearn_examples.plot_roc, "micro ROC AUC"),
    "plot_precision_recall": (sklearn_examples.plot_precision_recall,
                              "micro AP (predict_proba)"),
}


def _maker(params, seed):
    """The estimator factory both harnesses call: ``single_label.evaluate``
    passes it a seed (this one is fixed here), the gallery examples none."""
    return lambda *_: KerasMultiLabelClassifier(random_state=seed, **params)


def study(sets, examples, seeds):
    """``{case: {model: {"scores": [...], "seconds": [...]}}}``, a value per
    seed: the models take turns as in the cost benchmark
    (:func:`report.alternating`: one untimed run of each first, for the
    tracing, then each seed's runs, each model first in turn)."""
    cases = {data: (lambda make, data=data: single_label.evaluate(
        make, *single_label.SETS[data](), 0)) for data in sets}
    cases.update({name: (lambda make, run=run, key=key: run(make)[key])
                  for name, (run, key) in examples.items()})
    results = {}
    for case, run in cases.items():
        def timed(model, seed, run=run):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # small-data notes
                return sklearn_examples.timed(lambda: run(_maker(MODELS[model], seed)))

        runs = report.alternating(list(MODELS), seeds, timed)
        results[case] = {model: {"scores": [float(score) for score, _ in values],
                                 "seconds": [float(seconds) for _, seconds in values]}
                         for model, values in runs.items()}
        print(case, {m: (round(float(np.mean(r["scores"])), 4),
                         round(float(np.median(r["seconds"])), 1))
                     for m, r in results[case].items()}, flush=True)
    return results


def markdown(results, meta):
    default, tol = MODELS
    lines = report.header("tol on small data", meta) + [
        "Each case's score (balanced accuracy for the sets, the named score for "
        "the gallery examples): the mean over seeds, with the range over seeds. "
        "Seconds: the median over seeds of the fits of the 5 folds (the sets) or "
        "of the whole example; ratio: tol=1e-4's median over the default's.", "",
        f"| case | score | {default} | range | {tol} | range | {default} s "
        f"| {tol} s | time ratio |",
        "|---|---|---|---|---|---|---|---|---|"]
    for case, models in results.items():
        measure = ("balanced accuracy" if case not in EXAMPLES else EXAMPLES[case][1])
        cells = [case, measure]
        for model in (default, tol):
            scores = models[model]["scores"]
            cells += [f"{np.mean(scores):.4f}", f"{min(scores):.4f} to {max(scores):.4f}"]
        seconds = [float(np.median(models[m]["seconds"])) for m in (default, tol)]
        cells += [f"{seconds[0]:.1f}", f"{seconds[1]:.1f}", f"{seconds[1] / seconds[0]:.2f}x"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    args, seeds = report.seeded_arguments(__doc__, argv, 3, "iris")
    sets = SETS[:1] if args.quick else SETS
    examples = {} if args.quick else EXAMPLES
    results = study(sets, examples, seeds)
    meta = report.run_meta("tol.py", argv)
    report.write(args.out, "tol_quick" if args.quick else "tol", meta, results,
                 markdown(results, meta))
    return results


if __name__ == "__main__":
    main()
