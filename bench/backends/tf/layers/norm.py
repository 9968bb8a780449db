"""The kit of ``bench.spec.BatchNorm``: Keras's ``BatchNormalization`` per seed; in a
group, the same normalization with moments over the batch axis of (S, batch, F),
so each seed keeps its own statistics, and (S, 1, F) parameter vectors."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from bench.backends.tf.layers.kit import Kit
from bench.spec.defaults import batchnorm_settings


class BatchNormKit(Kit):
    PARAMS = ("gamma", "beta", "mean", "var")
    STATE = ("mean", "var")

    @staticmethod
    def build(layer, stream, defaults):
        momentum, eps = batchnorm_settings(layer, defaults)
        return keras.layers.BatchNormalization(momentum=momentum, epsilon=eps)

    @staticmethod
    def variables(built):
        return [("gamma", built.gamma), ("beta", built.beta),
                ("mean", built.moving_mean), ("var", built.moving_variance)]

    @staticmethod
    def stack(name, values):
        return np.stack(values)[:, None, :]

    @staticmethod
    def unstack(name, a, s, S):
        return a[s, 0]

    @staticmethod
    def group_forward(trainer, k, layer, shape, x, weights, training):
        """Keras's BatchNormalization (moments over the batch, biased variance), per seed."""
        momentum, eps = batchnorm_settings(layer, trainer.defaults)
        if training:   # per-seed ops, for the reason of the group trainer's _seedwise
            moments = [tf.nn.moments(part, axes=[0], keepdims=True) for part in tf.unstack(x)]
            mean, var = tf.stack([m for m, _ in moments]), tf.stack([v_ for _, v_ in moments])
            weights["mean"].assign(weights["mean"] * momentum + mean * (1.0 - momentum))
            weights["var"].assign(weights["var"] * momentum + var * (1.0 - momentum))
        else:
            mean, var = weights["mean"], weights["var"]
        return tf.nn.batch_normalization(x, mean, var, weights["beta"], weights["gamma"], eps)
