"""The estimator's pickled state: its network as Keras's own archive bytes.

A pickle round trip keeps what a continued stream of ``partial_fit`` calls
needs (the optimizer's state: Adam's moments, say), so that it goes on as it
would have without the round trip, as dask-ml's wrappers rely on. It carries
the classes of a subclassed network by reference, as pickle carries any
class, so that one Keras has no registration for loads again. Callbacks go
without the network Keras points them at once they trained it.
"""

import copy

from ._keras import _backend


def to_pickle(state):
    """``state`` (the estimator's ``__dict__``) with its network as bytes."""
    if "model_" in state:
        model = state["model_"]
        state = dict(state, model_=_backend.model_to_bytes(model),
                     _model_classes=_backend.custom_classes(model))
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and getattr(optimizer, "built", False):
            state["_optimizer_state"] = (
                type(optimizer), optimizer.get_config(),
                [_backend.to_numpy(v) for v in optimizer.variables])
    callbacks = state.get("callbacks")
    if isinstance(callbacks, (list, tuple)):
        state = dict(state, callbacks=type(callbacks)(_detached(c) for c in callbacks))
    elif getattr(callbacks, "_model", None) is not None:
        state = dict(state, callbacks=_detached(callbacks))
    return state


def from_pickle(state, owner):
    """The ``state`` :func:`to_pickle` made, with its network rebuilt; the
    optimizer state waits, as ``_resumed_optimizer``, for the next
    ``partial_fit`` to compile the network with it. ``owner`` names the
    estimator class in errors."""
    state = dict(state)
    if isinstance(state.get("model_"), bytes):
        classes = state.pop("_model_classes", None)
        try:
            state["model_"] = _backend.model_from_bytes(state["model_"], classes)
        except ValueError as exc:
            if "Lambda" not in str(exc):
                raise
            raise ValueError(
                f"This pickled {owner}'s network holds a Lambda layer, whose Python "
                "code Keras loads only in unsafe mode. If you trust the pickle "
                "(unpickling runs code anyway), call "
                "keras.config.enable_unsafe_deserialization() before loading it. To "
                "share a model that loads without running code, write the layer as a "
                "Layer subclass and use est.save and sklearn_mlk.load."
            ) from None
    if "_optimizer_state" in state:
        cls, config, values = state.pop("_optimizer_state")
        optimizer = cls.from_config(config)
        optimizer.build(state["model_"].trainable_variables)
        for variable, value in zip(optimizer.variables, values):
            variable.assign(value)
        state["_resumed_optimizer"] = optimizer
    return state


def _detached(callback):
    """A shallow copy of ``callback`` without the network Keras set on it."""
    if getattr(callback, "_model", None) is None:
        return callback
    callback = copy.copy(callback)
    callback._model = None
    return callback
