"""Common random numbers: the initial weights and batch order of seed *i*.

Both are drawn once, with numpy, from streams keyed by the seed, so every arm
of a case starts from the same weights wherever shapes match and both
frameworks see the same batches. Only dropout masks come from each framework's
own RNG (seeded with the same integer).

Streams: ``default_rng([seed, 0])`` gives the batch order; the k-th Dense layer
draws from ``default_rng([seed, 1, k])``. Keying by Dense ordinal (not layer
index) keeps weights identical when an arm inserts Dropout or BatchNorm.
"""
from __future__ import annotations

import math

import numpy as np

from bench.errors import SpecError
from bench.spec import MODES, Activation, BatchNorm, Dense, Dropout, Layer

INITIALIZERS = ("glorot_uniform", "kaiming_uniform")


def initializer_for(framework: str, mode: str) -> str:
    """The Dense initializer a framework uses under ``mode``."""
    if mode not in MODES:
        raise SpecError(f"unknown mode {mode!r}; choose from {MODES}.")
    if framework == "torch" and mode == "as_written":
        return "kaiming_uniform"
    return "glorot_uniform"


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


def initial_params(layers: tuple[Layer, ...], in_features: int, seed: int, scheme: str) -> list[dict]:
    """One dict per parameter-owning layer, in order.

    Dense -> ``{"kernel": (fan_in, units), "bias": (units,)}`` (bias omitted when
    ``use_bias`` is false); BatchNorm -> ``{"gamma", "beta", "mean", "var"}``.
    Kernels are stored (in, out) as in Keras; PyTorch transposes.
    """
    params, width, dense_k = [], in_features, 0
    for layer in layers:
        if isinstance(layer, Dense):
            rng = np.random.default_rng([seed, 1, dense_k])
            kernel, bias = dense_init(width, layer.units, scheme, rng)
            entry = {"kernel": kernel}
            if layer.use_bias:
                entry["bias"] = bias
            params.append(entry)
            width, dense_k = layer.units, dense_k + 1
        elif isinstance(layer, BatchNorm):
            params.append({"gamma": np.ones(width, np.float32), "beta": np.zeros(width, np.float32),
                           "mean": np.zeros(width, np.float32), "var": np.ones(width, np.float32)})
        elif not isinstance(layer, (Dropout, Activation)):
            raise SpecError(f"layer {layer!r} is not supported yet.")
    return params


def batch_order(n: int, batch_size: int, epochs: int, seed: int, shuffle: bool = True) -> list[np.ndarray]:
    """A list of index arrays, one per step: ``epochs`` passes over ``range(n)``,
    each reshuffled (as ``Dataset.shuffle(n).batch(b).repeat(e)`` does), the
    last batch of each pass short when ``b`` does not divide ``n``."""
    rng = np.random.default_rng([seed, 0])
    batches = []
    for _ in range(epochs):
        order = rng.permutation(n) if shuffle else np.arange(n)
        batches.extend(order[i:i + batch_size] for i in range(0, n, batch_size))
    return batches
