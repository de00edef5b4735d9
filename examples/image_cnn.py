"""
A small CNN tagging colour images of shape (n, 64, 64, 3)
=========================================================

Each image is one of scikit-learn's bundled 8x8 digits, scaled up to 64x64
pixels and tinted with one or more of red, green and blue. It carries every
property of its digit that holds (even, prime, five or more, ...) and every
colour it is tinted with, so most images have several labels. The images go
to the estimator as they are, a 4-D array, the way multi-label image
tutorials write them: the model callable reads their shape from
``meta["input_shape_"]``, and the default fold ensemble and learned
thresholds work as on tabular data.

Run it as::

    python examples/image_cnn.py [--fast]
"""

import argparse

import keras
import numpy as np
from sklearn.metrics import classification_report
from sklearn.model_selection import train_test_split

from sklearn_mlk import KerasMultiLabelClassifier
from sklearn_mlk.datasets import load_digit_properties

COLOURS = ["red", "green", "blue"]


def colour_images(seed=0):
    """(n, 64, 64, 3) float images in [0, 1] and their labels: the digit's
    properties, then its tints."""
    X, Y, names = load_digit_properties()
    rng = np.random.default_rng(seed)
    digits = np.kron(X.reshape(-1, 8, 8) / 16.0, np.ones((8, 8)))  # 8x8 -> 64x64
    tints = rng.random((len(X), 3)) < 0.5
    tints[~tints.any(axis=1), rng.integers(3)] = True  # at least one colour
    images = digits[..., None] * (0.2 + 0.8 * tints[:, None, None, :])
    images += rng.normal(0, 0.05, images.shape)
    return images.astype(np.float32), np.hstack([Y, tints.astype(int)]), names + COLOURS


def build_cnn(meta, filters=16):
    """Model callable: receives ``meta`` and routed ``model__`` parameters."""
    inputs = keras.Input(meta["input_shape_"])  # (64, 64, 3)
    x = keras.layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(inputs)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    outputs = keras.layers.Dense(meta["n_labels_"], activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def main(fast=False):
    images, Y, names = colour_images()
    if fast:
        images, Y = images[:300], Y[:300]
    X_train, X_test, Y_train, Y_test = train_test_split(images, Y, random_state=0)
    clf = KerasMultiLabelClassifier(
        model=build_cnn, model__filters=8 if fast else 16,
        epochs=2 if fast else 30, random_state=0,
    )
    clf.fit(X_train, Y_train)
    print(f"images of shape {X_train.shape[1:]}; thresholds:",
          np.round(clf.thresholds_, 2))
    print(classification_report(Y_test, clf.predict(X_test), target_names=names,
                                zero_division=0))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--fast", action="store_true", help="few epochs, for tests")
    main(parser.parse_args().fast)
