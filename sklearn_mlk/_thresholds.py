"""Decision thresholds: fixed, or learned per label from held-out scores.

Learned thresholds come from an exact search over each label's sorted scores:
every distinct score is a candidate cut, tied scores form one candidate, and
sample weights enter the counts. The chosen cut lies between the lowest
score predicted positive and the next lower distinct score, halfway on the
logit scale (the network's decision scale), so it does not sit on a tuning
score.

Objectives (``"auto"`` is resolved by :func:`objective_for` before a search):

- per label: ``"f1"``, ``"jaccard"``, ``"balanced_accuracy"``, :class:`FBeta`
  or a callable ``objective(tp, fp, fn, tn) -> score`` on weighted counts;
- ``"micro_f1"``: per-label thresholds maximising the micro-averaged F1 of all
  labels together, exactly, by Dinkelbach iteration (micro-F1 >= lam iff
  sum_k max_t (2 TP_k(t) - lam PP_k(t)) >= lam P, which splits per label);
- ``"samples_f1"``: one threshold shared by all labels maximising the
  sample-averaged F1.

Labels with too few positives (or no negatives, or constant scores) in the
tuning data get the threshold tuned on all labels pooled. Labels whose tuned
score stays below ``fbr`` are cut above every tuning score (SCutFBR), so a
label the model cannot predict is not predicted for everyone.
"""

import numbers
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ._targets import known_entries

PER_LABEL_OBJECTIVES = ("f1", "jaccard", "balanced_accuracy")
JOINT_OBJECTIVES = ("micro_f1", "samples_f1")
OBJECTIVES = PER_LABEL_OBJECTIVES + JOINT_OBJECTIVES
# What ``threshold="auto"`` tunes: each label's F1 (macro-F1) for a multi-label
# target; for a binary 1-D target, where neither class is the positive one,
# balanced accuracy, as scikit-learn's TunedThresholdClassifierCV does (chosen
# set by set in benchmarks/binary_targets.py).
AUTO = "auto"
AUTO_MULTILABEL = "f1"
AUTO_BINARY = "balanced_accuracy"

TUNED = "tuned"
FLOORED = "floored"
FIXED = "fixed"
SHARED = "shared"

# Cap on the cells of one score block sorted at once (columns x rows).
_BLOCK_CELLS = 1 << 22
_MAX_DINKELBACH_ROUNDS = 100


