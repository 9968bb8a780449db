"""The runner end to end on the smoke profile: records, resume, a crashing seed, interrupts, report."""
import math

import pytest

from bench.run.grouping import GroupSize
from bench.run.options import RunOptions
from bench.spec import registry
from bench.publish import report
from bench.run import runner, training
from bench.records import store
from bench.cli import main

pytest.importorskip("torch")
C1 = registry.get("c1")


def _run(tmp_path, **kw):
    kw.setdefault("frameworks", ("torch",))
    kw.setdefault("arm_names", ["none"])
    return runner.run(RunOptions([C1], "smoke", results_dir=tmp_path, progress=False, **kw))


def test_records_carry_what_the_issue_asks_for(tmp_path):
    summary = _run(tmp_path, seeds=1)
    assert (summary.ok, summary.failed) == (1, 0)
    [rec] = store.load(tmp_path, "smoke")
    assert {"case", "arm", "framework", "seed", "profile", "metrics", "curve", "timing", "env",
            "diverged", "steps"} <= set(rec)
    assert rec["steps"] == 16  # 2000 examples / batch 128, one epoch
    # one seed alone still takes the vectorized path (padded), so its record is the one it has in any group
    assert rec["group"] == {"size": 1, "seeds": [0], "path": "vectorized"}
    # Chance is 0.1 and an untrained net's loss ln 10 = 2.30; 16 Adam steps (lr 0.01) on 2000 images
    # reach about 0.6 accuracy and a loss near 1.1 on seeds 0-2, so a net that does not learn fails here.
    assert 0.4 < rec["metrics"]["test_accuracy"] <= 1.0
    assert rec["metrics"]["test_loss"] < 1.7
    assert {"python", "torch", "bench", "device"} <= set(rec["env"])


def test_rerun_resumes_without_redoing_and_extends(tmp_path):
    _run(tmp_path, seeds=1)
    again = _run(tmp_path, seeds=2)
    assert (again.ok, again.skipped) == (1, 1)
    assert sorted(r["seed"] for r in store.load(tmp_path, "smoke")) == [0, 1]


def test_a_crashing_seed_is_recorded_and_the_others_continue(tmp_path, monkeypatch):
    real = training.train_seed

    def flaky(job, backend, arrays, seed, **progress):
        if seed == 1:
            raise RuntimeError("boom in seed 1")
        return real(job, backend, arrays, seed)

    monkeypatch.setattr(runner, "train_seed", flaky)
    summary = _run(tmp_path, seeds=3, group_size=GroupSize.PER_SEED)
    assert (summary.ok, summary.failed) == (2, 1)
    by_seed = {r["seed"]: r for r in store.load(tmp_path, "smoke")}
    assert by_seed[1]["status"] == "failed" and "boom in seed 1" in by_seed[1]["error"]
    monkeypatch.setattr(runner, "train_seed", real)
    assert _run(tmp_path, seeds=3, group_size=GroupSize.PER_SEED).ok == 1  # the failed seed is retried, the others are not


def test_a_crash_in_a_vectorized_group_fails_only_its_seed(tmp_path, monkeypatch):
    _run(tmp_path / "clean", seeds=3)
    clean = {r["seed"]: r for r in store.load(tmp_path / "clean", "smoke")}
    real = training.train_group

    def flaky(job, backend, arrays, seeds, vectorized=True, **progress):
        if 1 in seeds:
            raise RuntimeError("boom in seed 1")
        return real(job, backend, arrays, seeds, vectorized)

    monkeypatch.setattr(runner, "train_group", flaky)
    summary = _run(tmp_path / "run", seeds=3)
    assert (summary.ok, summary.failed) == (2, 1)
    by_seed = {r["seed"]: r for r in store.load(tmp_path / "run", "smoke")}
    assert by_seed[1]["status"] == "failed" and "boom in seed 1" in by_seed[1]["error"]
    for seed in (0, 2):  # retried alone, each gives the record it had in the group
        assert by_seed[seed]["group"]["size"] == 1 and clean[seed]["group"]["size"] == 3
        assert by_seed[seed]["metrics"] == clean[seed]["metrics"]


