"""Which device trains: ``--device``, the GPUs this process may use, and their free memory.

``bench run --device`` takes ``auto`` (a GPU when the framework sees one, else
the CPU; the default), ``cpu``, ``cuda`` (the first visible GPU) or ``cuda:N``
(the N-th visible GPU). The choice travels in the environment variable
``BENCH_DEVICE``, so worker processes, which are spawned, inherit it; each
backend reads it once, before it touches a GPU (``bench/backends/*.py``).

Worker processes on a machine with several GPUs are pinned one to a GPU the
way they are pinned to their cores: ``CUDA_VISIBLE_DEVICES`` is set in the
worker before it imports a framework (``bench.run.workers``), so each framework
there sees exactly one GPU, as ``cuda``. Which GPUs exist is asked of
``nvidia-smi`` (or NVML through ``pynvml``), never of a framework, so that the
parent process plans without creating a CUDA context. ``CUDA_VISIBLE_DEVICES``
set by the user limits and orders the GPUs, as it does for the frameworks.

``BENCH_THREADS`` caps a process's CPU threads below its usable cores (a Ray
task asks for a number of CPUs but is not pinned to them; ``bench.run.ray_executor``).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import Optional

from bench.errors import BenchError

ENV = "BENCH_DEVICE"
THREADS_ENV = "BENCH_THREADS"
_PATTERN = re.compile(r"^(auto|cpu|cuda)$|^cuda:(\d+)$")


class DeviceError(BenchError):
    """A device that was asked for and is not there, or a malformed ``--device``."""


def parse(value: str) -> str:
    """``--device``: auto, cpu, cuda or cuda:N, else one clear sentence."""
    value = (value or "").strip().lower()
    if not _PATTERN.match(value):
        raise DeviceError(f"--device must be auto, cpu, cuda or cuda:N (N a GPU index), got {value!r}.")
    return value


def requested() -> str:
    """The device this process was asked for (``BENCH_DEVICE``; auto when unset)."""
    return parse(os.environ.get(ENV) or "auto")


def select(value: str) -> str:
    """Record ``value`` for this process and the workers it starts."""
    value = parse(value)
    os.environ[ENV] = value
    return value


def cuda_index(device: str) -> Optional[int]:
    """N of ``cuda:N``; 0 for ``cuda``; None for cpu and auto."""
    if device == "cuda":
        return 0
    match = _PATTERN.match(device)
    return int(match.group(2)) if match and match.group(2) is not None else None


def cpu_threads() -> int:
    """Threads a backend should use on the CPU: its usable cores, or fewer if ``BENCH_THREADS`` says so."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    cap = os.environ.get(THREADS_ENV, "")
    return max(1, min(cores, int(cap))) if cap.isdigit() and int(cap) > 0 else cores


def _nvidia_smi(*args: str) -> Optional[list[str]]:
    """nvidia-smi's output lines, or None where it is missing or fails (no driver, no GPU)."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi", *args], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def _physical_gpus() -> list[str]:
    """Every GPU the driver reports, by index, in nvidia-smi's order."""
    lines = _nvidia_smi("--query-gpu=index", "--format=csv,noheader")
    return [line for line in lines if line.isdigit()] if lines else []


def visible_gpus() -> list[str]:
    """The GPUs this process may use, as ``CUDA_VISIBLE_DEVICES`` entries: that variable's
    list when it is set (empty: none), else every GPU the driver reports."""
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        return [g.strip() for g in os.environ["CUDA_VISIBLE_DEVICES"].split(",") if g.strip() and g.strip() != "-1"]
    return _physical_gpus()


def gpus_for(device: str) -> list[str]:
    """The visible GPUs ``device`` trains on: none for cpu, one for cuda:N, all for cuda and auto."""
    if device == "cpu":
        return []
    gpus = visible_gpus()
    index = cuda_index(device)
    if device.startswith("cuda:"):
        if index >= len(gpus):
            raise DeviceError(f"--device {device} asks for GPU {index}, but {len(gpus)} GPU"
                              f"{'' if len(gpus) == 1 else 's'} are visible (nvidia-smi, CUDA_VISIBLE_DEVICES).")
        return [gpus[index]]
    return gpus


def worker_gpus(count: int, device: Optional[str] = None) -> list[Optional[str]]:
    """The GPU each of ``count`` workers is pinned to (``CUDA_VISIBLE_DEVICES`` entries,
    dealt round-robin, so more workers than GPUs share them), or None per worker on a CPU."""
    gpus = gpus_for(requested() if device is None else device)
    return [gpus[i % len(gpus)] if gpus else None for i in range(count)]


def pin(gpu: Optional[str]) -> None:
    """In a fresh worker, before any framework is imported: see only ``gpu`` (a
    ``worker_gpus`` entry), as ``cuda``. Nothing changes for None (a CPU worker)."""
    if gpu is None:
        return
    # nvidia-smi numbers GPUs in PCI bus order, CUDA by default fastest first: one order for both.
    os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    if requested() != "auto":
        os.environ[ENV] = "cuda"   # cuda:N named a GPU of the parent's list; here it is the only one


def sharing(workers: int, device: Optional[str] = None) -> int:
    """How many of ``workers`` share one GPU's memory: ceil(workers / GPUs), or all of them
    when no GPU is visible (then the memory planned is the host's)."""
    gpus = len(gpus_for(requested() if device is None else device)) or 1
    return max(1, -(-workers // gpus))


def free_bytes(gpu: str) -> Optional[int]:
    """Free memory of one GPU (a ``CUDA_VISIBLE_DEVICES`` entry: index or UUID), from NVML
    or nvidia-smi; None if neither answers."""
    try:
        import pynvml   # nvidia-ml-py, if installed: no subprocess

        pynvml.nvmlInit()
        try:
            handle = (pynvml.nvmlDeviceGetHandleByIndex(int(gpu)) if gpu.isdigit()
                      else pynvml.nvmlDeviceGetHandleByUUID(gpu))
            return int(pynvml.nvmlDeviceGetMemoryInfo(handle).free)
        finally:
            pynvml.nvmlShutdown()
    except Exception:   # not installed, or no driver: ask nvidia-smi
        pass
    lines = _nvidia_smi("--query-gpu=memory.free", "--format=csv,noheader,nounits", "-i", gpu)
    try:
        return int(float(lines[0])) << 20 if lines else None   # MiB
    except ValueError:
        return None
