"""Common random numbers: the initial weights and batch order of seed *i*.

Both are drawn once, with numpy, from streams keyed by the seed, so every arm
of a case starts from the same weights wherever shapes match and both
frameworks see the same batches. Only dropout masks come from each framework's
own RNG (seeded with the same integer).

Streams: the batch order, the k-th Dense layer's and the k-th Conv2D layer's
weights each draw from a stream of their own, keyed by the seed and a number
from the one table of a seed's streams, ``bench.spec.streams.STREAMS``.
"""
from __future__ import annotations

import math

import numpy as np

from bench import backends
from bench.errors import SpecError
from bench.spec import streams
from bench.spec import (SPATIAL_LAYERS, Activation, BatchNorm, Conv2D, Dense, Dropout, GaussianDropout,
                        Layer, UniformDropout, arm_input_shape, layer_shapes)

INITIALIZERS = ("glorot_uniform", "kaiming_uniform")


def initializer_for(framework: str, mode: str) -> str:
    """The Dense initializer a framework uses under ``mode`` (its defaults table's ``init``)."""
    return backends.defaults(framework, mode)["init"]


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


def initial_params(layers: tuple[Layer, ...], input_shape, seed: int, scheme: str) -> list[dict]:
    """One dict per parameter-owning layer, in order.

    ``input_shape`` is the case's ``input_shape`` (an int is taken as a flat
    input of that many features). Dense -> ``{"kernel": (fan_in, units),
    "bias": (units,)}`` (bias omitted when ``use_bias`` is false); Conv2D ->
    ``{"kernel": (kh, kw, cin, cout), "bias": (cout,)}``; BatchNorm ->
    ``{"gamma", "beta", "mean", "var"}``. Kernels are stored channels-last /
    (in, out) as in Keras; PyTorch transposes.
    """
    if isinstance(input_shape, int):
        if any(isinstance(layer, SPATIAL_LAYERS) for layer in layers):
            raise SpecError("an arm with conv layers needs the case's input_shape, not a feature count.")
        input_shape = (input_shape,)
    layers, input_shape = tuple(layers), tuple(input_shape)
    inputs = [arm_input_shape(layers, input_shape)] + layer_shapes(layers, input_shape)[:-1]
    params, dense_k, conv_k = [], 0, 0
    for layer, shape in zip(layers, inputs):
        width = shape[-1]  # features of a flat input, channels of a feature map
        if isinstance(layer, Dense):
            rng = np.random.default_rng(streams.key(seed, "dense_init", dense_k))
            kernel, bias = dense_init(width, layer.units, scheme, rng)
            entry = {"kernel": kernel}
            if layer.use_bias:
                entry["bias"] = bias
            params.append(entry)
            dense_k += 1
        elif isinstance(layer, Conv2D):
            kernel, bias = conv_init(*layer.kernel, width, layer.filters, scheme,
                                     np.random.default_rng(streams.key(seed, "conv_init", conv_k)))
            params.append({"kernel": kernel, "bias": bias} if layer.use_bias else {"kernel": kernel})
            conv_k += 1
        elif isinstance(layer, BatchNorm):
            params.append({"gamma": np.ones(width, np.float32), "beta": np.zeros(width, np.float32),
                           "mean": np.zeros(width, np.float32), "var": np.ones(width, np.float32)})
        elif not isinstance(layer, (Dropout, Activation, GaussianDropout, UniformDropout, *SPATIAL_LAYERS)):
            raise SpecError(f"layer {layer!r} is not supported yet.")
    return params


def batch_order(n: int, batch_size: int, epochs: int, seed: int, shuffle: bool = True) -> list[np.ndarray]:
    """A list of index arrays, one per step: ``epochs`` passes over ``range(n)``,
    each reshuffled (as ``Dataset.shuffle(n).batch(b).repeat(e)`` does), the
    last batch of each pass short when ``b`` does not divide ``n``."""
    rng = np.random.default_rng(streams.key(seed, "batch_order"))
    batches = []
    for _ in range(epochs):
        order = rng.permutation(n) if shuffle else np.arange(n)
        batches.extend(order[i:i + batch_size] for i in range(0, n, batch_size))
    return batches
