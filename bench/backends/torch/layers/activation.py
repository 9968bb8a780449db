"""Activations: the torch modules of each spec activation name, the group path's
``activate`` (also applied by the Dense and Conv2D kits), and the kit of the
spec's ``Activation`` layer."""
from __future__ import annotations

import functools

import torch
from torch import nn

from bench.backends.torch.layers.kit import Kit
from bench.errors import SpecError

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
               "softmax": functools.partial(nn.Softmax, dim=-1)}
_ELEMENTWISE = {name: make() for name, make in ACTIVATIONS.items() if name != "softmax"}


def activation_modules(name: str) -> list[nn.Module]:
    """The per-seed modules of an activation name (none for "linear")."""
    return [] if name == "linear" else [ACTIVATIONS[name]()]


def activate(x, name: str):
    """The activation on the group's activations (softmax only over rows)."""
    if name == "linear":
        return x
    if name == "softmax":
        if x.ndim != 3:
            raise SpecError("softmax over a feature map is not supported for vectorized seeds; use --group-size 1.")
        return torch.softmax(x, -1)
    return _ELEMENTWISE[name](x)


class ActivationKit(Kit):
    def build(self, layer, shape, defaults):
        if layer.name == "softmax" and len(shape) == 3:  # channels are dim 1 of NCHW
            return [nn.Softmax(dim=1)], None
        return activation_modules(layer.name), None

    def group_forward(self, trainer, layer, shape, x, weights, training):
        return activate(x, layer.name)
