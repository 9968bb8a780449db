"""A first run explains itself: bench plan's counts and estimate, a bar that moves per
training step, one-off --set overrides, and the CLI's profile inference and check --case."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.run.options import RunOptions
from bench.spec import overrides, registry
from bench.run import plan, runner
from bench.records import store
from bench.cli import main
from bench.errors import SpecError
from conftest import copy_published, data_path

C1 = registry.get("c1")
ROOT = Path(__file__).resolve().parents[1]


def test_plan_counts_the_work_and_estimates_from_measured_rates(tmp_path):
    rates = tmp_path / "rates" / "smoke"
    rates.mkdir(parents=True)
    record = {"schema": store.SCHEMA, "case": "c1", "arm": "none", "framework": "torch", "mode": "as_written",
              "profile": "smoke", "status": "ok", "steps": 100, "timing": {"wall_s": 2.0},
              "metrics": {}, "diverged": False}
    (rates / "records.jsonl").write_text("\n".join(json.dumps({**record, "seed": s}) for s in range(3)) + "\n")
    p = plan.make(RunOptions([C1], "smoke", ["tf", "torch"], ["as_written"], results_dir=tmp_path / "run",
                  workers=1), rate_dirs=[tmp_path / "rates"])
    (c,) = p.cases
    budget = C1.budget("smoke")
    steps = budget.epochs * -(-budget.train_subsample // budget.batch_size)
    n = C1.profile("smoke").seeds
    runs = 4 * n * 2   # arms x seeds x frameworks
    assert (c.arms, c.seeds, c.runs, c.todo, c.steps) == (4, n, runs, runs, steps)
    assert p.seed_steps == runs * steps
    # torch measured in this profile at 0.02 s per seed-step; tf borrows it, plus a group overhead each
    tf_groups = 4   # 4 arms x one block of n seeds
    expected = runs * steps * 0.02 + tf_groups * plan.GROUP_OVERHEAD_S["tf"] + plan.STARTUP_S
    assert p.seconds == pytest.approx(expected)
    assert "measured, 3 records" in c.rate_source and "other frameworks" in c.rate_source
    assert f"{runs} seed-runs" in "\n".join(p.lines())
    two = plan.make(RunOptions([C1], "smoke", ["tf", "torch"], ["as_written"], results_dir=tmp_path / "run",
                    workers=2), rate_dirs=[tmp_path / "rates"])
    assert two.seconds == pytest.approx((expected - plan.STARTUP_S) / 2 + plan.STARTUP_S)
    none = plan.make(RunOptions([C1], "smoke", ["torch"], ["as_written"], results_dir=tmp_path / "run"), rate_dirs=[])
    assert none.seconds == pytest.approx(runs // 2 * steps * plan.DEFAULT_SECONDS_PER_STEP
                                         + 4 * plan.GROUP_OVERHEAD_S["torch"] + plan.STARTUP_S)
    assert "default" in none.cases[0].rate_source
    # records of this very profile on disk are what the next plan of it uses
    quick = plan.make(RunOptions([C1], "quick", ["torch"], ["as_written"], results_dir=tmp_path / "run"), rate_dirs=[tmp_path / "rates"])
    assert "other profiles" in quick.cases[0].rate_source


def test_bench_plan_prints_without_training(tmp_path, capsys):
    assert main(["plan", "--profile", "smoke", "--case", "c1", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"c1: 4 arms x {C1.profile('smoke').seeds} seeds x 2 framework/mode" in out and "estimated" in out
    assert not (tmp_path / "smoke").exists()


def test_bench_plan_counts_as_done_only_records_of_the_current_spec(tmp_path, capsys):
    """Records made with ``--set data.epochs=2`` are done for that variation only: a plain plan
    counts them as work to do, as the runner (which retrains them) does."""
    from bench.records import identity

    varied = overrides.apply(C1, "smoke", overrides.parse(["data.epochs=2"]))
    n = C1.profile("smoke").seeds
    records = [{"schema": store.SCHEMA, "case": "c1", "arm": arm.name, "framework": "torch", "mode": "as_written",
                "seed": s, "profile": "smoke", "status": "ok", "diverged": False, "metrics": {},
                "overrides": {"data.epochs": 2}, "spec_hash": identity.spec_hash(varied, "smoke")}
               for arm in C1.arms for s in range(n)]
    (tmp_path / "smoke").mkdir()
    (tmp_path / "smoke" / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    argv = ["plan", "--profile", "smoke", "--case", "c1", "--framework", "torch", "--results-dir", str(tmp_path)]
    assert main(argv) == 0
    plain = capsys.readouterr().out
    assert f"= {4 * n} seed-runs;" in plain and "already done" not in plain
    assert f"total: {4 * n} seed-runs to do" in plain
    assert main([*argv, "--set", "data.epochs=2"]) == 0
    same = capsys.readouterr().out
    assert f"{4 * n} already done" in same and "total: 0 seed-runs to do" in same


class _Bar:
    def __init__(self):
        self.total, self.updates, self.n = 0, [], 0

    def update(self, n):
        self.updates.append(n)
        self.n += n

    def write(self, *a, **k):
        pass

    def set_postfix_str(self, *a, **k):
        pass

    def refresh(self):
        pass

    def close(self):
        pass


def _epoch_ends(updates: list, per_epoch: int, epochs: int) -> bool:
    """Whether the running total of ``updates`` passes through every epoch's end: the bar hears
    from the trainer at least once per epoch, however it slices an epoch."""
    totals = set(np.cumsum([n for n in updates if n]).tolist())
    return all(per_epoch * k in totals for k in range(1, epochs + 1))


def test_progress_advances_per_epoch_and_adds_up_to_the_total(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setenv("BENCH_PROGRESS_SECONDS", "1e9")   # no report within an epoch but the first step
    bar = _Bar()
    monkeypatch.setattr(runner, "_progress", lambda total, enabled: bar)
    case = overrides.apply(C1, "smoke", overrides.parse(["data.epochs=3"]))
    runner.run(RunOptions([case], "smoke", frameworks=("torch",), arm_names=["none"], seeds=2, results_dir=tmp_path,
               progress=True))
    per_epoch = -(-case.budget("smoke").train_subsample // case.budget("smoke").batch_size)
    assert _epoch_ends(bar.updates, 2 * per_epoch, 3)   # a group of 2 seeds
    assert sum(bar.updates) == bar.total == 2 * 3 * per_epoch


def test_set_overrides_change_the_run_and_are_recorded(tmp_path):
    pytest.importorskip("torch")
    from bench.publish.baseline import spec_hash

    argv = ["run", "--profile", "smoke", "--case", "c1", "--framework", "torch", "--arm", "none", "--seeds", "1",
            "--no-progress", "--results-dir", str(tmp_path), "--set", "data.epochs=2", "--set", "profile.seeds=1"]
    assert main(argv) == 0
    (r,) = store.load(tmp_path, "smoke")
    case = overrides.apply(C1, "smoke", overrides.parse(["data.epochs=2", "profile.seeds=1"]))
    assert r["overrides"] == {"data.epochs": 2, "profile.seeds": 1}
    assert r["spec_hash"] == spec_hash(case, "smoke") != spec_hash(C1, "smoke")
    per_epoch = -(-case.budget("smoke").train_subsample // case.budget("smoke").batch_size)
    assert r["steps"] == 2 * per_epoch and len(r["curve"]["step"]) == 2


@pytest.mark.parametrize("item, message", [("epochs=60", "SECTION.FIELD=VALUE"), ("data.epoch=3", "no field 'epoch'"),
                                            ("model.x=1", "SECTION.FIELD=VALUE")])
def test_bad_overrides_are_one_sentence(item, message):
    with pytest.raises(SpecError, match=message):
        overrides.apply(C1, "smoke", overrides.parse([item]))


def test_report_and_check_infer_the_profile_and_check_takes_case(tmp_path, capsys):
    copy_published("quick", tmp_path)
    assert main(["report", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "verdict" in out and "c4a" in out and "REPORT.md" in out
    assert (tmp_path / "quick" / "REPORT.md").exists() and not (tmp_path / "quick" / "REPORT.html").exists()
    base = tmp_path / "base.json"
    assert main(["baseline", "--results-dir", str(tmp_path), "--baseline", str(base)]) == 0
    assert main(["check", "--results-dir", str(tmp_path), "--baseline", str(base), "--case", "c4"]) == 0
    assert "PASSED" in capsys.readouterr().out
    assert main(["check", "--results-dir", str(tmp_path), "--baseline", str(base), "--case", "c9"]) == 2
    assert "not in the quick baseline" in capsys.readouterr().err
    (tmp_path / "smoke").mkdir()
    shutil.copy(tmp_path / "quick" / "records.jsonl", tmp_path / "smoke" / "records.jsonl")
    assert main(["report", "--results-dir", str(tmp_path)]) == 2
    assert "several profiles" in capsys.readouterr().err


def test_help_documents_every_environment_variable(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for name in ("BENCH_RESULTS_DIR", "BENCH_DATA_DIR", "BENCH_CACHE_DIR"):
        assert name in out


def test_every_subcommand_prints_its_help(capsys):
    """argparse formats help strings with %: a bare one (say "% of peak") crashes --help."""
    import argparse

    from bench.cli import _parser

    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name in sub.choices:
        with pytest.raises(SystemExit) as exit_:
            main([name, "--help"])
        assert exit_.value.code == 0, name
        assert "usage:" in capsys.readouterr().out, name


def test_progress_crosses_from_worker_processes(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setenv("BENCH_PROGRESS_SECONDS", "1e9")
    bar = _Bar()
    monkeypatch.setattr(runner, "_progress", lambda total, enabled: bar)
    case = overrides.apply(C1, "smoke", overrides.parse(["data.epochs=2"]))
    summary = runner.run(RunOptions([case], "smoke", frameworks=("torch",), arm_names=["none"], seeds=2,
                         results_dir=tmp_path, progress=True, workers=2))
    per_epoch = -(-case.budget("smoke").train_subsample // case.budget("smoke").batch_size)
    assert summary.ok == 2
    assert _epoch_ends(bar.updates, 2 * per_epoch, 2)   # every epoch's end, from inside the worker
    assert sum(bar.updates) == bar.total == 2 * 2 * per_epoch


@pytest.mark.needs_data("concrete.csv")
def test_bench_data_lists_each_dataset_where_found_and_verified(tmp_path, monkeypatch, capsys):
    concrete = data_path("concrete.csv")   # the configured data dir (tests/conftest.py), read before it is unset
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("BENCH_DATA_DIR", raising=False)
    (tmp_path / "data").mkdir()
    shutil.copy(concrete, tmp_path / "data" / "concrete.csv")
    assert main(["data", "--data-dir", str(tmp_path / "data")]) == 1   # some are missing, nothing downloaded
    out = capsys.readouterr()
    lines = {line.split()[0]: line for line in out.out.splitlines() if line[:1].isalpha()}
    assert "verified" in lines["concrete"] and str(tmp_path / "data" / "concrete.csv") in lines["concrete"]
    assert "missing" in lines["mnist"] and "c1" in lines["mnist"]
    assert "bench data --fetch" in out.err and not (tmp_path / "cache").exists()


def test_plan_and_provenance_find_the_repository_beside_the_package():
    """The planner reads the published rates from the repository's ``results/`` and the records'
    commit comes from the checkout holding ``bench/``, wherever those modules sit in the package."""
    from bench.host import environment

    repo = Path(__file__).resolve().parents[1]
    assert plan.ROOT_RESULTS == repo / "results"
    assert (plan.ROOT_RESULTS / "baselines" / "smoke.json").is_file()
    assert environment.REPO == repo


def test_a_rate_borrowed_from_other_cases_is_scaled_by_the_work_of_a_step():
    """A case never measured here takes its framework's seconds per multiply-add and row
    from the cases that were, times its own step's work (``plan.step_work``)."""
    from bench.run import plan
    from bench.spec import registry

    c1, c5a = registry.get("c1"), registry.get("c5a")
    per_work = 2e-10
    rates = {("c1", "tf", "quick"): [per_work * plan.step_work(c1, "quick")] * 3}
    rate, source, borrowed = plan._rate(rates, "c5a", "tf", "quick")
    assert borrowed and "per multiply-add" in source
    assert rate == pytest.approx(per_work * plan.step_work(c5a, "quick"))
    # c5a's step (784-512-10, batch 32) is lighter than C1's (784-256-128-64-32-10, batch 128)
    assert plan.step_work(c5a, "quick") < plan.step_work(c1, "quick")
    assert plan.step_work(c1, "quick") == 128 * (784 * 256 + 256 * 128 + 128 * 64 + 64 * 32 + 32 * 10)


