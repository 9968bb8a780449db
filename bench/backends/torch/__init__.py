"""The PyTorch backend: the per-seed trainer (``single``), the vectorized group
trainer (``group``), their layers (``layers``), the optimizer (``optimizer``), the
device (``device``), Keras-semantics Adam (``adam``), the Mersenne Twister that
draws Keras-identical dropout masks (``mt``), the PyTorch defaults (``defaults``)
and the speed table's reference loop (``reference``).

This module is light (no torch import): it states the backend's facts for the
registry (``bench.backends``) and loads ``Trainer``, ``GroupTrainer``,
``versions``, ``free_memory`` and ``peak_matmul_flops`` on first use.
"""
from __future__ import annotations

import importlib

from bench.backends.torch.defaults import table as defaults

PACKAGE = "torch"                      # the pip package (and import) the backend needs
LIBRARIES = ("torch",)                 # versions the records carry (``versions()``)
SUPPORT_LIBRARIES = ("numba",)         # compiles the dropout masks (``mt``); every record carries its version
MODES = ("as_written", "matched")
# Measured (2 shared cores, 2 workers, `bench run --profile smoke --case c1,c3`): groups of 2 seeds that
# trained 15-16 steps took 1-15 s; the planner adds this per group (``bench.run.plan``).
GROUP_OVERHEAD_S = 4.0
GPU_PROBE_RANK = 0                     # asks CUDA without claiming a GPU: first
REFERENCE_LOOP = "plain_torch"         # in ``reference``: a PyTorch user's loop, for ``bench speed``
CONV_REFERENCE_LOOP = "plain_torch_conv"   # in ``reference``: the same for C4's CNN (``bench speed --case c4``)
GPU_CHECK = True       # whether ``bench gpu-check`` times it (a GPU machine may have only its package)
MEASURES_PEAK = True                   # ``peak_matmul_flops``: the speed table's peak

_LAZY = {"Trainer": "single", "GroupTrainer": "group", "versions": "device", "free_memory": "device",
         "peak_matmul_flops": "device"}


def gpu_visible() -> bool:
    """True when torch is installed and sees a CUDA device."""
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["GroupTrainer", "Trainer", "defaults", "free_memory", "gpu_visible", "peak_matmul_flops", "versions"]
