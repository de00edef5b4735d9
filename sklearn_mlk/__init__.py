"""Keras neural networks as first-class scikit-learn multi-label classifiers."""

from ._classifier import KerasMultiLabelClassifier
from ._display import LabelPrecisionRecallDisplay, ThresholdDisplay, TrainingHistoryDisplay
from ._persistence import load
from ._thresholds import FBeta

__all__ = [
    "FBeta",
    "KerasMultiLabelClassifier",
    "LabelPrecisionRecallDisplay",
    "ThresholdDisplay",
    "TrainingHistoryDisplay",
    "load",
]
__version__ = "0.1.0"
