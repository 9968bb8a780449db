"""The kits of the feature-map layers ``bench.spec.Conv2D``, ``MaxPool2D`` and
``Flatten``. A group's maps are (batch, H, W, S*C), seed-major channel blocks:
a conv is a grouped convolution (a kernel of ``cin`` input channels on an
``S*cin``-channel map), whose kernel (kh, kw, cin, S*cout) and bias (S*cout,)
hold the seeds as blocks of their last axis."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from bench.backends.tf.layers.activation import activate
from bench.backends.tf.layers.kit import Kit


class Conv2DKit(Kit):
    PARAMS = ("kernel", "bias")
    KERNELS = ("kernel",)

    @staticmethod
    def build(layer, stream, defaults):
        return keras.layers.Conv2D(layer.filters, layer.kernel, padding=layer.padding,
                                   activation=layer.activation, use_bias=layer.use_bias)

    @staticmethod
    def variables(built):
        return [("kernel", built.kernel)] + ([("bias", built.bias)] if built.use_bias else [])

    @staticmethod
    def stack(name, values):
        return np.concatenate(values, axis=-1)

    @staticmethod
    def unstack(name, a, s, S):
        cout = a.shape[-1] // S
        return a[..., s * cout:(s + 1) * cout]

    @staticmethod
    def seed_parts(v, S):
        return tf.split(v, S, axis=-1)

    @staticmethod
    def group_forward(trainer, k, layer, shape, x, weights, training):
        x = tf.nn.conv2d(x, weights["kernel"], 1, layer.padding.upper())
        if "bias" in weights:
            x = tf.nn.bias_add(x, weights["bias"])
        return activate(x, layer.activation)


class MaxPool2DKit(Kit):
    @staticmethod
    def build(layer, stream, defaults):
        return keras.layers.MaxPooling2D(layer.pool)

    @staticmethod
    def group_forward(trainer, k, layer, shape, x, weights, training):
        return tf.nn.max_pool2d(x, layer.pool, layer.pool, "VALID")


class FlattenKit(Kit):
    """Channels-last: (H, W, C) order, the neutral one; in a group, (batch, H, W, S*C)
    maps become (S, batch, H*W*C) rows."""

    @staticmethod
    def build(layer, stream, defaults):
        return keras.layers.Flatten()

    @staticmethod
    def group_forward(trainer, k, layer, shape, x, weights, training):
        h, w, c = shape
        n = tf.shape(x)[0]
        return tf.reshape(tf.transpose(tf.reshape(x, [n, h, w, trainer.S, c]), [3, 0, 1, 2, 4]),
                          [trainer.S, n, h * w * c])
