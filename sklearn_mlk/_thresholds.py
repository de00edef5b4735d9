"""Decision thresholds: resolving the ``threshold`` parameter per label."""

import numbers

import numpy as np


def fixed_thresholds(threshold, n_labels):
    """Return one threshold per label from a float or a per-label array."""
    if isinstance(threshold, numbers.Real):
        return np.full(n_labels, float(threshold))
    values = np.asarray(threshold, dtype=np.float64)
    if values.shape != (n_labels,):
        raise ValueError(
            f"threshold must be a float or have one value per label, shape "
            f"({n_labels},), got shape {values.shape}."
        )
    if not np.all((values >= 0) & (values <= 1)):
        raise ValueError(f"threshold values must lie in [0, 1], got {values}.")
    return values.copy()
