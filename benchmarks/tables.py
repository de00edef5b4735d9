"""Every table of measured figures in the README and the docs, rendered from
the saved results in ``benchmarks/results/*.json``.

    python benchmarks/tables.py           # rewrite every generated block
    python benchmarks/tables.py --check   # exit 1 where a committed block differs

A generated block sits between ``<!-- name:start -->`` and
``<!-- name:end -->`` in its page. The benchmark scripts' ``--update-readme``
write their block through :func:`update`; ``tests/test_benchmarks.py`` checks
that every committed block equals its rendering, so no figure is typed by hand.
"""

import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import report  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _saved(stem):
    saved = json.loads((report.RESULTS / f"{stem}.json").read_text())
    return saved["results"], saved["meta"]


def _memory():
    import memory

    results, meta = _saved("memory")
    return "\n".join([f"From `{meta['command']}` ({meta['date']}):", "",
                      *memory.table(results)])


def _benchmark_summary():
    import run

    return run.summary(*_saved("quality"))


def _landing():
    import run

    return run.landing(*_saved("quality"))


def _speed_summary():
    import speed

    results, meta = _saved("speed")
    models = results.pop("models")
    text = speed.markdown(models, meta) + speed.sections_markdown(results)
    return text.split("\n", 2)[2]


def _benchmark_data():
    import datasets

    return "\n".join(["| bundle | SHA-256 |", "|---|---|",
                      *[f"| `{name}.npz` | `{digest}` |"
                        for name, digest in datasets.SHA256.items()]])


def _single_label():
    import single_label

    text = single_label.markdown(*_saved("single_label"))
    return text.split("\n", 2)[2].strip("\n")  # the page has its own title


# block name -> (page, renderer)
BLOCKS = {
    "landing": (ROOT / "README.md", _landing),
    "memory": (ROOT / "docs" / "guide" / "speed.md", _memory),
    "benchmark-data": (ROOT / "docs" / "benchmarks.md", _benchmark_data),
    "benchmark-summary": (ROOT / "docs" / "benchmarks.md", _benchmark_summary),
    "speed-summary": (ROOT / "docs" / "benchmarks.md", _speed_summary),
    "single-label": (ROOT / "docs" / "benchmarks.md", _single_label),
}


def markers(name):
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def committed(name):
    """The text of block ``name`` as committed in its page."""
    page, _ = BLOCKS[name]
    start, end = markers(name)
    text = page.read_text()
    if start not in text or end not in text:
        raise ValueError(f"{page} has no {start} ... {end} block.")
    return text.split(start + "\n", 1)[1].split("\n" + end, 1)[0]


def update(name, text=None):
    """Write block ``name`` into its page: ``text``, else the saved results'."""
    page, render = BLOCKS[name]
    report.update_readme(name, render() if text is None else text, path=page)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 where a block differs")
    args = parser.parse_args(argv)
    stale = [name for name, (_, render) in BLOCKS.items() if committed(name) != render()]
    if args.check:
        print("stale: " + ", ".join(stale) if stale else "every generated block is current")
        return 1 if stale else 0
    for name in BLOCKS:
        update(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
