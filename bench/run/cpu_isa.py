"""Pinned CPU code paths (``bench run --cpu-isa avx2``): the libraries' documented switches that fix
which kernels run, set before PyTorch or TensorFlow is imported.

Both frameworks choose their CPU kernels when they load, by what the CPU offers: PyTorch's own
vector kernels (``ATEN_CPU_CAPABILITY``), MKL's BLAS (PyTorch's matmuls; ``MKL_CBWR``) and oneDNN
(PyTorch's convolutions, most of TensorFlow's CPU ops; ``ONEDNN_MAX_CPU_ISA``). ``avx2`` pins all
three to what every x86-64 CPU with AVX2 runs alike: ATen's AVX2 kernels, oneDNN up to AVX2, and
MKL's ``COMPATIBLE`` branch, the one branch MKL documents for Intel and non-Intel CPUs alike (its
AVX2 branch set by ``MKL_CBWR`` falls back to automatic dispatch on non-Intel CPUs). ``native``
sets nothing. The variables are inherited, so worker processes spawned afterwards run the same
paths. A switch the user set in the environment is left as it is, and a record's ``env["cpu_isa"]``
(``current``) says what was in force: a mode's name, or ``custom`` with the switches.
"""
from __future__ import annotations

import os
import sys

from bench import backends
from bench.errors import SpecError

ENV = "BENCH_CPU_ISA"   # the default of ``bench run --cpu-isa``
SWITCHES = {
    "avx2": {
        "ATEN_CPU_CAPABILITY": "avx2",
        "MKL_CBWR": "COMPATIBLE",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
    },
}
MODES = ("native", *SWITCHES)
NAMES = sorted({name for switches in SWITCHES.values() for name in switches} | {"MKL_ENABLE_INSTRUCTIONS"})


def default() -> str:
    return os.environ.get(ENV, "native")


def apply(mode: str) -> None:
    """Set ``mode``'s switches for this process and the workers it spawns; before any framework loads."""
    if mode not in MODES:
        raise SpecError(f"unknown --cpu-isa {mode!r}; choose from {', '.join(MODES)}.")
    loaded = [name for name in backends.FRAMEWORK_PACKAGES.values() if name in sys.modules]
    if mode != "native" and loaded:
        raise SpecError(f"--cpu-isa {mode} must be set before {' or '.join(loaded)} is imported; "
                        f"set {ENV}={mode} in the environment instead.")
    os.environ[ENV] = mode
    for name, value in SWITCHES.get(mode, {}).items():
        os.environ.setdefault(name, value)


def current() -> str:
    """The code paths in force, for a record's ``env``: "native" when no switch is set, a mode's name
    when exactly its switches are, else "custom: NAME=VALUE, ..."."""
    found = {name: os.environ[name] for name in NAMES if os.environ.get(name)}
    if not found:
        return "native"
    for mode, switches in SWITCHES.items():
        if found == switches:
            return mode
    return "custom: " + ", ".join(f"{k}={v}" for k, v in sorted(found.items()))
