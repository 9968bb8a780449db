"""Early stopping for one seed: Keras's ``EarlyStopping`` rule, framework-free.

The neutral training loop (``bench.run.training``) feeds it the monitored value
after each epoch, so TensorFlow and PyTorch runs stop by the same rule. It is
``keras.callbacks.EarlyStopping.on_epoch_end`` with ``min_delta=0``, no
baseline and ``start_from_epoch=0``: the counter grows every epoch and resets
on a strict improvement; training stops at an epoch > 0 where it has reached
``patience``.
"""
from __future__ import annotations

import math

from bench.spec import STOP_MONITORS, EarlyStopping


class Stopper:
    def __init__(self, rule: EarlyStopping):
        self.rule = rule
        self.lower_is_better = STOP_MONITORS[rule.monitor]
        self.best = math.inf if self.lower_is_better else -math.inf
        self.best_epoch = None
        self.wait = 0
        self.stopped_epoch = None

    def update(self, epoch: int, value: float) -> bool:
        """Record epoch ``epoch``'s (0-based) monitored value; True when this
        epoch's model is now the one to restore (a new best, or the first epoch).
        ``stopped_epoch`` is set once training must stop."""
        if self.best_epoch is None:   # as Keras: the first epoch's weights are the best so far
            self.best_epoch = epoch
        self.wait += 1
        better = value < self.best if self.lower_is_better else value > self.best
        if better:
            self.best, self.best_epoch, self.wait = value, epoch, 0
        elif self.wait >= self.rule.patience and epoch > 0:
            self.stopped_epoch = epoch
        return self.best_epoch == epoch

    @property
    def stopped(self) -> bool:
        return self.stopped_epoch is not None
