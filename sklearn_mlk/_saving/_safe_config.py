"""An allow-list check of a saved network's Keras config, before Keras reads it.

Keras's ``safe_mode`` refuses ``Lambda`` layers, but it still builds any
class a config names inside the ``keras`` package, operation nodes included,
and resolves functions by module and name: a ``Cond`` node whose branch names
``keras.config.disable_traceback_filtering`` calls it while the model loads.
So the config is read as plain JSON first, and every object it names must be
one of:

- a layer class of ``keras.layers`` that holds only data (layers that run
  code or read files, such as ``Lambda``, ``TFSMLayer``, ``JaxLayer`` or the
  lookup layers with a vocabulary file, are left out);
- an initializer, regularizer, constraint or dtype policy class of Keras;
- a ``Functional`` or ``Sequential`` model;
- one of Keras's own value markers (tensors, arrays, bytes, slices);
- a name the caller trusts: listed in ``trusted`` or a key of
  ``custom_objects``.

Operation nodes (``keras.src.ops.*``) and function references are refused
unless trusted, as skops refuses types the caller did not name.
"""

import inspect

# Keras's markers for values that are data, not objects to build.
_VALUE_MARKERS = frozenset({
    "__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__",
    "__slice__",
})

# Layers of keras.layers that run code, load other models or read files.
_UNSAFE_LAYERS = frozenset({
    "Lambda", "TFSMLayer", "JaxLayer", "FlaxLayer", "TorchModuleWrapper",
    "StringLookup", "IntegerLookup", "TextVectorization", "Layer", "Wrapper",
    "InputSpec",
})

# Modules whose exported classes are data; "keras" itself is the dtype policies.
_DATA_MODULES = ("initializers", "regularizers", "constraints", "dtype_policies")

_MODELS = {
    ("keras.src.models.functional", "Functional"),
    ("keras", "Functional"),
    ("keras.src.models.sequential", "Sequential"),
    ("keras", "Sequential"),
}


def _exported_classes(module):
    return {name for name, value in vars(module).items()
            if inspect.isclass(value) and not name.startswith("_")}


def _allowed(keras):
    """``{module: class names}`` that a config may name without trust."""
    allowed = {"keras.layers": _exported_classes(keras.layers) - _UNSAFE_LAYERS}
    for name in _DATA_MODULES:
        classes = _exported_classes(getattr(keras, name))
        allowed[f"keras.{name}"] = classes
    allowed["keras"] = allowed.pop("keras.dtype_policies")
    return allowed


def object_name(node):
    """The name by which a config entry is trusted.

    ``registered_name`` for a registered custom object (``"package>Name"``),
    ``<module>.<function>`` for a function, else ``<module>.<class_name>``.
    """
    class_name = node.get("class_name")
    registered = node.get("registered_name")
    module = node.get("module")
    if class_name == "function":
        if isinstance(registered, str) and registered not in ("function", node.get("config")):
            return registered
        return f"{module}.{node.get('config')}"
    if isinstance(registered, str) and registered not in (class_name, "Functional"):
        return registered
    return f"{module}.{class_name}"


def untrusted_names(config, keras, trusted=()):
    """The sorted names of the objects in ``config`` that are not allowed.

    ``config`` is the parsed ``config.json`` of a ``.keras`` file. The
    top-level ``compile_config`` is not read: networks are loaded with
    ``compile=False``, which makes Keras discard it. The walk is iterative,
    so a deeply nested config cannot exhaust the stack.
    """
    allowed = _allowed(keras)
    trusted = set(trusted)
    found = set()
    stack = [config]
    if isinstance(config, dict) and "compile_config" in config:
        stack = [{k: v for k, v in config.items() if k != "compile_config"}]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        stack.extend(node.values())
        if "class_name" not in node:
            continue
        class_name, module = node.get("class_name"), node.get("module")
        if class_name in _VALUE_MARKERS:  # Keras reads these as values, whatever else
            continue
        name = object_name(node)
        if name in trusted or class_name in trusted:
            continue
        registered = node.get("registered_name")
        plain = registered in (None, class_name) or (
            (module, class_name) in _MODELS and registered == "Functional")
        if not plain or not isinstance(class_name, str):
            found.add(name)
        elif (module, class_name) in _MODELS:
            continue
        elif class_name not in allowed.get(module, ()):
            found.add(name)
    return sorted(str(name) for name in found)
