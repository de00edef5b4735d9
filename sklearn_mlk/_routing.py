"""Routed parameters: ``model__``, ``compile__``, ``fit__``, ``optimizer__``,
``loss__``, ``callbacks__`` and ``predict__``.

A routed parameter is passed through to the model callable, ``Model.compile``,
``Model.fit``, the optimizer's or the loss's constructor, a callback class's
constructor, or prediction. Routed names work in ``set_params`` and in
``GridSearchCV`` parameter grids. A name that looks like a typo of a real
parameter fails loudly, with the likely intended name. scikeras's own names
for some Keras arguments (``shuffle``, ``metrics``, ``run_eagerly``) are
taken as the routed names they stand for (:data:`ALIASES`).
"""

import difflib
import inspect

ROUTES = ("model", "compile", "fit", "optimizer", "loss", "callbacks", "metrics", "predict")

# scikeras's unprefixed names for Keras arguments, and the routed names they
# stand for here.
ALIASES = {"shuffle": "fit__shuffle", "metrics": "compile__metrics",
           "run_eagerly": "compile__run_eagerly"}
# scikeras's names for the estimator's own parameters.
PARAMETER_ALIASES = {"validation_split": "validation_fraction"}
# What prediction takes from predict__ parameters.
PREDICT_ARGUMENTS = {"batch_size"}

# Keras arguments the estimator owns; routing them would silently bypass it.
_OWNED = {
    "fit": {
        "x": "X",
        "y": "y",
        "epochs": "epochs",
        "batch_size": "batch_size",
        "validation_split": "validation_split (or validation_fraction)",
        "validation_data": "early_stopping and validation_fraction",
        "sample_weight": "fit(..., sample_weight=...)",
        "class_weight": "class_weight",
        "callbacks": "callbacks",
        "verbose": "verbose",
        "initial_epoch": "warm_start",
    },
    "compile": {
        "optimizer": "optimizer",
        "loss": "loss",
    },
}


def is_routed(name):
    """True if ``name`` is ``<route>__<argument>`` for a known route."""
    prefix, sep, rest = name.partition("__")
    return bool(sep) and prefix in ROUTES and bool(rest)


def suggest(name, valid_names):
    """Return the most likely intended parameter name for ``name``, or None."""
    prefix, sep, rest = name.partition("__")
    if sep and rest:
        close = difflib.get_close_matches(prefix, ROUTES, n=1, cutoff=0.6)
        if close:
            return f"{close[0]}__{rest}"
    for route in ROUTES:
        for joiner in ("_", ""):
            head = route + joiner
            if name.startswith(head) and len(name) > len(head):
                return f"{route}__{name[len(head):]}"
    close = difflib.get_close_matches(name, list(valid_names), n=1, cutoff=0.75)
    return close[0] if close else None


def unknown_parameter_message(name, owner, valid_names):
    """One-sentence error for an unknown parameter, with a suggestion."""
    message = f"{owner} got an unexpected parameter {name!r}"
    for owned in _OWNED.values():  # a Keras argument the estimator sets itself
        if name in owned and owned[name] != name:
            return message + f"; the estimator sets it itself: use {owned[name]}."
    hint = suggest(name, valid_names)
    if hint is not None:
        return message + f"; did you mean {hint!r}?"
    routes = ", ".join(f"{route}__" for route in ROUTES)
    return (
        message + f". Routed parameters must start with one of {routes}; "
        f"valid parameters are {sorted(valid_names)}."
    )


def check_names(names, owner, valid_names):
    """Raise ``ValueError`` for the first name neither valid, routed nor an alias.

    The same error, whether the name came through the constructor,
    ``set_params`` or a parameter grid.
    """
    for name in names:
        if name not in valid_names and not is_routed(name) and name not in ALIASES \
                and name not in PARAMETER_ALIASES:
            raise ValueError(unknown_parameter_message(name, owner, valid_names))


_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def keyword_names(function):
    """The names ``function`` accepts as keywords, or None if it takes ``**kwargs``."""
    parameters = inspect.signature(function).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return explicit_keywords(function)


def explicit_keywords(function):
    """The names ``function`` declares as keywords (``**kwargs`` aside); an
    empty set for anything but a plain callable (None, a ``keras.Model``)."""
    if function is None or not callable(function) or hasattr(function, "layers"):
        return set()
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return set()
    return {p.name for p in parameters if p.kind in _KEYWORD} - {"self"}


def constructor_names(cls):
    """The keywords of ``cls(...)``: its ``__init__``'s and those of the
    classes it passes ``**kwargs`` on to (as Keras optimizers do)."""
    names = set()
    for klass in cls.__mro__[:-1]:  # object's takes nothing
        if "__init__" not in vars(klass):
            continue
        parameters = inspect.signature(klass.__init__).parameters.values()
        names |= {p.name for p in parameters if p.kind in _KEYWORD}
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
            break
    return names - {"self"}


def check_arguments(arguments, route, accepted, owner):
    """Raise ``ValueError`` for a routed argument that ``owner`` does not take.

    ``accepted`` is the set of names ``owner`` takes, or None for any name.
    """
    if accepted is None:
        return
    for argument in arguments:
        if argument in accepted:
            continue
        message = (f"{route}__{argument} is routed to {owner}, which has no "
                   f"argument {argument!r}")
        close = difflib.get_close_matches(argument, sorted(accepted), n=1, cutoff=0.6)
        if close:
            raise ValueError(message + f"; did you mean '{route}__{close[0]}'?")
        raise ValueError(message + f"; its arguments are {sorted(accepted)}.")


def split_routed(params):
    """Group routed parameters by route: ``{"fit": {"shuffle": False}, ...}``."""
    routed = {route: {} for route in ROUTES}
    for name, value in params.items():
        name = ALIASES.get(name, name)
        if is_routed(name):
            route, _, argument = name.partition("__")
            if argument in routed[route]:
                raise ValueError(f"{route}__{argument} is given twice, as "
                                 f"{route}__{argument} and as its alias "
                                 f"{[a for a, n in ALIASES.items() if n == name][0]}.")
            routed[route][argument] = value
    for route, owned in _OWNED.items():
        for argument in routed[route]:
            if argument in owned:
                raise ValueError(
                    f"{route}__{argument} is set by the estimator; use "
                    f"{owned[argument]} instead."
                )
    check_arguments(routed["predict"], "predict", PREDICT_ARGUMENTS, "prediction")
    return routed
