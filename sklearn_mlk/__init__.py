"""Keras neural networks as first-class scikit-learn multi-label classifiers."""

from ._classifier import KerasMultiLabelClassifier
from ._display import LabelPrecisionRecallDisplay, ThresholdDisplay, TrainingHistoryDisplay
from ._saving import get_untrusted_types, load, save
from ._thresholds import FBeta, PrecisionAtLeast, RecallAtLeast

__all__ = [
    "FBeta",
    "KerasMultiLabelClassifier",
    "LabelPrecisionRecallDisplay",
    "PrecisionAtLeast",
    "RecallAtLeast",
    "ThresholdDisplay",
    "TrainingHistoryDisplay",
    "get_untrusted_types",
    "load",
    "save",
]
__version__ = "0.1.0"
