"""Benchmark data: the shared MULAN sets and their evaluation protocol.

yeast and scene use their standard train/test split; emotions, enron, cal500
and genbase have none and are evaluated with
``KFold(5, shuffle=True, random_state=0)``. enron and genbase are sparse.
"""

import os
import pathlib

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import KFold

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "datasets"
SETS = ("yeast", "scene", "emotions", "enron", "cal500", "genbase")


def data_dir():
    """Where the .npz bundles are: $SKLEARN_MLK_DATA or ../shared/datasets."""
    return pathlib.Path(os.environ.get("SKLEARN_MLK_DATA", DEFAULT_DATA_DIR))


def load(name):
    """Return X, Y and the list of (train_rows, test_rows) splits of a set."""
    path = data_dir() / f"{name}.npz"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found; set SKLEARN_MLK_DATA to the folder holding {name}.npz."
        )
    bundle = np.load(path, allow_pickle=False)
    if "X" in bundle:
        X = bundle["X"].astype(np.float64)
    else:
        X = sp.csr_matrix(
            (bundle["X_data"], bundle["X_indices"], bundle["X_indptr"]),
            shape=tuple(bundle["X_shape"]),
        )
    Y = bundle["Y"].astype(np.int64)
    if "is_test" in bundle:
        test = bundle["is_test"].astype(bool)
        splits = [(np.flatnonzero(~test), np.flatnonzero(test))]
    else:
        splits = list(KFold(5, shuffle=True, random_state=0).split(X))
    return X, Y, splits
