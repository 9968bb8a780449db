"""Keras layers the frameworks do not ship, written from their papers.

``DropBlock`` (Ghiasi et al. 2018) on channels-last (n, H, W, C) maps; the
same algorithm as ``bench.backends.torch.layers.DropBlock2d``, but masks come
from Keras's seeded stateless RNG, so the two frameworks draw different masks.
``UniformDropout``: continuous dropout with U(1 - a, 1 + a) noise
(``bench.spec.UniformDropout``), as ``torch_layers.UniformNoiseDropout``.
"""
from __future__ import annotations

import keras
import tensorflow as tf


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
