"""The kit of ``bench.spec.Dense``: Keras ``Dense`` per seed; in a group, a batched
matmul of (S, n, in) rows by an (S, in, out) kernel, plus an (S, 1, out) bias."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from bench.backends.tf.layers.activation import activate
from bench.backends.tf.layers.kit import Kit


@tf.custom_gradient
def add_bias(x, bias):
    """``x + bias`` for x (S, n, F) and bias (S, 1, F), whose bias gradient sums
    each seed's slice in its own op (TF's broadcast gradient reduces the
    (S, n, F) tensor at once, and how it splits that depends on S)."""
    def grad(dy):
        return dy, tf.stack([tf.reduce_sum(d, 0, keepdims=True) for d in tf.unstack(dy)])
    return x + bias, grad


class DenseKit(Kit):
    PARAMS = ("kernel", "bias")
    KERNELS = ("kernel",)

    @staticmethod
    def build(layer, stream, defaults):
        # max-norm: Keras's own constraint, which its optimizers apply after every update
        constraint = keras.constraints.MaxNorm(layer.max_norm, axis=0) if layer.max_norm is not None else None
        return keras.layers.Dense(layer.units, activation=layer.activation, use_bias=layer.use_bias,
                                  kernel_constraint=constraint)

    @staticmethod
    def constrain(layer, kernel, seeds: int):
        """A group's (S, in, out) kernel with max-norm applied to each seed's (in, out) slice by
        Keras's ``MaxNorm(c, axis=0)``, one op per seed as the per-seed path."""
        constraint = keras.constraints.MaxNorm(layer.max_norm, axis=0)
        return tf.stack([constraint(part) for part in tf.unstack(kernel, num=seeds)])

    @staticmethod
    def variables(built):
        return [("kernel", built.kernel)] + ([("bias", built.bias)] if built.use_bias else [])

    @staticmethod
    def stack(name, values):
        """kernel (S, in, out), bias (S, 1, out)."""
        arr = np.stack(values)
        return arr if name == "kernel" else arr[:, None, :]

    @staticmethod
    def unstack(name, a, s, S):
        return a[s] if a.ndim == 3 and name == "kernel" else a[s, 0]

    @staticmethod
    def group_forward(trainer, k, layer, shape, x, weights, training):
        x = tf.matmul(x, weights["kernel"])
        if "bias" in weights:
            x = add_bias(x, weights["bias"])
        return activate(x, layer.activation)
