"""Out of core: a fit and predictions on Dask arrays larger than a worker's memory.

    python benchmarks/out_of_core.py                       # 4,000,000 rows
    python benchmarks/out_of_core.py --rows 200000 --memory-limit 200 --skip quality thresholds
    python benchmarks/out_of_core.py --skip stream         # the checks in memory

Three sections:

- **stream**: X of ``--rows`` x 100 float32 (1.6 GB at 4,000,000 rows) and
  20 labels, generated block by block (``--block`` rows) from a fixed seed, so
  that neither exists in full anywhere. The labels come from a random
  two-layer teacher network with logistic noise, their frequencies spread
  from 2% to 40%. A Dask ``LocalCluster`` of 2 worker processes (one thread
  each) has ``memory_limit`` at a quarter of X's size per worker. (A worker
  that has run Dask array tasks holds about 150 MB before any data here:
  ``dask.array`` imports numba and sparse where dask-ml's dependencies
  installed them. A quarter of 800 MB of X leaves it no room, so the default
  run has twice the rows, and the report gives each worker's memory after
  generating X once, before the fit.) The default
  estimator fits on the Dask arrays for ``--epochs`` epochs in this process
  (which holds one block, and the next, at a time), and then predicts every
  row lazily, the predictions reduced on the workers. Reported: each
  worker's peak resident memory (``VmHWM``) and whether a worker was
  restarted (the nanny restarts one that passes 95% of its limit), this
  process's peak, seconds per epoch (the training pass and the validation
  pass), and rows per second of ``predict_proba`` against the rows per
  second of generating X alone.
- **quality**: a slice of ``--slice`` rows (200,000) of the same data, held
  in memory, fitted in memory and streamed (the same rows as a Dask array of
  ``--block``-row blocks, threaded scheduler), with the same settings and
  seeds; macro-F1 on 50,000 other rows, per seed, and the difference.
- **thresholds**: on each of the seven shared sets, a default fit on its
  first split's training rows; on its test rows' scores, each label's F1 at
  the threshold of the exact search and of the streamed (binned) search.
  Reported: the largest per-label difference, and the labels that differ by
  more than 0.001.

Writes benchmarks/results/out_of_core.{md,json}.
"""

import argparse
import os
import pathlib
import resource
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import report  # noqa: E402

N_FEATURES, N_LABELS, HIDDEN = 100, 20, 64
SEED = 0
SETS = ("yeast", "scene", "emotions", "enron", "cal500", "genbase", "foodtruck")


# -- the data -------------------------------------------------------------------


def teacher(seed=SEED):
    """The teacher network's weights and each label's cut (2% to 40% positive)."""
    rng = np.random.default_rng([seed, 7])
    W1 = rng.normal(size=(N_FEATURES, HIDDEN)) / np.sqrt(N_FEATURES)
    W2 = rng.normal(size=(HIDDEN, N_LABELS)) * 2 / np.sqrt(HIDDEN)
    pilot = np.tanh(rng.normal(size=(20_000, N_FEATURES)) @ W1) @ W2
    frequencies = np.geomspace(0.02, 0.4, N_LABELS)
    cuts = np.array([np.quantile(pilot[:, j], 1 - f) for j, f in enumerate(frequencies)])
    return W1, W2, cuts


def features(block_id=None, rows=0, seed=SEED):
    """Block ``block_id[0]`` of X: standard normal float32, its own seed."""
    rng = np.random.default_rng([seed, block_id[0]])
    return rng.standard_normal((rows, N_FEATURES), dtype=np.float32)


def labels(X, W1, W2, cuts, block_id=None, seed=SEED):
    """The teacher's labels of a block of X, with logistic noise."""
    rng = np.random.default_rng([seed, 1, block_id[0]])
    logits = np.tanh(X @ W1) @ W2 - cuts
    noise = rng.logistic(scale=0.3, size=logits.shape)
    return (logits + noise > 0).astype(np.int8)


