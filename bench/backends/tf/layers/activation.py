"""Activations in the group trainer (``activate``, also applied by the dense and conv
kits) and the kit of ``bench.spec.Activation``."""
from __future__ import annotations

import keras
import tensorflow as tf

from bench.backends.tf.layers.kit import Kit
from bench.errors import SpecError


def activate(x, name: str):
    if name == "linear":
        return x
    if name == "softmax":
        if len(x.shape) != 3:
            raise SpecError("softmax over a feature map is not supported for vectorized seeds; use --group-size 1.")
        return tf.nn.softmax(x, axis=-1)
    return {"relu": tf.nn.relu, "sigmoid": tf.sigmoid, "tanh": tf.tanh}[name](x)


class ActivationKit(Kit):
    @staticmethod
    def build(layer, stream, defaults):
        return keras.layers.Activation(layer.name)

    @staticmethod
    def group_forward(trainer, k, layer, shape, x, weights, training):
        return activate(x, layer.name)
