"""Displays: per-label metric against threshold, precision/recall, training."""

import numpy as np
import pytest
from conftest import tiny

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

from sklearn_mlk import (  # noqa: E402
    LabelPrecisionRecallDisplay,
    ThresholdDisplay,
    TrainingHistoryDisplay,
)


@pytest.fixture(scope="module")
def fitted(data):
    X, Y = data
    return tiny(threshold="f1", threshold_cv=3, refit=False, epochs=6,
                early_stopping=True).fit(X, Y)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_threshold_display_draws_exact_f1_curves_with_the_chosen_cut(fitted, data):
    X, Y = data
    display = ThresholdDisplay.from_estimator(fitted, X, Y)
    assert len(display.lines_) == Y.shape[1] and display.ax_.get_xlabel() == "threshold"
    P = fitted.predict_proba(X)
    for j, (cut, values) in enumerate(display.curves):
        # Every point is the label's F1 when predicting scores >= that cut.
        for i in (0, len(cut) // 2, len(cut) - 1):
            expected = f1_score(Y[:, j], P[:, j] >= cut[i], zero_division=0)
            assert values[i] == pytest.approx(expected, abs=1e-9)
    # One marker per label, at the estimator's threshold.
    markers = [line for line in display.ax_.lines if line.get_marker() == "o"]
    assert [m.get_xdata()[0] for m in markers] == pytest.approx(list(fitted.thresholds_))


def test_displays_take_a_subset_of_labels_and_an_axes(fitted, data):
    X, Y = data
    _, ax = plt.subplots()
    display = LabelPrecisionRecallDisplay.from_estimator(fitted, X, Y, labels=[1, 3], ax=ax)
    assert display.ax_ is ax and [str(label) for label in display.labels] == ["1", "3"]
    recall, precision = display.points[0]
    predicted = fitted.predict(X)[:, 1]
    assert recall == pytest.approx((predicted & Y[:, 1]).sum() / Y[:, 1].sum())
    assert precision == pytest.approx((predicted & Y[:, 1]).sum() / predicted.sum())
    with pytest.raises(ValueError, match=r"labels \[7\] are not among"):
        ThresholdDisplay.from_estimator(fitted, X, Y, labels=[7])
    with pytest.raises(ValueError, match="metric must be one of"):
        ThresholdDisplay.from_predictions(Y, fitted.predict_proba(X), metric="auc")


def test_training_history_display_draws_every_run_and_marks_best_epochs(fitted):
    display = TrainingHistoryDisplay.from_estimator(fitted)
    assert {"loss", "val_loss", "fold_0_loss", "fold_2_val_loss"} <= set(display.lines_)
    np.testing.assert_array_equal(display.lines_["fold_1_loss"].get_ydata(),
                                  fitted.history_["fold_1_loss"])
    best = [line for line in display.ax_.lines if line.get_linestyle() == ":"]
    assert sorted(line.get_xdata()[0] for line in best) == sorted(fitted.best_epoch_)


def test_unknown_entries_are_left_out_of_the_curves(fitted, data):
    """NaN marks an unknown entry: each label's curve is its known rows'."""
    X, Y = data
    P = fitted.predict_proba(X)
    Y_missing = Y.astype(float)
    Y_missing[::3, 0] = np.nan
    known = ~np.isnan(Y_missing[:, 0])
    display = ThresholdDisplay.from_estimator(fitted, X, Y_missing)
    cut, values = display.curves[0]
    best = max(f1_score(Y[known, 0], P[known, 0] >= c, zero_division=0) for c in cut)
    assert values.max() == pytest.approx(best) and best > 0.3
    pr = LabelPrecisionRecallDisplay.from_predictions(Y_missing, P)
    precision, recall = pr.curves[0]
    # At the lowest cut every known row is predicted: precision is the prevalence.
    assert recall[0] == 1.0 and precision[0] == pytest.approx(Y[known, 0].mean())


@pytest.mark.parametrize("display", [ThresholdDisplay, LabelPrecisionRecallDisplay])
def test_nan_scores_are_refused(data, display):
    _, Y = data
    scores = np.full(Y.shape, 0.5)
    scores[3, 1] = np.nan
    with pytest.raises(ValueError, match="y_score contains NaN or infinity"):
        display.from_predictions(Y, scores)


@pytest.mark.parametrize("display", [ThresholdDisplay, LabelPrecisionRecallDisplay])
def test_names_label_the_legend_and_a_title_says_what_is_drawn(fitted, data, display):
    X, Y = data
    names = ["news", "sport", "tech", "art"]
    drawn = display.from_estimator(fitted, X, Y, names=names, labels=["sport", "art"])
    legend = [text.get_text() for text in drawn.ax_.get_legend().get_texts()]
    assert legend[:2] == ["sport", "art"]
    assert "per label" in drawn.ax_.get_title()
    _, ax = plt.subplots()
    ax.set_title("mine")
    assert display.from_estimator(fitted, X, Y, ax=ax).ax_.get_title() == "mine"
    with pytest.raises(ValueError, match="one name per label, 4; got shape"):
        display.from_estimator(fitted, X, Y, names=names[:3])


@pytest.mark.parametrize("display_class", [ThresholdDisplay, LabelPrecisionRecallDisplay])
def test_facets_draw_each_label_on_its_own_axes(display_class, fitted, data):
    """Curves that lie on top of each other are told apart one label per Axes."""
    X, Y = data
    display = display_class.from_estimator(fitted, X, Y, facets=True,
                                           names=[f"tag{j}" for j in range(Y.shape[1])])
    axes = display.ax_
    assert len(axes) == Y.shape[1] and len({id(ax) for ax in axes}) == Y.shape[1]
    for j, (ax, line) in enumerate(zip(axes, display.lines_)):
        assert line.axes is ax and ax.get_title() == f"tag{j}"
    # The grid's unused cells are hidden and the figure is titled once.
    hidden = [ax for ax in display.figure_.axes if not ax.get_visible()]
    assert len(hidden) == -(-Y.shape[1] // 4) * 4 - Y.shape[1]
    assert display.figure_.get_suptitle()
    # Axes of the caller's: one per label, else a message that says so.
    _, grid = plt.subplots(1, Y.shape[1])
    assert display_class.from_estimator(fitted, X, Y, facets=True, ax=grid).ax_[0] is grid[0]
    with pytest.raises(ValueError, match="one label per Axes"):
        display_class.from_estimator(fitted, X, Y, facets=True, ax=grid[:1])
    with pytest.raises(ValueError, match="pass facets=True"):
        display_class.from_estimator(fitted, X, Y, ax=grid)


def test_the_history_legend_names_fold_networks_once_and_the_plot_has_a_title(fitted):
    display = TrainingHistoryDisplay.from_estimator(fitted)
    _, labels = display.ax_.get_legend_handles_labels()
    assert labels.count("each fold network's loss") == 1
    assert labels.count("each fold network's val_loss") == 1
    assert not any(label.startswith("fold_") for label in labels)
    assert display.ax_.get_title()
    _, ax = plt.subplots()
    ax.set_title("mine")
    assert TrainingHistoryDisplay.from_estimator(fitted, ax=ax).ax_.get_title() == "mine"
