"""Lazy access to Keras, scoped seeding and model serialisation.

Keras (and TensorFlow behind it) is imported on first use, never at
``import sklearn_mlk``, so that importing the package stays as cheap as
importing scikit-learn.
"""

import contextlib
import os
import random
import sys
import tempfile

import numpy as np
from sklearn.utils import check_random_state


def get_keras():
    """Import and return the ``keras`` module."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


def draw_seed(random_state):
    """Return an int seed drawn from ``random_state``, or None if unseeded."""
    if random_state is None:
        return None
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@contextlib.contextmanager
def seeded(seed):
    """Seed Python, NumPy and Keras for the duration of the block only.

    ``keras.utils.set_random_seed`` changes process-wide generators; every one
    of them is put back on exit so that code running after a seeded fit (for
    example an unseeded fit) behaves as if the seeded fit never happened.
    Op-determinism is never switched on.
    """
    if seed is None:
        yield
        return
    keras = get_keras()
    from keras.src.backend.common import global_state
    from keras.src.random.seed_generator import GLOBAL_SEED_GENERATOR
    from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED

    py_state = random.getstate()
    np_state = np.random.get_state()
    keras_seed = global_state.get_global_attribute(GLOBAL_RANDOM_SEED)
    keras_generator = global_state.get_global_attribute(GLOBAL_SEED_GENERATOR)
    tf_seed = _tf_global_seed()
    torch_state = _torch_rng_state()
    try:
        keras.utils.set_random_seed(seed)
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        global_state.set_global_attribute(GLOBAL_RANDOM_SEED, keras_seed)
        global_state.set_global_attribute(GLOBAL_SEED_GENERATOR, keras_generator)
        if "tensorflow" in sys.modules:
            sys.modules["tensorflow"].random.set_seed(tf_seed)
        if torch_state is not None:
            sys.modules["torch"].set_rng_state(torch_state)


def _tf_global_seed():
    if "tensorflow" not in sys.modules:
        return None
    from tensorflow.python.eager import context

    return context.global_seed()


def _torch_rng_state():
    if "torch" not in sys.modules:
        return None
    return sys.modules["torch"].get_rng_state()


def model_to_bytes(model):
    """Serialise a Keras model (architecture and weights) to bytes."""
    keras = get_keras()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        keras.saving.save_model(model, path, include_optimizer=False)
        with open(path, "rb") as f:
            return f.read()


def model_from_bytes(data):
    """Rebuild a Keras model saved by :func:`model_to_bytes`."""
    keras = get_keras()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        with open(path, "wb") as f:
            f.write(data)
        return keras.saving.load_model(path, compile=False)
