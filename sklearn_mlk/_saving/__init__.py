"""``sklearn_mlk.save`` and ``load``: an estimator, or a pipeline holding one.

Users deploy a :class:`~sklearn.pipeline.Pipeline` (a ``TfidfVectorizer`` or
``ColumnTransformer`` in front) or a meta-estimator, not a bare estimator.
Such an object is saved as one zip archive that loads without running code:

- ``bundle.json``: the format, its version, and the size of every other
  member;
- ``objects.skops``: the object in skops's format, every
  :class:`~sklearn_mlk.KerasMultiLabelClassifier` in it replaced by a
  numbered :class:`Slot`. skops rebuilds scikit-learn, NumPy and SciPy
  objects without running code from the file, and refuses any other type
  unless the caller trusts it (a ``FunctionTransformer``'s function, say);
- ``estimator_<i>.mlk``: each classifier in the format of
  :mod:`sklearn_mlk._saving._estimator`, with its own checks.

A bare estimator is saved in that format directly.
"""

import copy
import io
import json
import numbers
import re
import types

import numpy as np

from . import _estimator
from ._archive import (CheckedArchive, Refused, check_members, open_zip, read_member,
                       write_members)

_BUNDLE = "bundle.json"
_OBJECTS = "objects.skops"
_ESTIMATOR = re.compile(r"estimator_[0-9]{1,6}\.mlk")
BUNDLE_VERSION = 1


class Slot:
    """Stands for the ``index``-th classifier of a saved bundle."""

    def __init__(self, index):
        self.index = index


_SLOT = f"{Slot.__module__}.{Slot.__qualname__}"


def _estimator_classes():
    return tuple(_estimator._ESTIMATORS.values())


def _reachable(obj, classes):
    """The instances of ``classes`` reachable from ``obj`` through attributes
    and containers, each once, in the order a depth-first walk meets them."""
    found, seen, stack = [], set(), [obj]
    while stack:
        node = stack.pop()
        if id(node) in seen or node is None or isinstance(
                node, (str, bytes, numbers.Number, np.ndarray, np.generic, type,
                       types.ModuleType)):
            continue
        seen.add(id(node))
        if isinstance(node, classes):
            found.append(node)
        elif isinstance(node, dict):
            stack.extend(reversed([*node.keys(), *node.values()]))
        elif isinstance(node, (list, tuple, set, frozenset)):
            stack.extend(reversed(list(node)))
        elif hasattr(node, "__dict__"):
            stack.extend(reversed(list(vars(node).values())))
    return found


def save(obj, path):
    """Save a fitted estimator, or a pipeline or meta-estimator holding one.

    The file loads with :func:`load` without running code from it, and is
    written atomically: a save that fails, or a process killed while saving,
    leaves any previous file at ``path`` as it was.

    Parameters
    ----------
    obj : KerasMultiLabelClassifier, Pipeline or other scikit-learn object
        A fitted :class:`~sklearn_mlk.KerasMultiLabelClassifier`, or any
        object that skops can store (a ``Pipeline``, ``ColumnTransformer``,
        ``GridSearchCV``, ...) holding such classifiers anywhere (fitted or
        not). What skops cannot store as data (a lambda, a local function) is
        an error; parameters of the classifiers that are code are stored as
        :class:`~sklearn_mlk._saving._estimator.Unsaved` markers, as by
        :meth:`KerasMultiLabelClassifier.save`.
    path : str, path-like or binary file object
        Where to write the file.
    """
    if isinstance(obj, _estimator_classes()):
        _estimator.save(obj, path)
        return
    import skops.io

    estimators = _reachable(obj, _estimator_classes())
    memo = {id(estimator): Slot(i) for i, estimator in enumerate(estimators)}
    memo[id(memo)] = list(estimators)  # keeps them alive, as deepcopy's own memo does
    stand_in = copy.deepcopy(obj, memo)
    members = {_OBJECTS: skops.io.dumps(stand_in)}
    for i, estimator in enumerate(estimators):
        buffer = io.BytesIO()
        _estimator.save(estimator, buffer, fitted=False)
        members[f"estimator_{i}.mlk"] = buffer.getvalue()
    bundle = {"format": _estimator.FORMAT + "-bundle", "format_version": BUNDLE_VERSION,
              "estimators": len(estimators),
              "members": {name: len(data) for name, data in members.items()}}
    write_members(path, {_BUNDLE: json.dumps(bundle).encode(), **members})


def _is_bundle(path):
    """Whether ``path`` holds a bundle (without consuming a file object)."""
    where = _estimator._where(path)
    with open_zip(path, where) as archive:
        names = set(archive.namelist())
    if hasattr(path, "seek"):
        path.seek(0)
    return _BUNDLE in names


