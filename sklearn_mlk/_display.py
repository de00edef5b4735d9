"""Plots in scikit-learn's display style: what the thresholds did, and training.

Each display is built with ``from_estimator`` (or ``from_predictions``),
computes its data once, and draws with ``plot(ax=...)``, keeping the
matplotlib objects as ``ax_``, ``figure_`` and ``lines_``. matplotlib is an
optional dependency (``pip install "sklearn-mlk[plot]"``).
"""

import numpy as np
from sklearn.metrics import precision_recall_curve
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils.validation import check_is_fitted

from ._thresholds import _PER_LABEL, _objective_values, known_curves


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    return ax


def _label_columns(classes, labels):
    """Column indices of ``labels`` (all when None) in ``classes``."""
    classes = list(np.asarray(classes).tolist())
    if labels is None:
        return list(range(len(classes)))
    missing = [label for label in labels if label not in classes]
    if missing:
        raise ValueError(f"labels {missing} are not among the estimator's labels "
                         f"{classes[:10]}{' ...' if len(classes) > 10 else ''}.")
    return [classes.index(label) for label in labels]


def _checked(y_true, y_score, names, labels):
    """Dense 0/1 targets and float scores of one shape, the label names, the
    columns of ``labels`` and the mask of known entries (None: all known).

    Unknown entries of ``y_true`` (NaN or -1, as :meth:`fit` takes them) are
    left out of each label's curve; scores must be finite, as scikit-learn's
    displays require.
    """
    from ._targets import UNKNOWN, known_entries

    y_true = np.asarray(y_true.toarray() if hasattr(y_true, "toarray") else y_true,
                        dtype=np.float64)
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_true.shape != y_score.shape or y_true.ndim != 2:
        raise ValueError(f"y_true and y_score must have the same shape (n_samples, "
                         f"n_labels); got {y_true.shape} and {y_score.shape}.")
    if not np.isfinite(y_score).all():
        raise ValueError("y_score contains NaN or infinity; scores must be finite.")
    y_true = np.where(np.isnan(y_true), UNKNOWN, y_true)
    names = np.arange(y_true.shape[1]) if names is None else np.asarray(names)
    return y_true, y_score, names, _label_columns(names, labels), known_entries(y_true)


def _names(estimator, names):
    """Legend names of the estimator's output columns: ``names`` where given."""
    labels = estimator._target_encoder.labels_
    if names is None:
        return labels
    names = np.asarray(names)
    if names.shape != (len(labels),):
        raise ValueError(f"names must give one name per label, {len(labels)}; got "
                         f"shape {names.shape}.")
    return names


def _scores_and_targets(estimator, X, y):
    check_is_fitted(estimator)
    Y = estimator._target_encoder.transform(y)
    Y = Y.toarray() if hasattr(Y, "toarray") else np.asarray(Y)
    return estimator._label_proba(X), Y


def _facet_axes(ax, n_labels):
    """One Axes per label: ``ax`` when it is a sequence of them, else a new grid
    of small multiples (shared axes, at most four across)."""
    import matplotlib.pyplot as plt

    if ax is None:
        ncols = min(n_labels, 4)
        nrows = -(-n_labels // ncols)
        _, grid = plt.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False,
                               figsize=(2.6 * ncols, 2.2 * nrows + 0.4))
        for extra in grid.ravel()[n_labels:]:
            extra.set_visible(False)
        return grid.ravel()[:n_labels]
    axes = np.ravel(np.asarray(ax, dtype=object))
    if len(axes) < n_labels:
        raise ValueError(f"facets=True draws one label per Axes: ax holds {len(axes)} "
                         f"Axes for {n_labels} labels.")
    return axes[:n_labels]


