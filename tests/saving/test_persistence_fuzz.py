"""Fuzzing ``sklearn_mlk.load`` with mutated valid files.

Each mutated file either loads or raises ``ValueError``: never another
exception, and nothing changes in the process (Keras's settings, the
environment, the files beside the archive). Mutations that change no
content the file vouches for (bit flips, truncations, swapped members) give
a ``ValueError`` or the identical model. ``SKLEARN_MLK_FUZZ_CASES`` sets the
number of files per kind of mutation.
"""

import io
import json
import os
import zipfile
import zlib

import numpy as np
import pytest
from conftest import tiny

keras = pytest.importorskip("keras")

import sklearn_mlk  # noqa: E402

CASES = int(os.environ.get("SKLEARN_MLK_FUZZ_CASES", "300"))

_OPS = [("keras.src.ops.core", "Cond"), ("keras.src.ops.core", "Map"),
        ("keras.src.ops.core", "Scan"), ("keras.src.ops.core", "WhileLoop"),
        ("keras.src.ops.numpy", "Add"), ("keras.src.ops.nn", "Relu")]
_FUNCTIONS = [("keras.config", "disable_traceback_filtering"), ("keras.config", "set_epsilon"),
              ("keras.config", "set_floatx"), ("os", "system"), ("builtins", "exec"),
              ("keras.utils", "get_file"), ("keras.config", "enable_unsafe_deserialization")]
_VALUES = [None, True, 0, -1, 2**40, 1e308, "nan", "", "x" * 50, [], {}, [[[]]],
           {"object": "KerasMultiLabelClassifier", "state": {}}, {"array": "a0"},
           {"model": "model_0.keras"}, {"objects": [1], "shape": [2, 2]},
           {"dict": [[[], 1]]}, {"scalar": {"array": "a999"}}, {"float": "1e999"},
           {"bytes": "zz"}, {"tuple": [{"list": []}]}]


def _members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(members, fix_sizes):
    members = dict(members)
    if fix_sizes and "estimator.json" in members:
        try:
            meta = json.loads(members["estimator.json"])
            meta["members"] = {n: len(d) for n, d in members.items() if n != "estimator.json"}
            members["estimator.json"] = json.dumps(meta).encode()
        except (ValueError, TypeError, AttributeError):
            pass
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _nodes(tree):
    """Every (container, key) in a JSON tree, for edits in place."""
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) \
            if isinstance(node, list) else ()
        for key, value in items:
            found.append((node, key))
            stack.append(value)
    return found


def _edit_json(data, rng, edit):
    tree = json.loads(data)
    nodes = _nodes(tree)
    for _ in range(int(rng.integers(1, 4))):
        container, key = nodes[int(rng.integers(len(nodes)))]
        container[key] = edit(rng)
    return json.dumps(tree).encode()


def _random_value(rng):
    return _VALUES[int(rng.integers(len(_VALUES)))]


def _random_op(rng):
    module, name = _OPS[int(rng.integers(len(_OPS)))]
    f_module, f_name = _FUNCTIONS[int(rng.integers(len(_FUNCTIONS)))]
    function = {"module": f_module, "class_name": "function", "config": f_name,
                "registered_name": f_name}
    return {"module": module, "class_name": name, "config": {"name": "op"},
            "registered_name": name, "name": "op",
            "inbound_nodes": [{"args": [True, function, function], "kwargs": {}}]}


def _edit_network(data, rng, edit):
    inner = _members(data)
    inner["config.json"] = _edit_json(inner["config.json"], rng, edit)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, member in inner.items():
            archive.writestr(name, member)
    return out.getvalue()


def _mutate(kind, data, rng):
    """A mutated copy of the saved file ``data``; whether it vouches for the
    original content (then it must load identically or not at all)."""
    if kind == "bit flips":
        raw = bytearray(data)
        for _ in range(int(rng.integers(1, 9))):
            raw[int(rng.integers(len(raw)))] ^= 1 << int(rng.integers(8))
        return bytes(raw), True
    if kind == "truncation":
        return data[: int(rng.integers(len(data)))], True
    members = _members(data)
    names = sorted(members)
    if kind == "member swap":
        a, b = rng.choice(len(names), 2, replace=False)
        members[names[a]], members[names[b]] = members[names[b]], members[names[a]]
        return _zip(members, fix_sizes=bool(rng.integers(2))), True
    if kind == "edited json":
        members["estimator.json"] = _edit_json(members["estimator.json"], rng, _random_value)
        return _zip(members, fix_sizes=True), False
    if kind == "network config":
        def edit(rng):
            return _random_op(rng) if rng.integers(2) else _random_value(rng)
        members["model_0.keras"] = _edit_network(members["model_0.keras"], rng, edit)
        return _zip(members, fix_sizes=True), False
    if kind == "op node":
        inner = _members(members["model_0.keras"])
        config = json.loads(inner["config.json"])
        config["config"]["layers"].append(_random_op(rng))
        inner["config.json"] = json.dumps(config).encode()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for name, member in inner.items():
                archive.writestr(name, member)
        members["model_0.keras"] = out.getvalue()
        return _zip(members, fix_sizes=True), False
    raise AssertionError(kind)


def _process_state(directory):
    return (keras.config.is_traceback_filtering_enabled(), keras.config.epsilon(),
            keras.config.floatx(), keras.config.image_data_format(),
            keras.config.is_unsafe_deserialization_enabled()
            if hasattr(keras.config, "is_unsafe_deserialization_enabled") else None,
            dict(os.environ), sorted(os.listdir(directory)))


@pytest.fixture(scope="module")
def original(tmp_path_factory, data):
    X, Y = data
    clf = tiny(threshold="f1", threshold_cv=3, refit=False, epochs=2).fit(X, Y)
    buffer = io.BytesIO()
    clf.save(buffer)
    return buffer.getvalue(), clf.predict_proba(X)


@pytest.mark.parametrize("kind", ["bit flips", "truncation", "member swap",
                                  pytest.param("edited json", marks=pytest.mark.slow),
                                  "network config", "op node"])
def test_mutated_files_load_identically_or_raise_value_error(original, data, tmp_path,
                                                             kind):
    X, _ = data
    genuine, proba = original
    rng = np.random.default_rng(zlib.crc32(kind.encode()))
    before = _process_state(tmp_path)
    outcomes = {"refused": 0, "loaded": 0}
    for case in range(CASES):
        mutated, vouches = _mutate(kind, genuine, rng)
        try:
            loaded = sklearn_mlk.load(io.BytesIO(mutated))
        except ValueError:
            outcomes["refused"] += 1
            continue
        except Exception as exc:  # pragma: no cover - the failure this test finds
            path = tmp_path / f"case_{case}.mlk"
            path.write_bytes(mutated)
            raise AssertionError(f"{kind} case {case} ({path}) raised "
                                 f"{type(exc).__name__}: {exc}") from exc
        outcomes["loaded"] += 1
        if vouches:
            np.testing.assert_array_equal(loaded.predict_proba(X), proba)
    assert _process_state(tmp_path) == before
    assert outcomes["refused"] > 0  # the mutations reach the checks
    print(f"{kind}: {CASES} files, {outcomes['refused']} refused, "
          f"{outcomes['loaded']} loaded")  # shown with pytest -s
