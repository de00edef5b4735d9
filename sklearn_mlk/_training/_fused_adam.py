"""Adam as one fused TensorFlow kernel per variable, for the compiled loop.

Keras's Adam updates a variable through about ten element-wise operations,
each of which reads the whole variable and writes a temporary of its size. For
a wide first layer (a sparse input of 1e5 features feeding 256 units holds
25.6M weights) those passes dominate a training step and the temporaries
several hundred megabytes of its memory. TensorFlow's ``ResourceApplyAdam``
kernel does the same update in one pass, in place.

The update is Keras's (``keras.optimizers.Adam`` with ``amsgrad=False``)::

    alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    m += (g - m) * (1 - beta_1)
    v += (g**2 - v) * (1 - beta_2)
    w -= m * alpha / (sqrt(v) + epsilon)

It is used only for an Adam whose configuration adds nothing to that update:
no weight decay, clipping, moving average, loss scaling, gradient
accumulation or learning-rate schedule, and float32 variables.
"""

import numpy as np

from .._keras._backend import get_keras

# Adam options that change the update, with the values that leave it plain.
_PLAIN = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
    "amsgrad": False,
}


def fusable(optimizer, variables):
    """Whether ``optimizer`` is a plain Adam and ``variables`` all float32."""
    keras = get_keras()
    # The PyTorch backend gives its own subclass of Adam for "adam".
    if type(optimizer) not in (keras.optimizers.Adam, type(keras.optimizers.get("adam"))):
        return False
    config = optimizer.get_config()
    if any(config.get(name, plain) != plain for name, plain in _PLAIN.items()):
        return False
    if not isinstance(config.get("learning_rate"), float):
        return False  # a schedule
    return all(str(v.dtype) == "float32" for v in variables)


class FusedAdam:
    """Adam's state for ``variables`` and its fused update.

    ``variables`` (the step count and both moments) start at zero, as a fresh
    Keras Adam's do.
    """

    def __init__(self, optimizer, variables):
        import tensorflow as tf

        config = optimizer.get_config()
        self._learning_rate = tf.constant(config["learning_rate"], tf.float32)
        self._beta_1 = tf.constant(config["beta_1"], tf.float32)
        self._beta_2 = tf.constant(config["beta_2"], tf.float32)
        self._epsilon = tf.constant(config["epsilon"], tf.float32)
        self.iterations = tf.Variable(np.int64(0), trainable=False)
        self._m = [tf.Variable(tf.zeros(v.shape, tf.float32), trainable=False)
                   for v in variables]
        self._v = [tf.Variable(tf.zeros(v.shape, tf.float32), trainable=False)
                   for v in variables]
        self.variables = [self.iterations, *self._m, *self._v]

    def apply(self, gradients, variables):
        """One Adam step of ``variables`` (in the order given at construction)."""
        import tensorflow as tf

        step = tf.cast(self.iterations + 1, tf.float32)
        beta_1_power = tf.pow(self._beta_1, step)
        beta_2_power = tf.pow(self._beta_2, step)
        for gradient, variable, m, v in zip(gradients, variables, self._m, self._v):
            tf.raw_ops.ResourceApplyAdam(
                var=variable.value.handle, m=m.handle, v=v.handle,
                beta1_power=beta_1_power, beta2_power=beta_2_power,
                lr=self._learning_rate, beta1=self._beta_1, beta2=self._beta_2,
                epsilon=self._epsilon,
                grad=tf.convert_to_tensor(gradient),  # IndexedSlices densified, as Keras does
            )
        self.iterations.assign_add(1)
