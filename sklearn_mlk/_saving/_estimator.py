"""Saving a fitted estimator to one file that loads without running code.

pickle and joblib files run code when loaded: a crafted file can do anything
the loading process can. A file written by :func:`save` holds only data, in a
zip archive:

- ``estimator.json``: the format, its version, the library and Keras versions,
  the estimator's class, its parameters and fitted attributes encoded as
  JSON (arrays by reference), and the size of every other member;
- ``arrays.npz``: the arrays, stored plain and read with ``allow_pickle=False``;
- ``model_0.keras``: the Keras network in Keras's own format.

Loading checks before it reads: the members must be the expected ones, of
the sizes recorded when saving; every object a network's config names must
be on an allow-list of Keras's data-only layers (:mod:`._safe_config`),
before Keras itself reads the network, with ``safe_mode=True``. Only plain
data and a short list of this library's own classes can be decoded; anything
else in a file is a ``ValueError`` naming the file and the reason.

Saving writes a temporary file beside the target and renames it over the
target once complete, so a failed or killed save loses nothing.

Parameters that are code (a model callable, callbacks, an optimizer instance,
a custom objective) cannot be stored as data: the loaded estimator predicts
as the saved one did, and holds an :class:`Unsaved` marker in their place,
which ``fit`` refuses with a message naming the parameter.
"""

import io
import json
import numbers
import os
import re
import tempfile
import warnings

import numpy as np

from ._archive import Refused as _Refused
from ._archive import CheckedArchive, check_members, open_zip, read_member, write_members

FORMAT = "sklearn-mlk"
# Bump on any change a reader of the previous version could not decode.
FORMAT_VERSION = 1
_META = "estimator.json"
_ARRAYS = "arrays.npz"
_NETWORK = re.compile(r"model_[0-9]{1,6}\.keras")
_ARRAY = re.compile(r"a[0-9]{1,9}\.npy")
# The members of a network's ``.keras`` archive.
_KERAS_MEMBERS = frozenset({"metadata.json", "config.json", "model.weights.h5"})
# State rebuilt rather than saved: the NumPy plan (from the network), and the
# optimizer an unpickled estimator holds for its next partial_fit (a saved
# file keeps no optimizer state; partial_fit after load starts a fresh one).
_TRANSIENT = frozenset({"_plan", "_resumed_optimizer"})
# The fitted state without which a loaded estimator cannot predict.
_FITTED = ("model_", "classes_", "thresholds_", "threshold_status_", "_target_encoder",
           "_from_probability", "n_features_in_")


class Unsaved:
    """Stands for a parameter that was code, not data, when the estimator was
    saved; the loaded estimator cannot fit until the parameter is set again."""

    def __init__(self, name, description):
        self.name = name
        self.description = description

    def __repr__(self):
        return f"Unsaved({self.description!r})"


# Estimator classes a file may name; they join with :func:`register`, so that
# this module never imports the estimator's.
_ESTIMATORS = {}


def register(cls):
    """Class decorator: let files written by :func:`save` name ``cls``."""
    _ESTIMATORS[cls.__name__] = cls
    return cls


def _classes():
    """The classes a file may name: this library's own, nothing else."""
    from .._targets import MultiLabelTargetEncoder
    from .._thresholds import FBeta, PrecisionAtLeast, RecallAtLeast

    return {**_ESTIMATORS,
            **{cls.__name__: cls for cls in (MultiLabelTargetEncoder, FBeta,
                                             PrecisionAtLeast, RecallAtLeast, Unsaved)}}


def _where(path):
    return repr(os.fspath(path)) if isinstance(path, (str, os.PathLike)) else "The file"


