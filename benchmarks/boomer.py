"""BOOMER (mlrl-boomer's BoomerClassifier, default settings), in its own environment.

mlrl-boomer pins scikit-learn < 1.8, so it cannot share the project's
environment. This script makes one and runs BOOMER there under the same
protocol (``protocol.py``), with OvR(LogReg) as the in-run reference for fit
time:

    python benchmarks/boomer.py --setup     # benchmarks/.venv-boomer, mlrl-boomer 0.12.3
    python benchmarks/boomer.py             # writes benchmarks/results/boomer.{md,json}

``python benchmarks/run.py`` adds the latest ``boomer.json`` to its report,
and says so when BOOMER was not run.
"""

import argparse
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
VENV = HERE / ".venv-boomer"
PYTHON = VENV / "bin" / "python"
REQUIREMENT = "mlrl-boomer==0.12.3"
NAME = "BOOMER (mlrl-boomer defaults)"


def setup():
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", REQUIREMENT], check=True)


def measure(sets, out):
    sys.path.insert(0, str(HERE))
    import datasets
    import protocol
    import report
    from mlrl.boosting import BoomerClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    factories = {
        NAME: lambda seed: make_pipeline(StandardScaler(), BoomerClassifier()),
        "OvR(LogReg)": lambda seed: make_pipeline(
            StandardScaler(), OneVsRestClassifier(LogisticRegression(max_iter=1000))),
    }
    results = {}
    for name in sets:
        X, Y, splits = datasets.load(name)
        runs = {model: protocol.evaluate(f, X, Y, splits) for model, f in factories.items()}
        results[name] = dict(runs[NAME])
        if "error" not in results[name]:
            results[name]["reference_fit_seconds"] = runs["OvR(LogReg)"].get("fit_seconds")
        print(name, results[name], flush=True)
    meta = report.run_meta("boomer.py", sets_argv(sets), requirement=REQUIREMENT)
    lines = [f"# {NAME}", "", f"Command: `{meta['command']}`  ",
             f"Machine: {meta['machine']}; {meta['date']}", "",
             "| data | " + " | ".join(protocol.METRICS) + " | fit s | OvR(LogReg) fit s |",
             "|---|" + "---|" * (len(protocol.METRICS) + 2)]
    for name, r in results.items():
        if "error" in r:
            lines.append(f"| {name} | crashed: {r['error']} |")
            continue
        lines.append(f"| {name} | " + " | ".join(f"{r[m]:.3f}" for m in protocol.METRICS)
                     + f" | {r['fit_seconds']:.2f} | {r['reference_fit_seconds']:.2f} |")
    report.write(out, "boomer", meta, results, "\n".join(lines) + "\n")


def sets_argv(sets):
    return ["--datasets", *sets]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setup", action="store_true", help="create the environment")
    parser.add_argument("--datasets", nargs="+", default=["yeast", "scene", "emotions"])
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.setup:
        setup()
        return
    if args.inside:
        measure(args.datasets, args.out)
        return
    if not PYTHON.exists():
        sys.exit(f"{VENV} not found: run `python benchmarks/boomer.py --setup` first.")
    env = dict(os.environ, PYTHONPATH="")
    subprocess.run([str(PYTHON), __file__, "--inside", "--datasets", *args.datasets,
                    "--out", args.out], check=True, env=env)


if __name__ == "__main__":
    main()
