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
SETS = ("yeast", "scene", "emotions", "enron", "cal500", "genbase", "foodtruck")


# The bundles the benchmarks were run on, by SHA-256: a different file (another
# conversion of a set, a truncated copy) would give other figures, so it is
# refused rather than benchmarked.
SHA256 = {
    "yeast": "b0312436403f3dfb8259abf5f4ece4bb39cbc0867e8e0c69a2541b75121447b5",
    "scene": "27cd6899166f12b608c4f93d8ade9caad647f7f9335c5f5c8817116efb31c772",
    "emotions": "9768f349d144586c4a2bf9ffcb67329741562cbfeb4df83ddc5e2ca8074ebbee",
    "enron": "9f3d3ed3f0855e9570902bb043707d3d10044e3060d906bb790831ddf80c12b9",
    "cal500": "a75af55ff55229225fbb2d20e3ebf67414e9a821c0fa89b77c2b124d5cf16419",
    "genbase": "6feaa13e4a393cbeb961b1f61ec9c4d6c31de3635aa8a01def2a02803631ee37",
    "foodtruck": "b34059c4b2616f19126428096756f2116bad9a01bfe5e39e1a0293247ce1655f",
}


def data_dir():
    """Where the .npz bundles are: $SKLEARN_MLK_DATA or ../shared/datasets."""
    return pathlib.Path(os.environ.get("SKLEARN_MLK_DATA", DEFAULT_DATA_DIR))


def load(name):
    """Return X, Y and the list of (train_rows, test_rows) splits of a set."""
    path = data_dir() / f"{name}.npz"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found. The benchmarks read the standard multi-label sets of "
            "the MULAN and MEKA collections (yeast, scene, emotions, enron, cal500, "
            "genbase, foodtruck), converted to NumPy bundles (X, Y, label_names and, "
            f"where a standard split exists, is_test). Put {name}.npz in "
            f"{DEFAULT_DATA_DIR} or set SKLEARN_MLK_DATA to the folder holding it; "
            "benchmarks/datasets.py lists each bundle's SHA-256."
        )
    _check_sha256(name, path)
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


def features_touched(X, batch_size=64, batches=100, seed=0):
    """Mean number of features with a non-zero value in a random batch of
    ``batch_size`` rows: the first-layer rows a training step's gradient
    touches (all of them for dense X)."""
    if not sp.issparse(X):
        return float(X.shape[1])
    X = sp.csr_matrix(X)
    rng = np.random.default_rng(seed)
    size = min(batch_size, X.shape[0])
    return float(np.mean([np.unique(X[rng.choice(X.shape[0], size, replace=False)].indices).size
                          for _ in range(batches)]))


def describe(name):
    """Shape, sparsity and rare labels of a set, as one dict."""
    X, Y, _ = load(name)
    positives = np.asarray(Y.sum(axis=0)).ravel()
    nnz = X.nnz if sp.issparse(X) else int(np.count_nonzero(X))
    return {"set": name, "rows": X.shape[0], "features": X.shape[1], "labels": Y.shape[1],
            "density": nnz / (X.shape[0] * X.shape[1]),
            "features_touched_per_batch_of_64": features_touched(X),
            "labels_under_5_positives": int((positives < 5).sum())}


if __name__ == "__main__":
    print("| set | rows | features | labels | X density | features touched per "
          "batch of 64 | labels with < 5 positives |")
    print("|---|---|---|---|---|---|---|")
    for name in SETS:
        d = describe(name)
        print(f"| {name} | {d['rows']} | {d['features']} | {d['labels']} "
              f"| {d['density']:.3f} | {d['features_touched_per_batch_of_64']:.0f} "
              f"| {d['labels_under_5_positives']} |")


def _check_sha256(name, path):
    import hashlib

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if name in SHA256 and digest != SHA256[name]:
        raise ValueError(f"{path} has SHA-256 {digest}, not the {SHA256[name]} of the "
                         f"{name} bundle the benchmarks were run on; its figures would "
                         "not compare.")
