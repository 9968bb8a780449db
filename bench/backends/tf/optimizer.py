"""The Keras optimizer of a case, every setting resolved (``bench.spec.defaults``), with the
pieces a schedule needs (``bench.spec.schedules``): a per-step learning rate read from a
table, and SGD whose momentum is a variable."""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from bench.errors import SpecError
from bench.spec.defaults import optimizer_settings


class StepRates:
    """A per-step learning rate: the epoch's values in a variable, read at each update by the
    update's index in the epoch (the optimizer's iteration count minus the epoch's first), so
    the compiled epoch needs no new argument and no retrace."""

    def __init__(self):
        self.values = tf.Variable(tf.zeros([1]), shape=tf.TensorShape([None]), trainable=False)
        self.offset = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.optimizer = None

    def __call__(self):
        return tf.gather(self.values, self.optimizer.iterations - self.offset)

    def set(self, values) -> None:
        """The coming epoch's values, one per step."""
        self.values.assign(np.asarray(values, np.float32))
        self.offset.assign(self.optimizer.iterations)


class ScheduledSGD(keras.optimizers.SGD):
    """Keras's SGD with momentum (``SGD.update_step``'s arithmetic: ``m = m * momentum - g * lr;
    p += m``) whose momentum is a variable the compiled step reads, so a momentum schedule sets
    it between epochs without a retrace. Its velocity slots exist from the start, whatever the
    first momentum is."""

    def __init__(self, learning_rate, momentum: float):
        super().__init__(learning_rate=learning_rate, momentum=0.0)
        self.momentum_value = tf.Variable(float(momentum), dtype=tf.float32, trainable=False)

    def build(self, variables):
        if self.built:
            return
        keras.optimizers.Optimizer.build(self, variables)
        self.momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        m = self.momentums[self._get_variable_index(variable)]
        momentum = ops.cast(self.momentum_value, variable.dtype)
        self.assign(m, ops.subtract(ops.multiply(m, momentum), ops.multiply(gradient, learning_rate)))
        self.assign_add(variable, m)


def build_optimizer(spec, defaults: dict, schedules: dict | None = None) -> keras.optimizers.Optimizer:
    """``spec`` is a ``bench.spec.Optimizer``; ``None`` fields take ``defaults`` (the Keras column).
    ``schedules`` (``Arm.schedules``): a per-step ``lr`` makes the learning rate a ``StepRates``
    (the optimizer's ``step_rates``), a ``momentum`` makes SGD a ``ScheduledSGD``."""
    s = optimizer_settings(spec, defaults)
    schedules = schedules or {}
    rates = StepRates() if "lr" in schedules and schedules["lr"].per == "step" else None
    lr = rates if rates is not None else s["lr"]
    if spec.name == "adam":
        opt = keras.optimizers.Adam(learning_rate=lr, beta_1=s["beta1"], beta_2=s["beta2"], epsilon=s["eps"])
    elif spec.name == "adamw":   # decoupled: p -= lr * wd * p before the Adam update, every trainable variable
        opt = keras.optimizers.AdamW(learning_rate=lr, beta_1=s["beta1"], beta_2=s["beta2"],
                                     epsilon=s["eps"], weight_decay=s["weight_decay"])
    elif spec.name == "sgd":
        opt = (ScheduledSGD(lr, s["momentum"]) if "momentum" in schedules
               else keras.optimizers.SGD(learning_rate=lr, momentum=s["momentum"]))
    else:
        raise SpecError(f"unknown optimizer {spec.name!r}; choose 'adam', 'adamw' or 'sgd'.")
    if rates is not None:
        rates.optimizer = opt
    opt.step_rates = rates
    return opt


def set_scheduled(optimizer, lr=None, momentum=None, lr_steps=None) -> None:
    """This epoch's scheduled optimizer values: a per-step ``lr_steps`` list (then ``lr``, its
    first value, is only the curve's), else an epoch's ``lr``; SGD's ``momentum``."""
    if lr_steps is not None:
        optimizer.step_rates.set(lr_steps)
    elif lr is not None:
        optimizer.learning_rate = float(lr)
    if momentum is not None:
        optimizer.momentum_value.assign(float(momentum))
