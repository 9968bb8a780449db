"""The backend contract as code: what the engine calls on a backend, on its two trainers
and on its layer kits. No framework is imported here.

``bench.backends.load`` returns a ``Backend`` (a package: its light ``__init__`` states the
facts, and ``Trainer``, ``GroupTrainer``, ``versions`` and ``free_memory`` load with the
framework). The neutral loop (``bench.run.training``) drives a ``Trainer`` (one seed) or a
``GroupTrainer`` (several seeds of one arm as one wide model). Each backend's ``layers``
package holds ``KITS``, a table from spec layer class to ``LayerKit`` instance; the group
trainer hands itself to a kit's ``group_forward`` as a ``KitHost``, and a backend's
``layers.kit`` names the further methods its kits may call on it (``Host``).

All arrays are numpy; weights use the neutral layout of ``bench.run.seeds``: one dict of
named arrays per parameter-owning layer, in spec order. ``tests/test_contract.py`` checks
every registered backend, both trainers and every kit against these, names and signatures.
"""
from __future__ import annotations

from typing import Optional, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Trainer(Protocol):
    """One seed of one arm: the per-seed reference path."""

    def __init__(self, job, params: list[dict], seed: int):
        """Build ``job.arm`` from the initial ``params`` (``bench.run.seeds.initial_params``), with
        ``job.case``'s optimizer resolved for this framework and ``job.mode``; ``seed`` seeds the
        framework's own draws (dropout masks)."""

    def set_data(self, x, y) -> None:
        """Keep the training set on the device once; later steps index into it."""

    def fit_epoch(self, batches) -> np.ndarray:
        """One optimizer step per index array in ``batches``; the per-step training loss (data
        loss + penalty), shape ``(len(batches),)``. NaN or inf losses are returned, never raised."""

    def step(self, x, y) -> float:
        """One optimizer step on an explicit batch (the parity tests use it)."""

    def loss(self, x, y, training: bool = False) -> float:
        """The objective (data loss + penalty) on a batch."""

    def predict(self, x, training: bool = False) -> np.ndarray:
        """Model outputs (logits for classification)."""

    def evaluate(self, x, y) -> dict:
        """Inference-mode metrics: ``{"loss", "accuracy"}`` for classification, ``{"loss", "mae"}``
        for regression."""

    def params(self) -> list[dict]:
        """The current weights in the neutral layout."""

    def grad_norms(self) -> np.ndarray:
        """The last epoch's mean gradient norm per kernel layer (``bench.spec.gradients``)."""

    def set_schedule(self, dropout_rate=None, lr=None, momentum=None, lr_steps=None) -> None:
        """This epoch's scheduled values (``bench.spec.Schedule``), set before each epoch of an
        arm with a schedule: ``dropout_rate`` for every scheduled layer, ``lr`` the optimizer's
        learning rate (``lr_steps``, one per step of the epoch, when it changes within the epoch),
        ``momentum`` SGD's; None leaves a value as it is."""


@runtime_checkable
class GroupTrainer(Protocol):
    """Several seeds of one arm trained as one wide model, with no operation that mixes seeds:
    seed i draws as ``Trainer(job, params[i], seeds[i])`` would."""

    def __init__(self, job, params: list[list[dict]], seeds: list[int]):
        """``params[i]`` is seed i's initial weights."""

    def set_data(self, x, y) -> None:
        """As the per-seed ``Trainer``'s."""

    def fit_epoch(self, batches: list[list[np.ndarray]]) -> np.ndarray:
        """``batches[i]`` is seed i's index arrays for the epoch; the losses, shape
        ``(len(seeds), steps)``."""

    def evaluate(self, x, y) -> list[dict]:
        """One metrics dict per seed."""

    def params(self) -> list[list[dict]]:
        """One weight list per seed, in the neutral layout."""

    def grad_norms(self) -> np.ndarray:
        """One row of per-kernel-layer norms per seed."""

    def set_schedule(self, dropout_rate=None, lr=None, momentum=None, lr_steps=None) -> None:
        """As the per-seed ``Trainer``'s, for every seed."""


@runtime_checkable
class KitHost(Protocol):
    """What every backend's group trainer offers the kits it runs: the seed count and the
    framework's defaults column (``bench.spec.defaults``)."""

    S: int
    defaults: dict


@runtime_checkable
class LayerKit(Protocol):
    """Everything both trainers of a backend know about one spec layer type. The arguments are
    the backend's own (its ``layers.kit.Kit`` states them); every backend's kit has these."""

    def build(self, *args, **kwargs):
        """The per-seed path's layer (or modules) for one spec layer."""

    def build_mode(self, *args, **kwargs):
        """``build`` under the arm's inference mode when it is not "inverted"."""

    def stack(self, *args, **kwargs):
        """The seed-stacked array of one parameter from each seed's neutral array."""

    def unstack(self, *args, **kwargs):
        """One seed's neutral array out of a stacked one."""

    def group_forward(self, *args, **kwargs):
        """The layer on the group's activations (a ``KitHost`` is handed in)."""


@runtime_checkable
class Backend(Protocol):
    """A backend package, as ``bench.backends.load`` returns it."""

    PACKAGE: str                      # the pip package (and import) it needs
    LIBRARIES: tuple                  # versions the records carry (``versions()``)
    SUPPORT_LIBRARIES: tuple          # libraries beside the framework; every record carries their versions
    MODES: tuple                      # the modes a run plans
    GROUP_OVERHEAD_S: float           # the planner's start-up cost per group
    GPU_PROBE_RANK: int               # the order in which ``bench.backends.gpu_visible`` asks
    REFERENCE_LOOP: str               # its speed reference loop for C1's MLP, in its ``reference``
    CONV_REFERENCE_LOOP: str          # the same for C4's CNN
    GPU_CHECK: bool                   # whether ``bench gpu-check`` times it
    MEASURES_PEAK: bool               # whether it provides ``peak_matmul_flops``
    Trainer: type
    GroupTrainer: type

    def defaults(self, mode: str) -> dict:
        """Its column of ``bench.spec.defaults`` under ``mode``."""

    def gpu_visible(self) -> bool:
        """True when its framework is installed and sees a GPU."""

    def versions(self) -> dict:
        """The framework's version and device, for the record's provenance."""

    def free_memory(self) -> Optional[int]:
        """Free bytes of the training device, None for host memory."""
