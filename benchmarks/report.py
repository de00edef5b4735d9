"""What every benchmark script writes: run metadata, JSON and Markdown."""

import json
import os
import pathlib
import platform
import shlex
import sys
import time


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
