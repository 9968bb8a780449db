"""The kits of the stochastic layers (``bench.spec.Dropout``, ``SpatialDropout2D``,
``GaussianDropout``, ``UniformDropout``, ``DropBlock``), and the Keras layers
the frameworks do not ship, written from their papers.

``DropBlock`` (Ghiasi et al. 2018) on channels-last (n, H, W, C) maps; the
same algorithm as ``bench.backends.torch.layers.DropBlock2d``, but masks come
from Keras's seeded stateless RNG, so the two frameworks draw different masks.
``UniformDropout``: continuous dropout with U(1 - a, 1 + a) noise
(``bench.spec.UniformDropout``), as ``torch_layers.UniformNoiseDropout``.

In a group, each kit draws each seed's noise as that seed's Keras layer would:
the same stateless op with the seed ``trainer.draw_seed(k, s)`` on seed s's slice.
All are the identity at inference.
"""
from __future__ import annotations

import dataclasses
import math

import keras
import tensorflow as tf

from bench.backends.tf.layers.kit import Kit


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
    ``UniformDropoutKit.group_forward`` repeats per seed); the identity at inference."""

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


class ClassicDropout(keras.layers.Layer):
    """Non-inverted dropout (``Inference("weight_scaling")``): in training the units Keras's
    ``Dropout(rate, seed)`` keeps pass unscaled (the same masks, from the same stream: its
    output is nonzero exactly where a nonzero unit is kept, and a unit that is 0 stays 0
    either way); at inference every unit is multiplied by keep = 1 - rate."""

    def __init__(self, rate: float, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=False):
        if not training:
            return x * tf.constant(1.0 - self.rate, x.dtype)
        if self.rate == 0.0:
            return x
        inverted = keras.random.dropout(x, self.rate, seed=self.seed_generator)
        return tf.where(tf.not_equal(inverted, 0), x, tf.constant(0, x.dtype))

    def compute_output_shape(self, input_shape):
        return input_shape


def dropblock(layer, x, seed):
    """``DropBlock.call`` with an explicit stateless seed."""
    b, h, w = layer.block_size, x.shape[1], x.shape[2]
    gamma = dropblock_gamma(layer.keep_prob, b, h, w)
    shape = tf.shape(x)
    grid = tf.stack([shape[0], h - b + 1, w - b + 1, shape[3]])
    seeds = tf.cast(tf.random.stateless_uniform(grid, seed=seed, minval=0.0, maxval=1.0) < gamma, x.dtype)
    padded = tf.pad(seeds, [[0, 0], [b - 1, b - 1], [b - 1, b - 1], [0, 0]])
    mask = 1.0 - tf.nn.max_pool2d(padded, b, 1, "VALID")
    count = tf.cast(tf.size(mask), x.dtype)
    return x * mask * (count / tf.maximum(tf.reduce_sum(mask), 1.0))


class NoiseKit(Kit):
    """A stochastic layer: ``off`` says when it is the identity even in training;
    ``draw`` gives seed s's output for its slice ``p`` (``shape``: the layer's input per seed)."""
    STOCHASTIC = True

    @staticmethod
    def off(layer) -> bool:
        raise NotImplementedError

    @classmethod
    def group_forward(cls, trainer, k, layer, shape, x, weights, training):
        if not training or cls.off(layer):
            return x
        parts = trainer.slices(x)
        out = [cls.draw(trainer, k, layer, shape, s, p) for s, p in enumerate(parts)]
        return trainer.join(out, len(x.shape) == 3)


def scheduled_rate(model, rate: float, steps_done=None) -> bool:
    """Set the rate of every Keras ``Dropout`` of ``model`` (what ``DropoutKit`` builds) to
    ``rate``; True when one changed (a traced graph holds the old one). A Keras Dropout built
    at rate 0 has no seed generator: it gets one on its stream (``layer.seed``), untracked,
    as the layer is built. ``steps_done`` instead moves every such layer's seed on by that
    many steps, for an epoch trained at rate 0, where Keras draws nothing."""
    layers = [layer for layer in model.layers if type(layer) is keras.layers.Dropout]
    if steps_done is not None:
        for layer in layers:
            state = layer.seed_generator.state
            state.assign(state + tf.constant([0, steps_done], state.dtype))
        return False
    changed = False
    for layer in layers:
        if not hasattr(layer, "seed_generator"):
            object.__setattr__(layer, "seed_generator", keras.random.SeedGenerator(layer.seed))
        changed = changed or layer.rate != rate
        layer.rate = rate
    return changed


class DropoutKit(NoiseKit):
    """Its own ``group_forward``: the mask's elementwise ops run once over all seeds."""
    SCHEDULED = True

    @staticmethod
    def with_rate(layer, rate: float):
        """The spec layer at a scheduled rate, for the group path."""
        return dataclasses.replace(layer, rate=rate)

    @staticmethod
    def build(layer, stream, defaults):
        return keras.layers.Dropout(layer.rate, seed=stream)

    @classmethod
    def build_mode(cls, layer, stream, defaults, mode):
        # "mc" trains as inverted dropout; only "weight_scaling" changes the layer
        return ClassicDropout(layer.rate, seed=stream) if mode == "weight_scaling" else cls.build(layer, stream,
                                                                                                   defaults)

    @staticmethod
    def sample(layer, x, seed):
        return tf.nn.experimental.stateless_dropout(x, rate=layer.rate, seed=seed)

    @staticmethod
    def off(layer):
        return layer.rate == 0.0

    @classmethod
    def group_forward(cls, trainer, k, layer, shape, x, weights, training):
        classic = getattr(trainer, "inference", "inverted") == "weight_scaling"   # ClassicDropout's rule
        if classic and not training:
            return x * tf.constant(1.0 - layer.rate, x.dtype)
        if not training or cls.off(layer):
            return x
        # ``tf.nn.experimental.stateless_dropout`` (what the per-seed path's Keras layer
        # calls) op for op, with its elementwise ops once over all seeds: each seed's
        # uniforms from its own stateless seed, kept where >= rate, scaled by 1/keep.
        noise = trainer.join([tf.random.stateless_uniform(tf.shape(p), seed=trainer.draw_seed(k, s), dtype=x.dtype,
                                                           alg=None) for s, p in enumerate(trainer.slices(x))],
                              len(x.shape) == 3)
        scaled = x if classic else x * tf.constant(1 / (1 - layer.rate), x.dtype)
        return tf.where(noise >= layer.rate, scaled, tf.constant(0, x.dtype))