def _ratio(num, den):
    """num / den, 0 where den is 0 (an empty prediction of an absent label)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den > 0)
    return out


class FBeta:
    """Per-label F-beta objective, for ``threshold=FBeta(beta)``.

    ``beta > 1`` favours recall (more labels predicted), ``beta < 1``
    precision.

    Parameters
    ----------
    beta : float, default=1.0
        Weight of recall relative to precision.

    Examples
    --------
    >>> from sklearn_mlk import FBeta
    >>> FBeta(2)(tp=3.0, fp=1.0, fn=1.0, tn=5.0)
    0.75
    """

    def __init__(self, beta=1.0):
        if not isinstance(beta, numbers.Real) or not np.isfinite(beta) or beta <= 0:
            raise ValueError(f"beta must be a finite number > 0, got {beta!r}.")
        self.beta = beta

    def __call__(self, tp, fp, fn, tn):
        b2 = float(self.beta) ** 2
        num = (1 + b2) * np.asarray(tp, dtype=np.float64)
        result = _ratio(num, num + b2 * np.asarray(fn) + np.asarray(fp))
        return float(result) if result.ndim == 0 else result

    def __repr__(self):
        return f"FBeta(beta={self.beta!r})"

    def __eq__(self, other):
        return isinstance(other, FBeta) and other.beta == self.beta

    def __hash__(self):
        return hash((FBeta, self.beta))


class _AtLeast:
    """Base of the constrained objectives: maximise one rate subject to a
    floor on the other, on the tuning data."""

    floor_name = "level"

    def __init__(self, level):
        if (not isinstance(level, numbers.Real) or isinstance(level, bool)
                or not 0 < level <= 1):
            raise ValueError(f"{type(self).__name__} needs a level in (0, 1], "
                             f"got {level!r}.")
        self.level = level

    def _rates(self, tp, fp, fn, tn):
        tp, fp, fn = (np.asarray(v, dtype=np.float64) for v in (tp, fp, fn))
        return _ratio(tp, tp + fp), _ratio(tp, tp + fn)

    def __call__(self, tp, fp, fn, tn):
        value = np.asarray(self._value(*self._rates(tp, fp, fn, tn)), dtype=np.float64)
        return float(value) if value.ndim == 0 else value

    def reached(self, tp, fp, fn, tn):
        """Whether the floor holds at these counts."""
        return bool(self._holds(*self._rates(tp, fp, fn, tn)))

    def __repr__(self):
        return f"{type(self).__name__}({self.level!r})"

    def __eq__(self, other):
        return type(other) is type(self) and other.level == self.level

    def __hash__(self):
        return hash((type(self), self.level))


class PrecisionAtLeast(_AtLeast):
    """Threshold objective: the most recall with precision at least ``level``.

    Each label gets the lowest threshold whose precision on the tuning data
    (out-of-fold scores) is at least ``level``, which maximises its recall
    there. A label that reaches that precision at no threshold is never
    predicted, with the status ``"unreachable: precision >= <level>"``. The
    level holds on the tuning data; on new data it holds as far as they look
    like the tuning data.

    Parameters
    ----------
    level : float in (0, 1]
        The precision each label must keep.

    Examples
    --------
    >>> from sklearn_mlk import KerasMultiLabelClassifier, PrecisionAtLeast
    >>> clf = KerasMultiLabelClassifier(threshold=PrecisionAtLeast(0.9))
    """

    floor_name = "precision"

    def _holds(self, precision, recall):
        return precision >= self.level

    def _value(self, precision, recall):
        # Predicting nothing scores 0, any cut below the floor -1: a label
        # that cannot reach the floor is never predicted.
        return np.where(self._holds(precision, recall), recall, -1.0)

    def reached(self, tp, fp, fn, tn):
        return bool(np.asarray(tp) > 0) and super().reached(tp, fp, fn, tn)


class RecallAtLeast(_AtLeast):
    """Threshold objective: the most precision with recall at least ``level``.

    Each label gets the threshold, among those whose recall on the tuning
    data is at least ``level``, with the highest precision there. Predicting
    a label for every sample always reaches the recall, so every label with
    positives reaches it; one without gets the usual fallback status.

    Parameters
    ----------
    level : float in (0, 1]
        The recall each label must keep.
    """

    floor_name = "recall"

    def _holds(self, precision, recall):
        return recall >= self.level

    def _value(self, precision, recall):
        return np.where(self._holds(precision, recall), precision, -1.0)


def _f1(tp, fp, fn, tn):
    return _ratio(2 * tp, 2 * tp + fp + fn)


def _jaccard(tp, fp, fn, tn):
    return _ratio(tp, tp + fp + fn)


def _balanced_accuracy(tp, fp, fn, tn):
    return 0.5 * (_ratio(tp, tp + fn) + _ratio(tn, tn + fp))


_PER_LABEL = {"f1": _f1, "jaccard": _jaccard, "balanced_accuracy": _balanced_accuracy}


def is_fixed(threshold):
    """Whether ``threshold`` is a fixed cut (a number or one per label)."""
    return not (isinstance(threshold, str) or callable(threshold))


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


def objective_for(threshold, kind):
    """The objective that ``threshold`` tunes on a target of ``kind`` (the
    target encoder's: ``"binary"``, ``"multiclass"``, ``"indicator"``, ...):
    ``"auto"`` resolved, any other value as it is."""
    if isinstance(threshold, str) and threshold == AUTO:
        return AUTO_BINARY if kind == "binary" else AUTO_MULTILABEL
    return threshold


def check_objective(threshold):
    """Validate a learned-threshold objective (a name or a callable)."""
    if isinstance(threshold, str):
        if threshold not in OBJECTIVES:
            raise ValueError(
                f"threshold must be a number, one per label, a callable or one of "
                f"{list(OBJECTIVES)}; got {threshold!r}."
            )
    elif not callable(threshold):
        raise TypeError(f"threshold objective must be callable, got {threshold!r}.")
    return threshold


# -- candidate cuts ------------------------------------------------------------


class Curve(NamedTuple):
    """The candidate cuts of one label and their weighted counts.

    Candidate 0 predicts nothing; candidate i > 0 predicts every sample whose
    score is at least the i-th highest distinct score.
    """

    cut: np.ndarray  # threshold of each candidate, descending
    tp: np.ndarray  # weight of positives predicted at each candidate
    fp: np.ndarray  # weight of negatives predicted at each candidate
    n_pos: int  # positives (unweighted) in the tuning data
    n_neg: int  # negatives (unweighted)
    scores: np.ndarray = np.zeros(0)  # the distinct scores, descending

    @property
    def pos(self):
        return self.tp[-1]

    @property
    def neg(self):
        return self.fp[-1]

    def counts(self, i):
        """(tp, fp, fn, tn) at candidate(s) i."""
        tp, fp = self.tp[i], self.fp[i]
        return tp, fp, self.pos - tp, self.neg - fp

    def index(self, threshold):
        """The candidate that ``threshold`` selects: the scores at or above it,
        that is as many tie groups as distinct scores reach it (any threshold,
        not only a candidate's own cut)."""
        return int(np.searchsorted(-self.scores, -threshold, side="right"))


def _cuts(s, ends):
    """Candidate cuts for descending scores ``s`` whose tie groups end at ``ends``.

    The first cut is above every score (predicts nothing); each other one is
    halfway between a distinct score and the next lower one on the logit
    scale (see :func:`_halfway`), and the last, below every score, is halfway
    to 0, or the lowest score itself where it is 0 (a probability cut never
    goes below 0).
    """
    top = s[0]
    none = (top + 1.0) / 2 if top < 1.0 else np.nextafter(max(top, 1.0), np.inf)
    below = (s[-1] + min(s[-1], 0.0)) / 2
    return np.concatenate(([none], _halfway(s[ends[:-1]], s[ends[1:]]), [below]))


# Scores are float32 probabilities: the logit of the ones nearest 0 and 1.
_LOGIT_CLIP = 2.0**-24


def _halfway(high, low):
    """Cuts between scores ``high > low``, halfway on the logit scale.

    The network decides on its logits (``decision_function``), and where a
    label's scores leave a gap, as rare, well-separated labels' do, the
    probability midpoint of 0.001 and 0.4 (0.2) sits next to the positive
    score, while the logit midpoint (0.03) sits halfway between the two on
    the network's own scale: new positives scoring a little lower than the
    tuning ones are still found. Scores of exactly 0 or 1 count as the
    nearest float32 probabilities; a cut that rounding does not put strictly
    between its two scores is the probability midpoint.
    """
    # high > low >= 0, so only high can reach 1 and only low can be 0.
    a = np.minimum(high, 1.0 - _LOGIT_CLIP)
    b = np.maximum(low, _LOGIT_CLIP)
    odds = np.sqrt(a / (1.0 - a) * (b / (1.0 - b)))
    cut = odds / (1.0 + odds)
    ok = (cut > low) & (cut < high)
    return np.where(ok, cut, (high + low) / 2)


def _tie_ends(s):
    """Positions of the last score of each tie group in descending ``s``."""
    return np.flatnonzero(np.append(s[:-1] != s[1:], True))


def label_curves(S, Y, w):
    """One :class:`Curve` per column of the scores S (n, L) and 0/1 target Y.

    Columns are sorted in blocks of bounded size; Y may be sparse. With unit
    weights (no sample weights) the counts come from sorting the scores
    alone (:func:`_unit_curves`), several times faster than sorting them
    with their targets and weights, and equal to it.
    """
    n, n_labels = S.shape
    if n == 0:
        zero = np.zeros(1)
        return [Curve(np.array([1.0]), zero, zero, 0, 0) for _ in range(n_labels)]
    width = max(1, _BLOCK_CELLS // n)
    unit = bool((w == 1).all())
    curves = []
    for start in range(0, n_labels, width):
        cols = slice(start, min(start + width, n_labels))
        s = np.asarray(S[:, cols], dtype=np.float64)
        y = Y[:, cols]
        y = np.asarray(y.toarray() if sp.issparse(y) else y, dtype=np.float64)
        if unit:
            curves.extend(_unit_curves(s, y > 0))
            continue
        order = np.argsort(-s, axis=0, kind="stable")
        s = np.take_along_axis(s, order, axis=0)
        y = np.take_along_axis(y, order, axis=0)
        ws = w[order]
        tp = np.cumsum(y * ws, axis=0)
        pp = np.cumsum(ws, axis=0)
        n_pos = (y > 0).sum(axis=0)
        for j in range(s.shape[1]):
            ends = _tie_ends(s[:, j])
            curves.append(_curve(s[:, j], ends, tp[ends, j], pp[ends, j],
                                 int(n_pos[j]), n))
    return curves


def _unit_curves(s, positive):
    """The curves of the columns of ``s`` (n, L), every row of weight 1, where
    ``positive`` marks the positive entries.

    A sort of the values alone takes a fraction of the time of the stable
    argsort that carries targets and weights along (NumPy sorts values with
    SIMD code; ``benchmarks/threshold_search.py`` times both). The counts at each
    distinct score are then exact integers: the rows scoring at least it
    (its tie group's last position, plus one) and the positives among them
    (a binary search in the label's sorted positive scores), which is what
    the cumulative sums of unit weights give.
    """
    n = s.shape[0]
    scores = np.sort(np.ascontiguousarray(s.T), axis=1)
    hits = np.sort(np.ascontiguousarray(np.where(positive, s, -np.inf).T), axis=1)
    n_pos = positive.sum(axis=0)
    curves = []
    for j in range(s.shape[1]):
        desc = scores[j, ::-1]
        ends = _tie_ends(desc)
        above = hits[j, n - n_pos[j]:]  # the positives' scores, ascending
        tp = n_pos[j] - np.searchsorted(above, desc[ends], side="left")
        curves.append(_curve(desc, ends, tp.astype(np.float64), ends + 1.0,
                             int(n_pos[j]), n))
    return curves


def _curve(s, ends, tp, pp, n_pos, n):
    """The curve of one label from its descending scores ``s``, the last
    position ``ends`` of each tie group, and the weight of the rows (``pp``)
    and of the positives (``tp``) scoring at least each group's score.

    ``fp = pp - tp`` is never negative: the two cumulative sums add the same
    non-negative weights, the positives' alone in ``tp``, and rounding to
    nearest is monotonic, so each partial sum of ``pp`` stays at least that
    of ``tp``."""
    cut = _cuts(s, ends)
    tp = np.concatenate(([0.0], tp))
    fp = np.concatenate(([0.0], pp)) - tp
    return Curve(cut, tp, fp, n_pos, n - n_pos, s[ends])


def known_curves(S, Y, w, known):
    """:func:`label_curves`, each label's on the rows where ``known`` says its
    entry is known (a boolean (n, L) mask, or None for all)."""
    if known is None:
        return label_curves(S, Y, w)
    return [label_curves(S[rows, j:j + 1], Y[rows, j:j + 1], w[rows])[0]
            for j, rows in enumerate(known.T)]


def pooled_curve(S, Y, w, known=None):
    """The curve of all labels pooled into one (scores and targets flattened),
    of the known entries only when a ``known`` mask is given."""
    n, n_labels = S.shape
    s = np.asarray(S, dtype=np.float64).reshape(-1, 1)
    y = Y.toarray() if sp.issparse(Y) else np.asarray(Y)
    y = y.reshape(-1, 1)
    w = np.repeat(w, n_labels)
    if known is not None:
        keep = known.ravel()
        s, y, w = s[keep], y[keep], w[keep]
    return label_curves(s, y, w)[0]


# -- searches ------------------------------------------------------------------


def _objective_values(objective, curve):
    values = np.asarray(objective(*curve.counts(slice(None))), dtype=np.float64)
    if values.shape != curve.cut.shape:
        raise ValueError(
            f"The threshold objective must return one score per candidate, shape "
            f"{curve.cut.shape}; got shape {values.shape}."
        )
    return np.where(np.isfinite(values), values, -np.inf)


def best_cut(curve, objective):
    """(threshold, score) of the candidate maximising ``objective``.

    Ties go to the highest threshold (the fewest labels predicted).
    """
    values = _objective_values(objective, curve)
    i = int(np.argmax(values))
    return float(curve.cut[i]), float(values[i]) if np.isfinite(values[i]) else 0.0


def _micro_f1_cuts(curves, free, fixed_tp, fixed_pp, total_pos, start):
    """Dinkelbach iteration for the exact micro-F1 optimum over the free labels.

    ``start`` gives each free label's initial candidate index. Returns the
    chosen candidate index of each free label.
    """
    choice = dict(start)

    def micro(choice):
        tp = fixed_tp + sum(curves[k].tp[i] for k, i in choice.items())
        pp = fixed_pp + sum(curves[k].tp[i] + curves[k].fp[i] for k, i in choice.items())
        return float(_ratio(2 * tp, pp + total_pos))

    lam = micro(choice)
    for _ in range(_MAX_DINKELBACH_ROUNDS):
        new = {}
        for k in free:
            c = curves[k]
            gain = 2 * c.tp - lam * (c.tp + c.fp)
            new[k] = int(np.argmax(gain))
        value = micro(new)
        if value <= lam + 1e-12:
            break
        choice, lam = new, value
    return choice


def samples_f1_cut(S, Y, w, known=None):
    """(threshold, score): the shared threshold maximising sample-averaged F1.

    Exact: lowering the cut past one score changes one sample's F1, so the
    sample-F1 of every candidate follows from one sort of all scores.
    Samples without true labels score 0 whatever is predicted (scikit-learn's
    ``zero_division=0``). With a ``known`` mask, each sample's F1 is over its
    known entries.
    """
    n, n_labels = S.shape
    Yd = np.asarray(Y.toarray() if sp.issparse(Y) else Y, dtype=np.float64)
    s = np.asarray(S, dtype=np.float64).ravel()
    y = Yd.ravel()
    rows = np.repeat(np.arange(n), n_labels)
    if known is not None:
        Yd = np.where(known, Yd, 0.0)
        keep = known.ravel()
        s, y, rows = s[keep], y[keep], rows[keep]
    if s.size == 0 or w.sum() <= 0:
        return 0.5, 0.0
    order = np.argsort(-s, kind="stable")
    s, y, rows = s[order], y[order], rows[order]
    # Running predicted and true-positive counts of each entry's own row.
    by_row = np.argsort(rows, kind="stable")
    group_start = np.searchsorted(rows[by_row], rows[by_row])
    rank = np.empty(s.size, dtype=np.int64)
    rank[by_row] = np.arange(s.size) - group_start
    pp_after = rank + 1.0
    tp_cum = np.empty(s.size)
    y_by_row = y[by_row]
    cum = np.cumsum(y_by_row)
    tp_cum[by_row] = cum - (cum[group_start] - y_by_row[group_start])
    n_true = Yd.sum(axis=1)[rows]
    after = _ratio(2 * tp_cum, n_true + pp_after)
    before = _ratio(2 * (tp_cum - y), n_true + pp_after - 1)
    gains = np.cumsum(w[rows] * (after - before)) / w.sum()
    ends = _tie_ends(s)
    values = np.concatenate(([0.0], gains[ends]))
    cuts = _cuts(s, ends)
    i = int(np.argmax(values))
    return float(cuts[i]), float(values[i])


class Tuned(NamedTuple):
    thresholds: np.ndarray
    scores: np.ndarray
    status: np.ndarray


def tune(S, Y, w, objective, *, min_positives=3, fbr=None):
    """Learn one threshold per label from tuning scores S and targets Y.

    Parameters
    ----------
    S : ndarray of shape (n_samples, n_labels)
        Scores (probabilities) the network gave samples it was not trained on.
    Y : ndarray or sparse matrix of shape (n_samples, n_labels)
        0/1 targets; -1 (:data:`sklearn_mlk._targets.UNKNOWN`) marks an unknown
        entry, left out of its label's search and of the pooled one.
    w : ndarray of shape (n_samples,)
        Sample weights.
    objective : str or callable
        One of :data:`OBJECTIVES`, or ``objective(tp, fp, fn, tn)``.
    min_positives : int
        Labels with fewer positives in the tuning data, no negatives or
        constant scores use the pooled threshold; 0 searches every label.
    fbr : float or None
        Labels whose tuned score is below this floor are cut above every
        tuning score.

    Returns
    -------
    Tuned
        ``thresholds``, the tuned ``scores`` (the label's objective, or its F1
        for the joint objectives) and a ``status`` string per label.
    """
    check_objective(objective)
    if not np.isfinite(S).all():
        raise ValueError(
            "The scores to tune thresholds on hold NaN or infinite values; the "
            "network's outputs on these samples are meaningless."
        )
    w = np.asarray(w, dtype=np.float64)
    n_labels = S.shape[1]
    known = known_entries(Y)
    curves = known_curves(S, Y, w, known)
    if objective == "samples_f1":
        cut, _ = samples_f1_cut(S, Y, w, known)
        scores = [_score_at(c, _f1, cut) for c in curves]
        return Tuned(np.full(n_labels, cut), np.array(scores), np.full(n_labels, SHARED))
    return tune_curves(curves, lambda: pooled_curve(S, Y, w, known), objective,
                       min_positives=min_positives, fbr=fbr)


def tune_curves(curves, pooled, objective, *, min_positives=3, fbr=None):
    """:func:`tune` from each label's :class:`Curve` (exact, or of binned
    scores: :mod:`sklearn_mlk._histogram`); ``pooled()`` gives the curve of
    all labels pooled, asked for only where a label falls back to it. Every
    objective but ``"samples_f1"``, which needs each sample's scores."""
    check_objective(objective)
    if objective == "samples_f1":
        raise ValueError(
            "threshold='samples_f1' tunes on each sample's scores together, which "
            "a threshold search over binned scores does not keep; use 'f1' or "
            "'micro_f1'.")
    n_labels = len(curves)
    per_label = _f1 if objective == "micro_f1" else _PER_LABEL.get(objective, objective)
    thresholds = np.empty(n_labels)
    status = np.full(n_labels, TUNED, dtype=object)
    reasons = [_fallback_reason(c, min_positives) for c in curves]
    free = [k for k, reason in enumerate(reasons) if not reason]
    if len(free) < n_labels:  # the pooled search sorts every score: only if needed
        pooled_cut, _ = best_cut(pooled(), per_label)
        for k, reason in enumerate(reasons):
            if reason:
                thresholds[k] = pooled_cut
                status[k] = "fallback: " + reason
    if objective == "micro_f1":
        _tune_micro(curves, free, thresholds)
    else:
        for k in free:
            thresholds[k], _ = best_cut(curves[k], per_label)
    if isinstance(per_label, _AtLeast):
        for k, curve in enumerate(curves):
            if not curve.n_pos or per_label.reached(*curve.counts(curve.index(thresholds[k]))):
                continue
            # The floor is a constraint: a label whose pooled threshold
            # misses it takes its own threshold where that meets it.
            own, _ = best_cut(curve, per_label)
            if reasons[k] and per_label.reached(*curve.counts(curve.index(own))):
                thresholds[k] = own
                status[k] = (f"{status[k]}; own threshold for {per_label.floor_name} >= "
                             f"{per_label.level:g}")
            else:
                status[k] = (f"unreachable: {per_label.floor_name} >= "
                             f"{per_label.level:g}")
    scores = np.array([_score_at(c, per_label, cut) for c, cut in zip(curves, thresholds)])
    if fbr is not None:
        for k in free:
            if scores[k] < fbr:
                thresholds[k] = curves[k].cut[0]
                status[k] = FLOORED
    return Tuned(thresholds, scores, status.astype(str))


def fixed(threshold, n_labels):
    """The :class:`Tuned` result of a fixed ``threshold``: no tuning scores."""
    return Tuned(fixed_thresholds(threshold, n_labels), np.full(n_labels, np.nan),
                 np.full(n_labels, FIXED))


def matched_thresholds(reference, scores, thresholds, w):
    """Per label, the threshold on ``scores`` that predicts the label for the
    same weight of rows as ``thresholds`` do on ``reference``.

    Parameters
    ----------
    reference, scores : ndarray of shape (n_samples, n_labels)
        Two networks' scores on the same rows.
    thresholds : ndarray of shape (n_labels,)
        The thresholds of the ``reference`` scores.
    w : ndarray of shape (n_samples,)
        Sample weights.

    Returns
    -------
    ndarray of shape (n_labels,)
        Each label's cut predicting the fewest of its highest ``scores`` (a
        tie whole) that weigh at least what the reference predicts, placed
        as the threshold search places its cuts (:func:`_cuts`): halfway on
        the logit scale to the next lower score. A label the reference
        predicts for no row gets a cut above every score.
    """
    reference = np.asarray(reference)  # compared with float64 thresholds
    # In float64: float32 weights sum to different values in two orders, and
    # the cut is halfway between the scores' float64 values.
    scores = np.asarray(scores, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    out = np.empty(scores.shape[1])
    for k in range(scores.shape[1]):
        wanted = w[reference[:, k] >= thresholds[k]].sum()
        # Only the weight at each tie group's end is read, which does not
        # depend on the order within a tie: any sort will do.
        order = np.argsort(-scores[:, k])
        ranked = scores[order, k]
        ends = _tie_ends(ranked)
        # Cut i + 1 predicts the tie groups 0 to i; cut 0 predicts none. The
        # weight compared allows for the rounding of the two sums.
        weight = np.cumsum(w[order])[ends]
        i = np.searchsorted(weight, wanted * (1 - 1e-12)) + 1 if wanted > 0 else 0
        out[k] = _cuts(ranked, ends)[min(i, len(ends))]
    return out


def _score_at(curve, objective, threshold):
    """The objective of ``curve`` at ``threshold``; 0 where it is undefined."""
    value = float(np.asarray(objective(*curve.counts(curve.index(threshold)))))
    return value if np.isfinite(value) else 0.0


def _fallback_reason(curve, min_positives):
    if min_positives == 0:
        return ""
    if curve.n_pos == 0:
        return "no positives"
    if curve.n_neg == 0:
        return "no negatives"
    if len(curve.cut) <= 2:
        return "constant scores"
    if curve.n_pos < min_positives:
        return f"{curve.n_pos} positives < min_positives={min_positives}"
    return ""


def _tune_micro(curves, free, thresholds):
    """Set the free labels' thresholds to the exact micro-F1 optimum, the others
    (already set) held fixed."""
    held = set(range(len(curves))) - set(free)
    at = {k: curves[k].index(thresholds[k]) for k in held}
    fixed_tp = sum(curves[k].tp[i] for k, i in at.items())
    fixed_pp = sum(curves[k].tp[i] + curves[k].fp[i] for k, i in at.items())
    total_pos = sum(c.pos for c in curves)
    start = {k: int(np.argmax(_f1(*curves[k].counts(slice(None))))) for k in free}
    choice = _micro_f1_cuts(curves, free, fixed_tp, fixed_pp, total_pos, start)
    for k, i in choice.items():
        thresholds[k] = curves[k].cut[i]


# -- decoding ------------------------------------------------------------------


ARGMAX = "argmax"


def argmax_thresholds(n_labels):
    """A multiclass fit's thresholds: not used, as the class is the argmax."""
    return fixed(0.5, n_labels)._replace(status=np.full(n_labels, ARGMAX))