def _job(case_id, framework):
    from types import SimpleNamespace

    return SimpleNamespace(case=SimpleNamespace(id=case_id), framework=framework)


def test_progress_weights_each_seed_step_by_its_planned_cost():
    from bench.run.progress import Progress

    inner = _Bar()
    postfix = []
    inner.set_postfix_str = lambda text, refresh=True: postfix.append(text)
    cnn, mlp = _job("c4", "tf"), _job("c5a", "tf")
    bar = Progress(inner, {("c4", "tf"): 0.06, ("c5a", "tf"): 0.002})
    bar.add(cnn, 100)
    bar.add(mlp, 1000)
    assert inner.total == pytest.approx(100 * 0.06 + 1000 * 0.002)   # 6 s of planned work, then 2 s
    bar.advance(mlp, 1000)
    assert inner.updates == [pytest.approx(2.0)]   # all of the cheap case: a quarter of the work, not 91 %
    assert postfix[-1].startswith("1k/1.1k seed-steps")
    job_bar = bar.for_job(cnn)
    job_bar.set_postfix_str("c4/none/tf seeds 0-7")
    job_bar.update(50)
    job_bar.retrain(10)   # a crashed group's steps are planned again
    assert inner.updates[-1] == pytest.approx(3.0) and inner.total == pytest.approx(8.6)
    assert postfix[-1] == "1.05k/1.11k seed-steps c4/none/tf seeds 0-7"
    bar.advance(cnn, 60)   # rounding or a miscount never carries the bar past its total
    assert inner.n == pytest.approx(inner.total) and inner.updates[-1] == pytest.approx(3.6)
    bar.advance(cnn, 5)
    assert inner.n == pytest.approx(inner.total) and inner.updates[-1] == 0
    plain = Progress(_Bar())
    plain.add(cnn, 7)
    assert plain.bar.total == 7   # no plan: every seed-step weighs 1


