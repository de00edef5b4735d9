"""The default's probabilities on one split of each shared set, to compare two
versions of the library fit for fit.

    python benchmarks/same_fits.py before.npz                # every shared set
    python benchmarks/same_fits.py after.npz emotions yeast  # some of them
    python benchmarks/same_fits.py --compare before.npz after.npz

A change meant to leave the default's fits on the shared sets alone (a new
option whose ``"auto"`` does nothing there, a refactoring) should leave these
probabilities equal to the bit; then the committed quality and
leave-one-set-out results stand without a rerun. Run the first command with
the library before the change (a worktree of the earlier commit on
``PYTHONPATH``), the second with the library after it, and compare. Each fit
is the default behind the benchmark's scaler (``MaxAbsScaler`` for sparse
sets), seeded 0, on the first split of the set's protocol
(``benchmarks/datasets.py``); the test rows' probabilities are saved.
"""

import argparse
import os
import pathlib
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import datasets  # noqa: E402


def probabilities(name):
    """The default's test probabilities on the first split of ``name``."""
    import scipy.sparse as sp
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler, StandardScaler

    from sklearn_mlk import KerasMultiLabelClassifier

    X, Y, splits = datasets.load(name)
    train, test = splits[0]
    scaler = MaxAbsScaler() if sp.issparse(X) else StandardScaler()
    pipe = make_pipeline(scaler, KerasMultiLabelClassifier(random_state=0))
    return pipe.fit(X[train], Y[train]).predict_proba(X[test])


def compare(before, after):
    """``{set: whether its probabilities are equal to the bit}`` of the sets
    both files hold."""
    a, b = np.load(before), np.load(after)
    return {name: bool(np.array_equal(a[name], b[name])) for name in a.files if name in b}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="the file to write, then the sets; "
                        "or, with --compare, the two files")
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args(argv)
    if args.compare:
        same = compare(*args.files)
        for name, equal in same.items():
            print(f"{name}: {'equal to the bit' if equal else 'DIFFERENT'}")
        return 0 if same and all(same.values()) else 1
    warnings.simplefilter("ignore")
    path, names = args.files[0], args.files[1:] or list(datasets.SETS)
    np.savez(path, **{name: probabilities(name) for name in names})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
