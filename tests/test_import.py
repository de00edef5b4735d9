"""Importing the package does not load Keras or TensorFlow."""

import subprocess
import sys


def test_import_does_not_load_keras():
    code = (
        "import sys, sklearn_mlk; "
        "print(sorted(m for m in ('keras', 'tensorflow', 'scikeras') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
