"""Thread pools and OpenMP waiting under the PyTorch backend (no PyTorch needed:
a stand-in module records the calls)."""

import json
import sys
import types

import pytest

from sklearn_mlk import _backend


class _FakeKeras:
    class backend:  # noqa: N801 - mirrors keras.backend
        @staticmethod
        def backend():
            return "torch"


@pytest.fixture
def fake_torch(monkeypatch):
    calls = {}
    torch = types.SimpleNamespace(
        set_num_threads=lambda n: calls.__setitem__("threads", n),
        set_num_interop_threads=lambda n: calls.__setitem__("interop", n),
    )
    monkeypatch.setitem(sys.modules, "torch", torch)
    return calls


def test_torch_threads_follow_omp_num_threads(monkeypatch, fake_torch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    _backend._limit_threads(_FakeKeras)
    assert fake_torch == {"threads": 3, "interop": 1}


@pytest.mark.parametrize("value", [None, "", "0", "many"])
def test_torch_threads_default_to_the_usable_cores(monkeypatch, fake_torch, value):
    if value is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", value)
    import joblib

    monkeypatch.setattr(joblib, "cpu_count", lambda *args, **kwargs: 3)  # not this machine's
    _backend._limit_threads(_FakeKeras)
    assert fake_torch == {"threads": 3, "interop": 1}


def test_openmp_threads_wait_passively_under_torch_only(monkeypatch, tmp_path):
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    _backend._passive_openmp()
    assert "OMP_WAIT_POLICY" not in _backend.os.environ
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    _backend._passive_openmp()
    assert _backend.os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # the user's choice stays
    _backend._passive_openmp()
    assert _backend.os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_the_configured_backend_comes_from_keras_json(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert _backend._configured_backend() == "tensorflow"  # no file
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "torch"}))
    assert _backend._configured_backend() == "torch"
    (tmp_path / "keras.json").write_text("{not json")
    assert _backend._configured_backend() == "tensorflow"
