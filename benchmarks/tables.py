"""Every table of measured figures in the README and the docs, rendered from
the saved results in ``benchmarks/results/*.json``.

    python benchmarks/tables.py           # rewrite every generated block
    python benchmarks/tables.py --check   # exit 1 where a committed block differs

A generated block sits between ``<!-- name:start -->`` and
``<!-- name:end -->`` in its page. Each block has one renderer, which takes a
report's ``(results, meta)``: the benchmark scripts' ``--update-readme`` pass
it the run they just made, and this script the saved one.
``tests/test_docs.py`` checks that every committed block equals its rendering,
so no figure is typed by hand.
"""

import argparse
import importlib
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import report  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def saved(stem):
    """A saved report's ``(results, meta)``."""
    data = json.loads((report.RESULTS / f"{stem}.json").read_text())
    return data["results"], data["meta"]


def body(text):
    """A report's Markdown without its first line (its title)."""
    return text.split("\n", 2)[2].strip("\n")


def _call(module, function):
    """``module.function``, imported when a block is rendered."""
    return lambda *args: getattr(importlib.import_module(module), function)(*args)


def _report_body(module):
    """A script's whole report (``markdown(results, meta)``) less its title."""
    return lambda results, meta: body(_call(module, "markdown")(results, meta))


def _speed_report(results, meta):
    import speed

    results = dict(results)
    models = results.pop("models")
    return body(speed.markdown(models, meta) + speed.sections_markdown(results))


def _checksums(results, meta):
    import datasets

    return "\n".join(["| bundle | SHA-256 |", "|---|---|",
                      *[f"| `{name}.npz` | `{digest}` |"
                        for name, digest in datasets.SHA256.items()]])


def _study_blocks(study_block, study_stem, loso_block, loso_stem):
    """The blocks of a study of ``benchmarks/thresholds.py`` (its table of
    variants) and of its leave-one-set-out report, on the thresholds page."""
    page = DOCS / "guide" / "thresholds.md"
    return {study_block: (page, study_stem, _call("loso", "study_table")),
            loso_block: (page, loso_stem, _call("loso", "block"))}


