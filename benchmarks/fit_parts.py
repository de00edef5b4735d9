"""Where the default's warm fit goes, beside MLPClassifier(256, early stopping)'s.

    python benchmarks/fit_parts.py               # 3 rounds
    python benchmarks/fit_parts.py --rounds 5

On the cost benchmark's three sets and models (``benchmarks/cost.py``), one
process, one untimed fit of each model first, then ``--rounds`` rounds in
which the models fit one after the other (in turn first). For each fit of
the default:

- its seconds, and the seconds spent in its epochs (the training loop's
  ``run_epochs``: training and validation passes, early stopping); the rest
  is the fit's fixed cost (splitting the folds, building and stacking the
  networks, checking and fusing their prediction plans, learning the
  thresholds);
- the epochs the stacked loop ran (its slowest member's), and the rows it
  trained: every member computes every epoch the loop runs, so the fold
  networks' training rows times the loop's epochs;
- its seconds per 1,000 trained rows, and per epoch;
- the milliseconds of handing the fit's free memory back to the system at
  its end (``sklearn_mlk._memory.release_free_memory``), part of the fixed
  seconds.

MLPClassifier's rows trained are its training split (``validation_fraction``
0.1 held out) times its iterations. The default with ``dropout=0.0`` runs
beside them, for the share of an epoch that dropout takes.

Writes benchmarks/results/fit_parts.{md,json}.
"""

import math
import os
import pathlib
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import cost  # noqa: E402
import report  # noqa: E402

NO_DROPOUT = "KerasMultiLabelClassifier(dropout=0.0)"
MODELS = (cost.DEFAULT, cost.MLP, NO_DROPOUT)


def _make(model, sparse, seed):
    if model == NO_DROPOUT:
        pipe = cost.make(cost.DEFAULT, sparse, seed)
        pipe[-1].set_params(dropout=0.0)
        return pipe
    return cost.make(model, sparse, seed)


class _Clock:
    """Seconds spent in the training loop's epochs, and in releasing free
    memory, while it is installed."""

    def __init__(self):
        from sklearn_mlk import _memory
        from sklearn_mlk._training import _loop

        self.seconds = self.release_seconds = 0.0
        self._timed = [(_loop.Loop, "run_epochs", "seconds"),
                       (_memory, "release_free_memory", "release_seconds")]
        self._originals = [getattr(owner, name) for owner, name, _ in self._timed]

    def _timing(self, original, total):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                setattr(self, total, getattr(self, total) + time.perf_counter() - start)

        return timed

    def __enter__(self):
        for (owner, name, total), original in zip(self._timed, self._originals):
            setattr(owner, name, self._timing(original, total))
        return self

    def __exit__(self, *exc):
        for (owner, name, _), original in zip(self._timed, self._originals):
            setattr(owner, name, original)


def _one_fit(model, X, Y, sparse, seed):
    """One fit's figures: seconds, and for the library its epochs' seconds,
    the loop's epochs and rows trained; for MLPClassifier its iterations and
    rows trained."""
    pipe = _make(model, sparse, seed)
    with _Clock() as clock:
        start = time.perf_counter()
        pipe.fit(X, Y)
        seconds = time.perf_counter() - start
    est = pipe[-1]
    n = X.shape[0]
    if model == cost.MLP:
        train_rows = n - math.ceil(est.validation_fraction * n)
        return {"seconds": seconds, "epochs": int(est.n_iter_),
                "rows_trained": int(est.n_iter_ * train_rows)}
    epochs = int(np.max(est.n_iter_))
    folds = len(np.atleast_1d(est.n_iter_))
    # Each fold network trains on the rows outside its fold: (k - 1) / k of n.
    member_rows = n * (folds - 1)
    return {"seconds": seconds, "epoch_seconds": clock.seconds, "epochs": epochs,
            "members": folds, "rows_trained": int(epochs * member_rows),
            "release_seconds": clock.release_seconds}


def measure(rounds):
    import scipy.sparse as sp

    warnings.simplefilter("ignore")
    out = {}
    for name in cost.SETS:
        X, Y = cost.load(name)
        sparse = sp.issparse(X)
        fits = report.alternating(
            MODELS, rounds, lambda model, seed: _one_fit(model, X, Y, sparse, seed))
        out[name] = {"shape": list(X.shape), "labels": int(Y.shape[1]), "fits": fits}
        d, m = fits[cost.DEFAULT], fits[cost.MLP]
        print(f"{name:28} default {np.median([f['seconds'] for f in d]):.2f}s "
              f"MLP {np.median([f['seconds'] for f in m]):.2f}s", flush=True)
    return out


