"""PyTorch's device: the one ``--device`` names, set up once per process for
deterministic training, its free memory, versions, and the peak matmul rate.
"""
from __future__ import annotations

import functools
import os
import time

import torch

from bench.host import devices


@functools.lru_cache(maxsize=None)
def training_device() -> torch.device:
    """Chosen once per process, as ``--device`` asked (``bench.host.devices``): under auto,
    the first CUDA device if there is one."""
    wanted = devices.requested()
    if wanted not in ("cpu", "auto") and not torch.cuda.is_available():
        raise devices.DeviceError(f"--device {wanted}: PyTorch sees no CUDA device (torch {torch.__version__}, "
                                  f"built for CUDA {torch.version.cuda}); see docs/running.md, \"Running on GPUs and clusters\".")
    if wanted != "cpu" and torch.cuda.is_available():
        index = devices.cuda_index(wanted) or 0
        if index >= torch.cuda.device_count():
            raise devices.DeviceError(f"--device {wanted}: PyTorch sees {torch.cuda.device_count()} CUDA device(s).")
        # cuBLAS is only deterministic with a fixed workspace; this must be set
        # before the first CUDA matmul creates its handle.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        device = torch.device("cuda", index)
    else:
        device = torch.device("cpu")
        # Subnormals flushed to zero, as TensorFlow does on the CPU by default. Set
        # before the thread pool starts, so its threads inherit it. Without it C1's
        # late epochs ran 2.5x slower (15 s -> 39 s an epoch for 16 vectorized seeds):
        # Adam moments of units that stopped learning decay through the subnormal
        # range, where every CPU operation is slow. Only values below 1.2e-38 change.
        torch.set_flush_denormal(True)
        torch.set_num_threads(devices.cpu_threads())   # the usable cores, unless BENCH_THREADS caps them
    # warn_only: an op without a deterministic kernel should warn, not crash a run.
    torch.use_deterministic_algorithms(True, warn_only=True)
    # Deterministic mode also fills every new tensor with NaN before use, a debugging aid
    # that adds a memory pass per allocation (part of the step time measured in
    # CHANGELOG.md). No result depends on it, since every tensor is written before it is read;
    # the bit-for-bit checks (tests, ``bench check``) would catch it if that stopped holding.
    torch.utils.deterministic.fill_uninitialized_memory = False
    return device


def free_memory():
    """Free bytes on the training device: the GPU's when there is one, else None (host memory)."""
    device = training_device()
    return torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else None


def peak_matmul_flops(n: int = 2048, repeats: int = 10) -> float:
    """The best FLOP/s of an n x n fp32 matmul on the suite's device and threads."""
    device = training_device()
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    best = float("inf")
    for _ in range(repeats + 2):
        t0 = time.perf_counter()
        torch.mm(a, b)
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best


def versions() -> dict:
    device = training_device()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return {"torch": torch.__version__, "device": name, "threads": torch.get_num_threads()}


