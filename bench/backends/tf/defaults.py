"""The Keras column of ``bench.spec.defaults``: what a ``None`` field means in TF/Keras.

Light (no TensorFlow import): the registry, the seed streams and the matched
mode of other backends read it without loading the framework.
"""
from __future__ import annotations

from bench.spec.defaults import check_mode

KERAS = {"init": "glorot_uniform", "adam_lr": 1e-3, "adam_eps": 1e-7, "sgd_lr": 0.01,
         "beta1": 0.9, "beta2": 0.999, "bn_momentum": 0.99, "bn_eps": 1e-3, "adamw_decay": 0.004}


def table(mode: str) -> dict:
    """Every post trained in TF/Keras, so ``mode`` changes nothing here: the Keras
    column *is* the as-written setup."""
    check_mode(mode)
    return KERAS
