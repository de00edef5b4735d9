"""Warnings a fit gives once: at the user's line, and once per search."""

import contextvars
import sys
import warnings
import weakref
from contextlib import contextmanager

import numpy as np

# The messages each running search has shown, by search.
_SHOWN_IN_SEARCH = weakref.WeakKeyDictionary()
# The messages shown in the running choice among values of alpha, if any.
_SHOWN_IN_CHOICE = contextvars.ContextVar("sklearn_mlk_shown_in_choice", default=None)


@contextmanager
def once_per_choice():
    """Within the block, each note of :func:`_warn_once_per_search` is given
    once: the fits of a choice among values of ``alpha`` (and, within each,
    with and without a linear path) check the same data.
    A context variable, so that fits in other threads are not affected."""
    if _SHOWN_IN_CHOICE.get() is not None:  # a choice within a choice
        yield
        return
    token = _SHOWN_IN_CHOICE.set(set())
    try:
        yield
    finally:
        _SHOWN_IN_CHOICE.reset(token)


def _warn_once_per_search(message):
    """Warn at the first caller outside this package, scikit-learn and joblib
    (the user's ``fit`` line, or the line that ran their search), and within
    a search only once per message.

    Python's own once-per-line filter cannot do the latter: scikit-learn runs
    each fit of a search under a fresh copy of the warning filters, which
    resets what was shown.
    """
    from sklearn.model_selection._search import BaseSearchCV

    frame, level, user_level, search = sys._getframe(0), 1, None, None
    while frame is not None:
        if search is None and isinstance(frame.f_locals.get("self"), BaseSearchCV):
            search = frame.f_locals["self"]
        module = frame.f_globals.get("__name__", "")
        if user_level is None and not module.startswith(("sklearn", "joblib", "contextlib")):
            user_level = level
        frame, level = frame.f_back, level + 1
    if search is not None:
        shown = _SHOWN_IN_SEARCH.setdefault(search, set())
        if message in shown:
            return
        shown.add(message)
    in_choice = _SHOWN_IN_CHOICE.get()
    if in_choice is not None:
        if message in in_choice:
            return
        in_choice.add(message)
    warnings.warn(message, UserWarning, stacklevel=user_level or 2)


def _warn_constant_labels(Y, classes):
    """Warn, as ``OneVsRestClassifier`` does, of labels present in every
    sample or in none; return their constant probabilities (None if none)."""
    from ._targets import constant_labels

    return _warn_constant_labels_of(constant_labels(Y), classes)


def _warn_constant_labels_of(constant, classes):
    """:func:`_warn_constant_labels` from each label's constant probability
    (NaN for a label that varies)."""
    for label, value in zip(classes, constant):
        if value == 1.0:
            _warn_once_per_search(f"Label {label} is present in all training examples.")
        elif value == 0.0:
            _warn_once_per_search(f"Label not {label} is present in all training examples.")
    return constant if np.isfinite(constant).any() else None
