"""Records keyed by spec and carrying their provenance: stale records retrain, seed ranges, report header."""
import dataclasses

import pytest

import suites.c1_dropout_l2 as c1_module
from bench import arguments
from bench.host import environment
from bench.run import runner
from bench.records import identity, store
from bench.spec import registry
from bench.cli import main
from bench.errors import SpecError

C1 = registry.get("c1")


def _argv(tmp_path, seeds="1"):
    return ["run", "--case", "c1", "--profile", "smoke", "--framework", "torch", "--arm", "none",
            "--seeds", seeds, "--results-dir", str(tmp_path), "--no-progress"]


def test_changing_a_profile_and_rerunning_retrains_and_says_so(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    assert main(_argv(tmp_path)) == 0
    assert "1 runs finished" in capsys.readouterr().out
    assert main(_argv(tmp_path)) == 0
    assert "0 runs finished (0 diverged), 0 failed, 1 already done" in capsys.readouterr().out

    [first] = store.load(tmp_path, "smoke")
    env = first["env"]
    # item 2's provenance, in every record
    assert {"commit", "dirty", "cpu", "cpu_model", "cpu_flags", "cores", "threads", "device", "torch",
            "numpy", "python"} <= set(env)
    assert isinstance(env["dirty"], bool) and env["cpu"] == f"{env['cpu_model']} [{env['cpu_flags']}]"
    assert first["group"]["path"] == "vectorized" and first["spec_hash"] == identity.spec_hash(C1, "smoke")
    assert first["budget"] == {"epochs": 1, "batch_size": 128, "train_subsample": 2000, "test_subsample": 1000}

    smoke = dataclasses.replace(C1.profiles["smoke"], train_subsample=1000)
    changed = dataclasses.replace(C1, profiles={**C1.profiles, "smoke": smoke})
    monkeypatch.setattr(c1_module, "CASES", [changed])
    assert main(_argv(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "1 runs finished" in out and "0 already done" in out
    assert "retrained 1 run(s) whose records were stale" in out

    loaded = identity.load(tmp_path, "smoke")
    [rec] = loaded.records
    assert rec["steps"] == 8 and loaded.stale == {"c1": 1}   # 1000 examples / batch 128
    assert len(store.load(tmp_path, "smoke")) == 2            # the stale record is kept, never used
    assert main(["report", "--profile", "smoke", "--results-dir", str(tmp_path)]) == 0
    text = (tmp_path / "smoke" / "REPORT.md").read_text()
    assert "ignored 1 stale record(s)" in text and "1 seeds per arm" in text and "1 epochs" in text


def test_records_without_a_spec_hash_are_stale_and_said_so():
    legacy = {"case": "c1", "arm": "none", "framework": "tf", "mode": "as_written", "seed": 0, "status": "ok"}
    loaded = identity.split([legacy], "smoke")
    assert loaded.records == [] and loaded.stale == {"c1": 1} and loaded.unhashed == 1
    assert "carry no spec hash" in loaded.note()


def test_the_seed_count_is_not_part_of_the_spec_hash():
    more = dataclasses.replace(C1, profiles={**C1.profiles, "smoke": dataclasses.replace(C1.profiles["smoke"], seeds=20)})
    assert identity.spec_hash(more, "smoke") == identity.spec_hash(C1, "smoke")


def test_seed_ranges(tmp_path):
    assert arguments.seeds("3") == 3
    assert arguments.seeds("10:20") == range(10, 20)
    assert runner.seed_list(C1, "smoke", range(10, 12)) == [10, 11]
    assert runner.seed_list(C1, "smoke", None) == list(range(C1.profile("smoke").seeds))
    with pytest.raises(SpecError, match="a count N or a range A:B"):
        arguments.seeds("a:b")
    with pytest.raises(SpecError, match="0 <= A < B"):
        runner.seed_list(C1, "smoke", range(5, 5))


def test_a_seed_range_runs_only_those_seeds(tmp_path, capsys):
    pytest.importorskip("torch")
    assert main(_argv(tmp_path, "2:4")) == 0
    assert sorted(r["seed"] for r in store.load(tmp_path, "smoke")) == [2, 3]
    assert main(_argv(tmp_path, "4:2")) == 2
    assert "0 <= A < B" in capsys.readouterr().err


def test_summary_states_what_the_records_hold():
    def rec(seed, commit, cpu):
        return {"case": "c1", "arm": "none", "framework": "torch", "mode": "as_written", "seed": seed,
                "status": "ok", "spec_hash": "abc", "planned_steps": 16,
                "budget": {"epochs": 1, "batch_size": 128},
                "group": {"size": 2, "path": "vectorized"},
                "env": {"commit": commit, "dirty": False, "cpu": cpu, "threads": 1, "device": "cpu"}}
    [line] = environment.summary([rec(0, "1" * 40, "Xeon [aa]"), rec(1, "1" * 40, "EPYC [bb]"),
                                  rec(2, "2" * 40, "EPYC [bb]")])
    assert "commit 1111111111 (2); 2222222222 (1)" in line
    assert "EPYC [bb], 1 threads (2)" in line and "Xeon [aa]" in line
    assert "3 seeds per arm" in line and "(seeds 0-2)" in line and "16 steps per seed" in line
    assert "training groups of 2 (3)" in line
