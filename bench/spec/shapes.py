"""Shapes through an arm's layers, and which layers own parameters."""
from __future__ import annotations

import math

from bench.errors import SpecError
from bench.spec.layers import SPATIAL_LAYERS, BatchNorm, Conv2D, Dense, DropBlock, Flatten, Layer, MaxPool2D


def arm_input_shape(layers: tuple, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape (batch omitted) an arm's first layer sees. Channels-last is
    decided here, once: a conv arm reads ``(H, W)`` as ``(H, W, 1)`` and
    ``(H, W, C)`` as is; any other arm sees the input flattened."""
    if not any(isinstance(layer, SPATIAL_LAYERS) for layer in layers):
        return (math.prod(input_shape),)
    if len(input_shape) == 2:
        return (*input_shape, 1)
    if len(input_shape) == 3:
        return tuple(input_shape)
    raise SpecError(f"an arm with conv layers needs an input_shape (H, W) or (H, W, C), got {input_shape}.")


def layer_shapes(layers: tuple, input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The output shape of each layer (batch omitted), walking from
    ``arm_input_shape``; a layer that cannot take its input is a SpecError
    before any training starts."""
    shape, out = arm_input_shape(layers, input_shape), []
    for i, layer in enumerate(layers):
        where = f"layer {i} ({type(layer).__name__})"
        image = len(shape) == 3
        if isinstance(layer, SPATIAL_LAYERS) and not image:
            raise SpecError(f"{where} needs an (H, W, C) feature map but gets shape {shape}.")
        if isinstance(layer, (Dense, BatchNorm)) and image:
            raise SpecError(f"{where} needs a flat input but gets the feature map {shape}; add Flatten().")
        if isinstance(layer, Dense):
            shape = (layer.units,)
        elif isinstance(layer, Conv2D):
            (kh, kw), (h, w, _) = layer.kernel, shape
            if layer.padding == "valid":
                h, w = h - kh + 1, w - kw + 1
            if h < 1 or w < 1:
                raise SpecError(f"{where}: a {kh}x{kw} kernel does not fit the {shape[0]}x{shape[1]} map.")
            shape = (h, w, layer.filters)
        elif isinstance(layer, MaxPool2D):
            (ph, pw), (h, w, c) = layer.pool, shape
            if h < ph or w < pw:
                raise SpecError(f"{where}: a {ph}x{pw} pool does not fit the {h}x{w} map.")
            shape = (h // ph, w // pw, c)
        elif isinstance(layer, Flatten):
            shape = (math.prod(shape),)
        elif isinstance(layer, DropBlock) and layer.block_size > min(shape[:2]):
            raise SpecError(f"{where}: DropBlock block_size {layer.block_size} is larger than "
                            f"the {shape[0]}x{shape[1]} feature map it gets.")
        out.append(shape)
    return out



def param_layers(layers: tuple[Layer, ...]) -> list[int]:
    """Indices of layers that own parameters, in order; the k-th of them draws
    its initial values from stream k of the seed, so arms that differ only in
    parameter-free layers (dropout) start from identical weights."""
    return [i for i, layer in enumerate(layers) if isinstance(layer, (Dense, BatchNorm, Conv2D))]

