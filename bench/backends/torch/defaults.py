"""The PyTorch column of ``bench.spec.defaults``, and what ``mode="matched"`` uses instead.

Light (no torch import). Under ``matched`` PyTorch takes the Keras column
(``bench.backends.tf.defaults``, the posts' framework) for init, Adam eps and
BN momentum/eps; the trainers add Keras's eps placement.
"""
from __future__ import annotations

from bench.backends.tf.defaults import KERAS
from bench.spec.defaults import check_mode

PYTORCH = {"init": "kaiming_uniform", "adam_lr": 1e-3, "adam_eps": 1e-8, "sgd_lr": None,
           "beta1": 0.9, "beta2": 0.999, "bn_momentum": 1.0 - 0.1, "bn_eps": 1e-5, "adamw_decay": 0.01}
# bn_momentum is stored in the Keras convention (weight on the old mean): PyTorch's 0.1 is 1 - 0.9.


def table(mode: str) -> dict:
    return PYTORCH if check_mode(mode) == "as_written" else KERAS
