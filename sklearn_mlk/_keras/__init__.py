"""The Keras side that training and prediction share.

- :mod:`._backend`: starting the Keras backend quietly, with its thread
  limits; seeding; tensors to NumPy.
- :mod:`._network`: building the network (the default MLP, a model callable
  or a template) and running it forward in blocks.
- :mod:`._inference`: the NumPy prediction plan of a chain of ``Dense``
  layers, fused over the members of an ensemble.

Prediction imports these and nothing of :mod:`sklearn_mlk._training`.
"""
