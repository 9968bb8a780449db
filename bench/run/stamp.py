"""The ``env`` stamped on every record: the host's facts (``bench.host.environment``), the
versions of the numeric libraries under the backends, and the backend's own versions.
"""
from __future__ import annotations

import platform
from importlib import metadata

from bench import backends
from bench.host.environment import code_version, cores, cpu_fingerprint, git_state
from bench.run import cpu_isa


def _library_versions() -> dict:
    """Versions of the numeric libraries under the backends (numpy, and each backend's
    ``SUPPORT_LIBRARIES``, e.g. what compiles its dropout masks)."""
    out = {}
    for name in ("numpy", *backends.support_libraries()):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def describe(backend_versions: dict) -> dict:
    commit, dirty = git_state()
    model, _, flags = cpu_fingerprint().rpartition(" [")
    return {
        "bench": code_version(),
        "commit": commit,
        "dirty": dirty,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu": cpu_fingerprint(),
        "cpu_model": model,
        "cpu_flags": flags.rstrip("]"),
        "cores": cores(),
        "cpu_isa": cpu_isa.current(),   # the pinned code paths (bench.run.cpu_isa), or "native"
        **_library_versions(),
        **backend_versions,   # the framework's version, its device and (torch) its thread count
    }
