"""A test that needs a dataset is skipped locally when the data is missing, but fails in CI."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = '''
import pytest

@pytest.mark.needs_data("no-such-dataset.npz")
def test_reads_a_dataset():
    pass
'''


def _run(tmp_path, ci: str) -> subprocess.CompletedProcess:
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_probe.py").write_text(PROBE)
    env = {**os.environ, "CI": ci, "BENCH_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=tmp_path)


@pytest.mark.parametrize("ci", ["true", "1"])
def test_in_ci_missing_data_fails_and_names_the_file(tmp_path, ci):
    out = _run(tmp_path, ci)
    assert out.returncode == 1, out.stdout
    assert "1 error" in out.stdout and "CI run without its data" in out.stdout and "no-such-dataset.npz" in out.stdout


def test_locally_missing_data_skips_with_the_reason(tmp_path):
    out = _run(tmp_path, "")
    assert out.returncode == 0, out.stdout
    assert "1 skipped" in out.stdout and "missing data" in out.stdout and "no-such-dataset.npz" in out.stdout
