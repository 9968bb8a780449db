"""Common random numbers: the initial weights and batch order of seed *i*.

Both are drawn once, with numpy, from streams keyed by the seed, so every arm
of a case starts from the same weights wherever shapes match and both
frameworks see the same batches. Only dropout masks come from each framework's
own RNG (seeded with the same integer).

Streams: the batch order, the k-th Dense layer's and the k-th Conv2D layer's
weights each draw from a stream of their own (the layer type's ``init_stream``),
keyed by the seed and a number from the one table of a seed's streams,
``bench.spec.streams.STREAMS``.
"""
from __future__ import annotations

import numpy as np

from bench import backends
from bench.errors import SpecError
from bench.spec import streams
from bench.spec import SPATIAL_LAYERS, Layer, layer_inputs


def initializer_for(framework: str, mode: str) -> str:
    """The Dense initializer a framework uses under ``mode`` (its defaults table's ``init``)."""
    return backends.defaults(framework, mode)["init"]


def initial_params(layers: tuple[Layer, ...], input_shape, seed: int, scheme: str) -> list[dict]:
    """One dict per parameter-owning layer, in order: each layer's ``initial``
    values (``bench.spec.layers``) in the neutral layout, e.g. Dense ->
    ``{"kernel": (fan_in, units), "bias": (units,)}``, Conv2D ->
    ``{"kernel": (kh, kw, cin, cout), "bias": (cout,)}``, BatchNorm ->
    ``{"gamma", "beta", "mean", "var"}``. Kernels are stored channels-last /
    (in, out) as in Keras; PyTorch transposes. The k-th layer drawing from an
    ``init_stream`` uses that stream's k-th key, so a Dense layer's weights do not
    move when a Conv2D layer is added before it.

    ``input_shape`` is the case's ``input_shape`` (an int is taken as a flat
    input of that many features).
    """
    if isinstance(input_shape, int):
        if any(isinstance(layer, SPATIAL_LAYERS) for layer in layers):
            raise SpecError("an arm with conv layers needs the case's input_shape, not a feature count.")
        input_shape = (input_shape,)
    layers, input_shape = tuple(layers), tuple(input_shape)
    params, drawn = [], {}
    for layer, shape in zip(layers, layer_inputs(layers, input_shape)):
        if not layer.owns_params:
            continue
        rng = None
        if layer.init_stream is not None:
            k = drawn.get(layer.init_stream, 0)
            rng = np.random.default_rng(streams.key(seed, layer.init_stream, k))
            drawn[layer.init_stream] = k + 1
        params.append(layer.initial(shape, scheme, rng))
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