def summary(fits, model):
    """Medians over a model's fits: seconds, and where measured the epochs'
    seconds, fixed seconds, epochs, rows trained, seconds per 1,000 rows
    trained and per epoch."""
    def med(values):
        return float(np.median(values))

    seconds = [f["seconds"] for f in fits]
    out = {"seconds": med(seconds), "epochs": med([f["epochs"] for f in fits]),
           "rows_trained": med([f["rows_trained"] for f in fits])}
    looped = [f.get("epoch_seconds", f["seconds"]) for f in fits]
    out["fixed_seconds"] = med([s - e for s, e in zip(seconds, looped)])
    out["ms_per_1000_rows"] = med([1e6 * e / f["rows_trained"]
                                   for e, f in zip(looped, fits)])
    out["ms_per_epoch"] = med([1e3 * e / f["epochs"] for e, f in zip(looped, fits)])
    if all("release_seconds" in f for f in fits):
        out["release_ms"] = med([1e3 * f["release_seconds"] for f in fits])
    return out


def per_row_ratios(default, mlp):
    """Each round's ratio of the default's epoch seconds per row trained to
    MLPClassifier's fit seconds per row trained (the models of a round ran
    one after the other, under the same load)."""
    return [(d["epoch_seconds"] / d["rows_trained"]) / (m["seconds"] / m["rows_trained"])
            for d, m in zip(default, mlp)]


def markdown(results, meta):
    lines = [*report.header("Where the default's warm fit goes", meta),
             f"Warm fits in one process, {meta['rounds']} rounds, the models one after "
             "the other in each, as in the cost benchmark; medians over the rounds. "
             "Fixed: the fit's seconds outside its epochs. Rows trained: the default's "
             "fold networks' training rows times the epochs its stacked loop ran (the "
             "slowest member's: every member computes every epoch); MLPClassifier's "
             "training split times its iterations. Work: the default's rows trained "
             "over MLPClassifier's. Per 1,000 rows: the epochs' seconds (the whole fit's "
             "for MLPClassifier) per 1,000 rows trained; per-row ratio: the default's "
             "over MLPClassifier's, its median and range over the rounds' own ratios. "
             "Release: the milliseconds of handing the fit's free memory back to the "
             "system, part of the fixed seconds.", "",
             "| data | default s | fixed s | release ms | loop epochs | rows trained | "
             "MLPClassifier s | iterations | rows trained | work | default ms per "
             "1,000 rows | MLPClassifier ms per 1,000 rows | per-row ratio | range |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    drop = ["", "Dropout's share of an epoch: the default's epoch seconds against the "
            "same fit with `dropout=0.0`, medians over the rounds.", "",
            "| data | default ms per epoch | dropout=0.0 ms per epoch | dropout's share |",
            "|---|---|---|---|"]
    for name, r in results.items():
        d = summary(r["fits"][cost.DEFAULT], cost.DEFAULT)
        m = summary(r["fits"][cost.MLP], cost.MLP)
        z = summary(r["fits"][NO_DROPOUT], NO_DROPOUT)
        ratios = per_row_ratios(r["fits"][cost.DEFAULT], r["fits"][cost.MLP])
        rows, feats = r["shape"]
        lines.append(
            f"| {name} ({rows:,} x {feats}, {r['labels']}) | {d['seconds']:.2f} "
            f"| {d['fixed_seconds']:.2f} | {d['release_ms']:.1f} | {d['epochs']:.0f} "
            f"| {d['rows_trained']:,.0f} "
            f"| {m['seconds']:.2f} | {m['epochs']:.0f} | {m['rows_trained']:,.0f} "
            f"| {d['rows_trained'] / m['rows_trained']:.2f}x "
            f"| {d['ms_per_1000_rows']:.1f} | {m['ms_per_1000_rows']:.1f} "
            f"| {np.median(ratios):.2f}x | {min(ratios):.2f}x to {max(ratios):.2f}x |")
        drop.append(f"| {name} | {d['ms_per_epoch']:.1f} | {z['ms_per_epoch']:.1f} "
                    f"| {1 - z['ms_per_epoch'] / d['ms_per_epoch']:.0%} |")
    return "\n".join(lines + drop) + "\n"


def main(argv=None):
    args = report.timing_arguments(__doc__, argv)
    results = measure(args.rounds)
    meta = report.run_meta("fit_parts.py", argv, rounds=args.rounds)
    report.write(args.out, "fit_parts", meta, results, markdown(results, meta))
    return results


if __name__ == "__main__":
    main()
