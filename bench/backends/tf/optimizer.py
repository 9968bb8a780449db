"""The Keras optimizer of a case, every setting resolved (``bench.spec.defaults``)."""
from __future__ import annotations

import keras

from bench.errors import SpecError
from bench.spec.defaults import optimizer_settings


def build_optimizer(spec, defaults: dict) -> keras.optimizers.Optimizer:
    """``spec`` is a ``bench.spec.Optimizer``; ``None`` fields take ``defaults`` (the Keras column)."""
    s = optimizer_settings(spec, defaults)
    if spec.name == "adam":
        return keras.optimizers.Adam(learning_rate=s["lr"], beta_1=s["beta1"], beta_2=s["beta2"], epsilon=s["eps"])
    if spec.name == "adamw":   # decoupled: p -= lr * wd * p before the Adam update, every trainable variable
        return keras.optimizers.AdamW(learning_rate=s["lr"], beta_1=s["beta1"], beta_2=s["beta2"],
                                      epsilon=s["eps"], weight_decay=s["weight_decay"])
    if spec.name == "sgd":
        return keras.optimizers.SGD(learning_rate=s["lr"], momentum=s["momentum"])
    raise SpecError(f"unknown optimizer {spec.name!r}; choose 'adam', 'adamw' or 'sgd'.")
