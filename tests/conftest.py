import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# Tests compare two computations of one network to float32 precision; on a
# GPU, JAX multiplies float32 matrices in TF32 (about three digits) unless
# told otherwise.
os.environ.setdefault("JAX_DEFAULT_MATMUL_PRECISION", "highest")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import make_multilabel_classification  # noqa: E402


@pytest.fixture(scope="session")
def data():
    """A small learnable multi-label problem: X (200 x 10), Y (200 x 4)."""
    X, Y = make_multilabel_classification(
        n_samples=200, n_features=10, n_classes=4, n_labels=2, random_state=0
    )
    return X.astype(np.float64), Y


@pytest.fixture(scope="session")
def saved(tmp_path_factory, data):
    """A fitted 3-fold ensemble with learned thresholds and its saved file
    (read-only: tests that write copy it first)."""
    X, Y = data
    clf = tiny(threshold="f1", threshold_cv=3, refit=False, epochs=4).fit(X, Y)
    path = tmp_path_factory.mktemp("saved") / "model.mlk"
    clf.save(path)
    return clf, path


def tiny(**params):
    """A fast estimator for tests: one small hidden layer, a few epochs.

    The threshold is fixed at 0.5 so that the network trains once on every
    row, and there is no dropout; tests of learned thresholds ask for them.
    Early stopping is off, as "auto" turns it off (with a warning) on this
    little data anyway; tests of early stopping switch it on.
    """
    from sklearn_mlk import KerasMultiLabelClassifier

    defaults = dict(hidden_layer_sizes=(8,), epochs=3, batch_size=32, random_state=0,
                    threshold=0.5, dropout=0.0, early_stopping=False)
    return KerasMultiLabelClassifier(**{**defaults, **params})


def sparse_products(monkeypatch):
    """Let any sparse X count as sparse enough, and any network as large
    enough, for TensorFlow to multiply its batches sparse."""
    from sklearn_mlk._training import _loop

    monkeypatch.setattr(_loop, "SPARSE_BATCH_DENSITY", 1.0)
    monkeypatch.setattr(_loop, "SPARSE_READER_WEIGHTS", 0)


# Workers for ``-n auto`` (pytest-xdist): one per CPU this process may use, as
# the tests are mostly single-threaded Python, but at most this many, as each
# worker imports TensorFlow and holds its own copy of it in memory.
MAX_WORKERS = 8


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    """``-n auto``: the CPUs available to this process, at most MAX_WORKERS
    (xdist's own choice counts physical cores, one on many 2-vCPU machines)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


def pytest_runtest_setup(item):
    """``@pytest.mark.backend("tensorflow")``: a test of one Keras backend's
    own code path, skipped on the others."""
    marker = item.get_closest_marker("backend")
    if marker is not None:
        backend = os.environ.get("KERAS_BACKEND", "tensorflow")
        if backend not in marker.args:
            pytest.skip(f"tests the {' or '.join(marker.args)} backend's own path; "
                        f"running on {backend}")
