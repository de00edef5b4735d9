"""The evaluation protocol shared by every benchmark: fit, predict, score.

Imports neither Keras nor sklearn_mlk, so peers that need their own
environment (BOOMER) are evaluated by exactly the same code.
"""

import time
import warnings

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, hamming_loss

METRICS = ("macro_f1", "micro_f1", "samples_f1", "hamming_loss", "subset_accuracy")


def scores(Y_true, Y_pred):
    """Every quality figure of one prediction."""
    Y_pred = np.asarray(Y_pred.toarray() if hasattr(Y_pred, "toarray") else Y_pred)
    kw = dict(zero_division=0)
    return {
        "macro_f1": f1_score(Y_true, Y_pred, average="macro", **kw),
        "micro_f1": f1_score(Y_true, Y_pred, average="micro", **kw),
        "samples_f1": f1_score(Y_true, Y_pred, average="samples", **kw),
        "hamming_loss": hamming_loss(Y_true, Y_pred),
        "subset_accuracy": accuracy_score(Y_true, Y_pred),
    }


def evaluate(factory, X, Y, splits, seed=0):
    """Mean metrics over the splits and total fit seconds, or the error.

    ``factory(seed)`` returns a fresh model for each split.
    """
    per_split, fit_seconds = [], 0.0
    try:
        for train, test in splits:
            model = factory(seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                model.fit(X[train], Y[train])
                fit_seconds += time.perf_counter() - start
                per_split.append(scores(Y[test], model.predict(X[test])))
    except Exception as exc:  # a peer that crashes is reported, not fatal
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    result = {m: float(np.mean([s[m] for s in per_split])) for m in METRICS}
    result["fit_seconds"] = fit_seconds
    return result
