"""The initial-weight schemes of the frameworks' parameter layers, drawn with numpy.

``glorot_uniform`` is Keras's default for Dense and Conv2D (and the LSTM kernel); ``kaiming_uniform``
(with ``a = sqrt(5)``) is PyTorch's for Linear and Conv2d. Which one a
framework uses under a mode is its defaults table's ``init``.
"""
from __future__ import annotations

import math

import numpy as np

from bench.errors import SpecError

INITIALIZERS = ("glorot_uniform", "kaiming_uniform")


def dense_init(fan_in: int, units: int, scheme: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Kernel of shape (fan_in, units) and bias of shape (units,), float32.

    glorot_uniform (Keras Dense): U(+-sqrt(6 / (fan_in + fan_out))), zero bias.
    kaiming_uniform(a=sqrt(5)) (PyTorch Linear): gain sqrt(2 / (1 + 5)), bound
    gain * sqrt(3 / fan_in) = 1 / sqrt(fan_in); bias U(+-1 / sqrt(fan_in)).
    """
    if scheme == "glorot_uniform":
        limit = math.sqrt(6.0 / (fan_in + units))
        kernel = rng.uniform(-limit, limit, size=(fan_in, units))
        bias = np.zeros(units)
    elif scheme == "kaiming_uniform":
        bound = 1.0 / math.sqrt(fan_in)
        kernel = rng.uniform(-bound, bound, size=(fan_in, units))
        bias = rng.uniform(-bound, bound, size=units)
    else:
        raise SpecError(f"unknown initializer {scheme!r}; choose from {INITIALIZERS}.")
    return kernel.astype(np.float32), bias.astype(np.float32)


def conv_init(kh: int, kw: int, cin: int, cout: int, scheme: str,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Kernel of shape (kh, kw, cin, cout) (channels-last, as Keras) and bias
    (cout,), float32. The receptive field counts in both fans:
    glorot_uniform (Keras Conv2D): U(+-sqrt(6 / (fan_in + fan_out))) with
    fan_in = kh*kw*cin, fan_out = kh*kw*cout, zero bias.
    kaiming_uniform(a=sqrt(5)) (PyTorch Conv2d): kernel and bias U(+-1/sqrt(fan_in)).
    """
    fan_in, fan_out, shape = kh * kw * cin, kh * kw * cout, (kh, kw, cin, cout)
    if scheme == "glorot_uniform":
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        kernel, bias = rng.uniform(-limit, limit, size=shape), np.zeros(cout)
    elif scheme == "kaiming_uniform":
        bound = 1.0 / math.sqrt(fan_in)
        kernel = rng.uniform(-bound, bound, size=shape)
        bias = rng.uniform(-bound, bound, size=cout)
    else:
        raise SpecError(f"unknown initializer {scheme!r}; choose from {INITIALIZERS}.")
    return kernel.astype(np.float32), bias.astype(np.float32)


def orthogonal(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """Keras's ``Orthogonal`` (gain 1) for a (rows, cols) matrix: the Q of a QR of a
    standard normal matrix (transposed when rows < cols), signs fixed by diag(R)."""
    flat = (max(rows, cols), min(rows, cols))
    q, r = np.linalg.qr(rng.standard_normal(flat))
    q = q * np.sign(np.diag(r))
    return q.T if rows < cols else q


def lstm_init(features: int, units: int, scheme: str,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kernel (features, 4u), recurrent kernel (u, 4u) and bias (4u,), gates i, f, c, o, float32.

    glorot_uniform (Keras LSTM): kernel U(+-sqrt(6 / (features + 4u))), recurrent kernel
    orthogonal, bias 0 except 1 on the forget gate (``unit_forget_bias=True``).
    kaiming_uniform (PyTorch nn.LSTM, which ignores the name: it has one rule for
    every weight): kernel, recurrent kernel and both biases b_ih, b_hh U(+-1/sqrt(u));
    the bias is b_ih + b_hh (the cell only ever adds them).
    """
    shape_k, shape_r = (features, 4 * units), (units, 4 * units)
    if scheme == "glorot_uniform":
        limit = math.sqrt(6.0 / (features + 4 * units))
        kernel = rng.uniform(-limit, limit, size=shape_k)
        recurrent = orthogonal(*shape_r, rng)
        bias = np.zeros(4 * units)
        bias[units:2 * units] = 1.0
    elif scheme == "kaiming_uniform":
        bound = 1.0 / math.sqrt(units)
        kernel = rng.uniform(-bound, bound, size=shape_k)
        recurrent = rng.uniform(-bound, bound, size=shape_r)
        bias = rng.uniform(-bound, bound, size=4 * units) + rng.uniform(-bound, bound, size=4 * units)
    else:
        raise SpecError(f"unknown initializer {scheme!r}; choose from {INITIALIZERS}.")
    return kernel.astype(np.float32), recurrent.astype(np.float32), bias.astype(np.float32)
