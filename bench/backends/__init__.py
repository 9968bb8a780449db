"""Backends: the registry of framework packages, and the interface they implement.

``BACKENDS`` names every backend and its package; nothing else in ``bench`` names
a framework. Each package's ``__init__`` is light (no framework import) and
states the backend's facts, read through ``info``: ``PACKAGE`` (what to install),
``LIBRARIES`` and ``SUPPORT_LIBRARIES`` (versions the records carry), ``MODES``
(the modes a run plans), ``GROUP_OVERHEAD_S`` (the planner's start-up cost per
group), ``defaults(mode)`` (its column of ``bench.spec.defaults``),
``gpu_visible()``, ``REFERENCE_LOOP`` and ``CONV_REFERENCE_LOOP`` (its speed reference loops for
C1's MLP and C4's CNN, in its ``reference`` module)
``GPU_CHECK`` (timed by ``bench gpu-check``) and ``MEASURES_PEAK``. ``load`` imports the framework and the trainers.

What a backend provides (the package, its ``Trainer`` and ``GroupTrainer``, its layer
kits) is stated as Protocols in ``bench.backends.contract``, and tested against every
backend registered here.
"""
from __future__ import annotations

import contextlib
import importlib

from bench.host import allocator
from bench.backends import quiet
from bench.errors import SpecError
from bench.spec.defaults import check_mode

BACKENDS = {"tf": "bench.backends.tf", "torch": "bench.backends.torch"}
EVAL_ROWS = 256   # rows per inference pass in the group trainers (and the planner's memory estimate)


def names() -> list[str]:
    """The backends, in the order runs and tables list them."""
    return list(BACKENDS)


def info(framework: str):
    """The light package of ``framework``: its facts, without importing the framework."""
    if framework not in BACKENDS:
        raise SpecError(f"unknown framework {framework!r}; choose from {sorted(BACKENDS)}.")
    return importlib.import_module(BACKENDS[framework])


def defaults(framework: str, mode: str) -> dict:
    """What a ``None`` field of the spec becomes in ``framework`` under ``mode``
    (resolved with ``bench.spec.defaults``)."""
    return info(framework).defaults(check_mode(mode))


def plans(framework: str, mode: str) -> bool:
    """Whether a run trains ``framework`` under ``mode``."""
    return mode in info(framework).MODES


def libraries() -> tuple[str, ...]:
    """Every library whose version decides a backend's bits."""
    return tuple(lib for name in BACKENDS for lib in (*info(name).LIBRARIES, *info(name).SUPPORT_LIBRARIES))


def support_libraries() -> tuple[str, ...]:
    """Libraries a backend uses beside its framework; every record carries their versions."""
    return tuple(lib for name in BACKENDS for lib in info(name).SUPPORT_LIBRARIES)


def package(framework: str) -> str:
    """The package to install (and import) for ``framework``."""
    return info(framework).PACKAGE


def gpu_visible() -> bool:
    """True when any installed framework sees a GPU (the cheapest probe first)."""
    return any(info(name).gpu_visible() for name in sorted(BACKENDS, key=lambda n: info(n).GPU_PROBE_RANK))


def reference_loops(conv: bool = False) -> tuple[str, ...]:
    """The speed table's reference loops (``reference_loop``), one per backend: C1's MLP,
    or with ``conv`` C4's CNN (``CONV_REFERENCE_LOOP``)."""
    attr = "CONV_REFERENCE_LOOP" if conv else "REFERENCE_LOOP"
    return tuple(sorted(getattr(info(name), attr) for name in BACKENDS))


def speed_loops(conv: bool = False) -> list[str]:
    """The loops ``bench speed`` times by default: every backend, then the references."""
    return [*BACKENDS, *reference_loops(conv)]


def reference_loop(loop: str):
    """The function of reference loop ``loop`` (``<backend>.reference``), imported, with its
    framework imported first as ``load`` does it (start-up logging kept quiet)."""
    for name in BACKENDS:
        if loop in (info(name).REFERENCE_LOOP, info(name).CONV_REFERENCE_LOOP):
            with contextlib.suppress(ImportError), quiet.framework_import():
                importlib.import_module(package(name))   # a missing one is said when the loop runs
            return getattr(importlib.import_module(f"{BACKENDS[name]}.reference"), loop)
    raise SpecError(f"unknown reference loop {loop!r}; choose from {reference_loops() + reference_loops(True)}.")


def gpu_check_framework() -> str:
    """The backend ``bench gpu-check`` times (``GPU_CHECK``)."""
    return next(name for name in BACKENDS if info(name).GPU_CHECK)


def peak_matmul_flops(n: int) -> float:
    """The best FLOP/s of an n x n fp32 matmul, from the backend that measures it."""
    name = next(name for name in BACKENDS if info(name).MEASURES_PEAK)
    return load(name).peak_matmul_flops(n)


def load(framework: str):
    """Import the backend package for ``framework`` with its trainers, with a clear error."""
    backend = info(framework)
    allocator.keep_freed_memory()   # training reuses the same large blocks every step
    try:
        with quiet.framework_import():
            backend.Trainer, backend.GroupTrainer   # noqa: B018  (imports the framework)
            return backend
    except ImportError as exc:
        raise SpecError(
            f"the {framework} backend needs {backend.PACKAGE}, which failed to import ({exc}); "
            f"install it with `pip install -e .[{framework}]`."
        ) from exc


FRAMEWORK_PACKAGES = {name: package(name) for name in BACKENDS}
