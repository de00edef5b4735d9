"""The number of pytest-xdist workers ``-n auto`` starts (tests/conftest.py)."""

import os

import pytest

import conftest


@pytest.mark.parametrize("cpus, workers", [(1, 1), (2, 2), (6, 6), (64, conftest.MAX_WORKERS)])
def test_auto_starts_one_worker_per_usable_cpu_up_to_the_cap(monkeypatch, cpus, workers):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)), raising=False)
    assert conftest.pytest_xdist_auto_num_workers(None) == workers


def test_auto_falls_back_to_the_cpu_count_without_affinity(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert conftest.pytest_xdist_auto_num_workers(None) == 3
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert conftest.pytest_xdist_auto_num_workers(None) == 1
