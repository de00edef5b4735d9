"""PyTorch: warm fit seconds on one intra-op thread against the whole pool.

    python benchmarks/torch_threads.py            # 3 rounds
    python benchmarks/torch_threads.py --rounds 5

The library trains networks under ``sklearn_mlk._keras._backend.SMALL_TORCH_NETWORK``
weights on one thread (where ``OMP_NUM_THREADS`` is unset); this measures
where that pays on a quiet machine. Generated dense data, one network at a
fixed 0.5, 3 epochs, no early stopping; for each size, fits alternate
between one thread and a pool as wide as the machine (the library's own
choice switched off, as where the user sets ``OMP_NUM_THREADS``), after one
untimed fit of each. Needs PyTorch; runs under ``KERAS_BACKEND=torch``.
Writes benchmarks/results/torch_threads.{md,json}.
"""

import os
import pathlib
import sys
import time
import warnings

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import report  # noqa: E402

# (rows, features, hidden layers, labels)
SIZES = [(2000, 100, (256,), 14), (2000, 1000, (256,), 50),
         (2000, 1000, (1024,), 50), (4000, 2000, (1024, 1024), 50)]
EPOCHS = 3


def _weights(features, hidden, labels):
    sizes = (features, *hidden, labels)
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def measure(rounds):
    import torch

    from sklearn_mlk import KerasMultiLabelClassifier
    from sklearn_mlk._keras import _backend

    _backend.get_keras()
    cores = os.cpu_count()
    _backend._torch_cores = None  # the pool exactly as set below
    rng = np.random.default_rng(0)
    results = []
    for rows, features, hidden, labels in SIZES:
        X = rng.standard_normal((rows, features)).astype(np.float32)
        Y = (X[:, :labels] + rng.standard_normal((rows, labels)) > 1).astype(int)
        seconds = {1: [], cores: []}
        for timed in [False] + [True] * rounds:
            for threads in seconds:
                torch.set_num_threads(threads)
                est = KerasMultiLabelClassifier(
                    hidden_layer_sizes=hidden, threshold=0.5, epochs=EPOCHS,
                    early_stopping=False, random_state=0)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    start = time.perf_counter()
                    est.fit(X, Y)
                if timed:
                    seconds[threads].append(time.perf_counter() - start)
        weights = _weights(features, hidden, labels)
        results.append({
            "rows": rows, "features": features, "hidden": list(hidden), "labels": labels,
            "weights": weights, "cores": cores,
            "library_threads": 1 if weights < _backend.SMALL_TORCH_NETWORK else cores,
            "one_thread": seconds[1], "all_cores": seconds[cores],
        })
        r = results[-1]
        print(f"{rows} x {features}, hidden {hidden}: one thread "
              f"{np.median(r['one_thread']):.2f}s, {cores} threads "
              f"{np.median(r['all_cores']):.2f}s", flush=True)
    return results


def markdown(results, meta):
    cores = results[0]["cores"] if results else os.cpu_count()
    lines = [*report.header("PyTorch: one intra-op thread against the whole pool", meta),
             f"Warm fit seconds of one network ({EPOCHS} epochs, batch 64) on "
             "generated dense data; median and range over alternating rounds. "
             f"Ratio: one thread over {cores} (below 1: one thread is faster).", "",
             "| rows x features | hidden | weights | one thread s | range | "
             f"{cores} threads s | range | ratio | the library's choice |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r['rows']} x {r['features']} | {tuple(r['hidden'])} | {r['weights']:,} "
            f"| {report.paired_cells(r['one_thread'], r['all_cores'])} "
            f"| {r['library_threads']} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = report.timing_arguments(__doc__, argv)
    os.environ["KERAS_BACKEND"] = "torch"  # before Keras is imported
    results = measure(args.rounds)
    meta = report.run_meta("torch_threads.py", argv, rounds=args.rounds)
    report.write(args.out, "torch_threads", meta, results, markdown(results, meta))


if __name__ == "__main__":
    main()
