"""Saving a fitted estimator to one file that loads without running code.

pickle and joblib files run code when loaded: a crafted file can do anything
the loading process can. A file written by :func:`save` holds only data, in a
zip archive:

- ``estimator.json``: the format, its version, the library and Keras versions,
  the estimator's class, and its parameters and fitted attributes encoded as
  JSON (arrays by reference);
- ``arrays.npz``: the arrays, read with ``allow_pickle=False``;
- ``model_0.keras``: the Keras network in Keras's own format, read with
  ``safe_mode=True`` (which refuses ``Lambda`` layers and other code).

Only plain data and a short list of this library's own classes can be
decoded; anything else in a file is an error. Parameters that are code (a
model callable, callbacks, an optimizer instance, a custom objective) cannot
be stored as data: the loaded estimator predicts as the saved one did, and
holds an :class:`Unsaved` marker in their place, which ``fit`` refuses with a
message naming the parameter.
"""

import io
import json
import numbers
import os
import tempfile
import zipfile

import numpy as np

FORMAT = "sklearn-mlk"
# Bump on any change a reader of the previous version could not decode.
FORMAT_VERSION = 1
_META = "estimator.json"
_ARRAYS = "arrays.npz"


class Unsaved:
    """Stands for a parameter that was code, not data, when the estimator was
    saved; the loaded estimator cannot fit until the parameter is set again."""

    def __init__(self, name, description):
        self.name = name
        self.description = description

    def __repr__(self):
        return f"Unsaved({self.description!r})"


def _classes():
    """The classes a file may name: this library's own, nothing else."""
    from ._classifier import KerasMultiLabelClassifier
    from ._targets import MultiLabelTargetEncoder
    from ._thresholds import FBeta, PrecisionAtLeast, RecallAtLeast

    return {cls.__name__: cls
            for cls in (KerasMultiLabelClassifier, MultiLabelTargetEncoder, FBeta,
                        PrecisionAtLeast, RecallAtLeast, Unsaved)}


def save(estimator, path):
    """Write a fitted ``estimator`` to ``path`` (see the module docstring)."""
    from sklearn.utils.validation import check_is_fitted

    from . import __version__
    from ._backend import get_keras

    check_is_fitted(estimator)
    keras = get_keras()
    encoder = _Encoder()
    params = {name: encoder.param(name, value)
              for name, value in estimator.get_params(deep=False).items()}
    state = {name: encoder.value(value, name) for name, value in vars(estimator).items()
             if name not in estimator.get_params(deep=False) and name != "_plan"}
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sklearn_mlk_version": __version__,
        "keras_version": keras.__version__,
        "class": type(estimator).__name__,
        "params": params,
        "state": state,
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_META, json.dumps(meta, indent=1))
        buffer = io.BytesIO()
        np.savez(buffer, **encoder.arrays)
        archive.writestr(_ARRAYS, buffer.getvalue())
        with tempfile.TemporaryDirectory() as tmp:
            for name, model in encoder.models.items():
                file = os.path.join(tmp, name)
                keras.saving.save_model(model, file, include_optimizer=False)
                archive.write(file, name)


def load(path, custom_objects=None):
    """Read an estimator written by :func:`save`; no code in the file runs.

    Parameters
    ----------
    path : str or path-like
        The file.
    custom_objects : dict, optional
        Custom Keras layers or functions of a network built by a model
        callable, by name, as ``keras.saving.load_model`` takes them.

    Returns
    -------
    estimator
        The fitted estimator, predicting exactly as the saved one did.

    Raises
    ------
    ValueError
        If the file is not an sklearn-mlk file, comes from a newer format
        version, names a class or holds a value that is not this library's
        data, or its network holds code (a ``Lambda`` layer).
    """
    from ._backend import get_keras

    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ValueError(f"{os.fspath(path)!r} is not a file written by "
                         "sklearn_mlk.save (not a zip archive).") from None
    with archive:
        names = set(archive.namelist())
        if _META not in names or _ARRAYS not in names:
            raise ValueError(f"{os.fspath(path)!r} is not a file written by "
                             "sklearn_mlk.save: it has no estimator.json and arrays.npz.")
        meta = json.loads(archive.read(_META))
        _check_meta(meta, path)
        with np.load(io.BytesIO(archive.read(_ARRAYS)), allow_pickle=False) as arrays:
            arrays = dict(arrays)
        keras = get_keras()
        models = {}
        with tempfile.TemporaryDirectory() as tmp:
            for name in sorted(n for n in names if n.endswith(".keras")):
                file = archive.extract(name, tmp)
                try:
                    models[name] = keras.saving.load_model(
                        file, compile=False, safe_mode=True, custom_objects=custom_objects)
                except ValueError as exc:
                    raise ValueError(f"The network in {os.fspath(path)!r} cannot be "
                                     f"loaded safely: {exc}") from None
    decoder = _Decoder(arrays, models)
    cls = _classes()[meta["class"]]
    estimator = cls.__new__(cls)
    estimator.__dict__.update({name: decoder.value(value)
                               for name, value in meta["params"].items()})
    estimator.__dict__.update({name: decoder.value(value)
                               for name, value in meta["state"].items()})
    estimator._restore_plan()
    return estimator


def _check_meta(meta, path):
    where = os.fspath(path)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{where!r} is not a file written by sklearn_mlk.save.")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{where!r} was written by sklearn-mlk {meta.get('sklearn_mlk_version')} "
            f"in file format {version!r}; this version of sklearn-mlk reads formats "
            f"up to {FORMAT_VERSION}. Upgrade sklearn-mlk to load it."
        )
    if meta.get("class") != "KerasMultiLabelClassifier":
        raise ValueError(f"{where!r} names the class {meta.get('class')!r}; "
                         "sklearn_mlk.load only loads KerasMultiLabelClassifier.")


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
        if isinstance(value, numbers.Integral) and not isinstance(value, np.generic):
            return value
        if isinstance(value, float):
            return value if np.isfinite(value) else {"float": repr(value)}
        if isinstance(value, np.generic):
            return {"scalar": self.value(np.asarray(value), where)}
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "biufU":
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
        from ._backend import get_keras

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
            if kind == "scalar":
                return self.value(value[kind])[()]
            if kind == "array" and value[kind] in self.arrays:
                return self.arrays[value[kind]]
            if kind == "objects":
                items = [self.value(v) for v in value["objects"]]
                out = np.empty(len(items), dtype=object)
                out[:] = items
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
        raise ValueError(f"The file holds a value that is not sklearn-mlk data: "
                         f"{json.dumps(value)[:200]}")


def _describe(value):
    name = getattr(value, "__qualname__", None) or type(value).__name__
    module = getattr(value, "__module__", None) or type(value).__module__
    return f"{module}.{name}" if module else name
