"""``Kit``: what the trainers need to know about one spec layer type, in one place.

A kit serves both paths. For the per-seed trainer (``single``) it builds the
layer's modules, loads and saves their weights under the neutral names
(``bench.run.seeds``: Dense/Conv2D ``kernel`` and ``bias``, BatchNorm ``gamma``,
``beta``, ``mean``, ``var``) and names its kernels for the penalties. For the
group trainer (``group``) it lays S seeds' neutral arrays out as the seed-stacked
tensors the vectorized forward pass uses, and back, and runs that forward op,
calling the trainer it is handed for the generic machinery (per-seed noise
buffers, keep masks, the seed count ``trainer.S``; ``Host`` names them). The
defaults here are those of a layer without weights that draws nothing and is the
identity.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from bench.backends.contract import KitHost

# What a kit draws from the seeds' generators (``Kit.draws``): nothing, only
# Dropout-style keep masks (which the compiled streams of ``bench.backends.torch.mt``
# can draw instead of torch), or any other noise (which only torch draws).
KEEP_MASKS = "keep masks"
NOISE = "noise"


@runtime_checkable
class Host(KitHost, Protocol):
    """The group trainer as the torch kits see it: the seed count, the defaults, and each
    seed's noise drawn from its own generator."""

    def keep_mask(self, x, shape, keep: float, maps_last: bool):
        """Dropout's keep mask for every seed, laid out like ``x`` and scaled by ``1 / keep``."""

    def per_seed_noise(self, x, shape, fill, maps_last: bool = False, dtype=None):
        """Each seed's noise, ``fill(t, g)`` drawing into ``t`` from the seed's generator ``g``;
        stacked ``(S, *memory order)``."""

    def seed_layout(self, noise, x, maps_last: bool = False):
        """``per_seed_noise``'s output laid out like ``x``."""


class Kit:
    weights = False     # whether the layer owns weights: one neutral dict in the parameter list
    kernels = ()        # its neutral names the penalties cover without ``include_bias``
    buffers = ()        # its neutral names that are statistics, not trainable
    draws = None        # None, KEEP_MASKS or NOISE
    module = None       # a layer that is one module: (layer, in_channels) -> it (``image_module``)
    scheduled = False   # its rate follows ``Arm.dropout_schedule`` (``with_rate``; noise.scheduled_rate)

    # --- the per-seed path ------------------------------------------------------

    def build(self, layer, shape: tuple, defaults: dict) -> tuple[list, object]:
        """The layer's modules, and the one that owns its weights (or None).
        ``shape`` is the spec's input shape, (features,) or channels-last (H, W, C)."""
        return [], None

    def build_mode(self, layer, shape: tuple, defaults: dict, mode: str) -> tuple[list, object]:
        """``build`` under the arm's inference ``mode`` (``bench.spec.inference``) when it is not
        "inverted"; the same modules for a layer that draws nothing (the spec allows a mode only
        on layers that support it)."""
        return self.build(layer, shape, defaults)

    def load(self, module, entry: dict) -> None:
        """Copies the neutral ``entry`` into ``module`` (called under ``torch.no_grad``)."""

    def save(self, module) -> dict:
        """The module's weights as tensors in the neutral layout, by neutral name."""
        return {}

    def kernel_tensors(self, module) -> list:
        """The module's parameters that ``kernels`` names."""
        return []

    # --- the group path ---------------------------------------------------------

    def stack(self, layer, name: str, arr):
        """S seeds' neutral arrays of ``name``, stacked ``(S, ...)``, in the group's layout."""
        return arr.reshape(-1)

    def blocks(self, joined, seeds: int):
        """The per-seed blocks of a seed-stacked tensor, as views (``(S*k, ...)`` by default)."""
        return joined.reshape(seeds, -1, *joined.shape[1:]).unbind(0)

    def unstack(self, layer, name: str, a, seeds: int, s: int):
        """Seed ``s``'s neutral array from the stacked host array ``a``."""
        return a.reshape(seeds, -1)[s]

    def group_forward(self, trainer, layer, shape: tuple, x, weights, training: bool):
        """The layer on the group's activations: ``(S, n, F)`` rows or ``(n, S*C, H, W)``
        maps; ``weights`` is this layer's dict of stacked tensors (None without weights)."""
        return x
