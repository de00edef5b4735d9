"""Every example script runs end to end in its fast mode."""

import pathlib
import subprocess
import sys

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script):
    result = subprocess.run(
        [sys.executable, str(script), "--fast"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "the example printed nothing"


def test_main_job_prints_a_report_for_both_models():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_mlk", "--epochs", "3"],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "OneVsRestClassifier(LogisticRegression())" in out
    assert "KerasMultiLabelClassifier()" in out
    assert out.count("macro-F1") == 2 and "straight_strokes" in out


def test_examples_count():
    assert {p.stem for p in EXAMPLES} >= {"text_tagging", "image_cnn", "imbalanced_tabular"}