class _Display:
    """What every per-label display does around drawing its lines.

    With ``facets=False`` every label's curve goes on one Axes, told apart by
    colour and legend; with ``facets=True`` each label gets an Axes of its own
    (small multiples on shared axes), which keeps curves that lie on top of
    each other readable.
    """

    def _label_axes(self, ax, facets):
        """The Axes each label is drawn on, in label order."""
        if facets:
            return list(_facet_axes(ax, len(self.labels)))
        if ax is not None and np.ndim(np.asarray(ax, dtype=object)) > 0:
            raise ValueError("ax holds several Axes; pass facets=True to draw one "
                             "label on each.")
        return [_axes(ax)] * len(self.labels)

    def _finish(self, axes, facets, xlabel, ylabel, xlim, ylim=(0, 1.02), title=None):
        for i, ax in enumerate(axes if facets else axes[:1]):
            ax.set(xlim=xlim, ylim=ylim)
            if facets:
                ax.set_title(str(self.labels[i]), fontsize="medium")
                ax.set(xlabel=xlabel if ax.get_subplotspec().is_last_row() else "",
                       ylabel=ylabel if ax.get_subplotspec().is_first_col() else "")
            else:
                ax.set(xlabel=xlabel, ylabel=ylabel)
                if title and not ax.get_title():  # a title of the caller's stays
                    ax.set_title(title)
                ax.legend(loc="best", fontsize="small")
        figure = axes[0].figure
        if facets and title and not figure.get_suptitle():
            figure.suptitle(title)
        self.ax_ = np.asarray(axes, dtype=object) if facets else axes[0]
        self.figure_ = figure
        return self


