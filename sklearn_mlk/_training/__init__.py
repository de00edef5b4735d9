"""Training: everything that fits a network.

- :mod:`._tuning` plans how a fit gets its tuning scores (k fold networks or
  a hold-out, an ensemble or a refit); :mod:`._trainer` executes the plan:
  it builds, compiles and trains each network, and checks it
  (:mod:`._divergence`).
- :mod:`._fit` compiles a network and trains it through the compiled loop or
  ``Model.fit``; :mod:`._losses` is the per-label loss.
- :mod:`._compiled` picks the backend's compiled loop and caches it;
  :mod:`._loop` is the loop every backend shares, and
  :mod:`._loop_tensorflow`, :mod:`._loop_jax` and :mod:`._loop_torch` run its
  epochs, each importing :mod:`._loop` and nothing importing them back but
  the factory.
- :mod:`._stacked` trains the fold networks of the default ensemble side by
  side; :mod:`._fused_adam` is TensorFlow's fused Adam update.
"""
