"""What the machine can hold: --workers capped with one warning, the plan's memory beside its time,
and a plan over the limits refused unless --yes."""
import os
import subprocess
import sys
from pathlib import Path

from bench.cli import main
from bench.run import grouping, limits, workers

ROOT = Path(__file__).resolve().parents[1]
C2 = ["--case", "c2", "--arm", "plain", "--framework", "torch", "--profile", "smoke"]


def test_workers_are_capped_by_cores_and_memory():
    count, warning = limits.cap_workers(999, cores=2, free=64 << 30)
    assert count == 2 and warning == ("bench: warning: --workers 999 is more than this machine holds (2 usable cores, "
                                      "64.0 GiB free at about 3.0 GiB per worker); using 2.")
    assert limits.cap_workers(8, cores=16, free=7 << 30)[0] == 2      # 3 GiB each: two fit in 7
    assert limits.cap_workers(2, cores=16, free=64 << 30) == (2, "")  # within both: as asked


def test_plan_caps_workers_and_prints_the_memory_beside_the_time(tmp_path, capsys):
    assert main(["plan", *C2, "--seeds", "2", "--workers", "999", "--results-dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    allowed = limits.cap_workers(999, len(workers.usable_cores()), grouping.host_free_bytes())[0]
    assert f"--workers 999 is more than this machine holds" in err and f"using {allowed}." in err
    assert f"{allowed} worker" in out.splitlines()[0]
    (memory,) = [line for line in out.splitlines() if line.startswith("  memory: about ")]
    assert "for the frameworks and data" in memory and "this machine has" in memory


def test_a_plan_over_the_limit_is_refused_unless_yes(tmp_path):
    argv = [*C2, "--seeds", "1", "--set", "data.epochs=1e9", "--results-dir", str(tmp_path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Not at a terminal (stdin is /dev/null): refused, one sentence, nothing trained; without the
    # refusal this would start a billion epochs, so the timeout fails it.
    run = subprocess.run([sys.executable, "-m", "bench", "run", *argv], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("bench: error:")]
    assert len(errors) == 1 and f"over the {limits.MAX_HOURS:g} h a run may take unasked" in errors[0]
    assert "pass --yes" in errors[0] and not (tmp_path / "smoke").exists()
    assert "  memory: about " in run.stderr   # the plan, with its memory, was shown first
    plan = subprocess.run([sys.executable, "-m", "bench", "plan", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert plan.returncode == 0 and "starts it only with --yes" in plan.stdout, plan.stderr


def test_confirmation():
    reason = limits.refusal(30 * 3600, None)
    assert reason.startswith("the plan needs an estimated 30.0 h")
    assert limits.refusal(3600, None) == ""
    assert limits.confirm(reason, yes=True) is None
    assert limits.confirm(reason, yes=False, ask=lambda prompt: "y") is None
    assert "nothing was started" in limits.confirm(reason, yes=False, ask=lambda prompt: "")
    huge = limits.Memory(workers=2, per_worker=3 << 30, group=40 << 30, total=64 << 30, free=60 << 30)
    assert "more than this machine's 64.0 GiB" in limits.refusal(60, huge)