def save(estimator, path, fitted=True):
    """Write a fitted ``estimator`` to ``path`` (see the module docstring).

    The file is replaced atomically: a save that fails, or a process killed
    while saving, leaves any previous file at ``path`` as it was. A binary
    file object (anything with ``write``) is written directly instead.
    ``fitted=False`` also takes an unfitted estimator (its parameters alone),
    as a pipeline may hold one.
    """
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    from .._version import __version__
    from .._keras._backend import get_keras

    try:
        check_is_fitted(estimator)
        is_fitted = True
    except NotFittedError:
        if fitted:
            raise
        is_fitted = False
    keras = get_keras()
    encoder = _Encoder()
    params = {name: encoder.param(name, value)
              for name, value in estimator.get_params(deep=False).items()}
    state = {name: encoder.value(value, name) for name, value in vars(estimator).items()
             if is_fitted and name not in estimator.get_params(deep=False)
             and name not in _TRANSIENT}
    buffer = io.BytesIO()
    np.savez(buffer, **encoder.arrays)
    members = {_ARRAYS: buffer.getvalue()}
    with tempfile.TemporaryDirectory() as tmp:
        for name, model in encoder.models.items():
            file = os.path.join(tmp, name)
            keras.saving.save_model(model, file, include_optimizer=False)
            with open(file, "rb") as f:
                members[name] = f.read()
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sklearn_mlk_version": __version__,
        "keras_version": keras.__version__,
        "class": type(estimator).__name__,
        "params": params,
        "state": state,
        # Checked on load before anything is read: a swapped or edited
        # member is refused, and no member is decompressed past its size.
        "members": {name: len(data) for name, data in members.items()},
    }
    write_members(path, {_META: json.dumps(meta, indent=1).encode(), **members})


def load(path, custom_objects=None, trusted=None, where=None):
    """Read one estimator written by :func:`save` (``sklearn_mlk.load``,
    in :mod:`sklearn_mlk._saving`, documents the checks and parameters);
    ``where`` names the file in errors (a member of a bundle, say)."""
    return _load(path, where or _where(path), custom_objects, trusted)


def untrusted_types(path, custom_objects=None):
    """The names in one estimator's networks beyond the allow-list."""
    names = set()
    with _Reader(path, _where(path)) as reader:
        for name in reader.networks:
            names.update(_untrusted(reader.network_config(name), custom_objects, ()))
    return sorted(names)


def _untrusted(config, custom_objects, trusted):
    from .._keras._backend import get_keras
    from ._safe_config import untrusted_names

    return untrusted_names(config, get_keras(), set(trusted or ()) | set(custom_objects or ()))


def _json(data, where, what):
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise _Refused(f"{where}: its {what} is not valid JSON "
                       f"({type(exc).__name__}).") from None


class _Reader(CheckedArchive):
    """The checked members of a saved estimator's archive."""

    def __enter__(self):
        archive, where = self.archive, self.where
        names = set(archive.namelist())
        if _META not in names or _ARRAYS not in names:
            raise _Refused(f"{where} is not a file written by sklearn_mlk.save: it has "
                           "no estimator.json and arrays.npz.")
        check_members(archive, {_META, _ARRAYS} | {n for n in names if _NETWORK.fullmatch(n)},
                      where)
        self.meta = meta = _json(read_member(archive, _META, where), where, "estimator.json")
        _check_meta(meta, where)
        sizes = meta.get("members", {})
        if not isinstance(sizes, dict) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in sizes.values()):
            raise _Refused(f"{where}: its member sizes are damaged.")
        self.sizes = sizes
        referenced = _referenced_networks(meta)
        present = {n for n in names if _NETWORK.fullmatch(n)}
        if referenced != present:
            extra, missing = sorted(present - referenced), sorted(referenced - present)
            raise _Refused(f"{where} does not match its estimator: "
                           + (f"networks {extra} are not used" if extra else
                              f"networks {missing} are missing") + ".")
        self.networks = sorted(referenced)
        return self

    def arrays(self):
        import zipfile

        data = self.member(_ARRAYS)
        where = f"{self.where}, member {_ARRAYS!r},"
        with open_zip(io.BytesIO(data), where) as inner:
            check_members(inner, {n for n in inner.namelist() if _ARRAY.fullmatch(n)},
                          where)
            if any(info.compress_type != zipfile.ZIP_STORED for info in inner.infolist()):
                raise _Refused(f"{where} holds compressed arrays; save stores them plain.")
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            return dict(arrays)

    def network_bytes(self, name):
        data = self.member(name)
        with open_zip(io.BytesIO(data), f"{self.where}, member {name!r},") as inner:
            check_members(inner, _KERAS_MEMBERS, f"{self.where}, member {name!r},")
        return data

    def network_config(self, name):
        data = self.network_bytes(name)
        where = f"{self.where}, member {name!r},"
        with open_zip(io.BytesIO(data), where) as inner:
            return _json(read_member(inner, "config.json", where), where, "config.json")


