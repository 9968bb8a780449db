"""bench compare on synthetic records: verdicts, arm means (TOST), per-seed bits, exit codes."""
import numpy as np
import pytest

from bench.publish import compare
from bench.records import identity, store
from bench.spec import registry
from bench.cli import main

C1 = registry.get("c1")
HASH = identity.spec_hash(C1, "smoke")
XEON, EPYC = "Xeon [0123abcd]", "EPYC [89abcdef]"


def _records(seeds=range(10), cpu=XEON, noise=0.0, both_shift=0.0, spec=HASH, commit="a" * 40):
    """C1 records: 'both' is clearly worse than the other arms; ``noise`` perturbs each seed
    as another CPU type would (a seed moves, the arm means stay)."""
    out = []
    for fw in ("tf", "torch"):
        for i, arm in enumerate(("none", "dropout", "l2", "both")):
            for seed in seeds:
                rng = np.random.default_rng([seed, i, len(fw)])
                acc = 0.95 + 0.003 * rng.normal() - (0.02 + both_shift if arm == "both" else 0.0)
                acc += noise * np.random.default_rng([seed, i, len(fw), 7]).normal()
                out.append({"case": "c1", "arm": arm, "framework": fw, "mode": "as_written", "seed": seed,
                            "profile": "smoke", "status": "ok", "diverged": False, "spec_hash": spec,
                            "metrics": {"test_accuracy": float(acc), "test_loss": 0.1, "train_loss": 0.05},
                            "group": {"size": 10, "path": "vectorized"},
                            "env": {"device": "cpu", "cpu": cpu, "threads": 2, "torch": "2.13.0",
                                    "commit": commit, "dirty": False}})
    return out


def _loaded(records):
    return identity.split(records, "smoke")


def _write(directory, records):
    with store.RecordWriter(store.records_path(directory, "smoke")) as w:
        for r in records:
            w.append(r)
    return directory


def _by(result, check):
    return [r for r in result.rows if r.check == check]


def test_the_same_records_reproduce_everything():
    result = compare.compare(_loaded(_records()), _loaded(_records()), "smoke")
    assert result.passed
    verdicts = _by(result, "verdict")
    assert verdicts and all(r.result == compare.MATCH for r in verdicts)
    assert all(r.result == compare.MATCH for r in _by(result, "test_accuracy"))
    assert [r.result for r in _by(result, "bits")] == [compare.MATCH, compare.MATCH]
    assert "REPRODUCED" in compare.render(result)


def test_another_cpu_moves_seeds_but_the_tables_transfer():
    result = compare.compare(_loaded(_records()), _loaded(_records(cpu=EPYC, noise=0.001)), "smoke")
    assert result.passed
    bits = _by(result, "bits")
    assert bits and all(r.result == compare.INFO and "CPU fingerprint" in r.test for r in bits)
    assert all(r.result == compare.MATCH for r in _by(result, "verdict"))


def test_same_cpu_but_other_bits_fails():
    result = compare.compare(_loaded(_records()), _loaded(_records(noise=0.001)), "smoke")
    assert not result.passed
    assert {r.result for r in _by(result, "bits")} == {compare.DIFFERS}


def test_a_flipped_verdict_and_a_moved_mean_fail():
    # 'both' becomes better than the others: c1a-c1c flip from reproduced to contradicted
    result = compare.compare(_loaded(_records()), _loaded(_records(cpu=EPYC, both_shift=-0.04)), "smoke")
    assert not result.passed
    flipped = [r for r in _by(result, "verdict") if r.failed]
    assert flipped and all("opposite verdicts" in r.test for r in flipped)
    moved = [r for r in _by(result, "test_accuracy") if r.failed]
    assert {r.item.split("/")[0] for r in moved} == {"both"}
    assert "NOT REPRODUCED" in compare.render(result)


def test_two_fresh_seeds_cannot_retest_a_verdict_but_never_fail_by_that():
    result = compare.compare(_loaded(_records()), _loaded(_records(seeds=range(2), cpu=EPYC, noise=0.001)), "smoke")
    verdicts = _by(result, "verdict")
    assert verdicts and all(r.result in (compare.MATCH, compare.NOT_TESTED) for r in verdicts)
    assert any(r.result == compare.NOT_TESTED for r in verdicts)
    assert not any(r.failed for r in result.rows)


