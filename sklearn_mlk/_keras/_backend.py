"""Lazy access to Keras, scoped seeding and model serialisation.

Keras (and TensorFlow behind it) is imported on first use, never at
``import sklearn_mlk``, so that importing the package stays as cheap as
importing scikit-learn.
"""

import collections
import contextlib
import importlib
import importlib.util
import json
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


_threads_limited = False
# Keras's module of per-thread state (the automatic names' counters).
_GLOBAL_STATE = "keras.src.backend.common.global_state"
# Whether get_keras has loaded the backend (and TensorFlow, where installed).
_started = False


# Set in the environment when this library chose TensorFlow's log level, so
# that worker processes (which inherit the level) stay quiet as well.
_QUIET = "SKLEARN_MLK_QUIET_TENSORFLOW"


def get_keras():
    """Import Keras (and TensorFlow) without their start-up lines on stderr.

    The library loads Keras through this function, on the first fit or
    prediction; it is public as ``sklearn_mlk.import_keras``. Where a script
    imports ``keras`` itself before the library loads it, TensorFlow writes
    its oneDNN and CUDA-probe lines from C++ before it reads any log level,
    so ``TF_CPP_MIN_LOG_LEVEL`` cannot hide them. Import it through this
    function instead (``keras = sklearn_mlk.import_keras()``): the lines are
    kept off while TensorFlow loads. A ``TF_CPP_MIN_LOG_LEVEL`` you set is
    left alone, and then nothing is hidden; otherwise it is set to 2 (info
    and warnings off) for the process.

    Returns
    -------
    keras : module
        The ``keras`` module, on the backend ``KERAS_BACKEND`` names.
    """
    global _started
    if not _started:
        if "keras" not in sys.modules:
            _passive_openmp()
        with _quiet_start():
            import keras

            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf

                tf.config.list_physical_devices()  # the device probe logs too
            elif (importlib.util.find_spec("tensorflow") is not None
                  and "tensorflow" not in sys.modules):
                # Keras imports TensorFlow wherever it is installed, whatever
                # the backend, at the first operation that checks for it (even
                # where keras itself was imported before): here, quietly.
                importlib.import_module("tensorflow")
        _started = True
    import keras

    if not _threads_limited:
        _limit_threads(keras)
    return keras