def dask_data(rows, block, first_block=0):
    """X and Y as lazy Dask arrays of ``rows`` rows in blocks of ``block``."""
    import dask.array as da

    n_blocks = -(-rows // block)
    chunks = tuple(min(block, rows - i * block) for i in range(n_blocks))

    def block_of(block_id=None, block_info=None):
        i = block_id[0]
        return features(block_id=(first_block + i,), rows=chunks[i])

    X = da.map_blocks(block_of, dtype=np.float32, chunks=(chunks, (N_FEATURES,)))
    W1, W2, cuts = teacher()
    Y = X.map_blocks(lambda x, block_id=None: labels(
        x, W1, W2, cuts, block_id=(first_block + block_id[0],)),
        dtype=np.int8, chunks=(chunks, (N_LABELS,)))
    return X, Y


# -- sections -------------------------------------------------------------------


def _peak_mb():
    """This process's peak resident memory: VmHWM, which a new program image
    starts afresh (``ru_maxrss`` keeps the parent's peak across ``exec``, so a
    worker started from this process would report this process's)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _resident_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def stream(rows, block, epochs, limit_mb=None):
    from sklearn_mlk import import_keras
    from sklearn_mlk._dask import _fit

    import_keras()
    data_bytes = rows * N_FEATURES * 4
    limit = data_bytes // 4 if limit_mb is None else int(limit_mb * 1e6)
    passes = {"train": [], "validate": []}

    def timed(name, method):
        def run(self, *args):
            start = time.perf_counter()
            try:
                return method(self, *args)
            finally:
                passes[name].append(time.perf_counter() - start)
        return run

    original = _fit._Source.train, _fit._Source.validate
    _fit._Source.train = timed("train", original[0])
    _fit._Source.validate = timed("validate", original[1])
    try:
        return _stream(rows, block, epochs, limit, data_bytes, passes)
    finally:
        _fit._Source.train, _fit._Source.validate = original


def _stream(rows, block, epochs, limit, data_bytes, passes):
    import dask
    from distributed import Client, LocalCluster

    from sklearn_mlk import KerasMultiLabelClassifier

    # The limit is a hard one: no spilling to disk and no pausing below it
    # (Dask's defaults would pause a worker at 80%); the nanny still restarts
    # a worker that passes 95% of it, which the report would show.
    # (As environment variables, which the worker processes inherit.)
    names = [f"DASK_DISTRIBUTED__WORKER__MEMORY__{n}" for n in ("TARGET", "SPILL", "PAUSE")]
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(dict.fromkeys(names, "False"))
    dask.config.refresh()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=limit,
                                   dashboard_address=None)
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name)
            else:
                os.environ[name] = value
        dask.config.refresh()
    with cluster, Client(cluster) as client:
        pids = client.run(os.getpid)
        X, Y = dask_data(rows, block)
        start = time.perf_counter()
        X.sum().compute()
        generate = time.perf_counter() - start
        floor = client.run(_resident_mb)
        print(f"generated X in {generate:.1f} s", flush=True)
        before = _peak_mb()
        est = KerasMultiLabelClassifier(epochs=epochs, random_state=0, verbose=2)
        start = time.perf_counter()
        est.fit(X, Y)
        fit = time.perf_counter() - start
        start = time.perf_counter()
        totals = est.predict_proba(X).sum(axis=0).compute()
        predict = time.perf_counter() - start
        worker_peaks = client.run(_peak_mb)
        restarted = client.run(os.getpid) != pids
    result = {
        "rows": rows, "block": block, "epochs": epochs, "data_mb": data_bytes / 1e6,
        "memory_limit_mb": limit / 1e6, "worker_peak_mb": sorted(worker_peaks.values()),
        "worker_after_generating_mb": sorted(floor.values()),
        "worker_restarted": bool(restarted), "process_peak_before_fit_mb": before,
        "process_peak_mb": _peak_mb(), "fit_s": fit, "train_pass_s": passes["train"],
        "validate_pass_s": passes["validate"], "folds": len(est.n_iter_),
        "n_iter": np.asarray(est.n_iter_).tolist(), "predict_s": predict,
        "predict_rows_per_s": rows / predict, "generate_rows_per_s": rows / generate,
        "mean_probability": float(totals.sum() / (rows * N_LABELS)),
    }
    print(result, flush=True)
    return result


def quality(rows, block, epochs, seeds):
    import dask
    import dask.array as da
    from sklearn.metrics import f1_score

    from sklearn_mlk import KerasMultiLabelClassifier

    with dask.config.set(scheduler="threads"):
        X, Y = (a.compute() for a in dask_data(rows, block))
        X_test, Y_test = (a.compute() for a in dask_data(50_000, block, first_block=10**6))
        out = {"rows": rows, "epochs": epochs, "memory": [], "streamed": []}
        for seed in range(seeds):
            for how in ("memory", "streamed"):
                est = KerasMultiLabelClassifier(epochs=epochs, random_state=seed)
                if how == "memory":
                    est.fit(X, Y)
                else:
                    est.fit(da.from_array(X, chunks=(block, N_FEATURES)),
                            da.from_array(Y, chunks=(block, N_LABELS)))
                score = f1_score(Y_test, est.predict(X_test), average="macro",
                                 zero_division=0)
                out[how].append(float(score))
                print(f"quality seed {seed} {how}: {score:.4f}", flush=True)
    return out


def thresholds(bins=None):
    import datasets
    import peers
    from sklearn_mlk._histogram import ScoreHistogram
    from sklearn_mlk._thresholds import _f1, _score_at, label_curves, tune, tune_curves

    out = {}
    for name in SETS:
        X, Y, splits = datasets.load(name)
        train, test = splits[0]
        model = peers.make("mlk macro-F1 thresholds", 0, sparse=not isinstance(X, np.ndarray))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X[train], Y[train])
        P, T = model.predict_proba(X[test]), Y[test]
        w = np.ones(len(T))
        exact = tune(P, T, w, "f1")
        histogram = ScoreHistogram(T.shape[1], bins).add(P, T, w)
        streamed = tune_curves(histogram.curves(), histogram.pooled_curve, "f1")
        curves = label_curves(P, T, w)
        f1_exact = np.array([_score_at(c, _f1, t) for c, t in zip(curves, exact.thresholds)])
        f1_streamed = np.array([_score_at(c, _f1, t)
                                for c, t in zip(curves, streamed.thresholds)])
        diff = np.abs(f1_exact - f1_streamed)
        out[name] = {"labels": int(T.shape[1]), "rows": int(len(T)),
                     "bins": histogram.bins, "max_diff": float(diff.max()),
                     "over_0.001": int((diff > 0.001).sum()),
                     "mean_f1_exact": float(f1_exact.mean()),
                     "mean_f1_streamed": float(f1_streamed.mean())}
        print(name, out[name], flush=True)
    return out


# -- report ---------------------------------------------------------------------


def _command(meta, section):
    return meta.get("commands", {}).get(section, meta["command"])


def block(results, meta):
    """The docs' table of the out-of-core run."""
    lines = []
    s = results.get("stream")
    if s:
        train, val = np.array(s["train_pass_s"]), np.array(s["validate_pass_s"])
        lines += [
            f"{s['rows']:,} rows x {N_FEATURES} float32 features ({s['data_mb']:.0f} MB "
            f"of X), {N_LABELS} labels, blocks of {s['block']:,} rows, generated on 2 "
            f"Dask worker processes with memory_limit {s['memory_limit_mb']:.0f} MB "
            f"each; {s['folds']} fold networks, {s['epochs']} epochs "
            f"(`{_command(meta, 'stream')}`).", "",
            "| figure | value |", "|---|---|",
            "| worker peak memory (each) | "
            + ", ".join(f"{m:.0f} MB" for m in s["worker_peak_mb"])
            + f" (limit {s['memory_limit_mb']:.0f} MB) |",
            "| worker memory after generating X once, before the fit | "
            + ", ".join(f"{m:.0f} MB" for m in s["worker_after_generating_mb"]) + " |",
            f"| worker restarted | {'yes' if s['worker_restarted'] else 'no'} |",
            f"| training process peak memory | {s['process_peak_mb']:.0f} MB "
            f"({s['process_peak_before_fit_mb']:.0f} MB before the fit) |",
            f"| training pass per epoch | {np.median(train):.0f} s "
            f"({train.min():.0f} to {train.max():.0f}) |",
            f"| validation pass per epoch | {np.median(val):.0f} s "
            f"({val.min():.0f} to {val.max():.0f}) |",
            f"| whole fit | {s['fit_s']:.0f} s |",
            f"| predict_proba, rows/s | {s['predict_rows_per_s']:,.0f} "
            f"(generating X alone: {s['generate_rows_per_s']:,.0f}) |", ""]
    q = results.get("quality")
    if q:
        mem, stream_ = np.array(q["memory"]), np.array(q["streamed"])
        diff = stream_ - mem
        lines += [
            f"A {q['rows']:,}-row slice, {q['epochs']} epochs, macro-F1 on 50,000 other "
            f"rows over {len(mem)} seeds (`{_command(meta, 'quality')}`):", "",
            "| fit | macro-F1 mean | per seed |", "|---|---|---|",
            f"| in memory | {mem.mean():.4f} | " + ", ".join(f"{v:.4f}" for v in mem) + " |",
            f"| streamed | {stream_.mean():.4f} | "
            + ", ".join(f"{v:.4f}" for v in stream_) + " |",
            f"| streamed minus in memory | {diff.mean():+.4f} | "
            + ", ".join(f"{v:+.4f}" for v in diff) + " |", ""]
    t = results.get("thresholds")
    if t:
        lines += ["The streamed threshold search against the exact one, on each shared "
                  "set's test scores of a default fit: each label's F1 at either "
                  f"threshold (`{_command(meta, 'thresholds')}`).", "",
                  "| set | labels | test rows | bins | largest per-label F1 difference "
                  "| labels over 0.001 | mean F1 exact | mean F1 streamed |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, r in t.items():
            lines.append(f"| {name} | {r['labels']} | {r['rows']} | {r['bins']} | "
                         f"{r['max_diff']:.4f} | {r['over_0.001']} | "
                         f"{r['mean_f1_exact']:.4f} | {r['mean_f1_streamed']:.4f} |")
    return "\n".join(lines).rstrip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--block", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--memory-limit", type=float, default=None,
                        help="MB per worker (default: a quarter of X's size)")
    parser.add_argument("--slice", type=int, default=200_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["stream", "quality", "thresholds"])
    parser.add_argument("--bins", type=int, default=None,
                        help="bins per label of the streamed threshold search "
                             "(default: the library's, sklearn_mlk._histogram.bins_for)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the saved report's other sections (and their "
                             "commands) and replace the ones run")
    parser.add_argument("--name", default="out_of_core")
    parser.add_argument("--out", default=str(report.RESULTS))
    args = parser.parse_args(argv)
    results, commands = {}, {}
    saved = pathlib.Path(args.out) / f"{args.name}.json"
    if args.merge and saved.exists():
        import json

        previous = json.loads(saved.read_text())
        results = previous["results"]
        commands = previous["meta"].get("commands") or dict.fromkeys(
            results, previous["meta"]["command"])
    if "stream" not in args.skip:
        results["stream"] = stream(args.rows, args.block, args.epochs, args.memory_limit)
    if "quality" not in args.skip:
        results["quality"] = quality(args.slice, args.block, args.epochs, args.seeds)
    if "thresholds" not in args.skip:
        results["thresholds"] = thresholds(args.bins)
    meta = report.run_meta("out_of_core.py", argv)
    ran = [name for name in ("stream", "quality", "thresholds") if name not in args.skip]
    meta["commands"] = {**commands, **dict.fromkeys(ran, meta["command"])}
    text = "\n".join(report.header("Out of core", meta)) + block(results, meta) + "\n"
    report.write(args.out, args.name, meta, results, text)


if __name__ == "__main__":
    main()
