"""``bench gpu-check``: on a machine with an NVIDIA GPU and a CUDA build of PyTorch, is the
suite ready for it, and does it meet its GPU targets? One command, one table.

It needs only the checkout and PyTorch (any version from 2.11; the backend whose
``GPU_CHECK`` is set): no TensorFlow, no Ray, no ``make install``. It says that TensorFlow
was skipped (and whether it is installed at all), then:

1. runs the CUDA tests (``tests/test_cuda.py``, marked ``cuda``) in a subprocess;
2. trains PyTorch C1 ``full`` (4 arms x 10 seeds) and C4 ``full`` for one arm (``fc``) x 10
   seeds, with the suite's defaults (vectorized groups, one worker), timing each;
3. compares the fresh records with the published CPU ones (``bench compare``'s statistics:
   verdicts, arm means, no bits across devices);
4. prints the table of targets: C1's training (the records' ``train_s``, summed) at most
   ``C1_TARGET_S``, C4's at most ``C4_TARGET_S``, the whole check within ``TOTAL_TARGET_S``.

Exit codes: 0 every target met; 1 a target missed or a step failed; ``NO_GPU`` (3) when no
CUDA device is visible, which prints "no GPU: not run" and runs nothing. With ``tiny`` the
same steps run on whatever device there is (a CPU too) at the ``smoke`` budget, 2 seeds, to
test the check itself; its timings are not judged against the targets.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import backends

NO_GPU = 3
C1_TARGET_S = 10.0
C4_TARGET_S = 120.0
TOTAL_TARGET_S = 8 * 60.0
C4_ARM = "fc"
SEEDS = 10
TINY_SEEDS = 2
CUDA_TESTS = ("tests/test_cuda.py",)
TESTS_TIMEOUT_S = 240
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Row:
    step: str
    target: str
    measured: str
    met: str   # "yes", "NO", or "-" (not judged)


def gpu_name() -> str | None:
    """The training device's name, or None (the timed backend's framework is missing, is a
    CPU build, or sees no CUDA device)."""
    framework = backends.gpu_check_framework()
    if not backends.info(framework).gpu_visible():
        return None
    return backends.load(framework).versions()["device"]


def skipped_note() -> str:
    """Which frameworks the check skips, and whether they are installed at all."""
    notes = []
    for name in backends.names():
        if name == backends.gpu_check_framework():
            continue
        try:
            found = importlib.util.find_spec(backends.package(name)) is not None
        except (ImportError, ValueError):   # an import hook that hides it: not installed, as far as we go
            found = False
        why = "installed, but this check does not time it" if found else "not installed"
        notes.append(f"{backends.package(name)}: skipped ({why})")
    return "; ".join(notes)


def _tests(tiny: bool) -> Row:
    files = [f for f in CUDA_TESTS if (ROOT / f).exists()]
    if not files:
        return Row("CUDA tests", "pass", "not run: no tests/ beside the package", "-")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "cuda", *files]
    try:
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TESTS_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return Row("CUDA tests", "pass", f"timed out after {TESTS_TIMEOUT_S} s", "NO")
    last = (out.stdout.strip().splitlines() or ["(no output)"])[-1]
    if out.returncode == 5 or (tiny and " skipped" in last and "passed" not in last):
        return Row("CUDA tests", "pass", last, "-")   # nothing collected, or all skipped without a GPU
    return Row("CUDA tests", "pass", last, "yes" if out.returncode == 0 else "NO")


def _train(case_id: str, arms, profile: str, seeds: int, results_dir, data_dir) -> tuple[float, float, int]:
    """One run of ``bench run``'s runner: (wall seconds, training seconds, ok records)."""
    from bench.records import store
    from bench.run import runner
    from bench.run.options import RunOptions
    from bench.spec import registry

    case = registry.get(case_id)
    options = RunOptions([case], profile, frameworks=(backends.gpu_check_framework(),), arm_names=arms, seeds=seeds,
                         results_dir=results_dir, data_dir=data_dir, workers=1, progress=sys.stderr.isatty())
    t0 = time.perf_counter()
    summary = runner.run(options)
    wall = time.perf_counter() - t0
    records = [r for r in store.load(results_dir, profile) if r["case"] == case_id and r.get("status") == "ok"]
    return wall, sum(r["timing"]["train_s"] for r in records), summary.ok


def _compare(results_dir, published, profile: str) -> Row:
    from bench.errors import BenchError
    from bench.publish import compare
    from bench.records import store

    if not Path(store.records_path(published, profile)).exists():
        return Row("bench compare", "reproduces", f"not run: no published {profile} records in {published}", "-")
    try:
        result = compare.run(results_dir, published, profile)
    except BenchError as exc:
        return Row("bench compare", "reproduces", f"not run: {exc}", "NO")
    print(compare.render(result))
    failed = sum(r.failed for r in result.rows)
    return Row("bench compare", f"reproduces the published {profile} CPU records",
               "passed" if result.passed else f"{failed} comparison(s) failed", "yes" if result.passed else "NO")


def run(tiny: bool = False, results_dir=None, data_dir=None, published=None, tests: bool = True) -> tuple[int, list]:
    """The check's exit code and its rows (see the module docstring)."""
    started = time.perf_counter()
    name = gpu_name()
    if name is None and not tiny:
        print("bench gpu-check: no GPU: not run (PyTorch sees no CUDA device).")
        return NO_GPU, []
    print(f"bench gpu-check: {name or 'no GPU, tiny run on the CPU'}; {skipped_note()}.")
    profile, seeds = ("smoke", TINY_SEEDS) if tiny else ("full", SEEDS)
    label = backends.package(backends.gpu_check_framework())
    published = published or ROOT / "results"
    rows = [_tests(tiny)] if tests else [Row("CUDA tests", "pass", "not run (asked)", "-")]
    with tempfile.TemporaryDirectory() as scratch:
        results_dir = results_dir or scratch
        judged = "-" if tiny else None
        wall, train, ok = _train("c1", None, profile, seeds, results_dir, data_dir)
        rows.append(Row(f"{label} C1 {profile}, 4 arms x {seeds} seeds", f"<= {C1_TARGET_S:g} s of training",
                        f"{train:.1f} s training, {wall:.1f} s wall, {ok} records",
                        judged or ("yes" if train <= C1_TARGET_S else "NO")))
        wall, train, ok = _train("c4", (C4_ARM,), profile, seeds, results_dir, data_dir)
        rows.append(Row(f"{label} C4 {profile}, arm {C4_ARM} x {seeds} seeds", f"<= {C4_TARGET_S:g} s of training",
                        f"{train:.1f} s training, {wall:.1f} s wall, {ok} records",
                        judged or ("yes" if train <= C4_TARGET_S else "NO")))
        rows.append(_compare(results_dir, published, profile))
    total = time.perf_counter() - started
    rows.append(Row("the whole check", f"<= {TOTAL_TARGET_S / 60:g} min", f"{total / 60:.1f} min",
                    "-" if tiny else ("yes" if total <= TOTAL_TARGET_S else "NO")))
    return (1 if any(r.met == "NO" for r in rows) else 0), rows


def render(rows: list) -> str:
    from tabulate import tabulate

    return tabulate([[r.step, r.target, r.measured, r.met] for r in rows],
                    headers=("step", "target", "measured", "met"), tablefmt="github")
