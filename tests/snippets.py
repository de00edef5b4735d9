"""Running a documentation page's code block as a user would: pasted into a
file and run in a fresh interpreter."""

import pathlib
import subprocess
import sys

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"


def run_snippet(page, heading, workdir, name="snippet.py", timeout=600):
    """Run the first ``python`` block after ``heading`` in ``docs/<page>`` from
    ``workdir``; return its standard output, or fail with its standard error."""
    section = (DOCS / page).read_text().split(heading, 1)[1]
    snippet = section.split("```python\n", 1)[1].split("```", 1)[0]
    script = pathlib.Path(workdir) / name
    script.write_text(snippet)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=timeout, cwd=workdir)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout
