"""The Keras layer for each spec layer (``keras_layer``, a table keyed by the spec's
layer class: a new layer type adds one entry here), and the Keras layers the
frameworks do not ship, written from their papers.

``DropBlock`` (Ghiasi et al. 2018) on channels-last (n, H, W, C) maps; the
same algorithm as ``bench.backends.torch.layers.DropBlock2d``, but masks come
from Keras's seeded stateless RNG, so the two frameworks draw different masks.
``UniformDropout``: continuous dropout with U(1 - a, 1 + a) noise
(``bench.spec.UniformDropout``), as ``torch_layers.UniformNoiseDropout``.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from bench.errors import SpecError
from bench import spec
from bench.spec import streams
from bench.spec.defaults import batchnorm_settings


def dropblock_gamma(keep_prob: float, block_size: int, h: int, w: int) -> float:
    """The Bernoulli rate of block seeds (Ghiasi et al. 2018, eq. 1, with the
    square map's feat_size**2 generalised to H*W)."""
    return (1.0 - keep_prob) / block_size ** 2 * (h * w) / ((h - block_size + 1) * (w - block_size + 1))


class DropBlock(keras.layers.Layer):
    """Each channel of each example gets its own mask. Seeds fall on the
    (H-b+1, W-b+1) grid of block corners with rate gamma; a max-pool of the
    zero-padded seed grid with a b x b window marks every unit some block
    covers; the kept units are rescaled by numel(mask) / sum(mask). The
    identity at inference."""

    def __init__(self, keep_prob: float, block_size: int, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.keep_prob, self.block_size = float(keep_prob), int(block_size)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=False):
        if not training or self.keep_prob == 1.0:
            return x
        b, h, w = self.block_size, x.shape[1], x.shape[2]
        gamma = dropblock_gamma(self.keep_prob, b, h, w)
        shape = tf.shape(x)
        grid = tf.stack([shape[0], h - b + 1, w - b + 1, shape[3]])
        seeds = tf.cast(keras.random.uniform(grid, seed=self.seed_generator) < gamma, x.dtype)
        padded = tf.pad(seeds, [[0, 0], [b - 1, b - 1], [b - 1, b - 1], [0, 0]])
        mask = 1.0 - tf.nn.max_pool2d(padded, b, 1, "VALID")
        count = tf.cast(tf.size(mask), x.dtype)
        return x * mask * (count / tf.maximum(tf.reduce_sum(mask), 1.0))

    def compute_output_shape(self, input_shape):
        return input_shape


class UniformDropout(keras.layers.Layer):
    """Multiplies each unit by its own U(1 - half_width, 1 + half_width) draw
    in training, from one ``keras.random.uniform`` call per step (the call
    ``bench.backends.tf.group`` repeats per seed); the identity at inference."""

    def __init__(self, half_width: float, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.half_width = float(half_width)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=False):
        if not training or self.half_width == 0.0:
            return x
        a = self.half_width
        return x * keras.random.uniform(tf.shape(x), 1.0 - a, 1.0 + a, dtype=x.dtype, seed=self.seed_generator)

    def compute_output_shape(self, input_shape):
        return input_shape


def layer_stream(seed: int, k: int) -> int:
    """The Keras seed of the stochastic layer at position ``k`` of seed ``seed``'s arm.
    Each layer gets its own stream: one shared seed would make layers of equal
    shape draw identical masks."""
    return int(np.random.SeedSequence(streams.key(seed, "layer_seed", k)).generate_state(1)[0])


# spec layer class -> (layer, stream, defaults) -> its Keras layer; ``stream`` seeds a stochastic one.
KERAS_LAYERS = {
    spec.Dense: lambda l, stream, d: keras.layers.Dense(l.units, activation=l.activation, use_bias=l.use_bias),
    spec.Dropout: lambda l, stream, d: keras.layers.Dropout(l.rate, seed=stream),
    spec.Conv2D: lambda l, stream, d: keras.layers.Conv2D(l.filters, l.kernel, padding=l.padding,
                                                          activation=l.activation, use_bias=l.use_bias),
    spec.MaxPool2D: lambda l, stream, d: keras.layers.MaxPooling2D(l.pool),
    # channels-last: (H, W, C) order, the neutral one
    spec.Flatten: lambda l, stream, d: keras.layers.Flatten(),
    spec.SpatialDropout2D: lambda l, stream, d: keras.layers.SpatialDropout2D(l.rate, seed=stream),
    spec.DropBlock: lambda l, stream, d: DropBlock(l.keep_prob, l.block_size, seed=stream),
    spec.GaussianDropout: lambda l, stream, d: keras.layers.GaussianDropout(l.rate, seed=stream),
    spec.UniformDropout: lambda l, stream, d: UniformDropout(l.half_width, seed=stream),
    spec.BatchNorm: lambda l, stream, d: _batch_norm(*batchnorm_settings(l, d)),
    spec.Activation: lambda l, stream, d: keras.layers.Activation(l.name),
}


def _batch_norm(momentum: float, eps: float) -> keras.layers.Layer:
    return keras.layers.BatchNormalization(momentum=momentum, epsilon=eps)


def keras_layer(layer: spec.Layer, seed: int, k: int, defaults: dict) -> keras.layers.Layer:
    """The Keras layer for one spec layer; ``k`` is its position in the arm, ``defaults``
    the Keras column (``bench.backends.tf.defaults``)."""
    stream = layer_stream(seed, k)
    for kind, make in KERAS_LAYERS.items():
        if isinstance(layer, kind):
            return make(layer, stream, defaults)
    raise SpecError(f"layer {layer!r} is not supported by the tf backend.")
