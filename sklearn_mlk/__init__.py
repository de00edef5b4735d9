"""Keras neural networks as first-class scikit-learn multi-label classifiers."""

from ._classifier import KerasMultiLabelClassifier
from ._display import LabelPrecisionRecallDisplay, ThresholdDisplay, TrainingHistoryDisplay
from ._keras._backend import get_keras as import_keras
from ._saving import get_untrusted_types, load, save
from ._thresholds import FBeta, PrecisionAtLeast, RecallAtLeast
from ._version import __version__  # noqa: F401

__all__ = [
    "FBeta",
    "KerasMultiLabelClassifier",
    "LabelPrecisionRecallDisplay",
    "PrecisionAtLeast",
    "RecallAtLeast",
    "ThresholdDisplay",
    "TrainingHistoryDisplay",
    "get_untrusted_types",
    "import_keras",
    "load",
    "save",
]
