"""The torch modules of each spec layer (``build``, from ``TORCH_LAYERS``, a table
keyed by the spec's layer class: a new layer type adds one entry here), and the
modules PyTorch does not ship, in the neutral layout.

The spec is channels-last (``bench.spec.arm_input_shape``); PyTorch convolves
NCHW. ``ChannelsFirst`` turns the flat input rows into NCHW once, and
``FlattenHWC`` permutes back to NHWC before flattening, so a Dense after
Flatten sees features in the same order as in Keras and takes the same weights.
Stochastic modules draw from PyTorch's default generator, which the trainer
swaps for its own seeded state around every forward pass.
"""
from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import nn

from bench.errors import SpecError
from bench.spec import (SPATIAL_LAYERS, Activation, BatchNorm, Conv2D, Dense, DropBlock, Dropout, Flatten,
                        GaussianDropout, MaxPool2D, SpatialDropout2D, UniformDropout, arm_input_shape, layer_shapes)
from bench.spec.defaults import batchnorm_settings

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
               "softmax": functools.partial(nn.Softmax, dim=-1)}


class ChannelsFirst(nn.Module):
    """(n, H*W*C) rows in channels-last order -> (n, C, H, W)."""

    def __init__(self, h: int, w: int, c: int):
        super().__init__()
        self.hwc = (h, w, c)

    def forward(self, x):
        return x.reshape(len(x), *self.hwc).permute(0, 3, 1, 2)


class FlattenHWC(nn.Module):
    """(n, C, H, W) -> (n, H*W*C), in Keras's channels-last order."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).reshape(len(x), -1)


class GaussianNoiseDropout(nn.Module):
    """Multiplies by N(1, rate / (1 - rate)) noise in training; identity in eval."""

    def __init__(self, rate: float):
        super().__init__()
        self.stddev = math.sqrt(rate / (1.0 - rate))

    def forward(self, x):
        if not self.training or self.stddev == 0.0:
            return x
        return x * (1.0 + self.stddev * torch.randn_like(x))


class UniformNoiseDropout(nn.Module):
    """Multiplies by U(1 - half_width, 1 + half_width) noise in training
    (``bench.spec.UniformDropout``); identity in eval."""

    def __init__(self, half_width: float):
        super().__init__()
        self.half_width = float(half_width)

    def forward(self, x):
        if not self.training or self.half_width == 0.0:
            return x
        return x * torch.empty_like(x).uniform_(1.0 - self.half_width, 1.0 + self.half_width)


def dropblock_gamma(keep_prob: float, block_size: int, h: int, w: int) -> float:
    """The Bernoulli rate of block seeds (Ghiasi et al. 2018, eq. 1, with the
    square map's feat_size**2 generalised to H*W): each seed drops block_size**2
    units and seeds can only fall where the whole block fits."""
    return (1.0 - keep_prob) / block_size ** 2 * (h * w) / ((h - block_size + 1) * (w - block_size + 1))


class DropBlock2d(nn.Module):
    """DropBlock on (n, C, H, W): each channel of each example gets its own
    mask. Seeds fall on the (H-b+1, W-b+1) grid of block corners; a max-pool
    of the zero-padded seed grid with a b x b window marks every unit some
    block covers. The output is rescaled by count: numel(mask) / sum(mask)."""

    def __init__(self, keep_prob: float, block_size: int):
        super().__init__()
        self.keep_prob, self.block_size = keep_prob, block_size

    def forward(self, x):
        if not self.training or self.keep_prob == 1.0:
            return x
        n, c, h, w = x.shape
        b = self.block_size
        gamma = dropblock_gamma(self.keep_prob, b, h, w)
        seeds = (torch.rand(n, c, h - b + 1, w - b + 1, device=x.device) < gamma).to(x.dtype)
        dropped = F.max_pool2d(F.pad(seeds, (b - 1,) * 4), b, stride=1)
        mask = 1.0 - dropped
        return x * mask * (mask.numel() / mask.sum().clamp_min(1.0))


def image_module(layer, in_channels: int) -> nn.Module:
    """The module for one image layer of the spec; its input is NCHW."""
    if isinstance(layer, Conv2D):
        return nn.Conv2d(in_channels, layer.filters, layer.kernel, padding=layer.padding, bias=layer.use_bias)
    if isinstance(layer, MaxPool2D):
        return nn.MaxPool2d(layer.pool)
    if isinstance(layer, Flatten):
        return FlattenHWC()
    if isinstance(layer, SpatialDropout2D):
        return nn.Dropout2d(p=layer.rate)  # zeroes whole channels of an NCHW map
    if isinstance(layer, DropBlock):
        return DropBlock2d(layer.keep_prob, layer.block_size)
    if isinstance(layer, GaussianDropout):
        return GaussianNoiseDropout(layer.rate)
    if isinstance(layer, UniformDropout):
        return UniformNoiseDropout(layer.half_width)
    raise TypeError(f"{layer!r} is not an image layer.")


def _activation(name: str) -> list[nn.Module]:
    return [] if name == "linear" else [ACTIVATIONS[name]()]


def _image(layer, shape: tuple, defaults: dict) -> tuple[list[nn.Module], "nn.Module | None"]:
    module = image_module(layer, shape[-1])
    if isinstance(layer, Conv2D):
        return [module, *_activation(layer.activation)], module
    return [module], None


def _dense(layer, shape: tuple, defaults: dict):
    linear = nn.Linear(shape[-1], layer.units, bias=layer.use_bias)
    return [linear, *_activation(layer.activation)], linear


def _batch_norm(layer, shape: tuple, defaults: dict):
    keras_momentum, eps = batchnorm_settings(layer, defaults)
    bn = nn.BatchNorm1d(shape[-1], eps=eps, momentum=1.0 - keras_momentum)
    return [bn], bn


def _activation_layer(layer, shape: tuple, defaults: dict):
    if layer.name == "softmax" and len(shape) == 3:  # channels are dim 1 of NCHW
        return [nn.Softmax(dim=1)], None
    return _activation(layer.name), None


# spec layer class -> (layer, input shape, defaults) -> (its modules, the parameter-owning one or None).
# The input shape is the spec's (features,) or channels-last (H, W, C); its last entry is the width.
TORCH_LAYERS = {
    **{kind: _image for kind in (*SPATIAL_LAYERS, GaussianDropout, UniformDropout)},
    Dense: _dense,
    Dropout: lambda layer, shape, defaults: ([nn.Dropout(p=layer.rate)], None),
    BatchNorm: _batch_norm,
    Activation: _activation_layer,
}


def build(layers, input_shape: tuple, defaults: dict) -> tuple[nn.Sequential, list[nn.Module]]:
    """The model, and its parameter-owning modules in spec order. A conv arm's
    flat input rows become NCHW first (``ChannelsFirst``). ``defaults`` is the
    table of ``bench.backends.torch.defaults``."""
    first = arm_input_shape(layers, input_shape)
    inputs = [first] + layer_shapes(layers, input_shape)[:-1]
    modules, owners = ([ChannelsFirst(*first)] if len(first) == 3 else []), []
    for layer, shape in zip(layers, inputs):
        make = next((make for kind, make in TORCH_LAYERS.items() if isinstance(layer, kind)), None)
        if make is None:
            raise SpecError(f"layer {layer!r} is not supported by the torch backend.")
        made, owner = make(layer, shape, defaults)
        modules += made
        if owner is not None:
            owners.append(owner)
    return nn.Sequential(*modules), owners