def test_planning_many_groups_does_not_redraw_the_bar_once_per_group():
    """A log of `bench run > log` got one full bar line per planned group (40 for C4 `mid`'s
    seeds 8-9) before training started; planning now redraws at tqdm's pace, not per group."""
    import io

    from tqdm import tqdm

    from bench.run.progress import BAR_FORMAT, Progress

    out = io.StringIO()
    inner = tqdm(total=0, file=out, mininterval=3600, smoothing=0, bar_format=BAR_FORMAT)
    bar = Progress(inner, {("c4", "tf"): 0.04})
    for _ in range(40):
        bar.add(_job("c4", "tf"), 2345)
    drawn = out.getvalue().count("seed-steps")
    bar.label_with("c4/none/tf seed 8")   # a new group's label is drawn at once
    assert drawn == 0 and out.getvalue().count("seed-steps") == 1
    assert out.getvalue().rstrip().endswith("0/93.8k seed-steps c4/none/tf seed 8")
    bar.close()


def test_bench_run_hands_the_plans_rates_to_the_bar(tmp_path, monkeypatch):
    seen = {}

    def fake_run(options):
        seen["rates"] = options.step_seconds
        return runner.Summary()

    monkeypatch.setattr(runner, "run", fake_run)
    main(["run", "--profile", "smoke", "--case", "c1", "--framework", "torch", "--no-progress",
          "--results-dir", str(tmp_path)])
    expected = plan.make(RunOptions([C1], "smoke", ["torch"], ["as_written"], results_dir=tmp_path)).step_seconds()
    assert seen["rates"] == expected and set(expected) == {("c1", "torch")} and expected[("c1", "torch")] > 0