def test_a_group_out_of_memory_is_halved_with_a_message(tmp_path, monkeypatch, capsys):
    real, sizes = training.train_group, []

    def small_device(job, backend, arrays, seeds, vectorized=True, **progress):
        sizes.append(len(seeds))
        if len(seeds) > 2:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(job, backend, arrays, seeds, vectorized)

    monkeypatch.setattr(runner, "train_group", small_device)
    summary = _run(tmp_path, seeds=4, group_size=GroupSize.fixed(4))
    assert (summary.ok, summary.failed) == (4, 0) and sizes == [4, 2, 2]
    assert "retrying as groups of 2" in capsys.readouterr().err


def test_interrupt_keeps_finished_records(tmp_path, monkeypatch, capsys):
    real, calls = training.train_group, []

    def interrupted(job, backend, arrays, seeds, vectorized=True, **progress):
        calls.append(seeds)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(job, backend, arrays, seeds, vectorized)

    monkeypatch.setattr(runner, "train_group", interrupted)
    argv = ["run", "--case", "c1", "--profile", "smoke", "--framework", "torch", "--arm", "none",
            "--seeds", "4", "--group-size", "2", "--workers", "1", "--results-dir", str(tmp_path), "--no-progress"]
    assert main(argv) == 130
    assert "rerun the same command to resume" in capsys.readouterr().err
    assert [r["seed"] for r in store.load(tmp_path, "smoke")] == [0, 1]


def test_diverged_run_is_an_outcome(tmp_path, monkeypatch):
    def nan_seed(job, backend, arrays, seed, **progress):
        x, y, xt, yt = arrays
        return training.train_seed(job, backend, (x * float("nan"), y, xt, yt), seed)

    monkeypatch.setattr(runner, "train_seed", nan_seed)
    summary = _run(tmp_path, seeds=1, group_size=GroupSize.PER_SEED)
    [rec] = store.load(tmp_path, "smoke")
    assert summary.diverged == 1 and rec["status"] == "ok" and rec["diverged"]
    assert rec["diverged_step"] == 1 and math.isnan(rec["metrics"]["test_accuracy"])


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_a_nan_in_one_seed_does_not_mark_the_others_diverged(tmp_path, monkeypatch, framework):
    _run(tmp_path / "clean", seeds=4, frameworks=(framework,))
    clean = {r["seed"]: r for r in store.load(tmp_path / "clean", "smoke")}
    real = training.initial_params

    def poisoned(layers, input_shape, seed, scheme):
        params = real(layers, input_shape, seed, scheme)
        if seed == 2:
            params[0]["kernel"][0, 0] = float("nan")
        return params

    monkeypatch.setattr(training, "initial_params", poisoned)
    summary = _run(tmp_path / "run", seeds=4, frameworks=(framework,))
    by_seed = {r["seed"]: r for r in store.load(tmp_path / "run", "smoke")}
    assert summary.diverged == 1 and by_seed[2]["diverged"] and by_seed[2]["diverged_step"] == 1
    assert {r["group"]["size"] for r in by_seed.values()} == {4}
    for seed in (0, 1, 3):
        assert not by_seed[seed]["diverged"] and by_seed[seed]["metrics"] == clean[seed]["metrics"]


def test_smoke_profile_produces_a_report(tmp_path):
    summary = runner.run(RunOptions([C1], "smoke", results_dir=tmp_path, progress=False))
    assert summary.failed == 0 and summary.ok == C1.profile("smoke").seeds * 4 * 2
    path = report.write(tmp_path, "smoke")
    text = path.read_text()
    for claim in ("c1a", "c1b", "c1c", "c1d"):
        assert text.count(f"| {claim} ") >= 3  # tf row, torch row, agreement row
    assert "paired" in text and "sizes: c1/as_written 8" in text
    assert (path.parent / "claims.csv").exists() and (path.parent / "c1_curves.png").exists()
