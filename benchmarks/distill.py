"""One network that imitates the ensemble: does it keep the ensemble's quality?

    python benchmarks/distill.py                       # the seven sets, 1 seed
    python benchmarks/distill.py --datasets yeast --seeds 3

The default predicts through five fold networks, so its batch throughput is a
fraction of one network's (``benchmarks/cost.py``). A single network trained
on all the training rows to give the ensemble's probabilities (knowledge
distillation) would predict at one network's cost, at the ensemble's
learned thresholds. This benchmark measures what that would cost in quality
and in fit time, under the benchmark protocol (the sets' standard split or
5-fold ``KFold(shuffle=True, random_state=0)``; a ``StandardScaler``, or a
``MaxAbsScaler`` for sparse input).

For each split the default is fitted, and each student is trained by Keras's
``Model.fit`` on the scaled training rows with the ensemble's probabilities
on them as its targets: the default MLP's architecture (256 ReLU units,
one logit per label with its bias at the label's mean target), binary
cross-entropy on the soft targets, Adam at 3e-3, batches of 64, and early
stopping on a tenth of the rows with the best epoch's weights restored. The
students: the default MLP's own recipe (dropout 0.5, patience 10, at most 50
epochs), and one without dropout that waits longer (patience 20, at most 200
epochs), which imitates more closely. Each predicts the test rows at the
ensemble's ``thresholds_``. Reported: the test macro-F1 of the ensemble and
of each student, each student's epochs, and its training seconds over the
ensemble's fit seconds (the student's ``Model.fit``, not the estimator's
compiled loop; a student is trained on top of the ensemble's fit in any
case). Writes
benchmarks/results/distill.{md,json}.
"""

import argparse
import os
import pathlib
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.special import expit, logit  # noqa: E402
from sklearn.preprocessing import MaxAbsScaler, StandardScaler  # noqa: E402

import datasets  # noqa: E402
import protocol  # noqa: E402
import report  # noqa: E402

from sklearn_mlk import KerasMultiLabelClassifier  # noqa: E402

# name -> (dropout, patience, most epochs)
STUDENTS = {
    "student, the default's recipe": (0.5, 10, 50),
    "student, no dropout, patience 20": (0.0, 20, 200),
}


def train_student(X, P, seed, dropout, patience, epochs):
    """A network trained to give the probabilities ``P`` on the rows ``X``."""
    from sklearn_mlk._keras._backend import get_keras, seeded, tensorflow_seeded

    keras = get_keras()
    # What keras.utils.set_random_seed seeds, for this student only: the
    # generators are put back after, as the estimator's own fits leave them.
    with seeded(seed), tensorflow_seeded(seed):
        return _trained_student(keras, X, P, seed, dropout, patience, epochs)


def _trained_student(keras, X, P, seed, dropout, patience, epochs):
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    order = np.random.default_rng(seed).permutation(X.shape[0])
    held = order[: max(1, X.shape[0] // 10)]
    kept = order[len(held):]
    prior = np.clip(P.mean(axis=0), 1e-3, 1 - 1e-3)
    inputs = keras.Input(shape=(X.shape[1],))
    hidden = keras.layers.Dense(256, activation="relu")(inputs)
    if dropout:
        hidden = keras.layers.Dropout(dropout)(hidden)
    outputs = keras.layers.Dense(
        P.shape[1], bias_initializer=keras.initializers.Constant(logit(prior)))(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(3e-3),
                  keras.losses.BinaryCrossentropy(from_logits=True))
    history = model.fit(
        X[kept], P[kept], validation_data=(X[held], P[held]), epochs=epochs,
        batch_size=64, verbose=0, callbacks=[keras.callbacks.EarlyStopping(
            patience=patience, restore_best_weights=True)])
    return model, len(history.history["loss"])


def evaluate(X, Y, splits, seed):
    """Per model: the mean test macro-F1 over the splits; per student also
    its mean epochs and its summed training seconds over the ensemble's."""
    figures = {name: {"macro_f1": []} for name in ["ensemble", *STUDENTS]}
    fit_seconds = 0.0
    student_seconds = {name: 0.0 for name in STUDENTS}
    for train, test in splits:
        scaler = MaxAbsScaler() if sp.issparse(X) else StandardScaler()
        X_train, X_test = scaler.fit_transform(X[train]), scaler.transform(X[test])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            ensemble = KerasMultiLabelClassifier(random_state=seed).fit(X_train, Y[train])
            fit_seconds += time.perf_counter() - start
        targets = ensemble.predict_proba(X_train)
        figures["ensemble"]["macro_f1"].append(_macro_f1(Y[test], ensemble.predict(X_test)))
        dense_test = X_test.toarray() if sp.issparse(X_test) else X_test
        for name, (dropout, patience, epochs) in STUDENTS.items():
            start = time.perf_counter()
            student, ran = train_student(X_train, targets, seed, dropout, patience, epochs)
            student_seconds[name] += time.perf_counter() - start
            scores = expit(np.asarray(student.predict(dense_test, verbose=0), np.float64))
            predicted = (scores >= ensemble.thresholds_).astype(int)
            figures[name]["macro_f1"].append(_macro_f1(Y[test], predicted))
            figures[name].setdefault("epochs", []).append(ran)
    result = {name: {key: float(np.mean(values)) for key, values in cells.items()}
              for name, cells in figures.items()}
    for name in STUDENTS:
        result[name]["fit_ratio"] = student_seconds[name] / fit_seconds
    return result


def _macro_f1(Y_true, Y_pred):
    """The benchmark protocol's macro-F1 of one prediction."""
    return float(protocol.scores(Y_true, Y_pred)["macro_f1"])


def mean_over_seeds(runs):
    """The seeds' results of one set: each figure's mean, and the macro-F1's
    range over the seeds."""
    merged = {}
    for name in runs[0]:
        merged[name] = {key: float(np.mean([run[name][key] for run in runs]))
                        for key in runs[0][name]}
        values = [run[name]["macro_f1"] for run in runs]
        merged[name]["macro_f1_range"] = [min(values), max(values)]
    return merged


def markdown(results, meta):
    lines = report.header("One network imitating the ensemble", meta)
    lines += ["Test macro-F1 under the benchmark protocol (mean over seeds); each "
              "student predicts at the ensemble's learned thresholds. Epochs: the "
              "student's mean; fit: its training seconds over the ensemble's fit "
              "seconds, in the same run. Best macro-F1 of each row in bold.", "",
              "| data set | ensemble (the default) | " + " | ".join(
                  f"{name} | epochs | fit" for name in STUDENTS) + " |",
              "|---|---|" + "---|---|---|" * len(STUDENTS)]
    for data, models in results.items():
        shown = report.bold_best({name: cells["macro_f1"] for name, cells in models.items()})
        cells = [shown["ensemble"]]
        for name in STUDENTS:
            cells += [shown[name], f"{models[name]['epochs']:.0f}",
                      f"{models[name]['fit_ratio']:.2f}x"]
        lines.append(f"| {data} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(datasets.SETS))
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--out", default=str(report.RESULTS))
    args = parser.parse_args(argv)
    results = {}
    for data in args.datasets:
        X, Y, splits = datasets.load(data)
        results[data] = mean_over_seeds([evaluate(X, Y, splits, seed)
                                         for seed in range(args.seeds)])
        print(data, {name: round(cells["macro_f1"], 4)
                     for name, cells in results[data].items()}, flush=True)
    meta = report.run_meta("distill.py", argv)
    report.write(args.out, "distill", meta, results, markdown(results, meta))
    return results


if __name__ == "__main__":
    main()