def load(path, custom_objects=None, trusted=None):
    """Read an estimator or pipeline written by :func:`save`; no code in the
    file runs.

    Before anything is decompressed, the archive's members must be the
    expected ones, of the sizes recorded when saving; before Keras reads a
    network, every object its config names must be on an allow-list of
    Keras's own data-only layers, initializers, regularizers, constraints
    and plain models; the scikit-learn parts of a pipeline are read by skops,
    which refuses types it does not trust. :func:`get_untrusted_types` lists
    what a file names beyond those.

    Parameters
    ----------
    path : str, path-like or binary file object
        The file.
    custom_objects : dict, optional
        Custom Keras layers or functions of a network built by a model
        callable, by name, as ``keras.saving.load_model`` takes them. Their
        names are trusted.
    trusted : list of str, optional
        Further names the file may use, as :func:`get_untrusted_types` gives
        them: Keras operation nodes such as ``"keras.src.ops.numpy.Add"``
        (from ``keras.ops`` calls in a functional model), registered custom
        Keras objects (``"package>Name"``), and types or functions of the
        scikit-learn parts that skops does not trust by default. Name only
        what you trust the file to use. ``Lambda`` layers hold Python code
        and are never loaded.

    Returns
    -------
    object
        The fitted estimator or pipeline, predicting exactly as the saved one
        did.

    Raises
    ------
    ValueError
        If the file is not an sklearn-mlk file or is damaged, comes from a
        newer format version, names a class or holds a value that is not data,
        or names a Keras object or a type that is neither on the allow-list
        nor trusted. The message names the file and the reason.
    """
    where = _estimator._where(path)
    try:
        if not _is_bundle(path):
            return _estimator.load(path, custom_objects, trusted)
        return _load_bundle(path, where, custom_objects, trusted)
    except (Refused, FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as exc:  # Keras's, skops's, NumPy's or zipfile's own errors
        raise ValueError(f"{where} cannot be loaded: it is damaged or was not written "
                         f"by sklearn_mlk.save ({type(exc).__name__}: "
                         f"{str(exc)[:300]}).") from exc


def get_untrusted_types(path, custom_objects=None):
    """The names in a saved file that :func:`load` refuses unless trusted.

    Parameters
    ----------
    path : str, path-like or binary file object
        A file written by :func:`sklearn_mlk.save`.
    custom_objects : dict, optional
        As :func:`load` takes it: its names are trusted.

    Returns
    -------
    names : list of str
        Sorted names to pass as ``load(path, trusted=names)`` once you trust
        the file; empty for a file of Keras's own data-only layers and the
        types skops trusts by default.
    """
    where = _estimator._where(path)
    if not _is_bundle(path):
        return _estimator.untrusted_types(path, custom_objects)
    import skops.io

    names = set()
    with _BundleReader(path, where) as reader:
        names.update(skops.io.get_untrusted_types(data=reader.member(_OBJECTS)))
        for i in range(reader.count):
            names.update(_estimator.untrusted_types(
                io.BytesIO(reader.member(f"estimator_{i}.mlk")), custom_objects))
    return sorted(names - {_SLOT})


class _BundleReader(CheckedArchive):
    """The checked members of a bundle archive."""

    def __enter__(self):
        archive, where = self.archive, self.where
        names = set(archive.namelist())
        check_members(archive, {_BUNDLE, _OBJECTS} | {n for n in names
                                                      if _ESTIMATOR.fullmatch(n)}, where)
        bundle = _estimator._json(read_member(archive, _BUNDLE, where), where,
                                    _BUNDLE)
        if not isinstance(bundle, dict) or bundle.get("format") != (
                _estimator.FORMAT + "-bundle"):
            raise Refused(f"{where} is not a file written by sklearn_mlk.save.")
        version, count = bundle.get("format_version"), bundle.get("estimators")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise Refused(f"{where} is damaged: its format_version is {version!r}.")
        if version > BUNDLE_VERSION:
            raise Refused(f"{where} was written in bundle format {version}; this version "
                          f"of sklearn-mlk reads up to {BUNDLE_VERSION}. Upgrade "
                          "sklearn-mlk to load it.")
        expected = {_OBJECTS} | {f"estimator_{i}.mlk" for i in range(count)} \
            if isinstance(count, int) and not isinstance(count, bool) and count >= 0 \
            else None
        sizes = bundle.get("members")
        if expected is None or not isinstance(sizes, dict) or set(sizes) != expected \
                or names != expected | {_BUNDLE}:
            raise Refused(f"{where} is damaged: its members do not match its bundle.json.")
        self.sizes, self.count = sizes, count
        return self


def _load_bundle(path, where, custom_objects, trusted):
    import skops.io

    trusted = list(trusted or ())
    with _BundleReader(path, where) as reader:
        data = reader.member(_OBJECTS)
        untrusted = sorted(set(skops.io.get_untrusted_types(data=data)) - {_SLOT}
                           - set(trusted))
        if untrusted:
            raise Refused(
                f"{where} cannot be loaded safely: its scikit-learn objects name "
                f"{untrusted}, which skops does not trust by default. Loading runs no "
                "code from a file; if you trust this file, pass these names as "
                "sklearn_mlk.load(path, trusted=[...]).")
        stand_in = skops.io.loads(data, trusted=[_SLOT, *trusted])
        estimators = [
            _estimator.load(io.BytesIO(reader.member(f"estimator_{i}.mlk")),
                              custom_objects, trusted,
                              where=f"{where}, member 'estimator_{i}.mlk',")
            for i in range(reader.count)]
    slots = _reachable(stand_in, Slot)
    if sorted(slot.index if isinstance(slot.index, int) else -1
              for slot in slots) != list(range(len(estimators))):
        raise Refused(f"{where} is damaged: its objects and estimators do not match.")
    memo = {id(slot): estimators[slot.index] for slot in slots}
    memo[id(memo)] = slots
    return copy.deepcopy(stand_in, memo)
