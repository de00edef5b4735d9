"""KerasMultiLabelClassifier: a Keras network as a scikit-learn multi-label classifier."""

from numbers import Integral, Real

import numpy as np
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from . import _backend
from ._routing import check_names, is_routed, split_routed
from ._targets import MultiLabelTargetEncoder
from ._thresholds import fixed_thresholds

# Sigmoid outputs are clipped this far from 0 and 1 before taking logits.
_PROBA_CLIP = 1e-7


class KerasMultiLabelClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label classifier backed by a Keras network with one sigmoid per label.

    The network is trained with binary cross-entropy (per-label positive
    weights optional) and its scores become label sets through one decision
    threshold per label.

    Parameters
    ----------
    model : None, callable or keras.Model, default=None
        The network. ``None`` builds an MLP from ``hidden_layer_sizes``,
        ``activation`` and ``dropout``. A callable is called at each fit with
        any of ``meta`` (a dict with ``n_features_in_``, ``n_labels_``,
        ``classes_``, ``label_prior_``, ...), ``compile_kwargs`` and the routed
        ``model__*`` parameters that its signature accepts, and must return a
        ``keras.Model``. A ``keras.Model`` is cloned with fresh weights at each
        fit; the instance passed is never trained. The output must be one unit
        per label, with a sigmoid (probabilities) or no activation (logits).
    hidden_layer_sizes : tuple of int, default=(256,)
        Units of each hidden layer of the default MLP.
    activation : str, default="relu"
        Activation of the hidden layers of the default MLP.
    dropout : float in [0, 1), default=0.0
        Dropout rate after each hidden layer of the default MLP.
    optimizer : str, keras optimizer class or instance, default="adam"
        Optimizer; an instance is copied, never reused. Its arguments can be
        routed as ``optimizer__<name>``.
    learning_rate : float, default=1e-3
        Learning rate of the optimizer.
    batch_size : int, default=64
        Samples per gradient step (capped at the number of samples).
    epochs : int, default=50
        Passes over the training data.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, stop when its loss has
        not improved for ``n_iter_no_change`` epochs, and restore the weights
        of the best epoch.
    validation_fraction : float in (0, 1), default=0.1
        Share of the samples held out when ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    callbacks : list of keras.callbacks.Callback, default=None
        Extra callbacks passed to ``Model.fit``.
    class_weight : None, "balanced", dict or array-like of shape (n_labels,), \
            default=None
        Weight of each label's positive examples in the loss. ``"balanced"``
        uses ``n_negative / n_positive`` per label; a dict maps label names
        (``classes_``) to weights. ``sample_weight`` in :meth:`fit` weights
        whole samples.
    threshold : float or array-like of shape (n_labels,), default=0.5
        Decision threshold on the probability of each label.
    warm_start : bool, default=False
        Continue training the fitted network instead of building a new one.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation
        split. Process-wide random state is restored after the fit.
    verbose : int, default=0
        Keras progress output: 0 silent, 1 progress bar, 2 one line per epoch.
    **routed_params : dict
        Parameters routed to Keras: ``model__<name>`` to the model callable,
        ``compile__<name>`` to ``Model.compile``, ``fit__<name>`` to
        ``Model.fit`` and ``optimizer__<name>`` to the optimizer.

    Attributes
    ----------
    classes_ : ndarray of shape (n_labels,)
        Label names: column indices, DataFrame column names, or the sorted
        labels of label sets.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.
    model_ : keras.Model
        The trained network.
    history_ : dict of list
        Per-epoch training metrics (``loss``, ``val_loss``, ...), extended by
        warm-started fits.
    thresholds_ : ndarray of shape (n_labels,)
        Decision threshold of each label on ``predict_proba``.

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
    ...                                 random_state=0).fit(X, Y)
    >>> clf.predict(X[:2]).shape
    (2, 5)
    """

    _parameter_constraints: dict = {
        "model": [None, callable],
        "hidden_layer_sizes": ["array-like"],
        "activation": [str, callable],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [str, type, HasMethods(["get_config"])],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "callbacks": [None, list],
        "class_weight": [None, StrOptions({"balanced"}), dict, "array-like"],
        "threshold": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model=None,
        *,
        hidden_layer_sizes=(256,),
        activation="relu",
        dropout=0.0,
        optimizer="adam",
        learning_rate=1e-3,
        batch_size=64,
        epochs=50,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        callbacks=None,
        class_weight=None,
        threshold=0.5,
        warm_start=False,
        random_state=None,
        verbose=0,
        **routed_params,
    ):
        self.model = model
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.class_weight = class_weight
        self.threshold = threshold
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        # Stored unvalidated, as scikit-learn requires of __init__; fit and
        # set_params reject names that are not routed, with a suggestion.
        for name, value in routed_params.items():
            setattr(self, name, value)

    # -- parameters ---------------------------------------------------------

    def _routed_params(self):
        """Keyword parameters beyond the named ones (routed, or misspelt)."""
        named = set(self._get_param_names())
        return {
            k: v
            for k, v in vars(self).items()
            if k not in named and not k.startswith("_") and not k.endswith("_")
        }

    def get_params(self, deep=True):
        """Get parameters, routed ``model__``/``compile__``/... ones included."""
        params = super().get_params(deep=deep)
        params.update(self._routed_params())
        return params

    def set_params(self, **params):
        """Set parameters; routed names are stored as given, typos raise."""
        check_names(params, type(self).__name__, self._get_param_names())
        plain = {k: v for k, v in params.items() if not is_routed(k)}
        super().set_params(**plain)
        for name, value in params.items():
            if is_routed(name):
                setattr(self, name, value)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.classifier_tags.multi_class = False
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.input_tags.sparse = True
        tags.non_deterministic = self.random_state is None
        return tags

    # -- fitting ------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on X and the multi-label target y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training features. Sparse input is densified one batch at a time.
        y : array-like, sparse matrix, DataFrame or sequence of label sets
            A 0/1 indicator matrix of shape (n_samples, n_labels), or the
            labels of each sample, e.g. ``[["news", "sport"], [], ["tech"]]``.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss.

        Returns
        -------
        self : KerasMultiLabelClassifier
            The fitted estimator.
        """
        snapshot = dict(self.__dict__)
        warm_model = snapshot.get("model_") if self.warm_start else None
        saved_weights = warm_model.get_weights() if warm_model is not None else None
        try:
            return self._fit(X, y, sample_weight)
        except BaseException:
            # A failed fit leaves the estimator exactly as it was before.
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            if saved_weights is not None:
                warm_model.set_weights(saved_weights)
            raise

    def _fit(self, X, y, sample_weight):
        extra = self._routed_params()
        check_names(extra, type(self).__name__, self._get_param_names(), TypeError)
        routed = split_routed(extra)
        hidden = self._check_hidden_layer_sizes()
        X = validate_data(self, X, reset=True, accept_sparse="csr", dtype=np.float32)
        encoder = MultiLabelTargetEncoder()
        Y = encoder.fit_transform(y)
        check_consistent_length(X, Y)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float32)
        classes = encoder.classes_
        thresholds = fixed_thresholds(self.threshold, len(classes))

        from ._losses import positive_weights
        from ._network import build_model, output_is_probability
        from ._training import compile_model, make_optimizer, train

        pos_weight = positive_weights(self.class_weight, Y, classes, sample_weight)
        seed = _backend.draw_seed(self.random_state)
        warm = self.warm_start and hasattr(self, "model_")
        if warm:
            self._check_warm_start(classes)
        with _backend.seeded(seed):
            if warm:
                model, from_probability = self.model_, self._from_probability
                history = {k: list(v) for k, v in self.history_.items()}
            else:
                meta = self._meta(X, Y, classes, sample_weight)
                model = build_model(
                    self.model,
                    meta,
                    routed["model"],
                    routed["compile"],
                    {
                        "hidden_layer_sizes": hidden,
                        "activation": self.activation,
                        "dropout": self.dropout,
                    },
                )
                from_probability = output_is_probability(model, len(classes))
                history = {}
            optimizer = make_optimizer(
                self.optimizer, self.learning_rate, routed["optimizer"]
            )
            compile_model(model, optimizer, pos_weight, from_probability, routed["compile"])
            new_history = train(
                model, X, Y, sample_weight,
                epochs=self.epochs,
                batch_size=self.batch_size,
                early_stopping=self.early_stopping,
                validation_fraction=self.validation_fraction,
                n_iter_no_change=self.n_iter_no_change,
                callbacks=self.callbacks,
                verbose=self.verbose,
                seed=seed,
                fit_params=routed["fit"],
            )
        for key, values in new_history.items():
            history.setdefault(key, []).extend(values)
        self._target_encoder = encoder
        self._from_probability = from_probability
        self.classes_ = classes
        self.model_ = model
        self.history_ = history
        self.thresholds_ = thresholds
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

    def _meta(self, X, Y, classes, sample_weight):
        # The label frequencies of the weighted data the network is trained on.
        prior = np.asarray(Y.T @ sample_weight).ravel() / sample_weight.sum()
        return {
            "n_features_in_": X.shape[1],
            "n_labels_": len(classes),
            "n_classes_": len(classes),
            "classes_": classes,
            "label_prior_": prior,
            "X_shape_": X.shape,
            "y_shape_": Y.shape,
            "target_type_": "multilabel-indicator",
        }

    # -- prediction ---------------------------------------------------------

    def decision_function(self, X):
        """Return the logit of each label.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        logits : ndarray of shape (n_samples, n_labels)
            Log-odds of each label; positive where the probability exceeds 0.5.
        """
        outputs = self._forward(X)
        if self._from_probability:
            return logit(np.clip(outputs, _PROBA_CLIP, 1 - _PROBA_CLIP))
        return outputs

    def predict_proba(self, X):
        """Return the probability of each label.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
            Independent probability of each label; rows need not sum to 1.
        """
        outputs = self._forward(X)
        return outputs if self._from_probability else expit(outputs)

    def _forward(self, X):
        """The network's outputs for X: probabilities or logits, as it ends."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse="csr", dtype=np.float32)
        from ._network import forward

        return forward(self.model_, X)

    def predict(self, X):
        """Return the predicted labels as an indicator matrix.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        Y : ndarray or scipy.sparse.csr_matrix of shape (n_samples, n_labels)
            0/1 indicator; sparse when the training target was sparse.
        """
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
        predicted = self._decide(X).astype(np.float32)
        return float(accuracy_score(Y, predicted, sample_weight=sample_weight))

    def _decide(self, X):
        """Boolean indicator: which labels pass their thresholds."""
        return self.predict_proba(X) >= self.thresholds_

    # -- pickling -----------------------------------------------------------

    def __getstate__(self):
        state = super().__getstate__()
        if "model_" in state:
            state = dict(state, model_=_backend.model_to_bytes(state["model_"]))
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            state = dict(state, model_=_backend.model_from_bytes(state["model_"]))
        super().__setstate__(state)

