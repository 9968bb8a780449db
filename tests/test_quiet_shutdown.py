"""Quiet means quiet to the end: no traceback when Python shuts down after `bench run -q`, and no
TensorFlow start-up logging at the top of `bench speed`'s table."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STARTUP = ("absl::InitializeLog", "oneDNN custom operations", "cudart_stub", "cuda drivers")


def _python(code: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "BENCH_FRAMEWORK_LOGS")}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          timeout=240, env={**env, "PYTHONPATH": str(ROOT)})


def test_absl_logging_created_during_a_quiet_run_shuts_down_cleanly():
    # absl's handler keeps the stream it found (the quiet filter, as when TensorFlow loads in a
    # `bench run -q`) and closes it at exit.
    proc = _python("""
        import sys
        from bench import cli
        with cli._notes(True):
            import absl.logging
            print("bench: training groups in 1 worker process", file=sys.stderr)
        print("done")
    """)
    assert proc.returncode == 0 and proc.stdout == "done\n"
    assert proc.stderr == "", proc.stderr


@pytest.mark.needs_data("mnist.npz")
def test_the_speed_tables_reference_loop_starts_tensorflow_quietly():
    pytest.importorskip("tensorflow")
    # bench speed's post_tf row, in its own fresh process, on 256 examples (two steps) instead of 60,000.
    proc = _python("""
        from dataclasses import replace
        from bench.backends import quiet
        quiet.configure(verbose=False)
        from bench.speed import measure
        from bench.spec import registry
        budget = replace(registry.get("c1").data, epochs=1, train_subsample=256, test_subsample=256)
        print(measure._in_fresh_process("post_tf", budget, None)["steps"])
    """)
    assert proc.returncode == 0 and proc.stdout.strip() == "2", proc.stderr
    assert not [line for line in proc.stderr.splitlines() if any(s in line for s in STARTUP)], proc.stderr
