"""Hostile and damaged files: loading runs nothing, saving loses nothing."""

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from conftest import tiny

keras = pytest.importorskip("keras")

import sklearn_mlk  # noqa: E402


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write(path, members, fix_sizes=True):
    """Write ``members`` as a zip, with the recorded sizes updated (as a
    deliberate forger would) unless ``fix_sizes`` is False."""
    members = dict(members)
    if fix_sizes:
        meta = json.loads(members["estimator.json"])
        meta["members"] = {n: len(d) for n, d in members.items() if n != "estimator.json"}
        members["estimator.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _edit_network(data, edit):
    """A ``.keras`` member with ``edit(config)`` applied to its config.json."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for name in src.namelist():
            member = src.read(name)
            if name == "config.json":
                config = json.loads(member)
                edit(config)
                member = json.dumps(config).encode()
            dst.writestr(name, member)
    return out.getvalue()


def _function(name, module="keras.config"):
    return {"module": module, "class_name": "function", "config": name,
            "registered_name": name}


def _op_node(class_name, args, module="keras.src.ops.core"):
    return {"module": module, "class_name": class_name, "config": {"name": "op"},
            "registered_name": class_name, "name": "op",
            "inbound_nodes": [{"args": args, "kwargs": {}}]}


def _process_state():
    return (keras.config.is_traceback_filtering_enabled(), keras.config.epsilon(),
            keras.config.floatx(), keras.config.image_data_format(), dict(os.environ))



def _with_node(path, target, node):
    members = _members(path)
    members["model_0.keras"] = _edit_network(
        members["model_0.keras"], lambda c: c["config"]["layers"].append(node))
    return _write(target, members)


@pytest.mark.parametrize("node, name", [
    # Both ran their function inside Keras's safe mode: the first loaded and
    # predicted as the genuine file, with traceback filtering switched off.
    (_op_node("Cond", [True, _function("disable_traceback_filtering"),
                       _function("enable_traceback_filtering")]), "keras.src.ops.core.Cond"),
    (_op_node("Map", [_function("set_epsilon"), [0.25]]), "keras.src.ops.core.Map"),
])
def test_op_nodes_naming_functions_are_refused_before_keras_reads_them(
        saved, tmp_path, node, name):
    _, path = saved
    before = _process_state()
    target = _with_node(path, tmp_path / "bad.mlk", node)
    with pytest.raises(ValueError, match=f"cannot be loaded safely: it names .*{name}"):
        sklearn_mlk.load(target)
    assert _process_state() == before
    assert name in sklearn_mlk.get_untrusted_types(target)


def test_the_cond_attack_is_real_without_the_check(saved, tmp_path):
    """Keras alone runs the function named in the crafted file."""
    _, path = saved
    # Both branches: some backends trace both, in either order.
    node = _op_node("Cond", [True, _function("disable_traceback_filtering"),
                             _function("disable_traceback_filtering")])
    member = _edit_network(_members(path)["model_0.keras"],
                           lambda c: c["config"]["layers"].append(node))
    (tmp_path / "m.keras").write_bytes(member)
    try:
        keras.saving.load_model(tmp_path / "m.keras", compile=False, safe_mode=True)
        assert not keras.config.is_traceback_filtering_enabled()
    finally:
        keras.config.enable_traceback_filtering()


@pytest.mark.parametrize("edit, name", [
    (lambda c: c["config"]["layers"][1]["config"]["layers"][1]["config"].update(
        activation=_function("system", "os")), "os.system"),
    (lambda c: c["config"]["layers"][1]["config"]["layers"][1]["config"].update(
        activation=_function("exec", "builtins")), "builtins.exec"),
    (lambda c: c["config"]["layers"][1]["config"]["layers"][1].update(
        registered_name="evil>Dense"), "evil>Dense"),
    (lambda c: c["config"]["layers"][1]["config"]["layers"][1].update(
        class_name="StringLookup"), "keras.layers.StringLookup"),
    (lambda c: c["config"]["layers"][1]["config"]["layers"][1].update(
        class_name="TorchModuleWrapper"), "keras.layers.TorchModuleWrapper"),
])
def test_configs_naming_code_get_the_librarys_own_error(saved, tmp_path, edit, name):
    _, path = saved
    members = _members(path)
    members["model_0.keras"] = _edit_network(members["model_0.keras"], edit)
    with pytest.raises(ValueError, match=f"{tmp_path}.*cannot be loaded safely.*{name}"):
        sklearn_mlk.load(_write(tmp_path / "bad.mlk", members))


def test_a_network_with_keras_ops_loads_once_its_nodes_are_trusted(tmp_path, data):
    X, Y = data

    def build(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        logits = keras.layers.Dense(meta["n_labels_"])(inputs)
        return keras.Model(inputs, keras.ops.multiply(logits, 0.5))

    clf = tiny(model=build).fit(X, Y)
    clf.save(tmp_path / "m.mlk")
    names = sklearn_mlk.get_untrusted_types(tmp_path / "m.mlk")
    assert names == ["keras.src.ops.numpy.Multiply"]
    with pytest.raises(ValueError, match=r"trusted=\[\.\.\.\]"):
        sklearn_mlk.load(tmp_path / "m.mlk")
    loaded = sklearn_mlk.load(tmp_path / "m.mlk", trusted=names)
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_a_default_estimator_names_nothing_untrusted(saved):
    assert sklearn_mlk.get_untrusted_types(saved[1]) == []


# -- members and sizes -------------------------------------------------------


def test_a_decompression_bomb_is_refused_before_it_is_read(saved, tmp_path):
    _, path = saved
    members = _members(path)
    members["arrays.npz"] = bytes(2**25)  # 32 MiB of zeros: about 1000:1
    with pytest.raises(ValueError, match="arrays.npz.*more than 100 times.*bomb"):
        sklearn_mlk.load(_write(tmp_path / "bomb.mlk", members))


def test_an_extra_network_member_is_refused_before_extraction(saved, tmp_path):
    _, path = saved
    members = _members(path)
    members["model_1.keras"] = members["model_0.keras"]
    with pytest.raises(ValueError, match=r"networks \['model_1.keras'\] are not used"):
        sklearn_mlk.load(_write(tmp_path / "extra.mlk", members))
    members = _members(path)
    members["payload.bin"] = b"x"
    with pytest.raises(ValueError, match="unexpected member 'payload.bin'"):
        sklearn_mlk.load(_write(tmp_path / "other.mlk", members))


def test_a_member_swapped_after_saving_is_refused_by_its_size(saved, tmp_path):
    _, path = saved
    members = _members(path)
    members["model_0.keras"] = _edit_network(
        members["model_0.keras"], lambda c: c["config"].update(name="renamed" * 10))
    with pytest.raises(ValueError, match="model_0.keras' holds .* bytes, but the "
                                         "estimator was saved with"):
        sklearn_mlk.load(_write(tmp_path / "swapped.mlk", members, fix_sizes=False))


def _meta_text(path, text):
    members = _members(path)
    members["estimator.json"] = text
    return members


@pytest.mark.parametrize("text, match", [
    (b"[" * 100_000 + b"]" * 100_000, "estimator.json is not valid JSON"),
    (b"\xff\xfe not json", "estimator.json is not valid JSON"),
])
def test_metadata_that_is_not_json_is_refused(saved, tmp_path, text, match):
    members = _meta_text(saved[1], text)
    with pytest.raises(ValueError, match=match):
        sklearn_mlk.load(_write(tmp_path / "bad.mlk", members, fix_sizes=False))


@pytest.mark.parametrize("edit, match", [
    (lambda m: m.update(format_version="1"), "format_version is '1', not a positive"),
    (lambda m: m.pop("state"), "has no state"),
    (lambda m: m["state"].pop("model_") and m["state"].pop("thresholds_"),
     r"holds no fitted estimator: \['model_', 'thresholds_'\] are missing"),
    (lambda m: m.update(members=[1]), "member sizes are damaged"),
])
def test_damaged_metadata_gets_a_clear_error(saved, tmp_path, edit, match):
    members = _members(saved[1])
    meta = json.loads(members["estimator.json"])
    edit(meta)
    members["estimator.json"] = json.dumps(meta).encode()
    if isinstance(meta.get("members"), dict) and "model_" not in meta.get("state", {}):
        members.pop("model_0.keras")
    with pytest.raises(ValueError, match=match):
        sklearn_mlk.load(_write(tmp_path / "bad.mlk", members, fix_sizes=False))


def test_a_corrupt_member_is_a_value_error(saved, tmp_path):
    raw = bytearray(saved[1].read_bytes())
    with zipfile.ZipFile(saved[1]) as archive:
        info = archive.getinfo("arrays.npz")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw[start + info.compress_size // 2] ^= 0xFF
    (tmp_path / "flipped.mlk").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="flipped.mlk"):
        sklearn_mlk.load(tmp_path / "flipped.mlk")


# -- saving ------------------------------------------------------------------


class _Unserialisable(keras.layers.Layer):
    def call(self, inputs):
        return inputs

    def get_config(self):
        raise RuntimeError("cannot describe this layer")


def test_a_failing_save_leaves_the_old_file_intact(saved, tmp_path, data, monkeypatch):
    clf, path = saved
    X, Y = data
    target = tmp_path / "model.mlk"
    target.write_bytes(path.read_bytes())
    old = target.read_bytes()

    def build(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        hidden = _Unserialisable()(inputs)
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(hidden))

    with pytest.raises(Exception, match="cannot describe this layer"):
        tiny(model=build).fit(X, Y).save(target)
    assert target.read_bytes() == old

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", disk_full)
    with pytest.raises(OSError, match="No space left"):
        clf.save(target)
    monkeypatch.undo()
    assert target.read_bytes() == old
    assert os.listdir(tmp_path) == ["model.mlk"]  # no temporary file left
    np.testing.assert_array_equal(sklearn_mlk.load(target).predict_proba(X),
                                  clf.predict_proba(X))


def test_a_save_keeps_the_files_permissions(saved, tmp_path):
    clf, _ = saved
    target = tmp_path / "model.mlk"
    clf.save(target)
    os.chmod(target, 0o640)
    clf.save(target)
    assert os.stat(target).st_mode & 0o777 == 0o640


def test_a_save_killed_midway_leaves_the_old_file(saved, tmp_path, data):
    """SIGKILL while the archive is being written: the old file still loads."""
    clf, path = saved
    target = tmp_path / "model.mlk"
    target.write_bytes(path.read_bytes())
    old = target.read_bytes()
    started = tmp_path / "started"
    script = textwrap.dedent("""
        import sys, time, zipfile, warnings
        warnings.simplefilter("ignore")
        import sklearn_mlk
        clf = sklearn_mlk.load(sys.argv[1])
        write = zipfile.ZipFile.writestr
        def slow(self, name, data, *args, **kwargs):
            write(self, name, data, *args, **kwargs)
            open(sys.argv[2], "w").close()  # part of the new file is on disk
            time.sleep(60)
        zipfile.ZipFile.writestr = slow
        clf.save(sys.argv[1])
    """)
    process = subprocess.Popen([sys.executable, "-c", script, str(target), str(started)],
                               env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    try:
        for _ in range(1200):
            if started.exists() or process.poll() is not None:
                break
            import time

            time.sleep(0.05)
        assert started.exists(), "the save never started"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert target.read_bytes() == old
    X, _ = data
    np.testing.assert_array_equal(sklearn_mlk.load(target).predict_proba(X),
                                  clf.predict_proba(X))


def test_byte_string_and_tuple_labels_round_trip(tmp_path, data):
    X, Y = data
    binary = np.where(Y[:, 0] == 1, b"pos", b"neg")
    clf = tiny().fit(X, binary)
    clf.save(tmp_path / "b.mlk")
    loaded = sklearn_mlk.load(tmp_path / "b.mlk")
    assert loaded.classes_.tolist() == [b"neg", b"pos"]
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    names = [("a", 1), ("b", 2), ("c", 3), ("d", 4)]
    sets = [[names[j] for j in np.flatnonzero(row)] for row in Y]
    clf = tiny().fit(X, sets)
    clf.save(tmp_path / "t.mlk")
    loaded = sklearn_mlk.load(tmp_path / "t.mlk")
    assert loaded.predict_label_sets(X) == clf.predict_label_sets(X)
