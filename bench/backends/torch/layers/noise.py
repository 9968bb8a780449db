"""The stochastic layers: Dropout, SpatialDropout2D, GaussianDropout,
UniformDropout and DropBlock, the modules PyTorch does not ship for them, and
their group draws.

Per seed, the modules draw from PyTorch's default generator, which the trainer
swaps for its own seeded state around every forward pass. In a group, seed s
draws from its own generator with the same calls, shapes and memory order as
the per-seed path (through the trainer's ``per_seed_noise`` / ``keep_mask``), so on
the CPU the draws are the same bits. All are the identity outside training.
"""
from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from torch import nn

from bench.backends.torch import masks
from bench.backends.torch.layers.kit import KEEP_MASKS, NOISE, Kit


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


class KeepMaskDropout(nn.Dropout):
    """``nn.Dropout`` whose CPU mask comes from ``bench.backends.torch.masks.keep_mask``:
    the mask ``bernoulli_`` draws and the generator state it leaves, without its
    one-element-at-a-time loop (``tests/test_torch_backend.py`` checks the bits,
    docs/speed.md has the timing). Where that cannot be the same bits it is ``nn.Dropout``."""

    def forward(self, x):
        if self.training and 0.0 < self.p < 1.0 and not self.inplace:
            mask = masks.keep_mask(x, 1.0 - self.p)
            if mask is not None:
                return x * mask
        return super().forward(x)


class ClassicDropout(nn.Module):
    """Non-inverted dropout (``Inference("weight_scaling")``): in training the mask
    ``nn.Dropout`` draws on the CPU (``empty_like(x).bernoulli_(keep)``, the same draws) without
    its 1/keep; in eval every unit is multiplied by keep = 1 - rate."""

    def __init__(self, rate: float):
        super().__init__()
        self.keep = 1.0 - float(rate)

    def forward(self, x):
        if not self.training:
            return x * self.keep
        if self.keep == 1.0:
            return x
        return x * torch.empty_like(x).bernoulli_(self.keep)


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


def _chw(shape: tuple) -> tuple:
    """The per-seed path's NCHW (C, H, W) of a channels-last spec shape; flat shapes as they are."""
    return (shape[2], shape[0], shape[1]) if len(shape) == 3 else tuple(shape)


class _NoiseKit(Kit):
    """A stochastic layer: one module built by ``module``, the identity outside training."""

    def build(self, layer, shape, defaults):
        return [self.module(layer, shape[-1])], None

    def group_forward(self, trainer, layer, shape, x, weights, training):
        return self.draw(trainer, layer, x, _chw(shape)) if training else x


def scheduled_rate(model: nn.Module, rate: float) -> None:
    """Set ``p`` of every ``nn.Dropout`` of ``model`` (what ``DropoutKit`` builds) to ``rate``;
    at 0 it draws nothing, as ``DropoutKit.draw``."""
    for module in model.modules():
        if type(module) in (nn.Dropout, KeepMaskDropout):
            module.p = rate


class DropoutKit(_NoiseKit):
    draws = KEEP_MASKS
    scheduled = True

    @staticmethod
    def with_rate(layer, rate: float):
        """The spec layer at a scheduled rate, for the group path (``draw`` reads it each step)."""
        return dataclasses.replace(layer, rate=rate)

    def build(self, layer, shape, defaults):
        return [KeepMaskDropout(p=layer.rate)], None

    def build_mode(self, layer, shape, defaults, mode):
        # "mc" trains as inverted dropout; only "weight_scaling" changes the module
        return ([ClassicDropout(layer.rate)], None) if mode == "weight_scaling" else self.build(layer, shape, defaults)

    def group_forward(self, trainer, layer, shape, x, weights, training):
        if not training and getattr(trainer, "inference", "inverted") == "weight_scaling":
            return x * (1.0 - layer.rate)   # ClassicDropout's eval
        return super().group_forward(trainer, layer, shape, x, weights, training)

    def draw(self, trainer, layer, x, chw):
        if layer.rate == 0.0:
            return x
        keep = 1.0 - layer.rate
        mask = trainer.keep_mask(x, lambda n: (n, *chw), keep, maps_last=True)
        if getattr(trainer, "inference", "inverted") == "weight_scaling":
            mask = mask.sign_()   # ClassicDropout's unscaled mask: 1/keep -> 1, exactly
        return x * mask


class SpatialDropout2DKit(_NoiseKit):
    draws = KEEP_MASKS

    @staticmethod
    def module(layer, in_channels: int) -> nn.Module:
        return nn.Dropout2d(p=layer.rate)  # zeroes whole channels of an NCHW map

    def draw(self, trainer, layer, x, chw):
        if layer.rate == 0.0:
            return x
        keep = 1.0 - layer.rate
        return x * trainer.keep_mask(x, lambda n: (n, chw[0], 1, 1), keep, maps_last=False)


class GaussianDropoutKit(_NoiseKit):
    draws = NOISE

    @staticmethod
    def module(layer, in_channels: int) -> nn.Module:
        return GaussianNoiseDropout(layer.rate)

    def draw(self, trainer, layer, x, chw):
        std = math.sqrt(layer.rate / (1.0 - layer.rate))
        if std == 0.0:
            return x
        noise = trainer.per_seed_noise(x, lambda n: (n, *chw), lambda t, g: t.normal_(generator=g), maps_last=True)
        return x * (1.0 + std * trainer.seed_layout(noise, x, maps_last=True))


class UniformDropoutKit(_NoiseKit):
    draws = NOISE

    @staticmethod
    def module(layer, in_channels: int) -> nn.Module:
        return UniformNoiseDropout(layer.half_width)

    def draw(self, trainer, layer, x, chw):
        a = layer.half_width
        if a == 0.0:
            return x
        noise = trainer.per_seed_noise(x, lambda n: (n, *chw), lambda t, g: t.uniform_(1.0 - a, 1.0 + a, generator=g),
                                  maps_last=True)
        return x * trainer.seed_layout(noise, x, maps_last=True)


class DropBlockKit(_NoiseKit):
    draws = NOISE

    @staticmethod
    def module(layer, in_channels: int) -> nn.Module:
        return DropBlock2d(layer.keep_prob, layer.block_size)

    def draw(self, trainer, layer, x, chw):
        """``DropBlock2d`` per seed on ``(n, S*C, H, W)``: its own seed grid and count per seed."""
        if layer.keep_prob == 1.0:
            return x
        c, h, w = chw
        b = layer.block_size
        gamma = dropblock_gamma(layer.keep_prob, b, h, w)
        grid = trainer.per_seed_noise(x, lambda n: (n, c, h - b + 1, w - b + 1), lambda t, g: t.uniform_(generator=g))
        seeds = trainer.seed_layout(grid < gamma, x).to(x.dtype)
        mask = 1.0 - F.max_pool2d(F.pad(seeds, (b - 1,) * 4), b, stride=1)     # (n, S*C, H, W)
        n = mask.shape[0]
        kept = mask.reshape(n, trainer.S, -1).sum((0, 2))                       # (S,) per-seed count
        scale = (n * c * h * w) / kept.clamp_min(1.0)
        return x * mask * scale.repeat_interleave(c).reshape(1, -1, 1, 1)
