"""
An MLPClassifier built from a Keras model, under scikeras and sklearn-mlk
=========================================================================

scikeras's "MLPClassifier and MLPRegressor" tutorial builds an estimator like
scikit-learn's ``MLPClassifier`` from a Keras model: a model function that
reads ``meta`` to size its input and to pick its output (one sigmoid for two
classes, a softmax over three or more), compiles the model itself with the
optimizer handed to it in ``compile_kwargs``, and takes
``hidden_layer_sizes``; then the same network packaged as a subclass whose
``__init__`` names its parameters (a routed ``optimizer__learning_rate``
among them) and whose ``_keras_build_fn`` reads ``self.n_features_in_``,
``self.target_type_`` and ``self.n_classes_``.

This example writes those steps once and runs them under each wrapper,
changing only the class: cross-validated accuracy on a binary task (the
tutorial's) and on a three-class one, where the model function's softmax
branch trains. The two wrappers' scores are printed side by side. A last
part follows scikeras's "Meta estimators" tutorial: the same estimator
boosted by ``AdaBoostClassifier`` and bagged by ``BaggingClassifier`` on
``make_moons``.

scikeras trains one network for every epoch and predicts at 0.5 (or the
softmax's largest class); this estimator trains fold networks that stop
early, learns the binary cut on their out-of-fold scores, and takes the
largest class of their averaged softmax. It compiles the model with its own
loss (the categorical cross-entropy for a softmax) and says so once per fit.

Run it as::

    python examples/mlp_classifier_from_keras.py [--fast]
"""

import argparse
import warnings

import keras
import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.datasets import make_classification, make_moons
from sklearn.ensemble import AdaBoostClassifier, BaggingClassifier
from sklearn.model_selection import cross_val_score

from sklearn_mlk import KerasMultiLabelClassifier

WRAPPERS = {"scikeras": KerasClassifier, "sklearn-mlk": KerasMultiLabelClassifier}


def mlp_model(hidden_layer_sizes, meta, compile_kwargs):
    """An MLP whose output layer and loss follow the target type in ``meta``."""
    model = keras.Sequential([keras.Input(shape=(meta["n_features_in_"],))])
    for units in hidden_layer_sizes:
        model.add(keras.layers.Dense(units, activation="relu"))
    if meta["target_type_"] == "binary":
        model.add(keras.layers.Dense(1, activation="sigmoid"))
        loss = "binary_crossentropy"
    elif meta["target_type_"] == "multiclass":
        model.add(keras.layers.Dense(meta["n_classes_"], activation="softmax"))
        loss = "sparse_categorical_crossentropy"
    else:
        raise NotImplementedError(f"target type {meta['target_type_']!r}")
    model.compile(loss=loss, optimizer=compile_kwargs["optimizer"])
    return model


def packaged(Wrapper):
    """The same network as a self-contained subclass of ``Wrapper``."""

    class MLP(Wrapper):
        def __init__(self, hidden_layer_sizes=(100,), optimizer="adam",
                     optimizer__learning_rate=0.001, epochs=200, verbose=0, **kwargs):
            super().__init__(**kwargs)
            self.hidden_layer_sizes = hidden_layer_sizes
            self.optimizer = optimizer
            self.epochs = epochs
            self.verbose = verbose

        def _keras_build_fn(self, compile_kwargs):
            meta = {"n_features_in_": self.n_features_in_,
                    "target_type_": self.target_type_, "n_classes_": self.n_classes_}
            return mlp_model(self.hidden_layer_sizes, meta, compile_kwargs)

    return MLP


def main(argv=None):
    parser = argparse.ArgumentParser(description="scikeras's MLP tutorial, two wrappers.")
    parser.add_argument("--fast", action="store_true", help="few epochs, two folds")
    args = parser.parse_args(argv)
    epochs, cv = (5, 2) if args.fast else (200, 5)

    tasks = {
        "binary": make_classification(random_state=0),
        "three classes": make_classification(300, n_informative=5, n_classes=3,
                                             random_state=0),
    }
    rows = []
    for task, (X, y) in tasks.items():
        for name, Wrapper in WRAPPERS.items():
            function = Wrapper(model=mlp_model, hidden_layer_sizes=(100,), optimizer="adam",
                               optimizer__learning_rate=0.001, epochs=epochs, verbose=0,
                               random_state=0)
            subclass = packaged(Wrapper)(epochs=epochs, random_state=0)
            with warnings.catch_warnings():
                # The replaced compile and small tuning folds get a note each;
                # scikeras warns about its own internals.
                warnings.simplefilter("ignore", UserWarning)
                rows.append((task, name,
                             np.mean(cross_val_score(function, X, y, cv=cv)),
                             np.mean(cross_val_score(subclass, X, y, cv=cv))))
    print(f"{'task':<15}{'wrapper':<14}{'model function':>16}{'subclass':>10}")
    for task, name, function_score, subclass_score in rows:
        print(f"{task:<15}{name:<14}{function_score:>16.3f}{subclass_score:>10.3f}")

    # scikeras's "Meta estimators" tutorial: boosting and bagging the network.
    X, y = make_moons(random_state=0)
    # (fast mode: a faster rate, so that its few epochs beat chance, which
    # AdaBoost requires of every network)
    members, rate = (2, 0.02) if args.fast else (10, 0.001)
    print(f"\nmake_moons, {members} networks per ensemble")
    print(f"{'wrapper':<14}{'single':>8}{'AdaBoost':>10}{'Bagging':>9}")
    for name, Wrapper in WRAPPERS.items():
        single = Wrapper(model=mlp_model, hidden_layer_sizes=(100,), optimizer="adam",
                         optimizer__learning_rate=rate, epochs=epochs, verbose=0,
                         random_state=0)
        ensembles = [single,
                     AdaBoostClassifier(single, n_estimators=members, random_state=0),
                     BaggingClassifier(single, n_estimators=members, random_state=0)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            scores = [np.mean(cross_val_score(model, X, y, cv=cv)) for model in ensembles]
        print(f"{name:<14}" + "".join(f"{v:>{w}.3f}" for v, w in zip(scores, (8, 10, 9))))


if __name__ == "__main__":
    main()