class ThresholdDisplay(_Display):
    """Each label's metric against its decision threshold, the chosen one marked.

    Use :meth:`from_estimator` or :meth:`from_predictions`; the curves are
    exact (one point per distinct score), as the threshold search sees them.

    Parameters
    ----------
    curves : list of (ndarray, ndarray)
        Per label, the candidate thresholds (descending) and the metric there.
    thresholds : ndarray of shape (n_labels,) or None
        The chosen thresholds, marked on the curves.
    labels : list
        Label names, in the order of ``curves``.
    metric : str
        Name of the metric, for the axis label.

    Attributes
    ----------
    ax_ : matplotlib Axes, or ndarray of Axes (one per label) with facets
    figure_ : matplotlib Figure
    lines_ : list of matplotlib Line2D, one per label

    Examples
    --------
    >>> from sklearn_mlk import ThresholdDisplay  # doctest: +SKIP
    >>> ThresholdDisplay.from_estimator(clf, X_test, Y_test).plot()  # doctest: +SKIP
    """

    def __init__(self, *, curves, thresholds, labels, metric):
        self.curves = curves
        self.thresholds = thresholds
        self.labels = labels
        self.metric = metric

    @classmethod
    def from_estimator(cls, estimator, X, y, *, labels=None, names=None, metric="f1",
                       ax=None, facets=False):
        """Curves of a fitted estimator's scores on (X, y), its thresholds marked.

        Parameters
        ----------
        estimator : KerasMultiLabelClassifier
            Fitted.
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : target in any format ``fit`` accepts
        labels : list, optional
            The labels to draw (default all), as named in ``names``.
        names : array-like of shape (n_labels,), optional
            Label names for the legend (default the estimator's ``classes_``:
            column indices for an indicator target).
        metric : str, default="f1"
            A per-label objective: ``"f1"``, ``"jaccard"`` or
            ``"balanced_accuracy"``.
        ax : matplotlib Axes or array of Axes, optional
            Where to draw: one Axes, or with ``facets=True`` one per label.
        facets : bool, default=False
            Draw each label on an Axes of its own (small multiples), for
            curves that would lie on top of each other.
        """
        scores, Y = _scores_and_targets(estimator, X, y)
        return cls.from_predictions(Y, scores, thresholds=estimator.thresholds_,
                                    labels=labels, names=_names(estimator, names),
                                    metric=metric, ax=ax, facets=facets)

    @classmethod
    def from_predictions(cls, y_true, y_score, *, thresholds=None, labels=None,
                         names=None, metric="f1", ax=None, facets=False):
        """Curves of scores ``y_score`` against 0/1 targets ``y_true``.

        Parameters
        ----------
        y_true : array-like of shape (n_samples, n_labels)
        y_score : array-like of shape (n_samples, n_labels)
        thresholds : array-like of shape (n_labels,), optional
            Thresholds to mark.
        labels : list, optional
            The labels to draw, as named in ``names``.
        names : array-like of shape (n_labels,), optional
            Label names (default the column indices).
        metric : str, default="f1"
        ax : matplotlib Axes or array of Axes, optional
        facets : bool, default=False
            One Axes per label, as in :meth:`from_estimator`.
        """
        check_matplotlib_support(f"{cls.__name__}.from_predictions")
        if metric not in _PER_LABEL:
            raise ValueError(f"metric must be one of {sorted(_PER_LABEL)}, got {metric!r}.")
        y_true, y_score, names, columns, known = _checked(y_true, y_score, names, labels)
        curves = known_curves(y_score[:, columns], y_true[:, columns], np.ones(len(y_true)),
                              None if known is None else known[:, columns])
        objective = _PER_LABEL[metric]
        data = [(c.cut, np.maximum(_objective_values(objective, c), 0.0)) for c in curves]
        marked = None if thresholds is None else np.asarray(thresholds)[columns]
        display = cls(curves=data, thresholds=marked,
                      labels=[names[j] for j in columns], metric=metric)
        return display.plot(ax=ax, facets=facets)

    def plot(self, ax=None, *, facets=False):
        """Draw one line per label and a marker at each chosen threshold.

        ``ax`` and ``facets`` as in :meth:`from_estimator`.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        axes = self._label_axes(ax, facets)
        self.lines_ = []
        for i, ((cut, values), label, ax) in enumerate(zip(self.curves, self.labels,
                                                           axes)):
            shown = np.clip(cut, 0.0, 1.0)
            (line,) = ax.plot(shown, values, drawstyle="steps-post", label=str(label))
            self.lines_.append(line)
            if self.thresholds is not None:
                t = self.thresholds[i]
                at = values[max(int(np.searchsorted(-cut, -t, side="right")) - 1, 0)]
                ax.plot([t], [at], "o", color=line.get_color())
        return self._finish(axes, facets, "threshold", self.metric, (0, 1),
                            title=f"{self.metric} against the threshold, per label")


class LabelPrecisionRecallDisplay(_Display):
    """Precision against recall for each label, the operating point marked.

    Parameters
    ----------
    curves : list of (ndarray, ndarray)
        Per label, precision and recall (scikit-learn's
        ``precision_recall_curve``).
    points : list of (float, float) or None
        Per label, (recall, precision) at the chosen threshold.
    labels : list
        Label names.

    Attributes
    ----------
    ax_ : matplotlib Axes, or ndarray of Axes (one per label) with facets
    figure_ : matplotlib Figure
    lines_ : list of matplotlib Line2D, one per label
    """

    def __init__(self, *, curves, points, labels):
        self.curves = curves
        self.points = points
        self.labels = labels

    @classmethod
    def from_estimator(cls, estimator, X, y, *, labels=None, names=None, ax=None,
                       facets=False):
        """Curves of a fitted estimator on (X, y), its thresholds marked;
        ``labels``, ``names``, ``ax`` and ``facets`` as in
        :meth:`ThresholdDisplay.from_estimator`."""
        scores, Y = _scores_and_targets(estimator, X, y)
        return cls.from_predictions(Y, scores, thresholds=estimator.thresholds_,
                                    labels=labels, names=_names(estimator, names), ax=ax,
                                    facets=facets)

    @classmethod
    def from_predictions(cls, y_true, y_score, *, thresholds=None, labels=None,
                         names=None, ax=None, facets=False):
        """Curves of scores ``y_score`` against 0/1 targets ``y_true``; the
        other arguments as in :meth:`ThresholdDisplay.from_predictions`."""
        check_matplotlib_support(f"{cls.__name__}.from_predictions")
        y_true, y_score, names, columns, known = _checked(y_true, y_score, names, labels)
        curves, points = [], None if thresholds is None else []
        for j in columns:
            rows = slice(None) if known is None else known[:, j]
            y_true_j, y_score_j = y_true[rows, j], y_score[rows, j]
            if not (y_true_j > 0).any():
                raise ValueError(f"Label {names[j]!r} has no positives in y_true: its "
                                 "recall is undefined; leave it out with labels=.")
            precision, recall, _ = precision_recall_curve(y_true_j, y_score_j)
            curves.append((precision, recall))
            if thresholds is not None:
                predicted = y_score_j >= thresholds[j]
                tp = float((predicted & (y_true_j > 0)).sum())
                points.append((tp / y_true_j.sum(), tp / max(predicted.sum(), 1)))
        display = cls(curves=curves, points=points, labels=[names[j] for j in columns])
        return display.plot(ax=ax, facets=facets)

    def plot(self, ax=None, *, facets=False):
        """Draw one curve per label and a marker at each operating point;
        ``ax`` and ``facets`` as in :meth:`ThresholdDisplay.from_estimator`."""
        check_matplotlib_support(f"{type(self).__name__}.plot")
        axes = self._label_axes(ax, facets)
        self.lines_ = []
        for i, ((precision, recall), label, ax) in enumerate(zip(self.curves, self.labels,
                                                                 axes)):
            (line,) = ax.plot(recall, precision, drawstyle="steps-post", label=str(label))
            self.lines_.append(line)
            if self.points is not None:
                ax.plot(*self.points[i], "o", color=line.get_color())
        return self._finish(axes, facets, "recall", "precision", (0, 1.02),
                            title="Precision against recall, per label")


class TrainingHistoryDisplay:
    """The training curves of a fit: every network it trained, best epochs marked.

    Parameters
    ----------
    history : dict of list
        An estimator's ``history_``.
    best_epoch : int, ndarray or None
        The estimator's ``best_epoch_``.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : dict of matplotlib Line2D, by history key
    """

    def __init__(self, *, history, best_epoch=None):
        self.history = history
        self.best_epoch = best_epoch

    @classmethod
    def from_estimator(cls, estimator, *, ax=None):
        """The curves of a fitted estimator's ``history_``."""
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        display = cls(history=estimator.history_,
                      best_epoch=getattr(estimator, "best_epoch_", None))
        return display.plot(ax=ax)

    def plot(self, ax=None):
        """Draw the mean or kept curves bold, fold and tuning curves thin."""
        check_matplotlib_support(f"{type(self).__name__}.plot")
        ax = _axes(ax)
        self.lines_ = {}
        named = set()  # one legend entry for all fold networks' training curves
        for key, values in self.history.items():
            if not values or not key.endswith("loss"):
                continue
            main = key in ("loss", "val_loss")
            label = key if main or key.startswith("tuning") else None
            if key.startswith("fold_"):
                kind = "val_loss" if key.endswith("val_loss") else "loss"
                label = None if kind in named else f"each fold network's {kind}"
                named.add(kind)
            epochs = np.arange(1, len(values) + 1)
            style = dict(linewidth=2.0 if main else 0.8, alpha=1.0 if main else 0.5,
                         linestyle="--" if key.endswith("val_loss") else "-")
            if key.startswith("fold_") or main:  # a fold network in its mean's colour
                style["color"] = "C1" if key.endswith("val_loss") else "C0"
            (self.lines_[key],) = ax.plot(epochs, values, label=label, **style)
        best = np.atleast_1d(self.best_epoch) if self.best_epoch is not None else []
        for i, epoch in enumerate(best):
            ax.axvline(epoch, color="grey", linewidth=0.6, linestyle=":",
                       label="best epoch" if i == 0 else None)
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole
        ax.set(xlabel="epoch", ylabel="loss")
        if not ax.get_title():  # a title of the caller's stays
            ax.set_title("Training loss of every network the fit trained")
        ax.legend(loc="best", fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self
