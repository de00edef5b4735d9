"""Keras neural networks as first-class scikit-learn multi-label classifiers.

The public names load on first use (PEP 562): ``import sklearn_mlk`` alone
imports neither scikit-learn nor Keras, so that a Dask worker unpickling a
block predictor (:mod:`sklearn_mlk._dask._worker`) stays NumPy-sized.
"""

import importlib

from ._version import __version__  # noqa: F401

# Public name: (module, name in that module).
_PUBLIC = {
    "FBeta": ("._thresholds", "FBeta"),
    "KerasMultiLabelClassifier": ("._classifier", "KerasMultiLabelClassifier"),
    "LabelPrecisionRecallDisplay": ("._display", "LabelPrecisionRecallDisplay"),
    "PrecisionAtLeast": ("._thresholds", "PrecisionAtLeast"),
    "RecallAtLeast": ("._thresholds", "RecallAtLeast"),
    "ThresholdDisplay": ("._display", "ThresholdDisplay"),
    "TrainingHistoryDisplay": ("._display", "TrainingHistoryDisplay"),
    "get_untrusted_types": ("._saving", "get_untrusted_types"),
    "import_keras": ("._keras._backend", "get_keras"),
    "load": ("._saving", "load"),
    "save": ("._saving", "save"),
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # The estimator first: loading a saved file needs its class registered.
    importlib.import_module("._classifier", __name__)
    module, attribute = _PUBLIC[name]
    value = getattr(importlib.import_module(module, __name__), attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))

