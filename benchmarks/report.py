"""What every benchmark script writes: run metadata, JSON and Markdown."""

import json
import os
import pathlib
import platform
import shlex
import sys
import time

import numpy as np

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def rss_mb():
    """This process's resident memory, in MB."""
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def heap_mb():
    """The memory this process's C allocator has handed out and not had back,
    in MB, or None where the C library cannot tell (it is not glibc 2.33 or
    later).

    glibc's ``mallinfo2``: the bytes in use in its arenas plus those of the
    blocks it mapped apart. A leak grows this; free memory that the
    allocator keeps for reuse grows only the resident size (:func:`rss_mb`).
    Allocations that bypass ``malloc`` are not counted.
    """
    import ctypes
    import ctypes.util

    class _Mallinfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallinfo2 = libc.mallinfo2
    except (OSError, AttributeError):
        return None
    mallinfo2.restype = _Mallinfo2
    info = mallinfo2()
    return (info.uordblks + info.hblkhd) / 2**20


def timing_arguments(doc, argv):
    """The ``--rounds`` and ``--out`` of a timing benchmark described by ``doc``."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS))
    return parser.parse_args(argv)


def alternating(models, rounds, run):
    """``{model: [run(model, i) for i in range(rounds)]}``, the models taking
    turns: one untimed ``run(model, 0)`` of each first (tracing, first
    allocations), then ``rounds`` rounds in which each model runs once, each
    first in turn, so that all see the same load."""
    for model in models:
        run(model, 0)
    out = {model: [] for model in models}
    for i in range(rounds):
        k = i % len(models)
        for model in models[k:] + models[:k]:
            out[model].append(run(model, i))
    return out


def seed_count(n):
    """``"1 seed"`` or ``"<n> seeds"``, for a report's prose."""
    return f"{n} seed" + ("s" if n != 1 else "")


def header(title, meta):
    """A report's first lines: its title, the command and the machine."""
    return [f"# {title}", "", f"Command: `{meta['command']}`  ",
            f"Machine: {meta['machine']}; {meta['date']}", ""]


def seeded_arguments(doc, argv, seeds, quick, extra=None):
    """``(args, seeds)`` of a benchmark described by ``doc``: ``--quick``
    (``quick`` says what it runs, on 1 seed), ``--seeds`` (``seeds`` unless
    given, 1 with ``--quick``) and ``--out``; ``extra(parser)`` adds a
    script's own arguments."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{quick}, 1 seed")
    parser.add_argument("--seeds", type=int, default=None, help=f"default {seeds}")
    parser.add_argument("--out", default=str(RESULTS))
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    return args, args.seeds or (1 if args.quick else seeds)


def generated_set_arguments(doc, argv, extra=None):
    """:func:`seeded_arguments` of a benchmark on generated sets: ``--quick``
    runs its smallest set, and the seeds are 2."""
    return seeded_arguments(doc, argv, 2, "its smallest set", extra)


def bold_best(scores):
    """Each score of ``{name: score}`` to three decimals, the best in bold
    (every one that rounds to it)."""
    best = f"{max(scores.values()):.3f}"
    return {name: f"**{best}**" if f"{score:.3f}" == best else f"{score:.3f}"
            for name, score in scores.items()}


def median_range(values):
    """Table cells ``median | low to high`` of a list of seconds."""
    return f"{np.median(values):.2f} | {min(values):.2f} to {max(values):.2f}"


def paired_cells(a, b):
    """Table cells of two timed settings: each one's median and range, then
    the ratio of their medians, ``a`` over ``b``."""
    return (f"{median_range(a)} | {median_range(b)} "
            f"| {np.median(a) / np.median(b):.2f}x")


def run_meta(script, argv, **extra):
    """The command that produced a report, the machine and the date."""
    args = sys.argv[1:] if argv is None else argv
    return {
        "command": f"python benchmarks/{script} {shlex.join(args)}".strip(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                   f"Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        **extra,
    }


def write(out, stem, meta, results, markdown):
    """Write ``<stem>.json`` (meta and results) and ``<stem>.md`` under ``out``."""
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps({"meta": meta, "results": results},
                                                 indent=2))
    (out / f"{stem}.md").write_text(markdown)
    print(f"wrote {out / (stem + '.md')}")


def merged(earlier, results, order):
    """``earlier``'s results (a saved report's, ``{set: {model: row}}``) with
    the rows of ``results`` put in, a model run now replacing its earlier
    row; each set's models in the order of ``order``, other keys after."""
    rank = {}
    for model in order:
        rank.setdefault(model, len(rank))
    out = {}
    for name in {**earlier, **results}:
        rows = {**earlier.get(name, {}), **results.get(name, {})}
        out[name] = {key: rows[key]
                     for key in sorted(rows, key=lambda key: rank.get(key, len(rank)))}
    return out


def merge_saved(out, stem, meta, results, order):
    """``results`` merged (:func:`merged`) into the report ``<stem>.json``
    saved under ``out`` where there is one, whose command (and those it was
    merged from) ``meta["merged_from"]`` then lists."""
    saved = pathlib.Path(out) / f"{stem}.json"
    if not saved.exists():
        return results
    earlier = json.loads(saved.read_text())
    meta["merged_from"] = [*earlier["meta"].get("merged_from", []),
                           earlier["meta"]["command"]]
    return merged(earlier["results"], results, order)


def merge_note(meta):
    """A merged report's lines naming the commands its other rows come from."""
    if not meta.get("merged_from"):
        return []
    return ["Rows of models this command did not run come from, in order: "
            + "; ".join(f"`{c}`" for c in meta["merged_from"])
            + ", their fit seconds measured in that run.", ""]


def selection_arguments(parser, sets, models):
    """A benchmark's ``--sets`` and ``--models`` (choices ``sets`` and
    ``models``, default all) and ``--merge``."""
    parser.add_argument("--sets", nargs="+", default=None, metavar="SET", choices=sets,
                        help="the sets to run (default: all; --quick: the first)")
    parser.add_argument("--models", nargs="+", default=None, choices=models,
                        metavar="MODEL", help=f"the models to run (default: all of "
                                              f"{list(models)})")
    parser.add_argument("--merge", action="store_true",
                        help="keep the other models' rows of an earlier report of "
                             "the same name, replacing only the models run")


README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _split_block(block, path):
    """``path``'s text before, inside and after generated ``block``."""
    start, end = f"<!-- {block}:start -->", f"<!-- {block}:end -->"
    text = path.read_text()
    if start not in text or end not in text:
        raise ValueError(f"{path} has no {start} ... {end} block.")
    head, rest = text.split(start, 1)
    inside, tail = rest.split(end, 1)
    return head + start + "\n", inside[1:-1], "\n" + end + tail


def read_block(block, path=README):
    """The committed text of generated ``block`` in ``path``."""
    return _split_block(block, path)[1]


def update_readme(block, text, path=README):
    """Replace generated ``block`` (between its markers) in ``path`` with ``text``."""
    head, _, tail = _split_block(block, path)
    path.write_text(f"{head}{text}{tail}")
    print(f"updated {path}")
