"""A small CNN, built by a model callable, tagging digit images with properties.

Each 8x8 image from scikit-learn's bundled digits carries every property of
its digit that holds (even, prime, five or more, ...), so most images have
several labels.

    python examples/image_cnn.py [--fast]
"""

import argparse

import keras
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split

from sklearn_mlk import KerasMultiLabelClassifier
from sklearn_mlk.datasets import load_digit_properties


def build_cnn(meta, filters=16):
    """Model callable: receives ``meta`` and routed ``model__`` parameters."""
    inputs = keras.Input((meta["n_features_in_"],))
    x = keras.layers.Reshape((8, 8, 1))(inputs)
    x = keras.layers.Rescaling(1 / 16)(x)
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(meta["n_labels_"], activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def main(fast=False):
    X, Y, names = load_digit_properties()
    if fast:
        X, Y = X[:300], Y[:300]
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, random_state=0)
    clf = KerasMultiLabelClassifier(
        model=build_cnn, model__filters=8 if fast else 16,
        epochs=2 if fast else 30, random_state=0,
    )
    clf.fit(X_train, Y_train)
    print(classification_report(Y_test, clf.predict(X_test), target_names=names,
                                zero_division=0))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--fast", action="store_true", help="few epochs, for tests")
    main(parser.parse_args().fast)
