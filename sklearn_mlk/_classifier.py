"""KerasMultiLabelClassifier: a Keras network as a scikit-learn multi-label classifier."""

import inspect
import threading
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    Options,
    RealNotInt,
    StrOptions,
)
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from . import _choice, _dask, _memory, _notes
from ._keras import _backend
from ._decisions import class_proba, indicator, label_proba, margins
from ._meta import input_power, meta_of
from ._notes import _warn_constant_labels, _warn_once_per_search
from ._saving._estimator import Unsaved, register
from ._routing import (
    ALIASES,
    PARAMETER_ALIASES,
    check_names,
    explicit_keywords,
    is_routed,
    split_routed,
)
from ._targets import MultiLabelTargetEncoder, column_weights, known_entries, label_totals
from ._thresholds import AUTO, OBJECTIVES, argmax_thresholds, fixed, is_fixed, objective_for
from ._training._trainer import Trainer

# The estimators being fitted now, by id: a second fit of one of them, from
# another thread, is refused rather than left to overwrite (or, failing, roll
# back) the first one's state.
_FITTING = set()
_FITTING_LOCK = threading.Lock()


@contextmanager
def _one_fit_at_a_time(estimator):
    with _FITTING_LOCK:
        if id(estimator) in _FITTING:
            raise RuntimeError(
                f"This {type(estimator).__name__} is already being fitted, in another "
                "thread; one estimator fits once at a time. Fit a copy in each thread "
                "(sklearn.base.clone(estimator)).")
        _FITTING.add(id(estimator))
    try:
        yield
    finally:
        with _FITTING_LOCK:
            _FITTING.discard(id(estimator))


@contextmanager
def _as_before_on_failure(estimator, trained):
    """A failed fit leaves the estimator exactly as it was before: its
    attributes, and the weights of the network ``trained`` that it continues."""
    snapshot = dict(estimator.__dict__)
    weights = trained.get_weights() if trained is not None else None
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(snapshot)
        if weights is not None:
            trained.set_weights(weights)
        raise


@contextmanager
def _for_this_fit(estimator, overrides):
    """``fit``'s ``epochs`` and ``batch_size`` keywords: the estimator's
    parameters for this call only, validated as parameters, then restored
    (scikeras's ``fit(X, y, epochs=..., batch_size=...)``)."""
    if not overrides:
        yield
        return
    before = {name: getattr(estimator, name) for name in overrides}
    for name, value in overrides.items():
        setattr(estimator, name, value)
    try:
        estimator._validate_params()
        yield
    finally:
        for name, value in before.items():
            setattr(estimator, name, value)


