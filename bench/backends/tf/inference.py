"""MC averaging at test in TensorFlow (``bench.spec.inference``): the stateless seeds of the
sampled masks and how k sampled outputs become one prediction. Both trainers call these, so
the per-seed and the group path draw the same masks and combine them alike."""
from __future__ import annotations

import math

import tensorflow as tf

from bench.spec.inference import mc_stream

INT32_MOD = 2147483646  # Keras's TF backend folds its int64 seed state into int32 modulo this


def streams(seed: int, layers) -> dict:
    """``{position: MC stream}`` of the stochastic layers of ``seed``'s arm."""
    return {k: mc_stream(seed, k) for k, layer in enumerate(layers) if layer.stochastic}


def stateless_seed(stream, counter):
    """The int32 stateless seed of draw ``counter`` (chunk * samples + sample) of ``stream``."""
    pair = tf.stack([tf.cast(stream, tf.int64), tf.cast(counter, tf.int64)])
    return tf.cast(tf.math.floormod(pair, INT32_MOD), tf.int32)


def combine(outs: list, classify: bool, axis: int = 0):
    """One prediction from k sampled outputs: for classification the log of the mean softmax
    probability (so softmax, argmax and cross-entropy of it are those of the mean), computed
    as a logsumexp of the log-softmaxes; for regression the mean output."""
    stacked = tf.stack(outs, axis)
    if not classify:
        return tf.reduce_mean(stacked, axis)
    return tf.reduce_logsumexp(tf.nn.log_softmax(stacked), axis) - tf.constant(math.log(len(outs)), stacked.dtype)
