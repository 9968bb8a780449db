"""Backends: one module per framework, loaded lazily from ``BACKENDS``.

Each backend module exposes a ``Trainer`` class with this interface (all
arrays are numpy; weights use the neutral layout of ``bench.run.seeds``):

``Trainer(job, params, seed)``
    Build ``job.arm`` with the given initial ``params`` (a list of dicts from
    ``bench.run.seeds.initial_params``), the optimizer of ``job.case`` resolved
    for this framework and ``job.mode``, and seed the framework's own RNG
    (dropout masks) with ``seed``.
``set_data(x_train, y_train)``
    Keep the training set on the device once; later steps index into it.
``fit_epoch(batches) -> np.ndarray``
    One optimizer step per index array in ``batches``; returns the per-step
    training loss (data loss + L2 term), shape ``(len(batches),)``. NaN/inf
    losses are returned, never raised.
``step(x, y) -> float``
    One optimizer step on an explicit batch (used by parity tests).
``loss(x, y, training=False) -> float``
    The objective (data loss + L2 term) on a batch.
``predict(x, training=False) -> np.ndarray``
    Model outputs (logits for classification).
``evaluate(x, y) -> dict``
    Inference-mode metrics: ``{"loss", "accuracy"}`` for classification,
    ``{"loss", "mae"}`` for regression.
``params() -> list[dict]``
    Current weights in the neutral layout.

and a ``GroupTrainer`` class, the vectorized path, which trains several seeds
of one arm as one wide model:

``GroupTrainer(job, params, seeds)``
    ``params[i]`` is seed i's initial weights; seed i draws its dropout masks
    as the per-seed ``Trainer(job, params[i], seeds[i])`` would.
``set_data(x, y)``; ``fit_epoch(batches) -> np.ndarray``
    ``batches[i]`` is seed i's index arrays for the epoch; returns the losses,
    shape ``(len(seeds), steps)``. No operation mixes seeds.
``evaluate(x, y) -> list[dict]``; ``params() -> list[list[dict]]``
    One entry per seed.

and module-level ``versions() -> dict`` (framework version and device) and
``free_memory() -> int | None`` (free bytes of the device, None for host memory).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from bench.run import allocator
from bench.backends import quiet
from bench.errors import SpecError
from bench.spec import Arm, Case, Data

BACKENDS = {"tf": "bench.backends.tf.single", "torch": "bench.backends.torch.single"}
FRAMEWORK_PACKAGES = {"tf": "tensorflow", "torch": "torch"}


@dataclass(frozen=True)
class Job:
    """One arm of one case in one framework, with the profile's budget applied."""
    case: Case
    arm: Arm
    framework: str
    mode: str
    profile: str
    data: Data

    @property
    def in_features(self) -> int:
        n = 1
        for d in self.case.input_shape:
            n *= d
        return n


def load(framework: str):
    """Import the backend module for ``framework`` with a clear error."""
    if framework not in BACKENDS:
        raise SpecError(f"unknown framework {framework!r}; choose from {sorted(BACKENDS)}.")
    allocator.keep_freed_memory()   # training reuses the same large blocks every step
    try:
        with quiet.framework_import():
            return importlib.import_module(BACKENDS[framework])
    except ImportError as exc:
        pkg = FRAMEWORK_PACKAGES[framework]
        raise SpecError(
            f"the {framework} backend needs {pkg}, which failed to import ({exc}); "
            f"install it with `pip install -e .[{framework}]`."
        ) from exc
