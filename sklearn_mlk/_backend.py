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
import threading

import numpy as np
from sklearn.utils import check_random_state

# Keras draws initial weights and dropout seeds from Python's process-wide
# generator; seeded blocks in concurrent threads take turns.
_SEED_LOCK = threading.RLock()


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

    This is what ``keras.utils.set_random_seed`` does, except for
    TensorFlow's global seed (see :func:`tensorflow_seeded`), and every
    generator is put back on exit so that code running after a seeded fit (for
    example an unseeded fit) behaves as if the seeded fit never happened.
    Seeded blocks of concurrent threads run one at a time. Op-determinism is
    never switched on.
    """
    if seed is None:
        yield
        return
    with _SEED_LOCK, _seeded(seed):
        yield


@contextlib.contextmanager
def _seeded(seed):
    get_keras()
    from keras.src.backend.common import global_state
    from keras.src.random.seed_generator import GLOBAL_SEED_GENERATOR
    from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED

    py_state = random.getstate()
    np_state = np.random.get_state()
    keras_seed = global_state.get_global_attribute(GLOBAL_RANDOM_SEED)
    keras_generator = global_state.get_global_attribute(GLOBAL_SEED_GENERATOR)
    torch_state = _torch_rng_state()
    try:
        global_state.set_global_attribute(GLOBAL_RANDOM_SEED, seed)
        global_state.set_global_attribute(GLOBAL_SEED_GENERATOR, None)
        random.seed(seed)
        np.random.seed(seed)
        if torch_state is not None:
            sys.modules["torch"].manual_seed(seed)
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        global_state.set_global_attribute(GLOBAL_RANDOM_SEED, keras_seed)
        global_state.set_global_attribute(GLOBAL_SEED_GENERATOR, keras_generator)
        if torch_state is not None:
            sys.modules["torch"].set_rng_state(torch_state)


@contextlib.contextmanager
def tensorflow_seeded(seed):
    """Set TensorFlow's global seed for the block only (for ``Model.fit``).

    ``Model.fit`` shuffles with TensorFlow's global seed. Setting that seed
    clears TensorFlow's eager caches, which costs about 50 ms, so only the
    ``Model.fit`` path pays it.
    """
    if seed is None or "tensorflow" not in sys.modules:
        yield
        return
    tf = sys.modules["tensorflow"]
    previous = _tf_global_seed()
    try:
        tf.random.set_seed(seed)
        yield
    finally:
        tf.random.set_seed(previous)


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