def test_equivalence_decides_only_what_the_seeds_allow():
    rng = np.random.default_rng(0)
    a = 0.95 + 0.001 * rng.normal(size=10)
    assert compare.equivalence(a, a + 0.0001, 0.005)[0] == compare.MATCH
    assert compare.equivalence(a, a + 0.02, 0.005)[0] == compare.DIFFERS
    assert compare.equivalence(a, np.array([0.951]), 0.005)[0] == compare.UNDETERMINED
    # paired by seed: a constant per-seed shift has no spread, so it is decided exactly
    assert compare.equivalence(a, a + 0.001, 0.005, paired=True)[0] == compare.MATCH
    assert compare.equivalence(a, a + 0.01, 0.005, paired=True)[0] == compare.DIFFERS
    assert compare.margin("test_accuracy", 0.9) == 0.005
    assert compare.margin("min_val_mae", 0.6) == pytest.approx(0.03)


def test_a_published_case_of_another_spec_fails():
    result = compare.compare(_loaded(_records(spec="f" * 16)), _loaded(_records()), "smoke")
    [row] = _by(result, "case")
    assert row.failed and "another spec" in row.test


def test_exit_codes_through_the_cli(tmp_path, capsys):
    published = _write(tmp_path / "results", _records())
    same = _write(tmp_path / "same", _records())
    flipped = _write(tmp_path / "flipped", _records(cpu=EPYC, both_shift=-0.04))
    argv = ["compare", "--profile", "smoke", "--published", str(published), "--results-dir"]
    assert main([*argv, str(same)]) == 0
    out = capsys.readouterr().out
    assert "| verdict" in out and "c1a/tf/as_written" in out and "REPRODUCED" in out
    assert main([*argv, str(flipped)]) == 1
    assert "NOT REPRODUCED" in capsys.readouterr().out
    assert main([*argv, str(tmp_path / "missing")]) == 2
    assert "no current records" in capsys.readouterr().err
    assert main(["compare", "--profile", "smoke", "--published", str(tmp_path / "none"),
                 "--results-dir", str(same)]) == 2
    assert "no published records" in capsys.readouterr().err


def _speed_records(scale=1.0, commit="a" * 40):
    """C5h repetitions: dropout's steps per second 20 % below no dropout's; ``scale`` slows the
    whole machine (another machine, or one under load)."""
    c5h = registry.get("c5h")
    out = []
    for fw in ("tf", "torch"):
        for seed in range(10):
            rng = np.random.default_rng([seed, len(fw)])
            base = 400.0 * (1 + 0.02 * rng.normal())
            for arm, speed in (("none", base), ("dropout", 0.8 * base)):
                out.append({"case": "c5h", "arm": arm, "framework": fw, "mode": "as_written", "seed": seed,
                            "profile": "smoke", "status": "ok", "diverged": False,
                            "spec_hash": identity.spec_hash(c5h, "smoke"),
                            "metrics": {"steps_per_second": speed * scale, "train_loss": 0.1},
                            "group": {"size": 1, "path": "per_seed"},
                            "env": {"device": "cpu", "cpu": EPYC if scale != 1.0 else XEON, "threads": 2,
                                    "torch": "2.13.0", "commit": commit, "dirty": False}})
    return out


def test_timings_are_shown_not_judged_but_the_speed_verdict_is():
    result = compare.compare(_loaded(_speed_records()), _loaded(_speed_records(scale=0.7)), "smoke")
    timed = _by(result, "steps_per_second")
    assert timed and all(r.result == compare.INFO and "not judged" in r.test for r in timed)
    verdicts = _by(result, "verdict")
    assert verdicts and all(r.result == compare.MATCH for r in verdicts)
    assert result.passed
    # the verdict still fails where the arms' order flips
    flipped = _speed_records(scale=0.7)
    for r in flipped:
        if r["arm"] == "dropout":
            r["metrics"]["steps_per_second"] *= 1.6
    assert not compare.compare(_loaded(_speed_records()), _loaded(flipped), "smoke").passed
