"""What a field left as ``None`` becomes in each framework, and why it differs.

Where TensorFlow/Keras and PyTorch defaults differ, a field left as ``None``
means "the framework's own default". Each backend package states its column
(``bench.backends.<name>.defaults``, picked by ``bench.backends.defaults(framework,
mode)``) and the functions here (``optimizer_settings``, ``batchnorm_settings``)
turn every ``None`` into a value from such a table: one resolution for every
trainer. The differences that matter for the claims:

================  ==========================  ===========================
setting           Keras (TF)                  PyTorch
================  ==========================  ===========================
Dense init        glorot_uniform, bias 0      kaiming_uniform(a=sqrt 5),
                                              bias U(+-1/sqrt(fan_in))
Conv2D init       glorot_uniform over         kaiming_uniform(a=sqrt 5),
                  receptive field, bias 0     bias U(+-1/sqrt(fan_in)),
                                              fan_in = kh*kw*cin
LSTM init         glorot_uniform kernel,      every weight U(+-1/sqrt(u)),
                  orthogonal recurrent,       two biases b_ih + b_hh, each
                  bias 0, forget gate 1       U(+-1/sqrt(u)) (summed here)
LSTM dropout      ``dropout`` on x and        no recurrent dropout; its
                  ``recurrent_dropout`` on    ``dropout`` acts between
                  h, per gate, fixed over     stacked layers: the suite runs
                  the steps                   its own cell with Keras's rules
Conv layout       channels-last (NHWC)        channels-first (NCHW); the
                                              spec is NHWC, Flatten maps it
Dropout RNG       stateless, seeded per       default generator, seeded
                  layer (SeedGenerator)       per trainer (``bench.backends``)
Subnormals (CPU)  flushed to zero             kept; the suite flushes them
                                              (``bench.backends.torch.device``)
Adam eps          1e-7, added to sqrt(v)      1e-8, added to sqrt(v_hat)
                  before bias correction      after bias correction
SGD lr            0.01                        none (must be set)
BN momentum       0.99 (weight on old mean)   0.1 (weight on new batch)
BN eps            1e-3                        1e-5
BN moving var     biased batch variance       unbiased batch variance
L2                explicit loss term          ``weight_decay=lam`` adds
                                              lam*w to the gradient, i.e.
                                              lam * sum(w^2)/2 in the loss
AdamW decay       0.004                       0.01
================  ==========================  ===========================

``mode="matched"`` (see ``MODES``) makes the PyTorch backend use the Keras
column for init, Adam eps and BN momentum/eps, and Keras's eps placement too
(torch's eps is set to ``eps / sqrt(1 - beta2**t)`` at step t, which makes the
two updates equal); the BN moving-variance estimator stays each framework's own.
"""
from __future__ import annotations

from bench.errors import SpecError
from bench.spec.case import MODES

# The keys of a backend's defaults table (``bench.backends.<name>.defaults``).
KEYS = ("init", "adam_lr", "adam_eps", "sgd_lr", "beta1", "beta2", "bn_momentum", "bn_eps", "adamw_decay")


def check_mode(mode: str) -> str:
    """``mode`` if it is one of ``MODES``, else a ``SpecError``."""
    if mode not in MODES:
        raise SpecError(f"unknown mode {mode!r}; choose from {MODES}.")
    return mode


def resolve(value, table: dict, key: str):
    """``value``, or ``table[key]`` where the spec left it as ``None``."""
    return table[key] if value is None else value


def optimizer_settings(spec, table: dict) -> dict:
    """Every setting of a ``bench.spec.Optimizer`` as a value: Adam/AdamW get ``lr``,
    ``beta1``, ``beta2``, ``eps`` and ``weight_decay`` (AdamW's decoupled decay), any
    other optimizer ``lr`` and ``momentum``. ``lr`` stays ``None`` where the table
    has no default (PyTorch's SGD); the backend says so in its own words."""
    if spec.name in ("adam", "adamw"):
        return {"lr": resolve(spec.lr, table, "adam_lr"), "beta1": resolve(spec.beta1, table, "beta1"),
                "beta2": resolve(spec.beta2, table, "beta2"), "eps": resolve(spec.eps, table, "adam_eps"),
                "weight_decay": resolve(spec.weight_decay, table, "adamw_decay")}
    return {"lr": resolve(spec.lr, table, "sgd_lr"), "momentum": spec.momentum}


def batchnorm_settings(layer, table: dict) -> tuple[float, float]:
    """A ``bench.spec.BatchNorm``'s momentum (Keras convention: the weight on the old
    average) and epsilon."""
    return resolve(layer.momentum, table, "bn_momentum"), resolve(layer.eps, table, "bn_eps")
