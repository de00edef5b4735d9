"""Keras neural networks as first-class scikit-learn multi-label classifiers."""

from ._classifier import KerasMultiLabelClassifier
from ._thresholds import FBeta

__all__ = ["FBeta", "KerasMultiLabelClassifier"]
__version__ = "0.1.0"