def _referenced_networks(meta):
    """The network members the metadata refers to (``{"model": name}``)."""
    found, stack = set(), [meta.get("params"), meta.get("state")]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if set(node) == {"model"} and isinstance(node["model"], str):
                found.add(node["model"])
            stack.extend(node.values())
    return found


def _load(path, where, custom_objects, trusted):
    from .._keras._backend import get_keras

    with _Reader(path, where) as reader:
        arrays = reader.arrays()
        keras = get_keras()
        models = {}
        for name in reader.networks:
            bad = _untrusted(reader.network_config(name), custom_objects, trusted)
            if bad:
                raise _Refused(
                    f"The network in {where} cannot be loaded safely: it names {bad}, "
                    "which are not Keras layers that hold only data. Loading runs no "
                    "code from a file; if you trust this file, pass these names as "
                    "sklearn_mlk.load(path, trusted=[...]) (and your own classes as "
                    "custom_objects). Lambda layers hold Python code and are never "
                    "loaded.")
            with tempfile.TemporaryDirectory() as tmp:
                file = os.path.join(tmp, name)
                with open(file, "wb") as f:
                    f.write(reader.network_bytes(name))
                try:
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        models[name] = keras.saving.load_model(
                            file, compile=False, safe_mode=True,
                            custom_objects=custom_objects)
                except Exception as exc:
                    raise _Refused(f"The network in {where} cannot be loaded safely: "
                                   f"{type(exc).__name__}: {str(exc)[:300]}") from None
                # A config edited to name other layers loads with fresh
                # weights where its names no longer match: Keras only warns.
                unmatched = [str(w.message) for w in caught
                             if "saving" in os.path.normpath(w.filename).split(os.sep)]
                if unmatched:
                    raise _Refused(f"The network in {where} does not match its "
                                   f"weights: {unmatched[0][:300]}")
        meta = reader.meta
    decoder = _Decoder(arrays, models)
    cls = _classes()[meta["class"]]
    estimator = cls.__new__(cls)
    for part in ("params", "state"):
        if not isinstance(meta.get(part), dict):
            raise _Refused(f"{where}: its estimator.json has no {part}.")
        estimator.__dict__.update({name: decoder.value(value)
                                   for name, value in meta[part].items()})
    # Parameters added after the file was written take their defaults.
    for name, default in _defaults(cls).items():
        estimator.__dict__.setdefault(name, default)
    if not meta["state"]:  # saved unfitted, within a pipeline
        return estimator
    missing = [name for name in _FITTED if name not in estimator.__dict__]
    if missing:
        raise _Refused(f"{where} holds no fitted estimator: {missing} are missing.")
    estimator._restore_plan()
    return estimator


def _defaults(cls):
    import inspect

    return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
            if p.default is not inspect.Parameter.empty}