@register
class KerasMultiLabelClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label classifier backed by a Keras network with one sigmoid per label.

    The network is trained with binary cross-entropy (per-label positive
    weights optional) and its scores become label sets through one decision
    threshold per label.

    Parameters
    ----------
    model : None, callable or keras.Model, default=None
        The network. ``None`` builds an MLP from ``hidden_layer_sizes``,
        ``activation`` and ``dropout``, its weights drawn as Keras's ``Dense``
        layers draw them (Glorot's uniform). A callable is called at each fit with
        any of ``meta`` (a dict with ``n_features_in_``, ``n_labels_``,
        ``classes_``, ``label_prior_``, ...) and ``compile_kwargs`` that its
        signature accepts, with its arguments: ``model__<name>`` parameters,
        parameters named as its arguments without the prefix (as scikeras
        routes them), and the estimator's own parameters its signature names,
        such as ``hidden_layer_sizes``, ``activation`` or ``dropout`` (the
        estimator's value, then, not the callable's default; ``model__<name>``
        wins over both). It must return a ``keras.Model``; a model it compiles
        is compiled again by the estimator, with a warning. A subclass may
        define scikeras's ``_keras_build_fn`` instead of passing ``model``;
        scikeras's ``feature_encoder`` and ``target_encoder`` hooks are
        refused. A ``keras.Model`` is cloned with fresh weights at each
        fit; the instance passed is never trained. The output must be one unit
        per label, with a sigmoid (probabilities) or no activation (logits);
        a single input or output wrapped in a list is unwrapped.
    hidden_layer_sizes : tuple of int, default=(256,)
        Units of each hidden layer of the default MLP.
    activation : str or callable, default="relu"
        Activation of the hidden layers of the default MLP: a Keras name or
        an activation function.
    dropout : float in [0, 1) or "auto", default="auto"
        Dropout rate after each hidden layer of the default MLP. ``"auto"``
        is 0.5 on fewer than 5,000 training rows and 0.25 from 5,000 rows,
        where less dropout trains as well in fewer epochs; 0.5 in
        ``partial_fit``, whose rows are not known in advance. A model
        callable whose signature names ``dropout`` is given the rate
        ``"auto"`` resolves to.
    linear_path : bool or "auto", default="auto"
        Whether the default MLP has a linear path from its input to its
        logits beside the hidden layers (a "wide and deep" network): each
        label's logit is then the network's plus a linear model's, trained
        together and penalised by ``alpha`` as the other kernels. It needs a
        hidden layer: without one the network is linear already.
        ``"auto"`` chooses where the labels (the classes of a multiclass
        target) outnumber the units of the narrowest hidden layer, which is
        then a bottleneck between the input and the output (with the default
        ``hidden_layer_sizes``, from 257 labels). Where the fit trains fold
        networks (``threshold_cv`` a number of folds or ``"auto"``), one
        pilot network without and one with the path are trained, from one
        seed, on all rows but a hold-out of one fold's share; the kind whose
        learned thresholds score higher on the hold-out is then fitted on the
        folds. That costs two networks more than the fit, on such data only.
        With a hold-out ``threshold_cv``, the estimator is fitted without and
        with the path and keeps the fit whose thresholds score higher on its
        hold-out. Each value of a list of ``alpha`` chooses so.
        ``linear_path_`` and ``linear_path_scores_`` say which and why.
        Elsewhere, and where
        no thresholds are learned out of fold (a fixed ``threshold``,
        ``partial_fit``, Dask collections), ``"auto"`` is no path.
    alpha : float >= 0, "auto" or array-like of floats, default="auto"
        L2 penalty on the default MLP's weights (its kernels, not its biases),
        as MLPClassifier's ``alpha``: ``alpha / 2`` times their sum of squares
        is added to the loss summed over the training rows and outputs. A
        model callable's network takes its own regularizers instead.
        ``"auto"`` is 1 for a 1-D (binary or multiclass) target, the penalty
        of LogisticRegression's default ``C=1``, and 0 for a multi-label
        target and for a model callable's network (which, where its signature
        names ``alpha``, is given that 0).
        A list of values (``alpha=[0, 3]``) is chosen among, as RidgeCV's
        ``alphas`` are: the estimator is fitted once per value, from one seed
        on the same folds, and keeps the fit whose learned thresholds score
        best on its out-of-fold scores (the mean of ``threshold_scores_``;
        for a multiclass target, the macro-F1 of the out-of-fold argmax),
        the first value on a tie. ``alpha_`` and ``alpha_scores_`` say which
        and why. That costs one fit per value, where ``GridSearchCV`` costs
        one per value and fold plus a refit. It needs learned thresholds (not
        a fixed ``threshold``) and the default MLP; ``warm_start`` and
        ``partial_fit`` continue with the value chosen.
    optimizer : str, keras optimizer class or instance, default="adam"
        Optimizer; an instance is copied, never reused. Its arguments can be
        routed as ``optimizer__<name>``.
    learning_rate : float, "auto" or None, default="auto"
        Learning rate of the optimizer. None gives an optimizer named by a
        string or a class 1e-3, and keeps an optimizer instance's own rate
        (``optimizer=keras.optimizers.SGD(learning_rate=0.1)`` trains at 0.1);
        a number is used whatever the optimizer. ``"auto"`` is 3e-3 for the
        default MLP trained with Adam (``optimizer="adam"``), where it trains
        as well as 1e-3 in fewer epochs, and None otherwise (a model
        callable's network, another optimizer).
    batch_size : int >= 1 or -1, default=64
        Samples per gradient step (capped at the number of samples); -1
        trains on all samples in one batch (scikeras's spelling).
    epochs : int or "auto", default="auto"
        Passes over the training data, at most, where a network stops early.
        ``"auto"`` is 50 for a network that stops early, and with
        ``early_stopping=False``; a network that ``early_stopping="auto"``
        keeps from stopping early (too few samples, or a fixed ``threshold``)
        trains for at least 1000 optimizer steps, so that a few hundred rows
        get more than 50 epochs (a network on 120 rows gets 500 at
        ``batch_size=64``).
    early_stopping : bool or "auto", default="auto"
        Stop when the loss on held-out rows has not improved for
        ``n_iter_no_change`` epochs and restore the weights of the best epoch.
        The held-out rows are the threshold-tuning rows when thresholds are
        learned, else a ``validation_fraction`` of the data, stratified over
        labels. ``"auto"`` is on when thresholds are learned (their tuning
        rows are held out anyway), unless a tuning fold or hold-out would hold
        fewer than 64 rows (a warning says so), and off with a fixed
        threshold.
    validation_fraction : float in (0, 1), default=0.1
        Share of the samples held out for early stopping with a fixed
        threshold. scikeras's ``validation_split`` is taken as this
        parameter (with a warning where no network stops on a hold-out).
    n_iter_no_change : int or "auto", default="auto"
        Patience of early stopping, in epochs. ``"auto"`` waits as many
        epochs as the network took to reach its lowest validation loss so
        far, at least 7 and at most 10: a network at its best after 3 epochs
        stops after 10 (rather than 13 at a patience of 10), and one still
        improving at epoch 30 waits 10. With ``tol``, it is also the patience
        of the training loss (``"auto"``: 10, as MLPClassifier's).
    tol : float > 0 or None, default=None
        For a network that does not stop early on held-out rows (early
        stopping off, or turned off by ``"auto"`` on small data or with a
        fixed ``threshold``): stop once ``n_iter_no_change`` epochs pass
        without the training loss falling below its lowest by more than
        ``tol``, as MLPClassifier stops without early stopping and Keras's
        ``EarlyStopping(monitor="loss", min_delta=tol)`` stops ``Model.fit``;
        the network keeps its last weights. ``None`` trains for every epoch.
        On a few hundred rows, where ``epochs="auto"`` gives at least 1000
        optimizer steps, ``tol=1e-4`` (MLPClassifier's default) fits in a
        fraction of the time, for some ranking quality (the speed guide's
        table, ``benchmarks/tol.py``). Early stopping on held-out rows does
        not read it, nor does ``partial_fit`` (an epoch per call).
    callbacks : callback instance, callback class, or list or tuple of them, \
            default=None
        Extra callbacks passed to ``Model.fit``; a class is built with the
        ``callbacks__<name>`` parameters. Given callbacks, the network trains
        through ``Model.fit`` rather than the compiled loop (see Notes). Fold
        networks train one after another, each with the same callbacks (Keras
        resets a callback when a training begins); an ``EarlyStopping`` among
        them stops each fold network on its own, as ``n_iter_`` and the
        ``fold_<i>_loss`` curves of ``history_`` show.
    class_weight : None, "balanced", dict or array-like of shape (n_labels,), \
            default=None
        Weight of each label's positive examples in the loss. ``"balanced"``
        uses ``n_negative / n_positive`` per label; a dict maps label names
        (``classes_``) to weights. ``sample_weight`` in :meth:`fit` weights
        whole samples.
    loss : str, keras loss class, instance or callable, \
            default="binary_crossentropy"
        The per-label loss: ``"binary_crossentropy"`` or
        ``"binary_focal_crossentropy"``; Keras's ``BinaryCrossentropy`` or
        ``BinaryFocalCrossentropy`` class (its arguments routed as
        ``loss__<name>``, e.g. ``loss__label_smoothing=0.1``,
        ``loss__gamma=2``) or instance; or Keras's loss function of one of
        those names (a callable, ``keras.losses.binary_crossentropy``). Its
        ``from_logits`` is read from the
        network; any other loss is refused, as the outputs are one
        independent sigmoid per label.
    focal_gamma : float >= 0, default=0.0
        Focusing parameter of the focal loss; 0 is plain binary cross-entropy.
    threshold : str, callable, float or array-like of shape (n_labels,), \
            default="auto"
        How the probabilities become labels. A float (or one per label) is a
        fixed cut. Otherwise thresholds are learned per label, on scores the
        network gave to data it was not trained on (see ``threshold_cv``), to
        maximise:

        - ``"auto"``: ``"f1"`` for a multi-label target; for a binary 1-D
          target, ``"balanced_accuracy"``, which does not depend on which
          class sorts second (the default of scikit-learn's
          ``TunedThresholdClassifierCV``; chosen set by set in
          ``benchmarks/binary_targets.py``). A multiclass target's class is
          the most probable one, whatever the objective;
        - ``"f1"``: each label's F1 (what macro-F1 rewards); for a binary
          target, the second class's F1;
        - ``"jaccard"`` or ``"balanced_accuracy"``: each label's score;
        - :class:`~sklearn_mlk.FBeta` or a callable ``f(tp, fp, fn, tn)`` on
          the weighted counts: each label's score;
        - :class:`~sklearn_mlk.PrecisionAtLeast` or
          :class:`~sklearn_mlk.RecallAtLeast`: each label's best recall
          (precision) among the cuts whose precision (recall) reaches the
          bound; a label that cannot reach it gets a cut above every score
          (status ``"unreachable: ..."``);
        - ``"micro_f1"``: the micro-averaged F1 of all labels together (exact);
        - ``"samples_f1"``: the sample-averaged F1, with one threshold shared
          by all labels.

        Learned thresholds predict more labels than 0.5: better F1, worse
        Hamming loss and subset accuracy.
    threshold_cv : "auto", int >= 2 or float in (0, 1), default="auto"
        The tuning data of learned thresholds, split by iterative
        stratification so that rare labels are on both sides. An int ``k``
        trains ``k`` fold networks for out-of-fold scores of every row, each
        stopping early on its own tuning fold (see ``refit``). A float holds
        out that share of the rows: a network trains on the rest, with the
        hold-out as its early-stopping data, and scores the hold-out.
        ``"auto"`` is 5 folds (3 from 50,000 rows, and at most one per row).
        Where fit or prediction time matters more than the last of the
        macro-F1, ``threshold_cv=0.2, refit=False`` trains and predicts
        through one network instead of five, and ``refit="average"``
        predicts through one after the default's training (measured in
        ``benchmarks/cost.py`` and on the thresholds page of the guide).
    refit : bool, "auto" or "average", default="auto"
        Whether the kept network is trained again on all rows, for the number
        of epochs early stopping chose (the hold-out's, or the folds' median);
        the thresholds carry over. Otherwise, with ``k`` folds the ``k`` fold
        networks are kept as an ensemble: ``model_`` averages their
        probabilities (through a sigmoid each where they output logits) and
        predictions run through one fused NumPy plan (``k`` trainings instead
        of ``k + 1``);
        with a hold-out the network trained without it is kept (one training
        instead of two). ``"auto"`` keeps the ensemble of folds and refits
        after a hold-out. ``"average"`` (``k`` folds only) starts every fold
        network from the same weights and keeps one network holding the mean
        of their trained weights, which predicts at one network's cost where
        the ensemble costs ``k``; each label's learned threshold is moved to
        it so that it predicts the label for as many training rows as the
        fold networks did. It fits in about the ensemble's time and scores a
        little below it; ``refit=True`` also predicts through one network,
        closer to the ensemble's scores in a longer fit (the thresholds page
        of the guide).
    min_positives : int >= 0, default=3
        Labels with fewer positives in the tuning data (or none, or no
        negatives, or constant scores) get the threshold tuned on all labels
        pooled instead of their own. 0 tunes every label on its own.
    fbr : float in [0, 1] or None, default=None
        Floor of a label's tuned score (SCutFBR): below it, the label's
        threshold is set above every tuning score, so it is predicted only for
        samples scored higher than any seen in tuning. None disables it.
    min_labels : int >= 0, default=0
        Predict at least this many labels per sample, adding those with the
        largest margin (probability minus threshold). Read at prediction time,
        by :meth:`predict`, :meth:`predict_label_sets` and :meth:`score`;
        :meth:`decision_function` is the margin before the limits.
    max_labels : int >= 1 or None, default=None
        Predict at most this many labels per sample, keeping the largest
        margins; ``min_labels=max_labels=k`` predicts exactly ``k``. Read at
        prediction time, like ``min_labels``.
    warm_start : bool, default=False
        Continue training the fitted network instead of building a new one.
    memory_limit : "auto", int or None, default="auto"
        Before training, the fit estimates its peak memory from the weights
        of the networks it trains at once (see ``benchmarks/memory.py``) and
        raises ``MemoryError``, naming what to change, where the estimate
        exceeds this many bytes. ``"auto"`` is the memory available when the
        fit starts; None trains without the check.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation
        split. Process-wide random state is restored after the fit. A seeded
        fit repeats exactly with the same libraries on the same machine; on
        another machine or library version, floating-point rounding may
        differ in the last digits, and so may a prediction near a threshold.
    verbose : int, default=0
        Progress output: 0 silent; 1 a Keras progress bar over the epochs of
        each training, 2 one line per epoch. Each training (a tuning network,
        the fold networks, a refit) is named before its epochs.
    **routed_params : dict
        Parameters routed to Keras: ``model__<name>`` to the model callable,
        ``compile__<name>`` to ``Model.compile``, ``fit__<name>`` to
        ``Model.fit``, ``optimizer__<name>`` to the optimizer
        (``optimizer__learning_rate`` wins over ``learning_rate``),
        ``loss__<name>`` to the loss class, ``callbacks__<name>`` to a callback
        class and ``predict__batch_size`` to prediction. scikeras's names
        ``shuffle``, ``metrics`` and ``run_eagerly`` stand for ``fit__shuffle``,
        ``compile__metrics`` and ``compile__run_eagerly``. Routed compile or
        fit parameters (other than ``fit__shuffle``) train through
        ``Model.fit``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_labels,) or (n_classes,)
        Label names: column indices, DataFrame column names, or the sorted
        labels of label sets; the sorted classes of a 1-D target.
    n_classes_ : int
        Number of classes, or of labels for a multi-label target (as
        ``OneVsRestClassifier``'s).
    multilabel_ : bool
        Whether the target was multi-label (as ``OneVsRestClassifier``'s).
    label_binarizer_ : LabelBinarizer
        A fitted ``LabelBinarizer`` view of ``classes_``, its ``y_type_`` the
        target's type (as ``OneVsRestClassifier``'s). There is no
        ``estimators_``: one network serves every label; per-label scores are
        the columns of :meth:`predict_proba`, and the network is ``model_``.
    n_features_in_ : int
        Number of features seen during fit: ``X.shape[1]``, as scikit-learn
        counts it, for N-D input too (the full shape of a sample is checked
        at prediction).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string column names.
    model_ : keras.Model
        The trained network. When it is a chain of ``Dense`` layers (as the
        default MLP is), predictions run through a NumPy copy of its weights
        taken at the end of ``fit``, checked to reproduce its outputs.
    history_ : dict of list
        Per-epoch curves of every network the fit trained, extended by
        warm-started fits: ``loss`` (and ``val_loss`` with early stopping) of
        the kept network; for an ensemble (or their average), each fold
        network's as ``fold_<i>_loss`` and ``fold_<i>_val_loss``, and their mean over the
        epochs every member trained as ``loss`` and ``val_loss`` (it ends
        where the first fold network stopped early); for a refit, the
        tuning networks' as ``tuning_loss`` and ``tuning_val_loss`` (hold-out)
        or ``fold_<i>_...`` (k folds). Plot it with
        :class:`sklearn_mlk.TrainingHistoryDisplay`.
    n_iter_ : int or ndarray of shape (n_folds,)
        Epochs the kept network trained in the last fit; one per fold network
        for an ensemble and for their average (``refit="average"``).
    best_epoch_ : int, ndarray of shape (n_folds,) or None
        The epoch (from 1) whose weights early stopping kept, one per fold
        network for an ensemble or their average; for a refit, the tuning
        run's best epoch, which the refit trained for (the median over folds
        for k folds).
        None without early stopping.
    thresholds_ : ndarray of shape (n_labels,)
        Decision threshold of each label on its probability (one, of the
        second class, for a binary target; unused, 0.5, for a multiclass one).
    alpha_ : float
        The value of a list of ``alpha`` that the fit chose; only after a fit
        with a list.
    alpha_scores_ : ndarray of shape (n_values,)
        The out-of-fold score of each value of a list of ``alpha``, in its
        order (see ``alpha``); NaN where the fit learned no thresholds (too
        few rows). Only after a fit with a list.
    linear_path_ : bool
        Whether ``linear_path="auto"`` kept the network with the linear path;
        only after a fit that chose (see ``linear_path``).
    linear_path_scores_ : ndarray of shape (2,)
        The scores that chose ``linear_path_``, without and with the linear
        path in that order: the mean threshold scores of the pilot networks
        on their hold-out, or of the two fits out of fold (see
        ``linear_path``); NaN for a fit refused for memory. Only after a fit
        that chose.
    threshold_scores_ : ndarray of shape (n_labels,)
        Each label's objective at its threshold on the tuning data (its F1 for
        ``"micro_f1"`` and ``"samples_f1"``); NaN for fixed thresholds.
    threshold_status_ : ndarray of str, shape (n_labels,)
        How each threshold was set: ``"tuned"``, ``"shared"`` (samples-F1),
        ``"floored"`` (below ``fbr``), ``"fixed"``, or ``"fallback: <why>"``
        (the pooled threshold, for too few positives, no negatives or
        constant scores; or 0.5, for too few samples to learn thresholds);
        ``"argmax"`` for a multiclass target.

    Notes
    -----
    On the TensorFlow and JAX backends, a network built from Keras's own
    layers and model classes trains in a compiled loop rather than
    ``Model.fit``: each epoch (TensorFlow) or step (JAX) is one compiled
    function, compiled once per architecture, optimizer and loss and reused by
    later fits in the same thread, so that repeated fits (grid searches,
    cross-validation) neither compile again nor grow in memory. It computes
    the same loss, gradient steps and early stopping as ``Model.fit``; on
    TensorFlow a plain Adam (the default) updates each weight tensor with the
    fused Adam kernel, the same update in one pass and without temporaries.
    The four most recently used configurations are kept (networks of over 4M
    weights train in place, uncached). Callbacks, routed compile or fit
    parameters and subclassed models train through ``Model.fit``, as every
    network does on PyTorch.

    Sparse X is densified whole only where the dense copy is small (at most
    2**24 values); larger sparse X is densified one batch at a time, except
    that on TensorFlow a network whose input is read by one ``Dense`` layer
    alone (the default MLP) trains on sparse batches as they are where that
    pays (very sparse X and a large first layer; see the speed page of the
    user guide).

    A fit whose training loss, weights or outputs on its training rows
    become NaN or infinite raises a ``ValueError``; one whose training loss
    ends more than ten times above that of predicting each label's frequency
    warns (``ConvergenceWarning``). A fit that raises leaves the estimator as
    it was before.

    When ``OMP_NUM_THREADS`` is set (as joblib does in its worker processes,
    to ``cores // n_jobs``), TensorFlow's thread pools follow it, so that
    ``GridSearchCV(n_jobs=k)`` does not oversubscribe the cores.

    See Also
    --------
    sklearn.multiclass.OneVsRestClassifier : One binary classifier per label.
    sklearn.neural_network.MLPClassifier : scikit-learn's own neural network.

    Examples
    --------
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sklearn_mlk import KerasMultiLabelClassifier
    >>> X, Y = make_multilabel_classification(n_samples=100, random_state=0)
    >>> clf = KerasMultiLabelClassifier(hidden_layer_sizes=(16,), epochs=5,
    ...                                 early_stopping=False, random_state=0).fit(X, Y)
    >>> clf.predict(X[:2]).shape
    (2, 5)
    """

    _parameter_constraints: dict = {
        "model": [None, callable],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [str, callable],
        "dropout": [Interval(Real, 0, 1, closed="left"), StrOptions({"auto"})],
        "linear_path": ["boolean", StrOptions({"auto"})],
        "alpha": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"}), "array-like"],
        "optimizer": [str, type, HasMethods(["get_config"])],
        "learning_rate": [None, StrOptions({"auto"}),
                          Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), Options(Integral, {-1})],
        "epochs": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"),
                             StrOptions({"auto"})],
        "tol": [None, Interval(Real, 0, None, closed="neither")],
        "callbacks": [None, list, tuple, HasMethods(["set_model"]), type],
        "class_weight": [None, StrOptions({"balanced"}), dict, "array-like"],
        "loss": [str, type, HasMethods(["get_config"]), callable],
        "focal_gamma": [Interval(Real, 0, None, closed="left")],
        "threshold": [
            Interval(Real, 0, 1, closed="both"),
            "array-like",
            StrOptions(set(OBJECTIVES) | {AUTO}),
            callable,
        ],
        "threshold_cv": [
            StrOptions({"auto"}),
            Interval(Integral, 2, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="neither"),
        ],
        "refit": ["boolean", StrOptions({"auto", "average"})],
        "min_positives": [Interval(Integral, 0, None, closed="left")],
        "fbr": [None, Interval(Real, 0, 1, closed="both")],
        "min_labels": [Interval(Integral, 0, None, closed="left")],
        "max_labels": [None, Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "memory_limit": [None, StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model=None,
        *,
        hidden_layer_sizes=(256,),
        activation="relu",
        dropout="auto",
        linear_path="auto",
        alpha="auto",
        optimizer="adam",
        learning_rate="auto",
        batch_size=64,
        epochs="auto",
        early_stopping="auto",
        validation_fraction=0.1,
        n_iter_no_change="auto",
        tol=None,
        callbacks=None,
        class_weight=None,
        loss="binary_crossentropy",
        focal_gamma=0.0,
        threshold="auto",
        threshold_cv="auto",
        refit="auto",
        min_positives=3,
        fbr=None,
        min_labels=0,
        max_labels=None,
        warm_start=False,
        memory_limit="auto",
        random_state=None,
        verbose=0,
        **routed_params,
    ):
        self.model = model
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.linear_path = linear_path
        self.alpha = alpha
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.callbacks = callbacks
        self.class_weight = class_weight
        self.loss = loss
        self.focal_gamma = focal_gamma
        self.threshold = threshold
        self.threshold_cv = threshold_cv
        self.refit = refit
        self.min_positives = min_positives
        self.fbr = fbr
        self.min_labels = min_labels
        self.max_labels = max_labels
        self.warm_start = warm_start
        self.memory_limit = memory_limit
        self.random_state = random_state
        self.verbose = verbose
        # Stored unvalidated, as scikit-learn requires of __init__; fit and
        # set_params reject names that are not routed, with a suggestion.
        for name, value in routed_params.items():
            setattr(self, name, value)
        # scikeras's subclass pattern names routed parameters in its own
        # __init__ (``optimizer__learning_rate=0.001``) without storing them:
        # they take the default their signature gives.
        if type(self) is not KerasMultiLabelClassifier:
            for name, default in _subclass_routed_defaults(type(self)).items():
                if name not in vars(self):
                    setattr(self, name, default)

    # -- parameters ---------------------------------------------------------

    @classmethod
    def _get_param_names(cls):
        """The constructor's parameters; for a subclass whose ``__init__``
        passes ``**kwargs`` on (scikeras's pattern), this class's as well."""
        names = set(super()._get_param_names())
        if cls is not KerasMultiLabelClassifier and any(
                p.kind is inspect.Parameter.VAR_KEYWORD
                for p in inspect.signature(cls.__init__).parameters.values()):
            names |= set(KerasMultiLabelClassifier._get_param_names())
        return sorted(names)

    def _routed_params(self):
        """Keyword parameters beyond the named ones (routed, or misspelt), and
        routed ones a subclass's ``__init__`` names. This class's own
        parameters are never among them: a subclass whose ``__init__`` fixes
        some (``super().__init__(epochs=20)``) and names none keeps them as
        attributes, as scikit-learn's subclasses do."""
        named = set(self._get_param_names()) | set(
            KerasMultiLabelClassifier._get_param_names())
        return {
            k: v
            for k, v in vars(self).items()
            if (k not in named or is_routed(k)) and not k.startswith("_")
            and not k.endswith("_")
        }

    def get_params(self, deep=True):
        """Get parameters, routed ``model__``/``compile__``/... ones included."""
        params = super().get_params(deep=deep)
        params.update(self._routed_params())
        return params

    def set_params(self, **params):
        """Set parameters; routed names are stored as given, typos raise.

        Any name :meth:`get_params` returns is accepted, so that
        ``set_params(**get_params())`` always works: a misspelt name given
        to the constructor (stored there unvalidated, as scikit-learn
        requires of ``__init__``) is rejected by :meth:`fit` instead. So is
        an argument of the model callable given without its ``model__``
        prefix, as scikeras takes it.
        """
        own = self._get_param_names()
        model = params.get("model", self.model)
        accepted = explicit_keywords(model if model is not None
                                     else getattr(self, "_keras_build_fn", None))
        free = set(self._routed_params()) | {
            k for k in params
            if k in ALIASES or k in PARAMETER_ALIASES or (k in accepted and k not in own)}
        check_names([k for k in params if k not in free], type(self).__name__, own)
        plain = {k: v for k, v in params.items() if not is_routed(k) and k not in free}
        super().set_params(**plain)
        for name, value in params.items():
            if is_routed(name) or name in free:
                setattr(self, name, value)
        return self

    def _builder(self):
        """The model to build: ``model``, or where that is None a subclass's
        ``_keras_build_fn`` (scikeras's hook for defining the model)."""
        for hook in ("feature_encoder", "target_encoder"):
            if hasattr(type(self), hook):
                raise TypeError(
                    f"{type(self).__name__} defines scikeras's {hook} hook, which this "
                    "estimator does not call: encode X with a transformer before it in "
                    "a Pipeline; y may be an indicator, label sets or class labels, "
                    "encoded by the estimator itself.")
        hook = getattr(self, "_keras_build_fn", None)
        if hook is None:
            return self.model
        if self.model is not None:
            raise ValueError(f"{type(self).__name__} defines _keras_build_fn and was "
                             "given model= as well; give the network one way.")
        return hook

    def _model_arguments(self, extra):
        """Split the extra parameters into those routed by prefix and the
        arguments of the model callable.

        A model callable gets its ``model__<name>`` parameters, its arguments
        given without the prefix (as scikeras routes them), and the
        estimator's own parameters its signature names, such as
        ``hidden_layer_sizes``, ``activation`` or ``dropout``: a name the
        estimator shares with the callable is passed on, never dropped.
        """
        own = self._get_param_names()
        accepted = explicit_keywords(self._builder())
        unprefixed = {k: v for k, v in extra.items() if not is_routed(k) and k in accepted}
        check_names([k for k in extra if k not in unprefixed], type(self).__name__, own)
        routed = split_routed({k: v for k, v in extra.items() if k not in unprefixed})
        twice = sorted(set(unprefixed) & set(routed["model"]))
        if twice:
            raise ValueError(f"{twice[0]} is given both as {twice[0]}= and "
                             f"model__{twice[0]}=; give it once.")
        shared = {name: getattr(self, name) for name in own
                  if name in accepted and name != "model"}
        routed["model"] = {**shared, **unprefixed, **routed["model"]}
        return routed

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.classifier_tags.multi_class = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = True
        tags.non_deterministic = self.random_state is None
        return tags

    # -- fitting ------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Train the network on X and the multi-label target y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training features. For a ``model`` of its own, an array of any
            rank, such as images ``(n_samples, height, width, channels)``,
            sequences or token ids: ``meta["input_shape_"]`` gives the model
            callable one sample's shape, and prediction takes samples of that
            shape. Sparse input is densified where small, else batch by batch.
            A Dask array or DataFrame (with ``y`` a 0/1 indicator, Dask or
            not) trains the default MLP block of rows by block, holding one
            block at a time: a fold is a set of blocks, and the thresholds
            come from a search over binned scores (the Dask guide).
        y : array-like, sparse matrix, DataFrame or sequence of label sets
            A 0/1 indicator matrix of shape (n_samples, n_labels), or the
            labels of each sample, e.g. ``[["news", "sport"], [], ["tech"]]``;
            or a 1-D binary or multiclass target of class labels, taken as
            ``OneVsRestClassifier`` takes it (see the class docstring). An
            indicator may leave entries unknown: NaN or ``pd.NA``, or -1 (also
            stored explicitly in a sparse matrix). Unknown entries are left
            out of the loss, of threshold tuning and of the stratified splits;
            a label unknown in every sample is an error. A column of class
            labels of shape (n_samples, 1), 0/1 included, is a 1-D target, as
            ``OneVsRestClassifier`` takes it; to train one label as a
            multi-label problem, pass label sets, a one-column DataFrame or a
            sparse column. A label present in every sample, or in none, is
            predicted with probability exactly 1 or 0, with the warning
            ``OneVsRestClassifier`` gives.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss: finite, non-negative and not
            all zero.
        **fit_params : dict
            Arguments of Keras's ``Model.fit`` for this fit, as the
            ``fit__<name>`` parameters route them; anything else raises a
            ``ValueError``, as ``OneVsRestClassifier.fit`` does. ``epochs``
            and ``batch_size`` set those parameters for this call only, as
            scikeras's ``fit`` takes them.

        Returns
        -------
        self : KerasMultiLabelClassifier
            The fitted estimator.
        """
        overrides = {name: fit_params.pop(name) for name in ("epochs", "batch_size")
                     if name in fit_params}
        self._check_fit_params(fit_params, "fit")
        trained = getattr(self, "model_", None) if self.warm_start else None
        try:
            with _one_fit_at_a_time(self), _as_before_on_failure(self, trained), \
                    _for_this_fit(self, overrides), _backend.fresh_names():
                return self._fit(X, y, sample_weight, fit_params)
        finally:
            # What the fit freed goes back to the system, where the process
            # would otherwise keep it (sklearn_mlk._memory).
            _memory.release_free_memory()

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None, **fit_params):
        """Train the network for one epoch on a batch, continuing from the last call.

        As ``MLPClassifier.partial_fit``: the first call builds the network
        and fixes the labels; each call trains one epoch on its batch through
        ``Model.fit``, whose optimizer keeps its state from call to call.
        Thresholds are not learned from the stream: the first call sets them
        to ``threshold`` where that is a number and to 0.5 otherwise (status
        ``"fallback: partial_fit ..."``); :meth:`tune_thresholds` learns them
        on held-out rows, and later calls keep what it learned. Called after
        :meth:`fit`, it continues the fitted network (a fold ensemble trains
        as one averaged network).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The batch's features.
        y : array-like, sparse matrix, DataFrame or sequence of label sets
            The batch's target, in any format :meth:`fit` takes.
        classes : array-like, default=None
            Required on the first call: every class of a 1-D target, or every
            label of label sets, across all calls (a batch may hold a few);
            for an indicator, one entry per column. Later calls may omit it;
            labels outside it raise a ``ValueError``.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample of the batch in the loss.
        **fit_params : dict
            Arguments of Keras's ``Model.fit`` for this call, as in :meth:`fit`.

        Returns
        -------
        self : KerasMultiLabelClassifier
        """
        from ._incremental import partial_fit

        self._check_fit_params(fit_params, "partial_fit")
        chosen = {}
        if _choice.candidates(self.alpha) is not None:
            if not hasattr(self, "alpha_"):
                raise ValueError(
                    f"alpha={_choice.shown(self.alpha)!r} is chosen by out-of-fold scores, which "
                    "partial_fit does not compute; give alpha one value, or fit first "
                    "(partial_fit then continues with the alpha_ that fit chose).")
            chosen = {"alpha": self.alpha_}
        with _one_fit_at_a_time(self), \
                _as_before_on_failure(self, getattr(self, "model_", None)), \
                _for_this_fit(self, chosen), _backend.fresh_names():
            return partial_fit(self, X, y, classes, sample_weight, fit_params)

    def _check_fit_params(self, fit_params, method):
        """Refuse keyword arguments of ``fit`` that Keras's ``Model.fit`` does
        not take, with the ``ValueError`` that ``OneVsRestClassifier`` raises."""
        if not fit_params:
            return
        from ._routing import keyword_names

        accepted = keyword_names(_backend.get_keras().Model.fit) or set()
        unknown = sorted(set(fit_params) - accepted)
        if unknown:
            raise ValueError(
                f"{type(self).__name__}.{method} got unexpected keyword arguments "
                f"{unknown}; it takes X, y, sample_weight and the arguments of "
                "Keras's Model.fit (as the fit__<name> parameters route them).")

    def _routed_with(self, fit_params):
        """The routed parameters, with ``fit``'s keyword arguments as ``fit__``."""
        return self._model_arguments({
            **self._routed_params(),
            **{f"fit__{name}": value for name, value in (fit_params or {}).items()}})

    def initialize(self, X, y):
        """Build the network for (X, y) without training it (scikeras's method).

        The estimator is then fitted as after a first :meth:`partial_fit`
        call that trained nothing: the labels are ``y``'s, the thresholds 0.5
        (or a fixed ``threshold``), and it predicts with the network's initial
        weights. For a network whose weights are set by other means (a
        pretrained model); :meth:`fit` needs no ``initialize`` first.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, of the shape the network takes.
        y : array-like, sparse matrix, DataFrame or sequence of label sets
            A target in any format :meth:`fit` takes; it names the labels.

        Returns
        -------
        self : KerasMultiLabelClassifier
        """
        from ._incremental import partial_fit

        self._validate_params()
        classes = MultiLabelTargetEncoder().fit(y).classes_
        with _one_fit_at_a_time(self), _as_before_on_failure(self, None):
            for name in ("model_", "_target_encoder"):  # a new network
                self.__dict__.pop(name, None)
            return partial_fit(self, X, y, classes, None, epochs=0)

    def _holdout_fraction(self):
        """``validation_fraction``, or scikeras's ``validation_split`` where given."""
        split = getattr(self, "validation_split", None)
        if split is None:
            return self.validation_fraction
        if isinstance(split, bool) or not isinstance(split, Real) or not 0 < split < 1:
            raise ValueError(f"validation_split must be a float in (0, 1), got {split!r}.")
        if self.validation_fraction != 0.1 and split != self.validation_fraction:
            raise ValueError("validation_split is scikeras's name for validation_fraction; "
                             "give one of them.")
        return float(split)

    def _warn_if_split_unused(self, trainer):
        """Say that ``validation_split`` went unused by this fit's networks."""
        if getattr(self, "validation_split", None) is not None and not trainer.held_out:
            _warn_once_per_search(
                f"validation_split={self.validation_split!r} sets validation_fraction, "
                "the hold-out on which a network stops early; this fit's networks "
                "stopped early on their threshold-tuning folds (or early stopping is "
                "off), so it was not used.")

    @property
    def current_epoch(self):
        """Epochs trained so far, warm starts and :meth:`partial_fit` calls
        included (scikeras's name); 0 before any."""
        return len(getattr(self, "history_", {}).get("loss", ()))

    def _fit(self, X, y, sample_weight, fit_params=None, out_of_fold=None):
        values = _choice.candidates(self.alpha)
        if values is not None:
            return self._choose_alpha(values, X, y, sample_weight, fit_params)
        routed = self._routed_with(fit_params)
        self._holdout_fraction()  # validation_split checked, used or not
        if not isinstance(self.alpha, str) and self.alpha and self._builder() is not None:
            raise ValueError(
                f"alpha={self.alpha!r} penalises the default MLP's weights, but model "
                "builds a network of its own; give its layers kernel_regularizer="
                "keras.regularizers.L2(...) instead, or set alpha=0.")
        if any(_dask.is_collection(a) for a in (X, y, sample_weight)):
            from ._dask import _fit

            return _fit.fit(self, X, y, sample_weight, routed)
        hidden = self._check_hidden_layer_sizes()
        warm = self.warm_start and hasattr(self, "model_")
        previous = self._fitted_input_shape() if warm else None
        given = X, sample_weight  # as the user gave them, for a choice's fits
        X = self._validate_training_X(X, reset=True)
        if warm and X.shape[1:] != previous:
            shown = X.shape[1] if X.ndim == 2 else X.shape[1:]
            raise ValueError(
                f"X has {shown} features, but warm_start=True continues "
                f"training a network fitted on "
                f"{previous[0] if len(previous) == 1 else previous}; set "
                "warm_start=False to train a new network on them."
            )
        self._input_shape = tuple(X.shape[1:])
        encoder = MultiLabelTargetEncoder()
        Y = encoder.fit_transform(y)
        check_consistent_length(X, Y)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float32,
                                             ensure_non_negative=True)
        classes = encoder.classes_
        # The network's output columns: the labels, one column for a binary
        # target, one per class for a multiclass one.
        labels = encoder.labels_
        # scikit-learn's target type: the 1-D kinds are named as it names them.
        kind = encoder.kind_ if encoder.kind_ in ("binary", "multiclass") else \
            "multilabel-indicator"
        target = (kind, classes)
        self._check_label_limits(len(labels))
        fixed_cut = is_fixed(self.threshold)
        if warm:
            self._check_warm_start(classes)
        if _choice.chooses_linear_path(self, hidden, len(labels), X.shape[0], warm):
            return self._choose_linear_path(given[0], y, given[1], fit_params,
                                            out_of_fold, previous=warm)
        if fixed_cut:
            tuned = fixed(self.threshold, len(labels))
        seed = _backend.draw_seed(self.random_state)
        history = {k: list(v) for k, v in self.history_.items()} if warm else {}
        warm_model = (self.model_, self._from_probability) if warm else None

        masked = known_entries(Y) is not None
        if fixed_cut:
            trainer = Trainer(self, routed, hidden, labels, self.early_stopping is True,
                              target, column_weights(self.class_weight, encoder), masked,
                              n_rows=X.shape[0])
            trainer.say_auto(None, X.shape[0])
            net = trainer.train(X, Y, sample_weight, warm_model, seed)
        else:
            from . import _tuning
            from ._training import _schemes

            plan = _tuning.scheme(self.threshold_cv, self.refit, self.early_stopping,
                                  X.shape[0], self.tol)
            pilot = _choice.is_pilot(self) and plan.k is not None
            if pilot:
                plan = _tuning.pilot(plan)
            if plan.notes:
                _warn_once_per_search("; ".join(plan.notes) + ".")
            trainer = Trainer(self, routed, hidden, labels, plan.early_stopping, target,
                              column_weights(self.class_weight, encoder), masked,
                              n_rows=X.shape[0])
            # The fold networks of an ensemble are held, and train, together.
            trainer.n_networks = plan.k if plan.ensemble else 1
            if not pilot:  # (the fit after the pilots says it)
                trainer.say_auto(plan, X.shape[0])
            tuning = _schemes.run(plan, trainer, X, Y, sample_weight, warm_model, seed)
            net = tuning.net
            if plan.fixed:
                why = f"fallback: {X.shape[0]} samples < {_tuning.MIN_TUNE_ROWS}"
                tuned = fixed(0.5, len(labels))._replace(
                    status=np.full(len(labels), why))
            elif encoder.kind_ == "multiclass":
                tuned = argmax_thresholds(len(labels))
                if out_of_fold is not None:  # what a choice of alpha scores
                    out_of_fold.append((tuning.scores, tuning.Y, tuning.w))
            else:
                tuned = self._tune(tuning.scores, tuning.Y, tuning.w, encoder.kind_)
            if plan.average:
                from ._training._average import averaged

                # A multiclass target's class is the argmax: no threshold to move.
                matched = encoder.kind_ != "multiclass"
                net, moved = averaged(net, X, sample_weight, tuned if matched else None,
                                      warm_model)
                tuned = moved if matched else tuned
                if self.verbose:
                    print(f"Kept one network holding the mean of the {plan.k} fold "
                          "networks' weights, each label's threshold moved to predict it "
                          "for as many training rows as the fold networks did.",
                          flush=True)

        from ._training._divergence import warn_if_diverged
        from ._tuning import epochs_run

        self._warn_if_split_unused(trainer)

        warn_if_diverged(net.history, net.baseline)
        runs = {} if fixed_cut else tuning.runs
        for key, values in {**runs, **net.history}.items():
            history.setdefault(key, []).extend(values)
        n_iter, best = epochs_run(net.history, runs, not fixed_cut and plan.ensemble)
        constant = None
        if encoder.kind_ not in ("binary", "multiclass"):
            constant = _warn_constant_labels(Y, classes)
        return self._keep(encoder, net, tuned, history, n_iter, best, constant)

    def _choose_alpha(self, values, X, y, sample_weight, fit_params):
        """Fit once per value of a list of ``alpha`` and keep the fit whose
        out-of-fold score is highest (:mod:`sklearn_mlk._choice`)."""
        shown = f"alpha={_choice.shown(self.alpha)!r}"
        if is_fixed(self.threshold):
            raise ValueError(
                f"{shown} chooses by the out-of-fold scores of learned thresholds, "
                f"but threshold={self.threshold!r} is fixed and learns none; give "
                "alpha one value, or let the thresholds be learned.")
        if self._builder() is not None:
            raise ValueError(
                f"{shown} chooses among penalties of the default MLP, but model builds "
                "a network of its own; give its layers kernel_regularizer="
                "keras.regularizers.L2(...) instead.")
        if self.warm_start and hasattr(self, "model_"):
            if not hasattr(self, "alpha_"):
                raise ValueError(
                    f"warm_start=True continues the fitted network, but it was not "
                    f"fitted with a list of alpha and {shown} would choose among fresh "
                    "ones; set warm_start=False to choose, or give alpha one value.")
            return self._continue_choice("alpha", X, y, sample_weight, fit_params)
        scores, _ = self._fit_each(
            "alpha", values, X, y, sample_weight, fit_params,
            lambda i, value: f"Fitting with alpha={value:g} ({i + 1} of {len(values)}):")
        chosen = _choice.best(scores)
        self.alpha_, self.alpha_scores_ = values[chosen], np.asarray(scores)
        if self.verbose:
            print(_choice.describe(values, scores, chosen), flush=True)
        return self

    def _choose_linear_path(self, X, y, sample_weight, fit_params, out_of_fold,
                            previous=False):
        """Keep the default MLP without or with its linear path, whichever
        scores higher out of fold (:mod:`sklearn_mlk._choice`); a warm start
        (``previous``) continues the network the last choice kept.

        Where the fit trains fold networks, one pilot network of each kind is
        fitted on a hold-out of one fold's share, and only the chosen kind is
        then fitted on the folds; otherwise each kind is fitted in full and the
        better fit kept. Where a fit with the path is refused for memory, the
        network without it is kept, with a warning.
        """
        if previous:
            return self._continue_choice("linear_path", X, y, sample_weight, fit_params,
                                         out_of_fold)
        refused = ("linear_path='auto' kept the network without the linear path, "
                   "whose fit was refused: ")
        pilot = _choice.pilots(self.threshold_cv)
        seed = _choice.shared_seed(self.random_state)  # the pilots' and the fit's
        if self.verbose and pilot:
            print(_choice.PILOT_NOTE, flush=True)
        with _notes.once_per_choice():  # the pilots and the fit: each note once
            with _for_this_fit(self, {"random_state": seed}), \
                    _choice.piloting(self, pilot):
                scores, found = self._fit_each(
                    "linear_path", (False, True), X, y, sample_weight, fit_params,
                    lambda i, value: (f"{'The pilot network' if pilot else 'Fitting'} "
                                      f"{'with' if value else 'without'} the linear path "
                                      f"({i + 1} of 2):"),
                    refused=refused, keep=not pilot)
            chosen = _choice.best(scores)
            if self.verbose:
                print(_choice.describe_linear_path(scores, chosen, pilot), flush=True)
            if pilot:
                found = []
                try:
                    self._fit_with({"random_state": seed, "linear_path": bool(chosen)},
                                   X, y, sample_weight, fit_params, found)
                except MemoryError as exc:
                    if not chosen:
                        raise
                    _warn_once_per_search(f"{refused}{exc}")
                    chosen, found = 0, []
                    self._fit_with({"random_state": seed, "linear_path": False},
                                   X, y, sample_weight, fit_params, found)
        if out_of_fold is not None:  # what an enclosing choice of alpha scores
            out_of_fold.extend(found)
        self.linear_path_, self.linear_path_scores_ = bool(chosen), np.asarray(scores)
        return self

    def _fit_with(self, overrides, X, y, sample_weight, fit_params, out_of_fold):
        """A fresh fit with the parameters ``overrides`` for this fit only."""
        with _for_this_fit(self, {"warm_start": False, **overrides}), \
                _backend.fresh_names():
            self._fit(X, y, sample_weight, fit_params, out_of_fold)

    def _fit_each(self, name, values, X, y, sample_weight, fit_params, announce,
                  refused=None, keep=True):
        """Fit once per value of the parameter ``name``, from one seed, and
        keep the fit whose out-of-fold score is highest, the first on a tie.

        Returns the scores, in the order of ``values``, and the kept fit's
        out-of-fold ``(scores, Y, w)`` list (for a multiclass target). With
        ``verbose``, ``announce(i, value)`` is printed before each fit. With
        ``refused`` (a note), a later value whose fit is refused for memory
        scores NaN and ends the choice, with that note and the reason as a
        warning; the first value's refusal is raised as ever. Without
        ``keep``, the fits are scored only, and the estimator is left as it was.
        """
        # One seed for every value: the same folds, first weights and batches.
        seed = _choice.shared_seed(self.random_state)
        before = dict(self.__dict__)
        scores, kept, kept_out_of_fold = [], before, []
        with _notes.once_per_choice():  # each note once, not once per value
            for i, value in enumerate(values):
                if self.verbose:
                    print(announce(i, value), flush=True)
                found = []
                try:
                    self._fit_with({"random_state": seed, name: value},
                                   X, y, sample_weight, fit_params, found)
                except MemoryError as exc:
                    if refused is None or not scores:
                        raise
                    _warn_once_per_search(f"{refused}{exc}")
                    scores.append(float("nan"))
                    break
                scores.append(_choice.score(self.threshold_scores_,
                                            found[0] if found else None))
                if keep and _choice.best(scores) == len(scores) - 1:
                    # the best so far; the others are freed
                    kept, kept_out_of_fold = dict(self.__dict__), found
                elif not keep:  # scored only: freed before the next fit
                    self.__dict__.clear()
                    self.__dict__.update(before)
        self.__dict__.clear()
        self.__dict__.update(kept)
        return scores, kept_out_of_fold

    def _continue_choice(self, name, X, y, sample_weight, fit_params, out_of_fold=None):
        """A warm start after a choice of ``name``: continue the network it
        kept, with the value it chose, and keep its ``<name>_`` and
        ``<name>_scores_`` (which the fit alone would drop)."""
        chosen = {f"{name}_": getattr(self, f"{name}_"),
                  f"{name}_scores_": getattr(self, f"{name}_scores_")}
        with _for_this_fit(self, {name: chosen[f"{name}_"]}):
            self._fit(X, y, sample_weight, fit_params, out_of_fold)
        self.__dict__.update(chosen)
        return self

    def _keep(self, encoder, net, tuned, history, n_iter, best, constant):
        """Set the fitted attributes from the trained network ``net`` and the
        thresholds ``tuned``: the last step of every fit."""
        # A fit of one alpha and one linear_path chooses none (_choose_alpha
        # and _choose_linear_path set them after).
        for name in ("alpha_", "alpha_scores_", "linear_path_", "linear_path_scores_"):
            self.__dict__.pop(name, None)
        self._constant_labels = constant
        self._target_encoder = encoder
        self._from_probability = net.from_probability
        self._plan = net.plan
        self.classes_ = encoder.classes_
        self.model_ = net.model
        self.history_ = history
        self.n_iter_, self.best_epoch_ = n_iter, best
        self.thresholds_, self.threshold_scores_, self.threshold_status_ = tuned
        return self

    def _tune(self, S, Y, w, kind):
        """Thresholds learned on scores S of targets Y (of the encoder's
        ``kind``) with weights w."""
        from ._thresholds import tune

        return tune(S, Y, w, objective_for(self.threshold, kind),
                    min_positives=self.min_positives, fbr=self.fbr)

    def tune_thresholds(self, X, y, sample_weight=None):
        """Learn the thresholds again on (X, y), without retraining the network.

        Uses the current ``threshold``, ``min_positives`` and ``fbr``
        parameters, so ``set_params(threshold=FBeta(2)).tune_thresholds(X, y)``
        moves the precision/recall trade-off of a fitted model. With a fixed
        ``threshold`` the thresholds are simply set to it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples the network was not trained on. Dask collections are
            read block by block, their scores binned as a Dask fit's are.
        y : array-like, sparse matrix, DataFrame or sequence of label sets
            Their true labels, in any format accepted by :meth:`fit`.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights: finite, non-negative and not all zero.

        Returns
        -------
        self : KerasMultiLabelClassifier
            The estimator with new ``thresholds_``, ``threshold_scores_`` and
            ``threshold_status_``.
        """
        check_is_fitted(self)
        self._validate_params()
        n_labels = len(self._target_encoder.labels_)
        if self._target_encoder.kind_ == "multiclass":
            tuned = argmax_thresholds(n_labels)
        elif is_fixed(self.threshold):
            tuned = fixed(self.threshold, n_labels)
        elif any(_dask.is_collection(a) for a in (X, y, sample_weight)):
            from ._dask._fit import tune_thresholds

            tuned = tune_thresholds(self, X, y, sample_weight)
        else:
            P = self._label_proba(X)
            Y = self._target_encoder.transform(y)
            check_consistent_length(P, Y)
            w = _check_sample_weight(sample_weight, P, dtype=np.float64,
                                     ensure_non_negative=True)
            tuned = self._tune(P, Y, w, self._target_encoder.kind_)
        self.thresholds_, self.threshold_scores_, self.threshold_status_ = tuned
        return self

    def _check_hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
        for units in sizes:
            if not isinstance(units, Integral) or isinstance(units, bool) or units < 1:
                raise ValueError(
                    f"hidden_layer_sizes must contain positive integers, got "
                    f"{self.hidden_layer_sizes!r}."
                )
        return tuple(int(u) for u in sizes)

    def _check_warm_start(self, classes):
        if len(classes) != len(self.classes_) or np.any(classes != self.classes_):
            raise ValueError(
                "warm_start=True needs the same labels as the previous fit; got "
                f"{classes.tolist()[:10]}, previously {self.classes_.tolist()[:10]}."
            )

    def _meta(self, X, Y, labels, sample_weight, target, pos_weight=None):
        """What a model callable gets as ``meta``; ``target`` is the
        ``(type, classes)`` of the target (``labels`` are the output columns)."""
        return meta_of(X.shape, X.dtype, Y.shape, label_totals(Y, sample_weight),
                       input_power(X), labels, target, pos_weight)

    # -- prediction ---------------------------------------------------------

    def decision_function(self, X):
        """Return each label's log-odds relative to its threshold.

        ``logit(p) - logit(threshold)``: within a label in the same order as
        ``predict_proba``, and positive exactly where the label passes its
        threshold (``predict_proba(X) >= thresholds_``). Where float
        probabilities cannot tell a score from its threshold (they round to
        it, or saturate at 0 or 1), the margin is the smallest float of the
        sign the probabilities give. With ``threshold=0.5`` this is the
        network's logit. Thresholds of 0 and 1 give margins of ``+inf`` and
        ``-inf``.

        ``min_labels`` and ``max_labels`` are applied by :meth:`predict` only.
        Without them, ``predict(X) == (decision_function(X) > 0)``. The margin
        is made for ``predict``: within a label it ranks samples as
        :meth:`predict_proba` does, but each label is shifted by its own
        threshold, so metrics that compare scores across labels (micro-averaged
        ROC AUC, label ranking average precision, coverage) should be given
        :meth:`predict_proba` instead.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples. For a Dask array or DataFrame, the result is a lazy Dask
            array computed block by block on the workers, through NumPy alone.

        Returns
        -------
        margin : ndarray of shape (n_samples, n_labels) or (n_samples,)
            Log-odds of each label minus the log-odds of its threshold; one
            column, as shape (n_samples,), for a binary target (the second
            class), and the log-odds of each class for a multiclass one.
        """
        if _dask.is_collection(X):
            from ._dask._predict import lazily

            return lazily(self, "decision_function", X)
        margin = margins(self._forward(X), self.thresholds_, self._from_probability,
                         getattr(self, "_constant_labels", None))
        return margin[:, 0] if self._target_encoder.kind_ == "binary" else margin

    def predict_proba(self, X):
        """Return the probability of each label.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples. For a Dask array or DataFrame, the result is a lazy Dask
            array computed block by block on the workers, through NumPy alone.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
            Independent probability of each label; rows need not sum to 1.
            For a 1-D target, shape (n_samples, n_classes) with rows summing
            to 1: ``[1 - p, p]`` for two classes, the classes' probabilities
            normalised for more.
        """
        if _dask.is_collection(X):
            from ._dask._predict import lazily

            return lazily(self, "predict_proba", X)
        return class_proba(self._label_proba(X), self._target_encoder.kind_)

    def predict_log_proba(self, X):
        """Return the natural logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of the shape of :meth:`predict_proba`
            ``log(predict_proba(X))``; ``-inf`` where a probability is 0.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    @property
    def multilabel_(self):
        """Whether the target was multi-label (``OneVsRestClassifier``'s name)."""
        check_is_fitted(self)
        return self._target_encoder.kind_ not in ("binary", "multiclass")

    @property
    def n_classes_(self):
        """The number of classes, or of labels for a multi-label target."""
        check_is_fitted(self)
        return len(self.classes_)

    @property
    def label_binarizer_(self):
        """A fitted ``LabelBinarizer`` view of the classes, as
        ``OneVsRestClassifier`` has one (its ``y_type_`` names the target's
        type)."""
        check_is_fitted(self)
        from sklearn.preprocessing import LabelBinarizer

        binarizer = LabelBinarizer(sparse_output=self._target_encoder.kind_ == "sparse")
        kind = self._target_encoder.kind_
        binarizer.classes_ = np.asarray(self.classes_)
        binarizer.y_type_ = kind if kind in ("binary", "multiclass") else \
            "multilabel-indicator"
        binarizer.sparse_input_ = kind == "sparse"
        return binarizer

    def _label_proba(self, X):
        """Each output column's sigmoid probability; exactly 1 or 0 for a label
        present in every training sample or in none."""
        return label_proba(self._forward(X), self._from_probability,
                           getattr(self, "_constant_labels", None))

    def _forward(self, X):
        """The network's outputs for X: probabilities or logits, as it ends."""
        check_is_fitted(self)
        X = self._validate_X(X)
        if self._plan is not None:
            # NumPy alone: Keras is not even imported (a Dask worker's case).
            from ._plan import run_plan

            outputs = run_plan(self._plan, X)
        else:
            from ._keras._network import forward

            batch_size = getattr(self, "predict__batch_size", None) or 4096
            batch_size = max(X.shape[0], 1) if batch_size == -1 else batch_size
            outputs = forward(self.model_, X, batch_size=batch_size)
        if self._target_encoder.kind_ == "binary" and outputs.shape[1] == 2:
            return outputs[:, 1:]  # a softmax over both classes: the second's
        return outputs

    def _fitted_input_shape(self):
        """The shape of one sample of X at fit: ``(n_features,)`` for tabular X."""
        return getattr(self, "_input_shape", (self.n_features_in_,))

    def _validate_training_X(self, X, reset):
        """X for training: float32, 2-D or sparse, or of any rank for a model
        that is not the default MLP (images, sequences, token ids)."""
        X = validate_data(self, X, reset=reset, accept_sparse="csr", dtype=np.float32,
                          allow_nd=True)
        if X.ndim > 2 and self._builder() is None:
            raise ValueError(
                f"X has shape {X.shape}, but the default MLP takes 2-D X of shape "
                "(n_samples, n_features). For images, sequences or other N-D input, "
                "pass a model (a model callable or a keras.Model taking that shape); "
                "or flatten X to 2-D.")
        return X

    def _validate_X(self, X):
        """Validated float32 X for prediction.

        A plain float NumPy array (the output of most pipelines) is checked
        here directly, which takes a fraction of ``validate_data``'s time for
        a single row; anything else, and any array that fails a check, goes
        through ``validate_data`` and its errors and warnings. N-D X must
        have the trailing shape it had at fit.
        """
        shape = self._fitted_input_shape()
        if (type(X) is np.ndarray and X.dtype.kind == "f" and X.shape[0] > 0
                and X.shape[1:] == shape and not hasattr(self, "feature_names_in_")):
            X = X.astype(np.float32, copy=False)
            if get_config()["assume_finite"] or np.isfinite(X.sum()):
                return X
        X = validate_data(self, X, reset=False, accept_sparse="csr", dtype=np.float32,
                          allow_nd=len(shape) > 1)
        if X.shape[1:] != shape:
            raise ValueError(f"X has samples of shape {X.shape[1:]}, but "
                             f"{type(self).__name__} was fitted on samples of shape "
                             f"{shape}.")
        return X

    def predict(self, X):
        """Return the predicted labels as an indicator matrix.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples. For a Dask array or DataFrame, the result is a lazy Dask
            array computed block by block on the workers, through NumPy alone.

        Returns
        -------
        Y : ndarray or scipy.sparse.csr_matrix of shape (n_samples, n_labels)
            0/1 indicator; sparse when the training target was sparse. For a
            1-D target, the predicted class of each sample, shape (n_samples,):
            the second class where its probability reaches its threshold
            (binary), the most probable class (multiclass).
        """
        if _dask.is_collection(X):
            from ._dask._predict import lazily

            return lazily(self, "predict", X)
        indicator = self._decide(X)
        return self._target_encoder.inverse_transform(indicator)

    def predict_label_sets(self, X):
        """Return the predicted labels of each sample as a tuple of names.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        label_sets : list of tuple
            For each sample, the ``classes_`` predicted for it.
        """
        indicator = self._decide(X)
        return self._target_encoder.label_sets(indicator)

    def score(self, X, y, sample_weight=None):
        """Return the subset accuracy (exact match of the whole label set).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        y : array-like, sparse matrix, DataFrame or sequence of label sets
            True labels, in any format accepted by :meth:`fit`.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Share of samples whose predicted label set equals the true one.
        """
        check_is_fitted(self)
        Y = self._target_encoder.transform(y)
        if known_entries(Y) is not None:
            raise ValueError(
                "y has unknown entries, and subset accuracy needs every label of a "
                "sample known. Score the known entries, e.g. with f1_score on "
                "y[mask] and predict(X)[mask]."
            )
        predicted = self._decide(X).astype(np.float32)
        return float(accuracy_score(Y, predicted, sample_weight=sample_weight))

    def _decide(self, X):
        """Boolean indicator: thresholds, then the per-sample label limits; the
        most probable class for a multiclass target."""
        P = self._label_proba(X)
        kind = self._target_encoder.kind_
        if kind not in ("binary", "multiclass"):
            self._check_label_limits(P.shape[1])
        return indicator(P, self.thresholds_, kind, self.min_labels, self.max_labels)

    def _check_label_limits(self, n_labels):
        low, high = self.min_labels, self.max_labels
        if low > n_labels:
            raise ValueError(
                f"min_labels={low} exceeds the number of labels, {n_labels}."
            )
        if high is not None and high < low:
            raise ValueError(f"max_labels={high} is below min_labels={low}.")

    # -- saving -------------------------------------------------------------

    def save(self, path):
        """Save the fitted estimator to one file that loads without running code.

        The file holds the Keras network in the ``.keras`` format and the
        parameters and fitted attributes as JSON and arrays; read it back with
        :func:`sklearn_mlk.load`. Unlike a pickle, loading it runs no code from
        the file (see :func:`sklearn_mlk.load` for the checks). The file is
        replaced atomically: a save that fails or is killed leaves the old
        one intact. Parameters that are code (a model callable, callbacks, an
        optimizer instance, a custom objective) are not stored: the loaded
        estimator predicts as this one does, and needs them set again before
        it can fit. :func:`sklearn_mlk.save` saves a pipeline holding the
        estimator.

        Parameters
        ----------
        path : str or path-like
            Where to write the file.

        Returns
        -------
        self : KerasMultiLabelClassifier
        """
        from ._saving._estimator import save

        save(self, path)  # atomic: a failed save leaves the old file
        return self

    def _validate_params(self):
        unsaved = {name: value for name, value in self.get_params(deep=False).items()
                   if isinstance(value, Unsaved)}
        if unsaved:
            raise ValueError(
                f"This estimator was loaded from a file that could not store "
                f"{', '.join(f'{k}={v!r}' for k, v in unsaved.items())} (code, not "
                f"data); set {', '.join(f'{k}=...' for k in unsaved)} with "
                "set_params before fitting or tuning thresholds."
            )
        super()._validate_params()

    def _restore_plan(self):
        """Rebuild the NumPy prediction plan of a loaded ``model_``."""
        from ._training._trainer import plan_of

        self._plan = plan_of(self.model_, self._from_probability,
                             self._fitted_input_shape())

    # -- pickling -----------------------------------------------------------

    def __getstate__(self):
        from ._pickling import to_pickle

        return to_pickle(super().__getstate__())

    def __setstate__(self, state):
        from ._pickling import from_pickle

        super().__setstate__(from_pickle(state, type(self).__name__))


def _subclass_routed_defaults(cls):
    """The routed parameters a subclass's ``__init__`` names, with defaults."""
    return {name: p.default
            for name, p in inspect.signature(cls.__init__).parameters.items()
            if is_routed(name) and p.default is not inspect.Parameter.empty}


