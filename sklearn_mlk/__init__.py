"""Keras neural networks as first-class scikit-learn multi-label classifiers."""

from ._classifier import KerasMultiLabelClassifier

__all__ = ["KerasMultiLabelClassifier"]
__version__ = "0.1.0"
