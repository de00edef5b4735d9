"""Thread pools and OpenMP waiting under the PyTorch backend (no PyTorch needed:
a stand-in module records the calls)."""

import json
import sys
import types

import pytest

from sklearn_mlk._keras import _backend


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


@pytest.fixture
def sized_torch(monkeypatch, fake_torch):
    """A stand-in PyTorch whose pool the library sized to 3 cores."""
    state = {"threads": 3, "seen": []}

    def set_num_threads(n):
        state["threads"] = n
        state["seen"].append(n)

    sys.modules["torch"].set_num_threads = set_num_threads
    sys.modules["torch"].get_num_threads = lambda: state["threads"]
    monkeypatch.setattr(_backend, "_torch_cores", 3)
    return state


def test_small_networks_train_on_one_thread_then_the_pool_is_restored(sized_torch):
    with _backend.torch_fit_threads(30_000):
        assert sized_torch["threads"] == 1
    assert sized_torch["threads"] == 3
    with pytest.raises(RuntimeError):  # a failed fit restores it too
        with _backend.torch_fit_threads(30_000):
            raise RuntimeError
    assert sized_torch["seen"] == [1, 3, 1, 3]


def test_large_networks_and_the_users_own_counts_keep_their_threads(
        monkeypatch, sized_torch):
    with _backend.torch_fit_threads(_backend.SMALL_TORCH_NETWORK):
        assert sized_torch["threads"] == 3
    sized_torch["threads"] = 2  # torch.set_num_threads(2) by the user
    with _backend.torch_fit_threads(30_000):
        assert sized_torch["threads"] == 2
    monkeypatch.setattr(_backend, "_torch_cores", None)  # OMP_NUM_THREADS was set
    sized_torch["threads"] = 3
    with _backend.torch_fit_threads(30_000):
        assert sized_torch["threads"] == 3
    assert sized_torch["seen"] == []


def test_the_pool_size_is_remembered_only_where_the_library_chose_it(
        monkeypatch, fake_torch):
    monkeypatch.setattr(_backend, "_torch_cores", None)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    _backend._limit_threads(_FakeKeras)
    assert _backend._torch_cores is None
    monkeypatch.delenv("OMP_NUM_THREADS")
    import joblib

    monkeypatch.setattr(joblib, "cpu_count", lambda *args, **kwargs: 3)
    _backend._limit_threads(_FakeKeras)
    assert _backend._torch_cores == 3
