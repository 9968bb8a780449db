"""What a record says about where it ran: code, Python, frameworks, device."""
from __future__ import annotations

import functools
import hashlib
import platform
import subprocess
from pathlib import Path

import bench


@functools.lru_cache(maxsize=None)
def code_version() -> str:
    """The package version and, inside a git checkout, the commit (``+dirty`` if modified)."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", ""
    suffix = f"+{commit}{'.dirty' if dirty else ''}" if commit else ""
    return bench.__version__ + suffix


@functools.lru_cache(maxsize=None)
def cpu_fingerprint() -> str:
    """The CPU model and a hash of its feature flags: two machines with the same
    fingerprint run the same CPU kernels, so a CPU run repeats bit for bit."""
    model, flags = platform.processor() or platform.machine(), ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and not flags:
                model = value.strip()
            elif key.strip() == "flags":
                flags = value.strip()
                break
    except OSError:
        pass
    return f"{model} [{hashlib.sha256(flags.encode()).hexdigest()[:8]}]"


def describe(backend_versions: dict) -> dict:
    return {
        "bench": code_version(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu": cpu_fingerprint(),
        **backend_versions,
    }


def gpu_visible() -> bool:
    """True when torch or TensorFlow (whichever is installed) sees a GPU."""
    try:
        import torch
        if torch.cuda.is_available():
            return True
    except ImportError:
        pass
    try:
        import tensorflow as tf
        return bool(tf.config.list_physical_devices("GPU"))
    except ImportError:
        return False
