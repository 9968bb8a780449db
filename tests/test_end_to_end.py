"""The runner end to end on the smoke profile: records, resume, a crashing seed, interrupts, report."""
import math

import pytest

from bench import registry, report, runner, store, training
from bench.cli import main

pytest.importorskip("torch")
C1 = registry.get("c1")


def _run(tmp_path, **kw):
    kw.setdefault("frameworks", ("torch",))
    kw.setdefault("arm_names", ["none"])
    return runner.run([C1], "smoke", results_dir=tmp_path, progress=False, **kw)


def test_records_carry_what_the_issue_asks_for(tmp_path):
    summary = _run(tmp_path, seeds=1)
    assert (summary.ok, summary.failed) == (1, 0)
    [rec] = store.load(tmp_path, "smoke")
    assert {"case", "arm", "framework", "seed", "profile", "metrics", "curve", "timing", "env",
            "diverged", "steps"} <= set(rec)
    assert rec["steps"] == 16  # 2000 examples / batch 128, one epoch
    assert 0.1 < rec["metrics"]["test_accuracy"] <= 1.0
    assert {"python", "torch", "bench", "device"} <= set(rec["env"])


def test_rerun_resumes_without_redoing_and_extends(tmp_path):
    _run(tmp_path, seeds=1)
    again = _run(tmp_path, seeds=2)
    assert (again.ok, again.skipped) == (1, 1)
    assert sorted(r["seed"] for r in store.load(tmp_path, "smoke")) == [0, 1]


def test_a_crashing_seed_is_recorded_and_the_others_continue(tmp_path, monkeypatch):
    real = training.train_seed

    def flaky(job, backend, arrays, seed):
        if seed == 1:
            raise RuntimeError("boom in seed 1")
        return real(job, backend, arrays, seed)

    monkeypatch.setattr(runner, "train_seed", flaky)
    summary = _run(tmp_path, seeds=3)
    assert (summary.ok, summary.failed) == (2, 1)
    by_seed = {r["seed"]: r for r in store.load(tmp_path, "smoke")}
    assert by_seed[1]["status"] == "failed" and "boom in seed 1" in by_seed[1]["error"]
    monkeypatch.setattr(runner, "train_seed", real)
    assert _run(tmp_path, seeds=3).ok == 1  # the failed seed is retried, the others are not


def test_interrupt_keeps_finished_records(tmp_path, monkeypatch, capsys):
    real, calls = training.train_seed, []

    def interrupted(job, backend, arrays, seed):
        calls.append(seed)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(job, backend, arrays, seed)

    monkeypatch.setattr(runner, "train_seed", interrupted)
    argv = ["run", "--case", "c1", "--profile", "smoke", "--framework", "torch", "--arm", "none",
            "--seeds", "3", "--results-dir", str(tmp_path), "--no-progress"]
    assert main(argv) == 130
    assert "rerun the same command to resume" in capsys.readouterr().err
    assert [r["seed"] for r in store.load(tmp_path, "smoke")] == [0]


def test_diverged_run_is_an_outcome(tmp_path, monkeypatch):
    def nan_seed(job, backend, arrays, seed):
        x, y, xt, yt = arrays
        return training.train_seed(job, backend, (x * float("nan"), y, xt, yt), seed)

    monkeypatch.setattr(runner, "train_seed", nan_seed)
    summary = _run(tmp_path, seeds=1)
    [rec] = store.load(tmp_path, "smoke")
    assert summary.diverged == 1 and rec["status"] == "ok" and rec["diverged"]
    assert rec["diverged_step"] == 1 and math.isnan(rec["metrics"]["test_accuracy"])


def test_smoke_profile_produces_a_report(tmp_path):
    summary = runner.run([C1], "smoke", results_dir=tmp_path, progress=False)
    assert summary.failed == 0 and summary.ok == 2 * 4 * 2
    path = report.write(tmp_path, "smoke")
    text = path.read_text()
    for claim in ("c1a", "c1b", "c1c", "c1d"):
        assert text.count(f"| {claim} ") >= 3  # tf row, torch row, agreement row
    assert "paired" in text and "Holm family size: 8" in text
    assert (path.parent / "claims.csv").exists() and (path.parent / "c1_curves.png").exists()
