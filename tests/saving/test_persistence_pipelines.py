"""Pipelines and meta-estimators holding the estimator save whole and load
without running code (``sklearn_mlk.save`` / ``load``)."""

import io
import json
import zipfile

import numpy as np
import pytest
from conftest import tiny
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, MultiLabelBinarizer, StandardScaler

pytest.importorskip("skops")
keras = pytest.importorskip("keras")

import sklearn_mlk  # noqa: E402
from sklearn_mlk import KerasMultiLabelClassifier  # noqa: E402


def squash(X):
    """A user's own function, which skops does not trust by default."""
    return np.tanh(X)


def _round_trip(obj, tmp_path, **load):
    sklearn_mlk.save(obj, tmp_path / "p.mlk")
    return sklearn_mlk.load(tmp_path / "p.mlk", **load)


def test_a_pipeline_round_trips_and_predicts_identically(tmp_path, data):
    X, Y = data
    pipe = make_pipeline(StandardScaler(), tiny(threshold="f1", threshold_cv=3,
                                                refit=False)).fit(X, Y)
    loaded = _round_trip(pipe, tmp_path)
    assert [type(step).__name__ for _, step in loaded.steps] == [
        "StandardScaler", "KerasMultiLabelClassifier"]
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), pipe.predict(X))
    assert sklearn_mlk.get_untrusted_types(tmp_path / "p.mlk") == []
    # the saved pipeline is untouched, and the loaded one fits again
    assert isinstance(pipe[-1], KerasMultiLabelClassifier)
    loaded.fit(X, Y)


def test_a_text_pipeline_with_label_sets(tmp_path):
    docs = ["goal scored late", "election results tonight", "new phone released",
            "match ends in a draw", "vote count continues", "chip maker profits"] * 12
    tags = [["sport"], ["news"], ["tech"], ["sport"], ["news"], ["tech", "news"]] * 12
    pipe = make_pipeline(TfidfVectorizer(), tiny(epochs=5)).fit(docs, tags)
    loaded = _round_trip(pipe, tmp_path)
    assert loaded[-1].predict_label_sets(loaded[0].transform(docs[:6])) == \
        pipe[-1].predict_label_sets(pipe[0].transform(docs[:6]))
    np.testing.assert_array_equal(loaded.predict_proba(docs), pipe.predict_proba(docs))


def test_a_grid_search_keeps_its_template_and_best_estimator(tmp_path, data):
    X, Y = data
    search = GridSearchCV(tiny(), {"hidden_layer_sizes": [(4,), (8,)]}, cv=2).fit(X, Y)
    sklearn_mlk.save(search, tmp_path / "p.mlk")
    # skops's own policy: it trusts neither of these by default.
    untrusted = sklearn_mlk.get_untrusted_types(tmp_path / "p.mlk")
    assert untrusted == ["sklearn.metrics._scorer._PassthroughScorer",
                         "sklearn.model_selection._split.KFold"]
    loaded = sklearn_mlk.load(tmp_path / "p.mlk", trusted=untrusted)
    assert not hasattr(loaded.estimator, "model_")  # the unfitted template
    assert loaded.estimator.get_params() == search.estimator.get_params()
    assert loaded.best_params_ == search.best_params_
    np.testing.assert_array_equal(loaded.predict_proba(X), search.predict_proba(X))


def test_a_column_transformer_in_front(tmp_path, data):
    pd = pytest.importorskip("pandas")
    X, Y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame["colour"] = np.where(X[:, 0] > X[:, 0].mean(), "red", "blue")
    from sklearn.preprocessing import OneHotEncoder

    front = ColumnTransformer([("num", StandardScaler(), list(frame.columns[:-1])),
                               ("cat", OneHotEncoder(), ["colour"])])
    pipe = make_pipeline(front, tiny()).fit(frame, Y)
    loaded = _round_trip(pipe, tmp_path)
    np.testing.assert_array_equal(loaded.predict_proba(frame), pipe.predict_proba(frame))


