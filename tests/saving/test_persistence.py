"""Saving to one file that loads without running code: est.save / sklearn_mlk.load."""

import json
import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from conftest import tiny

keras = pytest.importorskip("keras")

import sklearn_mlk
from sklearn_mlk import FBeta, KerasMultiLabelClassifier


def _rewrite(path, target, change, sizes=True):
    """Copy the zip at ``path`` to ``target`` with ``change(name, data)`` applied.

    With ``sizes``, the member sizes recorded in estimator.json are updated
    to the changed members, as a deliberate forger would.
    """
    with zipfile.ZipFile(path) as src:
        members = {name: change(name, src.read(name)) for name in src.namelist()}
    if sizes:
        meta = json.loads(members["estimator.json"])
        meta["members"] = {name: len(data) for name, data in members.items()
                           if name in meta["members"]}
        members["estimator.json"] = json.dumps(meta).encode()
    with zipfile.ZipFile(target, "w") as dst:
        for name, data in members.items():
            dst.writestr(name, data)
    return target


def _edit_meta(path, target, edit):
    def change(name, data):
        if name != "estimator.json":
            return data
        meta = json.loads(data)
        edit(meta)
        return json.dumps(meta).encode()

    return _rewrite(path, target, change)


@pytest.mark.slow
def test_save_then_load_in_fresh_processes_predicts_identically(tmp_path):
    script = textwrap.dedent("""
        import sys, warnings
        import numpy as np
        from sklearn.datasets import make_multilabel_classification
        import sklearn_mlk
        warnings.simplefilter("ignore")
        X, Y = make_multilabel_classification(150, 8, n_classes=3, random_state=1)
        if sys.argv[1] == "save":
            clf = sklearn_mlk.KerasMultiLabelClassifier(
                hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(X, Y)
            clf.save(sys.argv[2])
        else:
            clf = sklearn_mlk.load(sys.argv[2])
        np.save(sys.argv[3], clf.predict_proba(X))
    """)
    path = tmp_path / "m.mlk"
    for step in ("save", "load"):
        subprocess.run([sys.executable, "-c", script, step, str(path),
                        str(tmp_path / f"{step}.npy")], check=True,
                       env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    np.testing.assert_array_equal(np.load(tmp_path / "save.npy"),
                                  np.load(tmp_path / "load.npy"))


@pytest.mark.smoke
def test_loaded_estimator_is_the_saved_one(saved, data):
    X, _ = data
    clf, path = saved
    loaded = sklearn_mlk.load(path)
    assert type(loaded) is KerasMultiLabelClassifier
    assert loaded.get_params() == clf.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.decision_function(X), clf.decision_function(X))
    for name in ("classes_", "thresholds_", "threshold_status_", "threshold_scores_"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(clf, name))
    assert loaded.history_ == clf.history_ and loaded.n_features_in_ == clf.n_features_in_
    assert loaded._plan is not None  # predictions run through the fused plan
    # It fits again like a fresh estimator.
    assert loaded.fit(X[:100], data[1][:100]).model_ is not clf.model_


def test_label_sets_and_parameter_objects_round_trip(tmp_path, data):
    X, Y = data
    labels = [[name for name, on in zip(["news", "tech", "sport", "art"], row) if on]
              for row in Y]
    clf = tiny(threshold=FBeta(2), threshold_cv=0.3, class_weight={"news": 2.0},
               learning_rate=float("1e-2"), alpha=0.5).fit(X, labels)
    clf.save(tmp_path / "m.mlk")
    loaded = sklearn_mlk.load(tmp_path / "m.mlk")
    assert loaded.threshold == FBeta(2) and loaded.class_weight == {"news": 2.0}
    assert loaded.alpha == 0.5  # its network's L2 kernel regularizers load too
    assert loaded.predict(X).tolist() == clf.predict(X).tolist()
    assert loaded.classes_.tolist() == ["art", "news", "sport", "tech"]


