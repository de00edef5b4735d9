"""PNG plots of the benchmark reports in benchmarks/results/.

    python benchmarks/plots.py [--results DIR] [--suffix _quick]

Reads whichever of quality.json, speed.json and scaling.json exist (with the
suffix, e.g. quality_quick.json) and writes quality.png (macro- and micro-F1
per data set), latency.png (one-row latency and batch throughput) and
scaling.png (fit time against samples, features and labels).
"""

import argparse
import json
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def _load(folder, name):
    path = folder / name
    return json.loads(path.read_text()) if path.exists() else None


def quality_plot(report, path):
    results = report["results"]
    sets = list(results)
    models = [m for m in next(iter(results.values()))
              if all("error" not in results[s][m] for s in sets)]
    fig, axes = plt.subplots(1, 2, figsize=(15, 4.5))
    width = 0.8 / len(models)
    for ax, metric, title in zip(axes, ("macro_f1", "micro_f1"), ("macro-F1", "micro-F1")):
        for i, model in enumerate(models):
            values = [results[s][model][metric] for s in sets]
            ax.bar(np.arange(len(sets)) + i * width, values, width, label=model)
        ax.set_xticks(np.arange(len(sets)) + 0.4 - width / 2, sets)
        ax.set_title(title)
        ax.set_ylim(0.0, 1.0)  # bars start at zero: their lengths compare honestly
        ax.grid(axis="y", linewidth=0.4, alpha=0.5)
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(f"Quality per data set, 5-fold CV or the standard split; "
                 f"'mlk macro-F1 thresholds' is the default ({report['meta']['date']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def latency_plot(report, path):
    results = {m: r for m, r in report["results"]["models"].items() if "error" not in r}
    models = list(results)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    y = np.arange(len(models))
    # Points, not bars: on a log scale a bar's length depends on where the
    # axis starts.
    axes[0].scatter([results[m]["latency_median_ms"] for m in models], y, s=40,
                    label="median", zorder=3)
    axes[0].scatter([results[m]["latency_p90_ms"] for m in models], y, color="k",
                    marker="|", s=200, label="90th percentile", zorder=3)
    axes[0].set_xscale("log")
    axes[0].set_xlabel("predict_proba, one row (ms, log scale)")
    axes[0].legend(fontsize=8)
    axes[1].scatter([results[m]["rows_per_second"] for m in models], y, s=40, zorder=3)
    axes[1].set_xscale("log")
    axes[1].set_xlabel("rows per second, 10,000-row batch (log scale)")
    for ax in axes:
        ax.set_yticks(y, models)
        ax.set_ylim(-0.5, len(models) - 0.5)
        ax.grid(axis="x", which="both", linewidth=0.4, alpha=0.5)
    axes[1].set_yticklabels([])
    fig.suptitle(f"Prediction on yeast: one-row latency (lower is better) and batch "
                 f"throughput (higher is better) ({report['meta']['date']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def scaling_plot(report, path):
    results = report["results"]
    axes_keys = {"samples": "n_samples", "features": "n_features", "labels": "n_labels"}
    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 4))
    for ax, (axis, rows) in zip(np.atleast_1d(axes), results.items()):
        models = list(rows[0]["fit_seconds"]) if rows else []
        for model in models:
            points = [(r[axes_keys[axis]], r["fit_seconds"][model]) for r in rows
                      if r["fit_seconds"].get(model) is not None]
            if points:
                ax.plot(*zip(*points), marker="o", label=model)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(axis)
        ax.set_ylabel("fit seconds")
        ax.set_title(f"fit time vs {axis}")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.suptitle(f"Fit time as generated data grow, one axis at a time "
                 f"(benchmarks/results/scaling.md; {report['meta']['date']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(RESULTS))
    parser.add_argument("--suffix", default="", help='e.g. "_quick"')
    args = parser.parse_args(argv)
    folder = pathlib.Path(args.results)
    written = []
    for stem, plot in (("quality", quality_plot), ("speed", latency_plot),
                       ("scaling", scaling_plot)):
        report = _load(folder, f"{stem}{args.suffix}.json")
        if report is None:
            continue
        name = "latency" if stem == "speed" else stem
        path = folder / f"{name}{args.suffix}.png"
        plot(report, path)
        written.append(path)
        print(f"wrote {path}")
    return written


if __name__ == "__main__":
    main()
