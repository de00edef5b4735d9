"""The models compared, each configured as a user would, behind a scaler.

Neural peers share our default architecture: one hidden layer of 256 ReLU
units, Adam at 1e-3, batch 64, the same number of epochs. Our estimator runs
with its defaults otherwise (dropout 0.5; learned thresholds on a 20% hold-out
with a refit on all rows), at a fixed 0.5 and with its two main objectives.
"""

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import TunedThresholdClassifierCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import ClassifierChain, MultiOutputClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mlk import KerasMultiLabelClassifier

EPOCHS = 50
BATCH_SIZE = 64
HIDDEN = 256


def _scikeras(seed):
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
        epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=0, random_state=seed,
    )


def _logreg():
    return LogisticRegression(max_iter=1000)


PEERS = {
    "MLPClassifier": lambda seed: MLPClassifier(
        hidden_layer_sizes=(HIDDEN,), batch_size=BATCH_SIZE, random_state=seed
    ),
    "OvR(LogReg)": lambda seed: OneVsRestClassifier(_logreg()),
    "MultiOutput(TunedThresholdCV(LogReg))": lambda seed: MultiOutputClassifier(
        TunedThresholdClassifierCV(_logreg(), scoring="f1")
    ),
    "ClassifierChain(LogReg)": lambda seed: ClassifierChain(_logreg(), random_state=seed),
    "scikeras (0.5)": _scikeras,
    "mlk (0.5)": lambda seed: mlk(seed, threshold=0.5),
    "mlk macro-F1 thresholds": lambda seed: mlk(seed, threshold="f1"),
    "mlk micro-F1 thresholds": lambda seed: mlk(seed, threshold="micro_f1"),
}


def mlk(seed, **params):
    """Our estimator with the shared architecture and ``params`` on top."""
    settings = dict(hidden_layer_sizes=(HIDDEN,), epochs=EPOCHS, batch_size=BATCH_SIZE,
                    random_state=seed)
    return KerasMultiLabelClassifier(**{**settings, **params})


def make(name, seed=0):
    """A fresh pipeline: StandardScaler followed by the named model."""
    return make_pipeline(StandardScaler(), PEERS[name](seed))
