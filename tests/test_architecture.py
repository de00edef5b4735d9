"""The package's parts and the imports between them (docs/architecture.md).

Read from the source with ``ast``, lazy imports inside functions included:

- no import cycles;
- the pure modules (targets, thresholds, splits, routing, tuning plans,
  memory, the archive checks) never import Keras, a backend, or a module that
  does;
- prediction (``_keras``) never imports training or saving;
- each backend's loop imports the shared loop and nothing imports it back
  but the factory (``_training._compiled``);
- what a Dask worker runs (``_dask._worker``) imports NumPy and SciPy only.

Each rule also runs on a copy of the package with a planted import, and must
report it.
"""

import pathlib
import shutil
import sys

import pytest
from import_graph import cycles, imports, reachable

ROOT = pathlib.Path(__file__).resolve().parents[1] / "sklearn_mlk"
PURE = ["_targets", "_thresholds", "_splits", "_routing", "_tuning", "_memory",
        "_saving._archive", "_saving._safe_config", "_histogram", "_plan", "_decisions",
        "_dask._worker"]
# What a Dask worker imports to predict or total a block: NumPy and SciPy
# only, not even scikit-learn (whose import alone outweighs a small worker).
WORKER = ["_dask._worker", "_plan", "_decisions"]
BACKENDS = {"keras", "tensorflow", "jax", "jaxlib", "torch", "h5py", "tf_keras"}
LOOPS = ["_training._loop_tensorflow", "_training._loop_jax", "_training._loop_torch"]


def violations(root):
    """Every broken rule, as one line each."""
    graph, outside = imports(root)
    name = pathlib.Path(root).name
    full = {m: f"{name}.{m}" for m in PURE + LOOPS}
    found = [f"import cycle: {cycle}" for cycle in cycles(graph)]
    for module in WORKER:
        start = f"{name}.{module}"
        for dep in sorted(reachable(graph, start) | {start}):
            heavy = outside[dep] - {"numpy", "scipy"} - set(sys.stdlib_module_names)
            if heavy:
                found.append(f"worker module {start} imports {sorted(heavy)} "
                             f"(through {dep})")
    for module in PURE:
        for dep in sorted(reachable(graph, full[module]) | {full[module]}):
            backend = outside[dep] & BACKENDS
            if backend:
                found.append(f"{full[module]} imports {sorted(backend)} (through {dep})")
            if dep.startswith((f"{name}._keras", f"{name}._training")):
                found.append(f"{full[module]} imports {dep}")
    for module in graph:
        if module.startswith(f"{name}._keras"):
            for dep in sorted(reachable(graph, module)):
                if dep.startswith((f"{name}._training", f"{name}._saving",
                                   f"{name}._classifier")):
                    found.append(f"prediction module {module} imports {dep}")
    loops = {full[m] for m in LOOPS}
    for module, deps in graph.items():
        for dep in deps & loops:
            if module != f"{name}._training._compiled":
                found.append(f"{module} imports the backend loop {dep}")
    return found


def test_the_package_keeps_its_rules():
    assert violations(ROOT) == []


@pytest.mark.parametrize("module, line, expected", [
    ("_targets.py", "from ._keras import _backend", "sklearn_mlk._targets imports "
     "sklearn_mlk._keras"),
    ("_thresholds.py", "def f():\n    import keras", "sklearn_mlk._thresholds imports "
     "['keras']"),
    ("_splits.py", "from ._classifier import KerasMultiLabelClassifier",
     "imports ['keras']"),
    ("_keras/_network.py", "from .._training import _trainer", "prediction module "
     "sklearn_mlk._keras._network imports sklearn_mlk._training._trainer"),
    ("_training/_loop.py", "from . import _compiled", "import cycle"),
    ("_training/_trainer.py", "from ._loop_torch import TorchLoop", "sklearn_mlk."
     "_training._trainer imports the backend loop"),
    ("_decisions.py", "from sklearn.utils import check_array", "worker module "
     "sklearn_mlk._dask._worker imports ['sklearn'] (through sklearn_mlk._decisions)"),
])
def test_a_planted_import_is_reported(tmp_path, module, line, expected):
    copy = tmp_path / "sklearn_mlk"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / module
    path.write_text(path.read_text() + "\n\n" + line + "\n")
    assert any(expected in v for v in violations(copy)), violations(copy)