def _check_meta(meta, where):
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _Refused(f"{where} is not a file written by sklearn_mlk.save.")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _Refused(f"{where} is damaged: its format_version is {version!r}, "
                       "not a positive integer.")
    if version > FORMAT_VERSION:
        raise _Refused(
            f"{where} was written by sklearn-mlk {meta.get('sklearn_mlk_version')} "
            f"in file format {version!r}; this version of sklearn-mlk reads formats "
            f"up to {FORMAT_VERSION}. Upgrade sklearn-mlk to load it."
        )
    if meta.get("class") not in _ESTIMATORS:
        raise _Refused(f"{where} names the class {meta.get('class')!r}; "
                       f"sklearn_mlk.load only loads {sorted(_ESTIMATORS)}.")


class _Encoder:
    """JSON for plain values, with arrays and Keras models stored beside."""

    def __init__(self):
        self.arrays = {}
        self.models = {}

    def param(self, name, value):
        try:
            return self.value(value, name)
        except TypeError:
            return self.value(Unsaved(name, _describe(value)), name)

    def value(self, value, where):
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, bytes):
            return {"bytes": value.hex()}
        if isinstance(value, numbers.Integral) and not isinstance(value, np.generic):
            return value
        if isinstance(value, float):
            return value if np.isfinite(value) else {"float": repr(value)}
        if isinstance(value, np.generic):
            return {"scalar": self.value(np.asarray(value), where)}
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "biufSU":
                key = f"a{len(self.arrays)}"
                self.arrays[key] = value
                return {"array": key}
            if value.dtype.kind == "O":
                return {"objects": [self.value(v, where) for v in value.ravel().tolist()],
                        "shape": list(value.shape)}
        if isinstance(value, (list, tuple)):
            items = [self.value(v, where) for v in value]
            return {"tuple": items} if isinstance(value, tuple) else {"list": items}
        if isinstance(value, dict):
            return {"dict": [[self.value(k, where), self.value(v, where)]
                             for k, v in value.items()]}
        from .._keras._backend import get_keras

        if isinstance(value, get_keras().Model):
            key = f"model_{len(self.models)}.keras"
            self.models[key] = value
            return {"model": key}
        if type(value).__name__ in _classes() and type(value) is _classes()[type(value).__name__]:
            return {"object": type(value).__name__,
                    "state": {k: self.value(v, where) for k, v in vars(value).items()}}
        raise TypeError(f"{where}: {type(value).__name__} is not data")


class _Decoder:
    def __init__(self, arrays, models):
        self.arrays = arrays
        self.models = models

    def value(self, value):
        if value is None or isinstance(value, (bool, str, int, float)):
            return value
        if isinstance(value, dict) and len(value) in (1, 2):
            kind = next(iter(value))
            if kind == "float" and value[kind] in ("nan", "inf", "-inf"):
                return float(value[kind])
            if kind == "bytes" and isinstance(value[kind], str):
                return bytes.fromhex(value[kind])
            if kind == "scalar":
                return self.value(value[kind])[()]
            if kind == "array" and value[kind] in self.arrays:
                return self.arrays[value[kind]]
            if kind == "objects":
                items = [self.value(v) for v in value["objects"]]
                out = np.empty(len(items), dtype=object)
                for i, item in enumerate(items):  # tuples stay elements
                    out[i] = item
                return out.reshape(value["shape"])
            if kind in ("list", "tuple"):
                items = [self.value(v) for v in value[kind]]
                return items if kind == "list" else tuple(items)
            if kind == "dict":
                return {self.value(k): self.value(v) for k, v in value["dict"]}
            if kind == "model" and value[kind] in self.models:
                return self.models[value[kind]]
            if kind == "object" and value[kind] in _classes():
                cls = _classes()[value[kind]]
                obj = cls.__new__(cls)
                obj.__dict__.update({k: self.value(v) for k, v in value["state"].items()})
                return obj
        raise _Refused(f"The file holds a value that is not sklearn-mlk data: "
                         f"{json.dumps(value)[:200]}")


def _describe(value):
    name = getattr(value, "__qualname__", None) or type(value).__name__
    module = getattr(value, "__module__", None) or type(value).__module__
    return f"{module}.{name}" if module else name
