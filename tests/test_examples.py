"""Every example script runs end to end in its fast mode."""

import os
import pathlib
import runpy
import subprocess
import sys

import pytest

EXAMPLES = sorted((pathlib.Path(__file__).parents[1] / "examples").glob("*.py"))
# What each example must print: its result, not just anything.
EXPECTED_OUTPUT = {
    "coming_from_scikeras": ["scikeras", "sklearn-mlk", "EarlyStopping via callbacks__",
                             "sklearn-mlk grid search chose {'model__hidden_layer_sizes'"],
    "mlp_classifier_from_keras": ["binary         scikeras", "binary         sklearn-mlk",
                                  "three classes  scikeras", "three classes  sklearn-mlk",
                                  "make_moons, 2 networks per ensemble"],
    "text_tagging": ["training micro-F1:", "'the team wins the league'"],
    "image_cnn": ["images of shape (64, 64, 3)", "straight_strokes", "blue", "samples avg"],
    "imbalanced_tabular": ["class_weight=balanced", "learned thresholds (default)",
                           "label 4: threshold"],
    "plots": ["thresholds.png (5 curves)", "precision_recall.png (5 curves)",
              "training_history.png (12 curves)", "epochs run: [5, 5, 5, 5, 5]",
              "thresholds: {'closed_loop': 0."],  # plain names and numbers
}


# The fast mode's small data gets the estimator's small-data note, as a user's
# would (tested in tests/test_learned_thresholds.py).
# The two examples that run scikeras beside this estimator run in the scikeras
# step of CI (``-m scikeras``), which keeps the main suite within its budget.
SCIKERAS_EXAMPLES = {"coming_from_scikeras", "mlp_classifier_from_keras"}


@pytest.mark.filterwarnings("ignore:Few training samples:UserWarning")
@pytest.mark.parametrize("script", [
    pytest.param(p, marks=[pytest.mark.scikeras] if p.stem in SCIKERAS_EXAMPLES else [])
    for p in EXAMPLES], ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, monkeypatch, capsys):
    # Run as `python examples/<name>.py --fast` would, in this process: a fresh
    # one would spend most of the test importing TensorFlow again.
    monkeypatch.setattr(sys, "argv", [str(script), "--fast"])
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    for text in EXPECTED_OUTPUT[script.stem]:
        assert text in out, (text, out[-2000:])


def _user_environment():
    """The environment of a user who set no TensorFlow log level."""
    return {k: v for k, v in os.environ.items()
            if k not in ("TF_CPP_MIN_LOG_LEVEL", "SKLEARN_MLK_QUIET_TENSORFLOW")}


def test_main_job_prints_a_report_for_both_models_and_nothing_to_stderr():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_mlk", "--epochs", "3"],
        capture_output=True, text=True, timeout=600, env=_user_environment(),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""
    out = result.stdout
    assert "OneVsRestClassifier(LogisticRegression())" in out
    assert "KerasMultiLabelClassifier()" in out
    assert out.count("macro-F1") == 2 and "straight_strokes" in out


def test_every_example_is_checked():
    assert {p.stem for p in EXAMPLES} == set(EXPECTED_OUTPUT)


def test_a_log_level_the_user_set_is_left_alone():
    code = ("import os; from sklearn_mlk._keras import _backend; _backend.get_keras(); "
            "print(os.environ['TF_CPP_MIN_LOG_LEVEL'], "
            "os.environ.get('SKLEARN_MLK_QUIET_TENSORFLOW'))")
    # (Without a level of the user's, the main job's test above sees it set
    # and stderr empty.)
    env = dict(_user_environment(), TF_CPP_MIN_LOG_LEVEL="0")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.stdout.strip() == "0 None", out.stderr[-2000:]


def test_keras_imported_through_the_library_first_is_quiet():
    """A script that needs keras itself imports it with import_keras():
    TensorFlow's C++ start-up lines, which no log level hides, stay off."""
    code = ("import sklearn_mlk; keras = sklearn_mlk.import_keras(); import keras as k; "
            "import tensorflow as tf; tf.config.list_physical_devices(); "
            "assert k is keras; print(keras.backend.backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=_user_environment(), timeout=300)
    assert out.returncode == 0 and out.stdout.strip(), out.stderr[-2000:]
    assert out.stderr == ""


def test_a_log_level_cannot_quiet_keras_imported_first():
    """What the plots page says: once a script imports keras itself, even the
    strictest TF_CPP_MIN_LOG_LEVEL leaves TensorFlow's C++ start-up lines on
    stderr (they are written before the level is read); import_keras() is
    the way (the test above)."""
    code = "import keras, tensorflow as tf; tf.config.list_physical_devices()"
    env = dict(_user_environment(), TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stderr.strip(), "TensorFlow is quiet now: update docs/guide/plots.md"
