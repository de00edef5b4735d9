"""The models compared, each configured as a user would, behind a scaler.

Dense features are standardised, sparse ones scaled by their largest absolute
value (``MaxAbsScaler``: centring would densify them); gradient boosting, which
takes dense input only, gets sparse X densified.

Neural peers share our default architecture: one hidden layer of 256 ReLU
units, batch 64, Adam at 1e-3 (ours at its default rate, 3e-3 for this
network), scikeras for 50 epochs and MLPClassifier for its default 200
iterations; MLPClassifier also runs as it does with early stopping (its
batch of 200, up to 300 iterations). Our estimator runs at its defaults
(dropout 0.5; learned thresholds on the out-of-fold scores of five fold
networks, kept as an ensemble), at a fixed 0.5 and with its two main
objectives.
"""

import scipy.sparse as sp
from sklearn.ensemble import (
    ExtraTreesClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import TunedThresholdClassifierCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import ClassifierChain, MultiOutputClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, MaxAbsScaler, StandardScaler

from sklearn_mlk import KerasMultiLabelClassifier

EPOCHS = 50
BATCH_SIZE = 64
HIDDEN = 256
TREES = 300


def _dense(X):
    return X.toarray() if sp.issparse(X) else X


def _scikeras(seed, epochs):
    import keras
    from scikeras.wrappers import KerasClassifier

    def build(meta):
        return keras.Sequential([
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(HIDDEN, activation="relu"),
            keras.layers.Dense(meta["n_classes_"], activation="sigmoid"),
        ])

    return KerasClassifier(
        model=build, loss="binary_crossentropy", optimizer="adam",
        epochs=epochs or EPOCHS, batch_size=BATCH_SIZE, verbose=0, random_state=seed,
    )


def _logreg():
    return LogisticRegression(max_iter=1000)


# name -> factory(seed, epochs); epochs None is each model's benchmark default
# (EPOCHS for scikeras, scikit-learn's own max_iter for MLPClassifier, our
# estimator's own default).
PEERS = {
    "MLPClassifier": lambda seed, epochs: MLPClassifier(
        hidden_layer_sizes=(HIDDEN,), batch_size=BATCH_SIZE, random_state=seed,
        max_iter=epochs or 200,
    ),
    # The configuration whose fit time the default's is held to
    # (benchmarks/cost.py): early stopping on 10% of the rows, batch 200.
    "MLPClassifier(256, early stopping)": lambda seed, epochs: MLPClassifier(
        hidden_layer_sizes=(HIDDEN,), early_stopping=True, random_state=seed,
        max_iter=epochs or 300,
    ),
    "OvR(LogReg)": lambda seed, epochs: OneVsRestClassifier(_logreg()),
    "MultiOutput(TunedThresholdCV(LogReg))": lambda seed, epochs: MultiOutputClassifier(
        TunedThresholdClassifierCV(_logreg(), scoring="f1")
    ),
    "ClassifierChain(LogReg)": lambda seed, epochs: ClassifierChain(
        _logreg(), random_state=seed
    ),
    "RandomForestClassifier": lambda seed, epochs: RandomForestClassifier(
        n_estimators=TREES, random_state=seed, n_jobs=-1,
    ),
    "ExtraTreesClassifier": lambda seed, epochs: ExtraTreesClassifier(
        n_estimators=TREES, random_state=seed, n_jobs=-1,
    ),
    "OvR(HistGradientBoosting)": lambda seed, epochs: make_pipeline(
        FunctionTransformer(_dense, accept_sparse=True),
        OneVsRestClassifier(HistGradientBoostingClassifier(random_state=seed)),
    ),
    "scikeras (0.5)": _scikeras,
    "mlk (0.5)": lambda seed, epochs: mlk(seed, epochs, threshold=0.5),
    "mlk macro-F1 thresholds": lambda seed, epochs: mlk(seed, epochs, threshold="f1"),
    "mlk micro-F1 thresholds": lambda seed, epochs: mlk(seed, epochs, threshold="micro_f1"),
}


def mlk(seed, epochs=None, **params):
    """Our estimator with the shared architecture and ``params`` on top; its
    own default epochs unless ``epochs`` is given."""
    settings = dict(hidden_layer_sizes=(HIDDEN,), batch_size=BATCH_SIZE, random_state=seed)
    if epochs:
        settings["epochs"] = epochs
    return KerasMultiLabelClassifier(**{**settings, **params})


def make(name, seed=0, epochs=None, scale=True, sparse=False):
    """A fresh model, behind a scaler unless ``scale`` is False.

    ``epochs`` sets the passes over the data of every neural model
    (MLPClassifier's ``max_iter`` included). For ``sparse`` input the scaler
    is a ``MaxAbsScaler``.
    """
    model = PEERS[name](seed, epochs)
    scaler = MaxAbsScaler() if sparse else StandardScaler()
    return make_pipeline(scaler, model) if scale else model
