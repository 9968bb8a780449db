"""Speed cases (``Case.throughput``, C5h): each seed is a repetition that times every arm's
training steps in one process, in interleaved ABBA blocks; a claim on ``steps_per_second``
is then tested over repetitions like any paired claim. No test here asserts a speed: the
clock is faked where numbers are checked, and real runs are only checked for shape."""
import dataclasses
import itertools
import json

import numpy as np
import pytest

from bench.errors import SpecError
from bench.run import runner, throughput
from bench.run.options import RunOptions
from bench.spec import Metric, Throughput, registry

C5H = registry.get("c5h")


def test_throughput_settings_are_checked_in_one_sentence():
    with pytest.raises(SpecError, match="Throughput rounds must be an int >= 2, got 1"):
        dataclasses.replace(C5H, throughput=Throughput(rounds=1)).validate()
    with pytest.raises(SpecError, match="Throughput steps must be an int >= 1"):
        Throughput(steps=0).validate()


def test_a_speed_case_produces_only_what_it_times():
    bad = dataclasses.replace(C5H, metrics=(*C5H.metrics, Metric("test_accuracy", higher_is_better=True)))
    with pytest.raises(SpecError, match="metric 'test_accuracy' is not one this case can produce; "
                                        "the engine computes diverged, train_loss, steps_per_second"):
        bad.validate()


class _FakeTrainer:
    """Steps cost ``cost[arm]`` fake seconds each; every call is logged."""
    log: list = []
    cost = {"none": 0.002, "dropout": 0.003}

    def __init__(self, job, params, seed):
        self.arm, self.seed, self.params = job.arm.name, seed, params

    def set_data(self, x, y):
        self.rows = len(x)

    def fit_epoch(self, batches):
        self.log.append((self.arm, len(batches)))
        _Clock.now += self.cost[self.arm] * len(batches)
        return np.full(len(batches), 0.5)


class _Clock:
    now = 0.0

    def __call__(self):
        return _Clock.now


class _Backend:
    Trainer = _FakeTrainer


def _jobs(case, framework="torch"):
    return [j for j in runner.jobs_for(case, "smoke", [framework], ["as_written"])]


def test_arms_are_timed_in_abba_blocks_after_an_untimed_warmup():
    case = dataclasses.replace(C5H, throughput=Throughput(rounds=4, steps=5, warmup=3))
    _FakeTrainer.log = []
    x = np.zeros((40, 784), np.float32)
    y = np.zeros(40, np.int64)
    out = throughput.measure(_jobs(case), _Backend, (x, y, x, y), seed=2, clock=_Clock())
    assert _FakeTrainer.log == [("none", 3), ("dropout", 3),
                                ("none", 5), ("dropout", 5), ("dropout", 5), ("none", 5),
                                ("none", 5), ("dropout", 5), ("dropout", 5), ("none", 5)]
    rates = [o["metrics"]["steps_per_second"] for o in out]
    np.testing.assert_allclose(rates, [1 / 0.002, 1 / 0.003])
    assert [len(o["throughput"]["block_s"]) for o in out] == [4, 4]
    assert all(o["steps"] == 3 + 4 * 5 and not o["diverged"] for o in out)
    assert out[0]["group"]["interleaved"] == ["none", "dropout"]


def test_a_repetition_with_any_arm_pending_times_all_its_arms_again():
    jobs = _jobs(C5H, "torch")
    plans = [(C5H, jobs, [0, 1])]
    pending = [(C5H, jobs[1], 1)]                       # only 'dropout' seed 1 is missing
    units = runner.speed_units(plans, pending)
    assert [(s, [j.arm.name for j in js]) for _, js, s in units] == [(1, ["none", "dropout"])]
    everything = [(C5H, j, s) for s, j in itertools.product([0, 1], jobs)]
    assert [s for _, _, s in runner.speed_units(plans, everything)] == [0, 1]   # seed-major


def _small():
    return dataclasses.replace(C5H, throughput=Throughput(rounds=2, steps=3, warmup=1))


def test_a_speed_run_writes_one_record_per_arm_and_repetition_and_resumes(tmp_path):
    pytest.importorskip("torch")
    options = RunOptions([_small()], "smoke", frameworks=("torch",), results_dir=tmp_path, progress=False)
    summary = runner.run(options)
    assert (summary.ok, summary.failed) == (4, 0)
    records = [json.loads(line) for line in (tmp_path / "smoke" / "records.jsonl").read_text().splitlines()]
    assert sorted((r["arm"], r["seed"]) for r in records) == [("dropout", 0), ("dropout", 1), ("none", 0), ("none", 1)]
    for r in records:
        assert r["status"] == "ok" and r["metrics"]["steps_per_second"] > 0
        assert len(r["throughput"]["block_s"]) == 2 and r["group"]["path"] == "per_seed"
    again = runner.run(options)
    assert (again.ok, again.skipped) == (0, 4)


def test_a_repetition_that_crashes_fails_every_arm_and_the_run_goes_on(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    real = throughput.measure

    def flaky(jobs, backend, arrays, seed, **kw):
        if seed == 0:
            raise RuntimeError("planted crash")
        return real(jobs, backend, arrays, seed, **kw)

    monkeypatch.setattr(throughput, "measure", flaky)
    summary = runner.run(RunOptions([_small()], "smoke", frameworks=("torch",), results_dir=tmp_path,
                                    progress=False))
    assert (summary.ok, summary.failed) == (2, 2)
    assert all("planted crash" in f for f in summary.failures)


def test_the_gate_reports_a_timing_but_fails_only_on_what_the_code_computes(tmp_path):
    pytest.importorskip("torch")
    from bench.publish import baseline, check
    from bench.records import identity

    runner.run(RunOptions([_small()], "smoke", frameworks=("torch",), results_dir=tmp_path, progress=False))
    old = [json.loads(line) for line in (tmp_path / "smoke" / "records.jsonl").read_text().splitlines()]
    for r in old:   # judged as the registry's c5h: the gate reads records, it does not retrain them
        r["spec_hash"] = identity.spec_hash(C5H, "smoke")
    stored = baseline.build(old, "smoke")
    slower = json.loads(json.dumps(old))
    for r in slower:   # a loaded machine: 'dropout' three times slower, which may flip the verdict
        r["metrics"]["steps_per_second"] /= 3 if r["arm"] == "dropout" else 1
    rows = check.compare(stored, slower, "smoke", method="tolerance")
    assert not [r for r in rows if r.result == check.FAIL], [r for r in rows if r.result == check.FAIL]
    assert any(r.check == "verdict" and r.test == "a timing: not judged" for r in rows)
    worse = json.loads(json.dumps(old))
    for r in worse:   # what the code computes is still judged
        r["metrics"]["train_loss"] += 1.0
    failed = [r for r in check.compare(stored, worse, "smoke", method="tolerance") if r.result == check.FAIL]
    assert {r.check for r in failed} == {"train_loss"}


def test_a_speed_case_draws_no_empty_learning_curves(tmp_path):
    from bench.publish import plots

    assert plots.curves([{"case": "c5h", "status": "ok", "framework": "tf", "mode": "as_written", "arm": "none",
                          "curve": {"step": [], "train_loss": []}, "diverged": False}], C5H, tmp_path) == []
    assert not list(tmp_path.iterdir())
