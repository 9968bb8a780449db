"""Point the suite at the local data copy when none is configured (see docs/running.md: local data), and
make a missing dataset loud in CI.

A test that reads a real dataset says so with ``@pytest.mark.needs_data("mnist.npz", ...)``
(file names relative to ``BENCH_DATA_DIR``, or absolute paths). When a file is missing the test
is skipped locally, with the reason, but fails under CI (``CI`` set to true/1/yes, as CI
services do and ``.ci/run`` does): a CI run without its data must not pass by skipping the
tests that need it.
"""
import os
from pathlib import Path

import pytest

_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if not os.environ.get("BENCH_DATA_DIR") and _SHARED.is_dir():
    os.environ["BENCH_DATA_DIR"] = str(_SHARED)


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def data_path(name) -> Path:
    """``name`` under the configured data directory (``BENCH_DATA_DIR``, else ../shared/data)."""
    path = Path(name)
    return path if path.is_absolute() else Path(os.environ.get("BENCH_DATA_DIR") or _SHARED) / path


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "needs_data(*files): the test reads these data files (relative to BENCH_DATA_DIR, or "
                   "absolute); missing, it is skipped locally and fails under CI.")


def pytest_runtest_setup(item):
    for marker in item.iter_markers("needs_data"):
        missing = [str(data_path(f)) for f in marker.args if not data_path(f).exists()]
        if not missing:
            continue
        message = (f"missing data: {', '.join(missing)}; set BENCH_DATA_DIR to a directory holding the "
                   f"datasets (docs/running.md: local data) or install the Debian package dataset-fashion-mnist.")
        if in_ci():
            pytest.fail(f"CI run without its data: {message}", pytrace=False)
        pytest.skip(message)


def copy_published(profile: str, dest) -> Path:
    """The published records of ``profile`` copied to ``dest/<profile>/records.jsonl``, each stamped
    with its case's spec hash as the code defines it today, so that tests of the report machinery
    read them as current records whatever spec made them (docs/method.md: records)."""
    import json

    from bench.records import identity
    from bench.spec import registry

    src = Path(__file__).resolve().parents[1] / "results" / profile / "records.jsonl"
    cases = registry.discover()
    out = Path(dest) / profile
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for line in src.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            record["spec_hash"] = identity.spec_hash(cases[record["case"]], profile)
            lines.append(json.dumps(record) + "\n")
    (out / "records.jsonl").write_text("".join(lines), encoding="utf-8")
    return out / "records.jsonl"
