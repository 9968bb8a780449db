"""The kit: what one spec layer type needs from each TensorFlow trainer, bundled in one
class, so that a new layer type is one kit plus one entry in the table of
``bench.backends.tf.layers``. The per-seed trainer (``single``) builds the kit's
Keras layer and reads its variables under the neutral names; the group trainer
(``group``) stacks those per-seed arrays into seed-stacked variables and runs the
kit's forward op on the group's activations. ``Host`` names what a kit may call on the
group trainer it is handed.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import tensorflow as tf

from bench.backends.contract import KitHost


@runtime_checkable
class Host(KitHost, Protocol):
    """The group trainer as the TensorFlow kits see it: the seed count, the defaults, and the
    per-seed draws of a stochastic layer."""

    def draw_seed(self, k: int, s: int):
        """The stateless seed Keras's layer k of seed s uses for its current draw."""

    def slices(self, x):
        """Seed s's part of ``x``, in the per-seed path's layout."""

    def join(self, parts, flat: bool):
        """The seeds' parts back into the group's layout."""


class Kit:
    """The defaults describe a layer with no parameters that draws nothing."""

    PARAMS: tuple = ()      # neutral parameter names; a layer owns parameters iff it names some
    KERNELS: tuple = ()     # of PARAMS: what an L1/L2 penalty without ``include_bias`` covers
    STATE: tuple = ()       # of PARAMS: running statistics, not trained (evaluation must not move them)
    STOCHASTIC = False      # draws per-seed noise in training: the group trainer keeps a stream for it
    SCHEDULED = False       # its rate follows ``Arm.dropout_schedule`` (``with_rate``; noise.scheduled_rate)

    # --- the per-seed path ---------------------------------------------------

    @staticmethod
    def build(layer, stream: int, defaults: dict):
        """The Keras layer; ``stream`` seeds a stochastic one, ``defaults`` is the Keras column."""
        raise NotImplementedError

    @classmethod
    def build_mode(cls, layer, stream: int, defaults: dict, mode: str):
        """The Keras layer under the arm's inference ``mode`` (``bench.spec.inference``) when it
        is not "inverted"; the same layer for one that draws nothing (the spec allows the mode
        only on layers that support it)."""
        return cls.build(layer, stream, defaults)

    @staticmethod
    def sample(layer, x, seed):
        """One training-mode draw of a stochastic layer on ``x`` with the stateless ``seed``:
        an MC-averaging sample at test (``bench.backends.tf.inference``)."""
        raise NotImplementedError

    @staticmethod
    def variables(built) -> list:
        """(neutral name, variable) pairs of the built Keras layer, in the neutral dict's order."""
        return []

    # --- the group path --------------------------------------------------------

    @staticmethod
    def stack(name: str, values: list) -> np.ndarray:
        """The seed-stacked array of parameter ``name`` from each seed's neutral array."""
        raise NotImplementedError

    @staticmethod
    def unstack(name: str, a: np.ndarray, s: int, S: int) -> np.ndarray:
        """Seed ``s``'s neutral array out of the stacked array ``a`` of ``S`` seeds."""
        raise NotImplementedError

    @staticmethod
    def seed_parts(v, S: int) -> list:
        """Each seed's part of a stacked variable, for the per-seed penalty: seeds on the first axis."""
        return tf.unstack(v)

    @staticmethod
    def group_forward(trainer, k: int, layer, shape, x, weights, training: bool):
        """The layer at position ``k`` (input ``shape`` per seed) on the group's activations
        ``x``; ``weights`` are its stacked variables (None without parameters)."""
        raise NotImplementedError
