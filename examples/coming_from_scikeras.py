"""
The same Keras code under scikeras and under sklearn-mlk
========================================================

A scikeras user's classifier workflow, run twice: once with scikeras's
``KerasClassifier`` and once with ``KerasMultiLabelClassifier``, changing
nothing but the class. The workflow follows scikeras's "Basic usage"
tutorial: a model function that reads ``meta`` and takes its own arguments
(``hidden_layer_sizes``, ``dropout``) unprefixed, ``loss`` given as a
string, a scaler in a ``Pipeline``, an ``EarlyStopping`` callback routed
with ``callbacks__``, and a grid search over the model function's argument
and the optimizer's learning rate.

Each wrapper's test scores are printed side by side. They differ, as the
two wrappers train differently: scikeras trains one network on every row
for every epoch and cuts at 0.5; this estimator trains five fold networks,
each stopping early on the fifth it leaves out, learns its cut on their
out-of-fold scores and predicts with the ensemble. On this balanced binary
task, with the full 40 epochs, scikeras's single network scores higher in
most steps; learned thresholds pay where labels are rare or imbalanced
(see the benchmarks).

Run it as::

    python examples/coming_from_scikeras.py [--fast]
"""

import argparse
import warnings

import keras
from scikeras.wrappers import KerasClassifier
from sklearn.datasets import make_classification
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_mlk import KerasMultiLabelClassifier

WRAPPERS = {"scikeras": KerasClassifier, "sklearn-mlk": KerasMultiLabelClassifier}


def binary_mlp(meta, hidden_layer_sizes, dropout):
    """A scikeras-style model function: its arguments come unprefixed."""
    inputs = keras.Input(shape=(meta["n_features_in_"],))
    hidden = inputs
    for units in hidden_layer_sizes:
        hidden = keras.layers.Dense(units, activation="relu")(hidden)
        hidden = keras.layers.Dropout(dropout)(hidden)
    outputs = keras.layers.Dense(1, activation="sigmoid")(hidden)
    return keras.Model(inputs, outputs)


def scores(model, X_test, y_test):
    predicted = model.predict(X_test)
    return accuracy_score(y_test, predicted), f1_score(y_test, predicted)


def main(argv=None):
    parser = argparse.ArgumentParser(description="scikeras's workflow, two wrappers.")
    parser.add_argument("--fast", action="store_true", help="few epochs, a smaller grid")
    args = parser.parse_args(argv)
    epochs = 5 if args.fast else 40

    X, y = make_classification(1000, 20, n_informative=10, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    rows = []
    for name, Wrapper in WRAPPERS.items():
        settings = dict(model=binary_mlp, loss="binary_crossentropy",
                        hidden_layer_sizes=(100,), dropout=0.5, optimizer="adam",
                        epochs=epochs, verbose=0, random_state=0)
        with warnings.catch_warnings():
            # The fast mode's few rows per tuning fold get a note; scikeras
            # warns about its own internals.
            warnings.simplefilter("ignore", UserWarning)
            plain = Wrapper(**settings).fit(X_train, y_train)
            piped = make_pipeline(StandardScaler(), Wrapper(**settings)).fit(X_train, y_train)
            stopped = Wrapper(**settings, callbacks=keras.callbacks.EarlyStopping,
                              callbacks__monitor="loss", callbacks__patience=3)
            stopped.fit(X_train, y_train)
            grid = GridSearchCV(
                Wrapper(**settings),
                {"model__hidden_layer_sizes": [(50,), (100,)],
                 "optimizer__learning_rate": [1e-3] if args.fast else [1e-3, 3e-3]},
                cv=3, scoring="accuracy",
            ).fit(X_train, y_train)
        rows.append((name, scores(plain, X_test, y_test), scores(piped, X_test, y_test),
                     scores(stopped, X_test, y_test), scores(grid, X_test, y_test),
                     grid.best_params_))

    print(f"{'step':<44}" + "".join(f"{name:>26}" for name, *_ in rows))
    steps = ["model function, loss='binary_crossentropy'", "in a Pipeline with a scaler",
             "EarlyStopping via callbacks__", "GridSearchCV best estimator"]
    for i, step in enumerate(steps):
        cells = "".join(f"{'accuracy %.3f  F1 %.3f' % row[1 + i]:>26}" for row in rows)
        print(f"{step:<44}{cells}")
    for name, *_, best in rows:
        print(f"{name} grid search chose {best}")


if __name__ == "__main__":
    main()