# block name -> (page, saved report stem (None: rendered from code), renderer)
BLOCKS = {
    "landing": (ROOT / "README.md", "quality", _call("run", "landing")),
    "memory": (DOCS / "guide" / "speed.md", "memory", _call("memory", "block")),
    "cost": (DOCS / "guide" / "speed.md", "cost", _report_body("cost")),
    "fit-parts": (DOCS / "guide" / "speed.md", "fit_parts", _report_body("fit_parts")),
    "distill": (DOCS / "guide" / "speed.md", "distill", _report_body("distill")),
    "tol": (DOCS / "guide" / "speed.md", "tol", _report_body("tol")),
    "small-data-tol": (DOCS / "guide" / "speed.md", "small_data_tol",
                       _call("small_data", "block")),
    "splits": (DOCS / "guide" / "speed.md", "splits", _report_body("splits")),
    "threshold-search": (DOCS / "guide" / "speed.md", "threshold_search",
                         _report_body("threshold_search")),
    "sparse-batches": (DOCS / "guide" / "speed.md", "sparse_batches",
                       _report_body("sparse_batches")),
    "speed-backends": (DOCS / "guide" / "speed.md", "speed_backends", _speed_report),
    "torch-threads": (DOCS / "guide" / "speed.md", "torch_threads",
                      _report_body("torch_threads")),
    "speed-gpu": (DOCS / "guide" / "speed.md", "speed_gpu", _speed_report),
    "speed-gpu-cpu": (DOCS / "guide" / "speed.md", "speed_gpu_machine_cpu", _speed_report),
    # Each study of thresholds.py on the thresholds page and its
    # leave-one-set-out tables (loso.py), under names of the two blocks.
    **_study_blocks("threshold-study", "thresholds_loso", "loso", "loso"),
    **_study_blocks("cost-study", "thresholds_auto_lr", "loso-auto-lr", "loso_auto_lr"),
    **_study_blocks("patience-study", "thresholds_patience", "loso-patience",
                    "loso_patience"),
    **_study_blocks("refit-study", "thresholds_refit", "loso-refit", "loso_refit"),
    **_study_blocks("mean-study", "thresholds_mean", "loso-mean", "loso_mean"),
    **_study_blocks("alpha-study", "thresholds_alpha", "loso-alpha", "loso_alpha"),
    **_study_blocks("alpha-scaled-study", "thresholds_alpha_scaled", "loso-alpha-scaled",
                    "loso_alpha_scaled"),
    **_study_blocks("alpha-oof-study", "thresholds_alpha_oof", "loso-alpha-oof",
                    "loso_alpha_oof"),
    **_study_blocks("alpha-per-label-study", "thresholds_alpha_per_label",
                    "loso-alpha-per-label", "loso_alpha_per_label"),
    **_study_blocks("linear-study", "thresholds_linear", "loso-linear", "loso_linear"),
    "holdout-study": (DOCS / "guide" / "thresholds.md", "thresholds_holdout",
                      _call("loso", "study_beside_peers")),
    "average-study": (DOCS / "guide" / "thresholds.md", "thresholds_average",
                      _call("loso", "study_beside_peers")),
    "loso-average": (DOCS / "guide" / "thresholds.md", "loso_average",
                     _call("loso", "block")),
    "average-starts-study": (DOCS / "guide" / "thresholds.md", "thresholds_average_starts",
                             _call("loso", "study_table")),
    "large-data": (DOCS / "guide" / "thresholds.md", "large_data",
                   _report_body("large_data")),
    "first-layer": (DOCS / "guide" / "thresholds.md", "first_layer",
                    _report_body("first_layer")),
    "many-labels": (DOCS / "guide" / "thresholds.md", "many_labels",
                    _report_body("many_labels")),
    "many-labels-variants": (DOCS / "guide" / "thresholds.md", "many_labels_variants",
                             _report_body("many_labels")),
    "pilot-choice": (DOCS / "guide" / "thresholds.md", "pilot_choice",
                     _report_body("pilot_choice")),
    "pilot-choice-tagged": (DOCS / "guide" / "thresholds.md", "pilot_choice_tagged",
                            _report_body("pilot_choice")),
    "out-of-core": (DOCS / "guide" / "dask.md", "out_of_core",
                    _call("out_of_core", "block")),
    "missing-labels": (DOCS / "guide" / "targets.md", "missing_labels",
                       _report_body("missing_labels")),
    "benchmark-data": (DOCS / "benchmarks.md", None, _checksums),
    "benchmark-summary": (DOCS / "benchmarks.md", "quality", _call("run", "summary")),
    "speed-summary": (DOCS / "benchmarks.md", "speed", _speed_report),
    # (its saved results hold the scores and the leave-one-out rows beside them)
    "single-label": (DOCS / "benchmarks.md", "single_label",
                     lambda results, meta: body(_call("single_label", "markdown")(
                         results["results"], meta))),
    "binary-targets": (DOCS / "benchmarks.md", "binary_targets",
                       lambda results, meta: body(_call("binary_targets", "markdown")(
                           results["results"], results["leave_one_out"], meta))),
}


def render(name, results=None, meta=None):
    """Block ``name`` rendered from ``(results, meta)``, else from its saved report."""
    _, stem, renderer = BLOCKS[name]
    if results is None and stem is not None:
        results, meta = saved(stem)
    return renderer(results, meta)


def committed(name):
    """The text of block ``name`` as committed in its page."""
    return report.read_block(name, BLOCKS[name][0])


def update(name, results=None, meta=None):
    """Write block ``name`` into its page, rendered as :func:`render` does."""
    report.update_readme(name, render(name, results, meta), path=BLOCKS[name][0])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 where a block differs")
    args = parser.parse_args(argv)
    stale = [name for name in BLOCKS if committed(name) != render(name)]
    if args.check:
        print("stale: " + ", ".join(stale) if stale else "every generated block is current")
        return 1 if stale else 0
    for name in BLOCKS:
        update(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