def test_a_network_with_a_lambda_layer_is_refused(saved, tmp_path):
    _, path = saved
    inputs = keras.Input((10,))
    hidden = keras.layers.Lambda(lambda t: t * 2)(inputs)
    swapped = keras.Model(inputs, keras.layers.Dense(4)(hidden))
    swapped.save(tmp_path / "lambda.keras")
    code = (tmp_path / "lambda.keras").read_bytes()
    target = _rewrite(path, tmp_path / "bad.mlk",
                      lambda name, data: code if name.endswith(".keras") else data)
    with pytest.raises(ValueError, match="cannot be loaded safely.*Lambda"):
        sklearn_mlk.load(target)


@pytest.mark.parametrize("edit, match", [
    (lambda m: m.update({"class": "Popen"}), "names the class 'Popen'"),
    (lambda m: m.update({"format_version": 99}),
     "file format 99; this version of sklearn-mlk reads formats up to 1. Upgrade"),
    (lambda m: m.update({"format": "other"}), "not a file written by sklearn_mlk.save"),
    (lambda m: m["state"].update(
        {"_target_encoder": {"object": "Popen", "state": {}}}), "not sklearn-mlk data"),
    (lambda m: m["params"].update({"verbose": {"call": "os.system"}}),
     "not sklearn-mlk data"),
])
def test_an_edited_data_part_is_refused(saved, tmp_path, edit, match):
    _, path = saved
    with pytest.raises(ValueError, match=match):
        sklearn_mlk.load(_edit_meta(path, tmp_path / "bad.mlk", edit))


def test_files_that_are_not_saved_estimators_are_refused(tmp_path, data):
    import pickle

    (tmp_path / "x.pkl").write_bytes(pickle.dumps(tiny()))
    with pytest.raises(ValueError, match="not a readable zip archive"):
        sklearn_mlk.load(tmp_path / "x.pkl")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="no estimator.json"):
        sklearn_mlk.load(tmp_path / "other.zip")


def test_code_parameters_are_marked_unsaved_and_block_fitting(tmp_path, data):
    X, Y = data

    def build(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(inputs))

    clf = tiny(model=build).fit(X, Y)
    clf.save(tmp_path / "m.mlk")
    loaded = sklearn_mlk.load(tmp_path / "m.mlk")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert "build" in repr(loaded.model)
    with pytest.raises(ValueError, match=r"could not store model=Unsaved.*set model=\.\.\."):
        loaded.fit(X, Y)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))  # still fitted
    loaded.set_params(model=build).fit(X, Y)


def test_saving_an_unfitted_estimator_raises(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        KerasMultiLabelClassifier().save(tmp_path / "m.mlk")


def test_a_pickled_lambda_network_says_how_to_load_it(data):
    import pickle

    X, Y = data

    def build(meta):
        inputs = keras.Input((meta["n_features_in_"],))
        doubled = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
        return keras.Model(inputs, keras.layers.Dense(meta["n_labels_"])(doubled))

    clf = tiny(model=build).fit(X, Y)
    clf.model = None  # the local function itself does not pickle
    data_ = pickle.dumps(clf)
    with pytest.raises(ValueError, match=r"Lambda layer.*enable_unsafe_deserialization\(\)"
                                         r".*sklearn_mlk.load"):
        pickle.loads(data_)
    from keras.src.backend.common import global_state

    before = global_state.get_global_attribute("safe_mode_saving")
    keras.config.enable_unsafe_deserialization()
    try:
        np.testing.assert_array_equal(pickle.loads(data_).predict_proba(X),
                                      clf.predict_proba(X))
    finally:
        global_state.set_global_attribute("safe_mode_saving", before)


def test_a_file_from_before_a_parameter_existed_loads_with_its_default(saved, tmp_path):
    clf, path = saved
    target = _edit_meta(path, tmp_path / "old.mlk", lambda m: m["params"].pop("memory_limit"))
    loaded = sklearn_mlk.load(target)
    assert loaded.get_params()["memory_limit"] == "auto"
    assert loaded.get_params() == clf.get_params()
