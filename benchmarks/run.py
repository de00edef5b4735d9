"""Quality and fit time of sklearn-mlk against its peers, in one run.

    python benchmarks/run.py            # all sets, all models
    python benchmarks/run.py --quick    # emotions only, about a minute
    python benchmarks/run.py --datasets yeast --models "mlk (0.5)" "OvR(LogReg)"

Models run one at a time in this process. The report (Markdown) and the raw
figures (JSON) go to benchmarks/results/. Fit time is also given as a ratio to
OvR(LogReg) measured in the same run, so it holds on a noisy machine.
"""

import argparse
import json
import os
import pathlib
import platform
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score, hamming_loss  # noqa: E402

import datasets  # noqa: E402
import peers  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
METRICS = ("macro_f1", "micro_f1", "samples_f1", "hamming_loss", "subset_accuracy")
REFERENCE = "OvR(LogReg)"


def scores(Y_true, Y_pred):
    Y_pred = np.asarray(Y_pred.toarray() if hasattr(Y_pred, "toarray") else Y_pred)
    kw = dict(zero_division=0)
    return {
        "macro_f1": f1_score(Y_true, Y_pred, average="macro", **kw),
        "micro_f1": f1_score(Y_true, Y_pred, average="micro", **kw),
        "samples_f1": f1_score(Y_true, Y_pred, average="samples", **kw),
        "hamming_loss": hamming_loss(Y_true, Y_pred),
        "subset_accuracy": accuracy_score(Y_true, Y_pred),
    }


def evaluate(model_name, X, Y, splits, seed=0, factory=None):
    """Mean metrics over the splits and total fit seconds, or the error.

    The model is ``peers.make(model_name, seed)``, or ``factory(seed)``.
    """
    per_split, fit_seconds = [], 0.0
    try:
        for train, test in splits:
            model = factory(seed) if factory else peers.make(model_name, seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                model.fit(X[train], Y[train])
                fit_seconds += time.perf_counter() - start
                per_split.append(scores(Y[test], model.predict(X[test])))
    except Exception as exc:  # a peer that crashes is reported, not fatal
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    result = {m: float(np.mean([s[m] for s in per_split])) for m in METRICS}
    result["fit_seconds"] = fit_seconds
    return result


def markdown(results, meta):
    lines = [
        "# Benchmark results",
        "",
        f"Command: `{meta['command']}`  ",
        f"Machine: {meta['machine']}; {meta['date']}",
        "",
    ]
    for metric in METRICS + ("fit_seconds", "fit_ratio"):
        lines += [f"## {metric}", "", "| model | " + " | ".join(results) + " |",
                  "|---|" + "---|" * len(results)]
        models = list(next(iter(results.values())))
        for model in models:
            cells = []
            for data in results:
                r = results[data][model]
                if "error" in r:
                    cells.append("crashed")
                elif metric == "fit_ratio":
                    ref = results[data].get(REFERENCE, {}).get("fit_seconds")
                    cells.append(f"{r['fit_seconds'] / ref:.1f}x" if ref else "n/a")
                else:
                    cells.append(f"{r[metric]:.3f}" if metric != "fit_seconds"
                                 else f"{r[metric]:.2f}")
            lines.append(f"| {model} | " + " | ".join(cells) + " |")
        lines.append("")
    errors = [(d, m, r["error"]) for d in results for m, r in results[d].items()
              if "error" in r]
    if errors:
        lines += ["## Errors", ""] + [f"- {m} on {d}: {e}" for d, m, e in errors] + [""]
    lines.append(f"fit_ratio is fit time relative to {REFERENCE} in the same run.")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="emotions only")
    parser.add_argument("--datasets", nargs="+", choices=datasets.SETS)
    parser.add_argument("--models", nargs="+", choices=list(peers.PEERS))
    parser.add_argument("--out", default=str(RESULTS), help="output folder")
    parser.add_argument("--name", default=None, help="file stem of the report")
    args = parser.parse_args(argv)

    sets = args.datasets or (["emotions"] if args.quick else list(datasets.SETS))
    models = args.models or list(peers.PEERS)
    stem = args.name or ("quality_quick" if args.quick else "quality")
    results = {}
    for name in sets:
        X, Y, splits = datasets.load(name)
        results[name] = {}
        for model in models:
            results[name][model] = evaluate(model, X, Y, splits)
            r = results[name][model]
            shown = r.get("error") or (
                f"macro-F1 {r['macro_f1']:.3f} micro-F1 {r['micro_f1']:.3f} "
                f"fit {r['fit_seconds']:.1f}s"
            )
            print(f"{name:9} {model:40} {shown}", flush=True)
    meta = {
        "command": "python benchmarks/run.py " + " ".join(argv or sys.argv[1:]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
    }
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps({"meta": meta, "results": results},
                                                 indent=2))
    (out / f"{stem}.md").write_text(markdown(results, meta))
    print(f"wrote {out / (stem + '.md')}")
    return results


if __name__ == "__main__":
    main()