class SpatialDropout2DKit(NoiseKit):
    @staticmethod
    def build(layer, stream, defaults):
        return keras.layers.SpatialDropout2D(layer.rate, seed=stream)

    @staticmethod
    def off(layer):
        return layer.rate == 0.0

    @staticmethod
    def draw(trainer, k, layer, shape, s, p):
        return tf.nn.experimental.stateless_dropout(p, rate=layer.rate, seed=trainer.draw_seed(k, s),
                                                    noise_shape=tf.stack([tf.shape(p)[0], 1, 1, shape[-1]]))


class GaussianDropoutKit(NoiseKit):
    @staticmethod
    def build(layer, stream, defaults):
        return keras.layers.GaussianDropout(layer.rate, seed=stream)

    @staticmethod
    def off(layer):
        return layer.rate == 0.0

    @staticmethod
    def draw(trainer, k, layer, shape, s, p):
        std = math.sqrt(layer.rate / (1.0 - layer.rate))
        return p * tf.random.stateless_normal(tf.shape(p), seed=trainer.draw_seed(k, s), mean=1.0, stddev=std)


class UniformDropoutKit(NoiseKit):
    @staticmethod
    def build(layer, stream, defaults):
        return UniformDropout(layer.half_width, seed=stream)

    @staticmethod
    def off(layer):
        return layer.half_width == 0.0

    @staticmethod
    def draw(trainer, k, layer, shape, s, p):
        lo, hi = tf.constant(1.0 - layer.half_width, p.dtype), tf.constant(1.0 + layer.half_width, p.dtype)
        return p * tf.random.stateless_uniform(tf.shape(p), seed=trainer.draw_seed(k, s), minval=lo, maxval=hi,
                                               dtype=p.dtype)


class DropBlockKit(NoiseKit):
    @staticmethod
    def build(layer, stream, defaults):
        return DropBlock(layer.keep_prob, layer.block_size, seed=stream)

    @staticmethod
    def off(layer):
        return layer.keep_prob == 1.0

    @staticmethod
    def draw(trainer, k, layer, shape, s, p):
        return dropblock(layer, p, trainer.draw_seed(k, s))