def _passive_openmp():
    """Let PyTorch's OpenMP threads sleep, not spin, while they wait.

    Spinning threads compete with any other busy process for the cores, and
    a fit next to other work then slows by tens of times. The policy is read
    once, when the OpenMP runtime starts, so it is set before Keras imports
    PyTorch, and only for the PyTorch backend; a policy the user set is left
    alone.
    """
    if "torch" not in sys.modules and _configured_backend() == "torch":
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _configured_backend():
    """The backend Keras will load: ``KERAS_BACKEND``, else its config file."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        with open(os.path.join(home, "keras.json")) as config:
            return json.load(config).get("backend", "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


@contextlib.contextmanager
def _quiet_start():
    """Keep TensorFlow's start-up lines (oneDNN, CUDA probes, absl) off stderr.

    Unless the user set ``TF_CPP_MIN_LOG_LEVEL``, the level becomes 2 (warnings
    and info off) and, while TensorFlow loads and probes its devices, file
    descriptor 2 points at the null device: those lines are written by C++
    before TensorFlow reads any log level. A level the user set is left alone,
    and then nothing is hidden.
    """
    if "TF_CPP_MIN_LOG_LEVEL" not in os.environ:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
        os.environ[_QUIET] = "1"
    if os.environ.get(_QUIET) != "1" or "tensorflow" in sys.modules:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _limit_threads(keras):
    """Size the backend's thread pools by ``OMP_NUM_THREADS`` when it is set.

    joblib's worker processes (``GridSearchCV(n_jobs=k)``, ``cross_validate``
    and the like) get ``OMP_NUM_THREADS = cores // k`` so that parallel fits
    do not oversubscribe the cores. TensorFlow does not read it and starts
    pools as wide as the machine in every worker; this applies the limit.
    It can only happen before TensorFlow runs its first operation.

    PyTorch reads it, but without it sizes its pool by the physical cores and
    spins its threads while they wait, so a fit next to other busy processes
    slows by tens of times: its intra-op pool gets ``OMP_NUM_THREADS``, or
    the cores this process may run on (and one thread while it trains a
    small network: :func:`torch_fit_threads`), and its inter-op pool one
    thread.
    """
    global _threads_limited
    _threads_limited = True
    threads = os.environ.get("OMP_NUM_THREADS", "")
    if keras.backend.backend() == "torch":
        global _torch_cores
        if threads.isdigit() and int(threads) > 0:
            _limit_torch_threads(int(threads))
        else:
            # joblib counts the cores this process may use (affinity, cgroups).
            from joblib import cpu_count

            _torch_cores = cpu_count()
            _limit_torch_threads(_torch_cores)
        return
    if not threads.isdigit() or int(threads) < 1 or keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(threads))
    except RuntimeError:  # the runtime is already initialised
        pass


# The intra-op threads this library gave PyTorch where OMP_NUM_THREADS is
# unset (the usable cores), else None: the user's count is left alone.
_torch_cores = None
# Networks with fewer weights train on one PyTorch intra-op thread. Per step
# they run many small operations, at each of which the threads must meet.
# On a quiet machine one thread trains a network of yeast's size (30,000 weights) in
# 0.16 s against 0.25 s on two; two threads win by 1.10x at 270,000 weights
# and by 1.24x at a million (benchmarks/torch_threads.py). Next to busy
# processes every meeting waits for a thread the scheduler has put aside:
# yeast's warm fit took 0.93 s on one thread and 24.2 s on two
# (benchmarks/speed.py, load section).
SMALL_TORCH_NETWORK = 500_000


@contextlib.contextmanager
def torch_fit_threads(n_weights):
    """Train a network of ``n_weights`` weights on one PyTorch intra-op thread
    if it is small, then give the pool back its size.

    Only where this library sized the pool (``OMP_NUM_THREADS`` unset) and
    nobody has resized it since: a count the user chose is kept.
    """
    import torch

    if (_torch_cores is None or n_weights >= SMALL_TORCH_NETWORK
            or torch.get_num_threads() != _torch_cores):
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(_torch_cores)


def _limit_torch_threads(threads):
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # parallel work already ran: the pool is fixed
        pass


@contextlib.contextmanager
def full_precision_matmul():
    """Run float32 matrix products in full float32 precision in this block.

    On recent NVIDIA GPUs, TensorFlow and JAX multiply float32 matrices in
    TF32 by default (about three decimal digits), and PyTorch where the user
    allowed it. Checks that compare a model's outputs with an exact
    computation of the same network need the model's own products exact.
    """
    keras = get_keras()
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        with jax.default_matmul_precision("highest"):
            yield
    elif backend == "tensorflow":
        import tensorflow as tf

        enabled = tf.config.experimental.tensor_float_32_execution_enabled()
        tf.config.experimental.enable_tensor_float_32_execution(False)
        try:
            yield
        finally:
            tf.config.experimental.enable_tensor_float_32_execution(enabled)
    elif backend == "torch":
        import torch

        precision = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision("highest")
        try:
            yield
        finally:
            torch.set_float32_matmul_precision(precision)
    else:
        yield


def layer_seeds(seed):
    """A stream of seeds for a network's initialisers and dropout layers,
    drawn from ``seed`` alone (None: unseeded, Keras's own draws)."""
    rng = None if seed is None else np.random.default_rng(seed)
    while True:
        yield None if rng is None else int(rng.integers(2**31 - 1))


def draw_seed(random_state):
    """Return an int seed drawn from ``random_state``, or None if unseeded.

    Where TensorFlow's op-determinism is on (scikeras leaves it on after a
    seeded fit, and a user may switch it on), TensorFlow refuses random ops
    without a seed; an unseeded fit then draws a fresh seed from the
    operating system's entropy, so that it stays unseeded in effect.
    """
    if random_state is None:
        if not _op_determinism_enabled():
            return None
        return int(np.random.SeedSequence().entropy % np.iinfo(np.int32).max)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _op_determinism_enabled():
    """Whether TensorFlow's op-determinism is on (never, on other backends)."""
    if get_keras().backend.backend() != "tensorflow":
        return False
    from tensorflow.python.framework import config

    return bool(config.is_op_determinism_enabled())


@contextlib.contextmanager
def fresh_names():
    """Keras's automatic layer and variable names counted afresh in the block.

    Each fit builds its networks under the same names (``dense``,
    ``dense_1``, ...), the names within one fit staying unique. On
    TensorFlow this is what keeps repeated fits from growing the process:
    every variable created under a name not seen before adds kernels to
    TensorFlow's eager kernel cache, which is never emptied, and a fit's
    networks hold a few dozen variables. ``benchmarks/cost.py`` measures the
    memory over 50 fits.
    Keras's counters are per thread and put back on exit, so names drawn
    outside the block go on as before. Keras is not imported here: where
    the block imports it, the counters start afresh after it too.
    """
    key = "object_name_uids"
    state = sys.modules.get(_GLOBAL_STATE)
    saved = None if state is None else state.get_global_attribute(key)
    if state is not None:
        state.set_global_attribute(key, collections.defaultdict(int))
    try:
        yield
    finally:
        state = sys.modules.get(_GLOBAL_STATE)
        if state is not None:
            state.set_global_attribute(key, saved)


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

    from keras.src.random import seed_generator

    py_state = random.getstate()
    np_state = np.random.get_state()
    keras_seed = global_state.get_global_attribute(GLOBAL_RANDOM_SEED)
    keras_generator = global_state.get_global_attribute(GLOBAL_SEED_GENERATOR)
    keras_python_random = seed_generator.python_random
    torch_state = _torch_rng_state()
    try:
        global_state.set_global_attribute(GLOBAL_RANDOM_SEED, seed)
        global_state.set_global_attribute(GLOBAL_SEED_GENERATOR, None)
        # Unseeded Keras initializers and layers draw their seeds from the
        # module `random`, whose process-wide state other threads (a Dask
        # worker's, for one) draw from too: give them a generator of the
        # block's own.
        seed_generator.python_random = random.Random(seed)
        random.seed(seed)
        np.random.seed(seed)
        if torch_state is not None:
            sys.modules["torch"].manual_seed(seed)
        yield
    finally:
        seed_generator.python_random = keras_python_random
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
    clears TensorFlow's eager caches, which slows the operations that follow,
    so only the ``Model.fit`` path pays it.
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


def to_numpy(value):
    """A Keras variable or backend tensor as a NumPy array of its own.

    PyTorch tensors are detached and copied directly: Keras's conversion goes
    through an ``__array__`` without NumPy 2's ``copy`` keyword, which NumPy
    deprecates.
    """
    keras = get_keras()
    if isinstance(value, keras.Variable):
        value = value.value
    if hasattr(value, "detach"):  # a PyTorch tensor
        return value.detach().cpu().numpy().copy()
    return np.array(keras.ops.convert_to_numpy(value))


def model_to_bytes(model):
    """Serialise a Keras model (architecture and weights) to bytes."""
    keras = get_keras()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        keras.saving.save_model(model, path, include_optimizer=False)
        with open(path, "rb") as f:
            return f.read()


def model_from_bytes(data, custom_objects=None):
    """Rebuild a Keras model saved by :func:`model_to_bytes`, its classes of
    other modules given by ``custom_objects`` (see :func:`custom_classes`)."""
    keras = get_keras()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        with open(path, "wb") as f:
            f.write(data)
        return keras.saving.load_model(path, compile=False,
                                       custom_objects=custom_objects)


def custom_classes(model):
    """The model's and its layers' classes that are not Keras's own, by the
    name Keras's config gives them: a pickle carries them by reference (as it
    carries any class), so that an unregistered subclass loads again."""
    found = {}
    for item in [model, *model._flatten_layers(include_self=False)]:
        cls = type(item)
        if not cls.__module__.startswith("keras."):
            found[cls.__name__] = cls
    return found
