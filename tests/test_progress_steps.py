"""The progress bar hears from training within an epoch: ``train_group`` trains an epoch in
slices of about ``report_seconds()`` and reports each slice's seed-steps, on both paths of
both backends and from worker processes; the slices train exactly the steps one call would.
Counts only, never timings: ``BENCH_PROGRESS_SECONDS=0`` makes every slice one step."""
import dataclasses

import pytest

from bench import backends, data
from bench.errors import SpecError
from bench.run import runner, training
from bench.run.grouping import GroupSize
from bench.run.options import RunOptions
from bench.spec import Job, registry

STEPS, EPOCHS = 3, 2   # batches per epoch and epochs of the runs below


def _setup(framework):
    pytest.importorskip({"tf": "tensorflow", "torch": "torch"}[framework])
    case = registry.get("c4")   # conv maps, Dropout on maps and on rows: every kind of state a slice carries
    budget = dataclasses.replace(case.budget("smoke"), epochs=EPOCHS, train_subsample=STEPS * 128,
                                 test_subsample=64)
    arrays = data.prepare(data.load(case.data.dataset), budget)
    return Job(case, case.arm("conv_fc"), framework, "as_written", "smoke", budget), backends.load(framework), arrays


def _records(outs):
    return [(o["metrics"], o["curve"], o["steps"]) for o in outs]


@pytest.mark.parametrize("framework", ["torch", "tf"])
@pytest.mark.parametrize("seeds", [[0], [0, 1]], ids=["per_seed", "vectorized"])
def test_every_step_is_reported_and_the_records_do_not_change(framework, seeds, monkeypatch):
    job, backend, arrays = _setup(framework)
    vectorized = len(seeds) > 1
    whole = train_group(job, backend, arrays, seeds, vectorized=vectorized)   # no bar: one call per epoch
    monkeypatch.setenv(training.REPORT_ENV, "0")
    reports = []
    sliced = train_group(job, backend, arrays, seeds, vectorized=vectorized, on_steps=reports.append)
    assert reports == [len(seeds)] * (STEPS * EPOCHS)   # one report per step, not one per epoch
    assert _records(sliced) == _records(whole)


def train_group(job, backend, arrays, seeds, vectorized, on_steps=None):
    return training.train_group(job, backend, arrays, seeds, vectorized=vectorized, on_steps=on_steps)


def test_a_bar_hears_from_worker_processes_within_an_epoch(tmp_path, monkeypatch):
    """Two workers, one seed each, C1 smoke (1 epoch of 16 steps): the parent's bar moves once a step."""
    pytest.importorskip("torch")
    monkeypatch.setenv(training.REPORT_ENV, "0")   # the spawned workers read it too
    updates = []

    class Bar:
        total, n = 0, 0

        def update(self, k):
            updates.append(k)
            self.n += k

        def set_postfix_str(self, text, refresh=True):
            pass

        def write(self, line, file=None):
            pass

        def close(self):
            pass

    monkeypatch.setattr(runner, "_progress", lambda total, enabled: Bar())
    summary = runner.run(RunOptions([registry.get("c1")], "smoke", frameworks=("torch",), arm_names=["none"],
                                    seeds=2, results_dir=tmp_path, progress=True, workers=2,
                                    group_size=GroupSize.PER_SEED))
    assert summary.ok == 2
    steps = 2 * -(-registry.get("c1").budget("smoke").train_subsample // 128)
    assert sum(updates) == steps and sum(1 for k in updates if k) == steps


def test_a_bad_report_interval_is_one_sentence(monkeypatch):
    monkeypatch.setenv(training.REPORT_ENV, "soon")
    with pytest.raises(SpecError, match="BENCH_PROGRESS_SECONDS must be a number"):
        training.report_seconds()
