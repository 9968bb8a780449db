"""``bench gpu-check`` without a GPU: it says so and exits 3, and its ``--tiny`` run works
where TensorFlow cannot be imported (the GPU machine has none), in a fresh process."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bench import cli
from bench.speed import gpu_check

ROOT = Path(__file__).resolve().parents[1]

# Loaded at start-up by every Python process that has its folder on PYTHONPATH (workers and
# the pytest subprocess too): no finder finds TensorFlow or Keras, exactly as where they are absent.
HIDE_TF = textwrap.dedent("""
    import sys

    class _Hiding:
        def __init__(self, inner):
            self.inner = inner

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("tensorflow", "keras", "tf_keras"):
                return None
            find = getattr(self.inner, "find_spec", None)
            return find(name, path, target) if find else None

        def __getattr__(self, attr):
            return getattr(self.inner, attr)

    sys.meta_path[:] = [_Hiding(finder) for finder in sys.meta_path]
""")

def test_without_a_gpu_it_says_not_run_and_exits_3(monkeypatch, capsys):
    monkeypatch.setattr(gpu_check, "gpu_name", lambda: None)
    assert cli.main(["gpu-check"]) == gpu_check.NO_GPU == 3
    assert "no GPU: not run" in capsys.readouterr().out


@pytest.mark.needs_data("mnist.npz")
def test_the_tiny_check_runs_with_tensorflow_hidden(tmp_path):
    pytest.importorskip("torch")
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HIDE_TF)
    env = {**__import__("os").environ, "PYTHONPATH": f"{hook}:{ROOT}"}
    blocked = subprocess.run([sys.executable, "-c", "import tensorflow"], env=env, capture_output=True, text=True)
    assert "No module named 'tensorflow'" in blocked.stderr   # the hook works
    argv = [sys.executable, "-m", "bench", "gpu-check", "--tiny", "--results-dir", str(tmp_path / "runs")]
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "tensorflow: skipped (not installed)" in out.stdout
    for step in ("CUDA tests", "torch C1 smoke, 4 arms x 2 seeds", "torch C4 smoke, arm fc x 2 seeds",
                 "bench compare", "the whole check"):
        assert step in out.stdout
    assert "8 records" in out.stdout and "2 records" in out.stdout   # C1: 4 arms x 2 seeds; C4: 1 arm x 2
