"""The TensorFlow/Keras backend: the per-seed trainer (``single``), the vectorized
group trainer (``group``), the layers they build (``layers``), the optimizer
(``optimizer``), GPU set-up and versions (``device``), the Keras defaults
(``defaults``) and the speed table's reference loop (``reference``).

This module is light (no TensorFlow import): it states the backend's facts for
the registry (``bench.backends``) and loads ``Trainer``, ``GroupTrainer``,
``versions`` and ``free_memory`` on first use.
"""
from __future__ import annotations

import importlib

from bench.backends.tf.defaults import table as defaults

PACKAGE = "tensorflow"                 # the pip package (and import) the backend needs
LIBRARIES = ("tensorflow", "keras")    # versions the records carry (``versions()``)
SUPPORT_LIBRARIES = ()                 # versions every record carries (``bench.host.environment``)
MODES = ("as_written",)                # the posts' framework: "matched" would be the same runs
# Measured (2 shared cores, 2 workers, `bench run --profile smoke --case c1,c3`): groups of 2 seeds that
# trained 15-16 steps took 7-40 s; the planner adds this per group (``bench.run.plan``).
GROUP_OVERHEAD_S = 10.0
GPU_PROBE_RANK = 1                     # asked after cheaper probes: TensorFlow's import is the slow one
REFERENCE_LOOP = "post_tf"             # in ``reference``: the C1 post's own loop, for ``bench speed``
CONV_REFERENCE_LOOP = "keras_fit"      # in ``reference``: the same for C4's CNN (``bench speed --case c4``)
GPU_CHECK = False      # whether ``bench gpu-check`` times it (a GPU machine may have only its package)
MEASURES_PEAK = False

_LAZY = {"Trainer": "single", "GroupTrainer": "group", "versions": "device", "free_memory": "device"}


def gpu_visible() -> bool:
    """True when TensorFlow is installed and sees a GPU."""
    try:
        import tensorflow as tf
    except ImportError:
        return False
    return bool(tf.config.list_physical_devices("GPU"))


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["GroupTrainer", "Trainer", "defaults", "free_memory", "gpu_visible", "versions"]