def test_untrusted_scikit_learn_parts_are_refused_until_trusted(tmp_path, data):
    X, Y = data
    pipe = make_pipeline(FunctionTransformer(squash), tiny()).fit(X, Y)
    sklearn_mlk.save(pipe, tmp_path / "p.mlk")
    untrusted = sklearn_mlk.get_untrusted_types(tmp_path / "p.mlk")
    assert untrusted == [f"{__name__}.squash"]
    with pytest.raises(ValueError, match=rf"name \['{__name__}.squash'\], which skops "
                                         r"does not trust by default"):
        sklearn_mlk.load(tmp_path / "p.mlk")
    loaded = sklearn_mlk.load(tmp_path / "p.mlk", trusted=untrusted)
    np.testing.assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def test_a_forged_function_in_the_objects_is_refused(tmp_path, data):
    X, Y = data
    pipe = make_pipeline(FunctionTransformer(squash), tiny()).fit(X, Y)
    sklearn_mlk.save(pipe, tmp_path / "p.mlk")
    with zipfile.ZipFile(tmp_path / "p.mlk") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(io.BytesIO(members["objects.skops"])) as inner:
        parts = {name: inner.read(name) for name in inner.namelist()}
    schema = parts["schema.json"].decode().replace(f'"{__name__}"', '"os"').replace(
        '"squash"', '"system"')
    parts["schema.json"] = schema.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as inner:
        for name, part in parts.items():
            inner.writestr(name, part)
    members["objects.skops"] = out.getvalue()
    bundle = json.loads(members["bundle.json"])
    bundle["members"]["objects.skops"] = len(members["objects.skops"])
    members["bundle.json"] = json.dumps(bundle).encode()
    with zipfile.ZipFile(tmp_path / "forged.mlk", "w") as archive:
        for name, member in members.items():
            archive.writestr(name, member)
    with pytest.raises(ValueError, match=r"name \['os.system'\]"):
        sklearn_mlk.load(tmp_path / "forged.mlk")


def test_a_multilabel_binarizer_workflow_saves_both_parts(tmp_path, data):
    X, Y = data
    names = np.array(["art", "news", "sport", "tech"])
    sets = [list(names[row == 1]) for row in Y]
    binarizer = MultiLabelBinarizer().fit(sets)
    clf = tiny().fit(X, binarizer.transform(sets))
    loaded_binarizer, loaded = _round_trip({"binarizer": binarizer, "model": clf},
                                           tmp_path).values()
    assert loaded_binarizer.inverse_transform(loaded.predict(X)) == \
        binarizer.inverse_transform(clf.predict(X))


def test_a_crafted_network_inside_a_pipeline_is_refused_and_named(tmp_path, data):
    X, Y = data
    pipe = make_pipeline(StandardScaler(), tiny()).fit(X, Y)
    sklearn_mlk.save(pipe, tmp_path / "p.mlk")
    with zipfile.ZipFile(tmp_path / "p.mlk") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(io.BytesIO(members["estimator_0.mlk"])) as inner:
        parts = {name: inner.read(name) for name in inner.namelist()}
    with zipfile.ZipFile(io.BytesIO(parts["model_0.keras"])) as network:
        files = {name: network.read(name) for name in network.namelist()}
    config = json.loads(files["config.json"])
    config["config"]["layers"][1]["config"]["activation"] = {
        "module": "os", "class_name": "function", "config": "system",
        "registered_name": "system"}
    files["config.json"] = json.dumps(config).encode()

    def zipped(entries):
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for name, member in entries.items():
                archive.writestr(name, member)
        return out.getvalue()

    parts["model_0.keras"] = zipped(files)
    meta = json.loads(parts["estimator.json"])
    meta["members"]["model_0.keras"] = len(parts["model_0.keras"])
    parts["estimator.json"] = json.dumps(meta).encode()
    members["estimator_0.mlk"] = zipped(parts)
    bundle = json.loads(members["bundle.json"])
    bundle["members"]["estimator_0.mlk"] = len(members["estimator_0.mlk"])
    members["bundle.json"] = json.dumps(bundle).encode()
    (tmp_path / "forged.mlk").write_bytes(zipped(members))
    with pytest.raises(ValueError, match=r"forged.mlk', member 'estimator_0.mlk', cannot "
                                         r"be loaded safely: it names \['os.system'\]"):
        sklearn_mlk.load(tmp_path / "forged.mlk")
