"""What a record says about where it ran: code (commit, modified tree), Python, libraries, CPU, device.

``describe`` is the ``env`` of every record; ``summary`` condenses the
provenance of a set of records into the lines a report header states, so a
report says what ran as found in its records, not as the profile declares.
"""
from __future__ import annotations

import functools
import hashlib
import os
import platform
import subprocess
from collections import Counter, defaultdict
from importlib import metadata
from pathlib import Path

import bench
from bench import backends
from bench.run import cpu_isa

# The checkout the package runs from (the directory holding bench/).
REPO = Path(bench.__file__).resolve().parents[1]


@functools.lru_cache(maxsize=None)
def code_version() -> str:
    """The package version and, inside a git checkout, the commit (``+dirty`` if modified)."""
    root = REPO
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


@functools.lru_cache(maxsize=None)
def git_state() -> tuple[str, bool]:
    """The full commit of the checkout the code runs from and whether its tracked files are
    modified; ("", False) outside a git checkout."""
    root = REPO
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "", False
    return commit, bool(commit and dirty)


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


def cores() -> int:
    """CPU cores this process may use (its affinity), which sets the frameworks' default threads."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


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


def machine(env: dict) -> str:
    """A record's machine in words: its CPU fingerprint, threads and device."""
    parts = [env.get("cpu", "unknown CPU")]
    if "threads" in env:
        parts.append(f"{env['threads']} threads")
    elif "cores" in env:
        parts.append(f"{env['cores']} cores")
    device = env.get("device", "unknown device")
    return ", ".join(parts) + ("" if device == "cpu" else f", device {device}")


def commit_of(env: dict) -> str:
    """A record's commit (short) with ``+modified`` when its tree was; "unknown" for records
    written before records carried one."""
    if not env.get("commit"):
        return "unknown"
    return env["commit"][:10] + ("+modified" if env.get("dirty") else "")


def training_path(record: dict) -> str:
    group = record.get("group") or {}
    if group.get("path") == "per_seed":
        return "per-seed"
    return f"groups of {group['size']}" if "size" in group else "unknown"


def summary(records: list[dict]) -> list[str]:
    """Markdown bullet lines: per case, the commits, machines, training paths, budget (steps)
    and seeds per arm x framework x mode, all as found in ``records``."""
    by_case = defaultdict(list)
    for r in records:
        by_case[r["case"]].append(r)
    lines = []
    for case, mine in sorted(by_case.items()):
        ok = [r for r in mine if r.get("status") == "ok"]
        commits = Counter(commit_of(r.get("env", {})) for r in mine)
        machines = Counter(machine(r.get("env", {})) for r in mine)
        paths = Counter(training_path(r) for r in ok)
        steps = sorted({r.get("planned_steps") for r in ok if r.get("planned_steps") is not None})
        budget = mine[-1].get("budget")
        seeds = Counter()
        for r in ok:
            seeds[(r["arm"], r["framework"], r["mode"])] += 1
        counts = sorted(set(seeds.values()))
        seed_ids = sorted({r["seed"] for r in ok})
        hashes = sorted({r.get("spec_hash", "none") for r in mine})

        def fmt(counter):
            return "; ".join(f"{k} ({n})" for k, n in counter.most_common())

        lines.append(
            f"- **{case}**: {len(mine)} records ({len(ok)} ok); spec {', '.join(hashes)}; "
            f"commit {fmt(commits)}; machine {fmt(machines)}; training {fmt(paths) or 'n/a'}; "
            + (f"budget {_budget(budget)}, " if budget else "")
            + f"{'/'.join(map(str, steps)) or 'n/a'} steps per seed; "
            f"{'-'.join(map(str, counts)) or 0} seeds per arm x framework x mode"
            + (f" (seeds {seed_ranges(seed_ids)})" if seed_ids else ""))
    return lines


def _budget(budget: dict) -> str:
    text = f"{budget.get('epochs')} epochs, batch {budget.get('batch_size')}"
    if budget.get("train_subsample"):
        text += f", {budget['train_subsample']} train"
    if budget.get("test_subsample"):
        text += f" / {budget['test_subsample']} test examples"
    return text


def seed_ranges(ids: list[int]) -> str:
    """[0, 1, 2, 5] -> "0-2, 5"."""
    out, start = [], None
    for i, s in enumerate(ids):
        if start is None:
            start = s
        if i + 1 == len(ids) or ids[i + 1] != s + 1:
            out.append(f"{start}" if start == s else f"{start}-{s}")
            start = None
    return ", ".join(out)


def gpu_visible() -> bool:
    """True when any installed framework sees a GPU (``bench.backends.gpu_visible``)."""
    return backends.gpu_visible()
