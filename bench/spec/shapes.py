"""Shapes through an arm's layers, and which layers own parameters."""
from __future__ import annotations

import math

from bench.errors import SpecError
from bench.spec.layers import SPATIAL_LAYERS, Layer, LayerRules


def arm_input_shape(layers: tuple, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape (batch omitted) an arm's first layer sees. Channels-last is
    decided here, once: a conv arm reads ``(H, W)`` as ``(H, W, 1)`` and
    ``(H, W, C)`` as is; an arm whose first shape-bound layer needs a sequence
    (LSTM) reads ``(T, F)`` as T steps of F features; any other arm sees the input flattened."""
    bound = next((layer.needs for layer in layers if layer.needs is not None), None)
    if bound == "sequence":
        if len(input_shape) != 2:
            raise SpecError(f"an arm that starts with a recurrent layer needs an input_shape (steps, features), "
                            f"got {input_shape}.")
        return tuple(input_shape)
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
        if not isinstance(layer, LayerRules):
            raise SpecError(f"{where} is not a layer type of bench.spec.")
        if layer.needs == "sequence" and len(shape) != 2:
            raise SpecError(f"{where} needs a (steps, features) sequence but gets shape {shape}.")
        if layer.needs == "flat" and len(shape) == 2:
            raise SpecError(f"{where} needs a flat input but gets the sequence {shape}; "
                            f"end the recurrent layers with return_sequences=False.")
        if layer.needs == "map" and not image:
            raise SpecError(f"{where} needs an (H, W, C) feature map but gets shape {shape}.")
        if layer.needs == "flat" and image:
            raise SpecError(f"{where} needs a flat input but gets the feature map {shape}; add Flatten().")
        shape = tuple(layer.output_shape(shape, where))
        out.append(shape)
    return out


def layer_inputs(layers: tuple, input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The input shape of each layer (batch omitted)."""
    return [arm_input_shape(layers, input_shape)] + layer_shapes(layers, input_shape)[:-1]


def param_layers(layers: tuple[Layer, ...]) -> list[int]:
    """Indices of layers that own parameters, in order; the k-th of them draws
    its initial values from stream k of the seed, so arms that differ only in
    parameter-free layers (dropout) start from identical weights."""
    return [i for i, layer in enumerate(layers) if layer.owns_params]

