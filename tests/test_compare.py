"""bench compare on synthetic and published records: verdicts, arm means (TOST, exact rates),
per-seed bits, the outcome line and its exit codes."""
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as _st

from bench.publish import compare
from bench.records import identity, store
from bench.spec import registry
from bench.cli import COMPARE_EXIT, main

ROOT = Path(__file__).resolve().parents[1]
C1 = registry.get("c1")
HASH = identity.spec_hash(C1, "smoke")
XEON, EPYC = "Xeon [0123abcd]", "EPYC [89abcdef]"


def _records(seeds=range(10), cpu=XEON, noise=0.0, both_shift=0.0, spec=HASH, commit="a" * 40, group=10,
             frameworks=("tf", "torch"), env=None):
    """C1 records: 'both' is clearly worse than the other arms; ``noise`` perturbs each seed
    as another CPU type would (a seed moves, the arm means stay)."""
    out = []
    for fw in frameworks:
        for i, arm in enumerate(("none", "dropout", "l2", "both")):
            for seed in seeds:
                rng = np.random.default_rng([seed, i, len(fw)])
                acc = 0.95 + 0.003 * rng.normal() - (0.02 + both_shift if arm == "both" else 0.0)
                acc += noise * np.random.default_rng([seed, i, len(fw), 7]).normal()
                out.append({"case": "c1", "arm": arm, "framework": fw, "mode": "as_written", "seed": seed,
                            "profile": "smoke", "status": "ok", "diverged": False, "spec_hash": spec,
                            "metrics": {"test_accuracy": float(acc), "test_loss": 0.1, "train_loss": 0.05},
                            "group": {"size": group, "path": "vectorized"},
                            "env": {"device": "cpu", "cpu": cpu, "threads": 2, "torch": "2.13.0",
                                    "commit": commit, "dirty": False, **(env or {})}})
    return out


def _loaded(records):
    return identity.split(records, "smoke")


def _write(directory, records, profile="smoke"):
    with store.RecordWriter(store.records_path(directory, profile)) as w:
        for r in records:
            w.append(r)
    return directory


def _by(result, check):
    return [r for r in result.rows if r.check == check]


def test_the_same_records_reproduce_everything():
    result = compare.compare(_loaded(_records()), _loaded(_records()), "smoke")
    assert result.outcome == compare.REPRODUCED and result.exit_code == 0 and result.passed
    verdicts = _by(result, "verdict")
    assert verdicts and all(r.result == compare.MATCH for r in verdicts) and result.tested_verdicts == len(verdicts)
    assert all(r.result == compare.MATCH for r in _by(result, "test_accuracy"))
    bits = _by(result, "bits")
    assert [r.result for r in bits] == [compare.MATCH, compare.MATCH]
    assert [r.test for r in bits] == ["bit-identical: 40 of 40 tf seed-runs", "bit-identical: 40 of 40 torch seed-runs"]
    assert compare.render(result).splitlines()[-1].startswith("REPRODUCED: 8 verdict(s) tested")


def test_bit_identical_seed_runs_match_across_cpu_types_commits_and_groups():
    fresh = _records(seeds=range(2), cpu=EPYC, commit="b" * 40, group=2)
    result = compare.compare(_loaded(_records()), _loaded(fresh), "smoke")
    bits = {r.item: r for r in _by(result, "bits")}
    assert set(bits) == {"tf/as_written", "torch/as_written"}
    for fw, row in zip(("tf", "torch"), bits.values()):
        assert row.result == compare.MATCH
        assert row.test == (f"bit-identical: 8 of 8 {fw} seed-runs, across CPU fingerprint, commit, "
                            f"training path")
    assert not any(r.failed for r in result.rows)


def test_another_cpu_moves_seeds_and_the_output_names_what_differs():
    fresh = _records(cpu=EPYC, noise=0.001, env={"cpu_isa": "avx2"})
    published = _records(env={"cpu_isa": "avx512"})
    result = compare.compare(_loaded(published), _loaded(fresh), "smoke")
    assert result.passed
    bits = _by(result, "bits")
    assert bits and all(r.result == compare.INFO for r in bits)
    for row in bits:
        assert row.test.startswith(f"bit-identical: 0 of 40 {row.item.split('/')[0]} seed-runs; 40 differ where "
                                   f"the environments differ: ")
        assert f"CPU fingerprint ({XEON} vs {EPYC})" in row.test and "cpu_isa (avx512 vs avx2)" in row.test
        assert "commit" not in row.test and "threads" not in row.test   # only what differs is named
    assert all(r.result == compare.MATCH for r in _by(result, "verdict"))


def test_same_environment_but_other_bits_differs():
    result = compare.compare(_loaded(_records()), _loaded(_records(noise=0.001)), "smoke")
    assert result.outcome == compare.DIFFERENT and result.exit_code == 1
    bits = _by(result, "bits")
    assert {r.result for r in bits} == {compare.DIFFERS}
    assert all("40 differ with identical environments" in r.test for r in bits)


def test_a_flipped_verdict_and_a_moved_mean_differ():
    # 'both' becomes better than the others: c1a-c1c flip from reproduced to contradicted
    result = compare.compare(_loaded(_records()), _loaded(_records(cpu=EPYC, both_shift=-0.04)), "smoke")
    assert result.outcome == compare.DIFFERENT
    flipped = [r for r in _by(result, "verdict") if r.failed]
    assert flipped and all("fresh n 10 >= published n 10" in r.test for r in flipped)
    moved = [r for r in _by(result, "test_accuracy") if r.failed]
    assert {r.item.split("/")[0] for r in moved} == {"both"}
    assert compare.render(result).splitlines()[-1].startswith("DIFFERS:")


def test_a_two_seed_rerun_is_not_judged_and_says_how_many_seeds_would_judge_it():
    result = compare.compare(_loaded(_records()), _loaded(_records(seeds=range(2), cpu=EPYC, noise=0.001)), "smoke")
    verdicts = _by(result, "verdict")
    assert verdicts and all(r.result == compare.NOT_TESTED and r.needs == 10 for r in verdicts)
    assert all(r.fresh == "not computed (n=2)" for r in verdicts)   # no test runs on 2 seeds
    arms = _by(result, "test_accuracy")
    assert arms and all(r.result == compare.NOT_TESTED and "at least 5 fresh seeds" in r.test for r in arms)
    assert result.outcome == compare.NOT_JUDGED and result.exit_code == 3 and not result.passed
    text = compare.render(result)
    assert "c1: not judged: 8 of its 8 published verdicts not tested (too few seeds to retest)" in text
    assert "`bench run --profile smoke --case c1 --seeds 10`" in text
    assert text.splitlines()[-1].startswith("NOT JUDGED: 0 verdict(s) tested")


def test_a_rerun_with_the_published_seed_count_tests_its_verdicts():
    result = compare.compare(_loaded(_records()), _loaded(_records(cpu=EPYC, noise=0.001)), "smoke")
    assert result.tested_verdicts == 8 and not result.unjudged
    assert {r.result for r in _by(result, "test_accuracy")} == {compare.MATCH}
    assert result.outcome == compare.REPRODUCED


def test_a_case_without_a_published_table_is_not_judged():
    c5h = [dict(r, case="c5h", spec_hash=identity.spec_hash(registry.get("c5h"), "smoke"), arm=a)
           for r, a in zip(_records(seeds=range(1), frameworks=("tf",)), ("none", "dropout"))]
    result = compare.compare(_loaded(_records()), _loaded(_records() + c5h), "smoke")
    [row] = _by(result, "case")
    assert row.result == compare.INFO and row.test == "c5h smoke has no published table yet: bench compare cannot judge it"
    assert result.outcome == compare.NOT_JUDGED and set(result.unjudged) == {"c5h"}


def test_nothing_tested_is_never_reproduced():
    """Only bits and arm means compared, no verdict: not judged, however well they match."""
    result = compare.compare(_loaded(_records()), _loaded(_records(frameworks=("tf",))), "smoke")
    assert result.tested_verdicts == 4
    lone = compare.Comparison("smoke", rows=[r for r in result.rows if r.check != "verdict"])
    assert not any(r.failed for r in lone.rows) and lone.outcome == compare.NOT_JUDGED and lone.exit_code == 3


# --- arm means --------------------------------------------------------------------

def test_equivalence_decides_only_what_the_seeds_allow():
    rng = np.random.default_rng(0)
    a = 0.95 + 0.001 * rng.normal(size=10)
    b = a + 0.0002 * rng.normal(size=10)
    assert compare.equivalence(a, b + 0.0001, 0.005)[0] == compare.MATCH
    assert compare.equivalence(a, b + 0.02, 0.005)[0] == compare.DIFFERS
    assert compare.equivalence(a, b[:4], 0.005)[0] == compare.NOT_TESTED   # 4 < MIN_SEEDS fresh seeds
    assert compare.equivalence(a[:4], a[:4] + 0.0001, 0.005, paired=True)[0] == compare.NOT_TESTED
    assert compare.margin("test_accuracy", 0.9) == 0.005
    assert compare.margin("min_val_mae", 0.6) == pytest.approx(0.03)


def test_a_constant_difference_is_tested_at_the_metrics_resolution_never_called_exact():
    a = 0.95 + 0.001 * np.random.default_rng(1).normal(size=10)
    # a constant per-seed shift, exactly and up to float rounding, decides the same way
    for wobble in (0.0, 1e-13):
        jitter = wobble * np.random.default_rng(2).normal(size=10)
        small = compare.equivalence(a, a + 0.001 + jitter, 0.005, paired=True)
        large = compare.equivalence(a, a + 0.006 + jitter, 0.005, paired=True)
        assert small[0] == compare.MATCH and large[0] == compare.DIFFERS
        for _, text in (small, large):
            assert "spread below float rounding, SD floored at" in text
            assert "exact" not in text and "no spread" not in text
    # two seeds with a constant difference decide nothing
    assert compare.equivalence(a[:2], a[:2] + 0.001, 0.005, paired=True)[0] == compare.NOT_TESTED


def test_the_paired_tost_uses_the_standard_error_not_the_sd():
    """A noisy 0.0075 shift of accuracy on 10 paired seeds is shown beyond the 0.005 margin; with the
    seeds' SD used as the standard error it would not be."""
    rng = np.random.default_rng(3)
    published = 0.95 + 0.003 * rng.normal(size=10)
    noise = np.array([0.0021, -0.0018, 0.0009, -0.0025, 0.0016, -0.0004, 0.0023, -0.0011, -0.0019, 0.0008])
    fresh = published + 0.0075 + noise
    d = fresh - published
    assert d.std(ddof=1) > 0.0015   # noisy, not a constant shift
    result, text = compare.equivalence(published, fresh, 0.005, paired=True)
    assert result == compare.DIFFERS, text
    wrong_p = 2 * _st.t.sf((abs(d.mean()) - 0.005) / d.std(ddof=1), len(d) - 1)
    assert wrong_p > compare.ALPHA   # SD as SE: the same data would stay undetermined


def test_rates_are_compared_with_exact_intervals():
    ones = np.ones
    two, twenty, hundred = ones(2), ones(20), ones(100)
    result, text = compare.rate_comparison(twenty, two)
    assert result == compare.UNDETERMINED and "rate 2/2 vs 20/20" in text
    assert "-0.842" in text   # 2 of 2 is consistent with a rate as low as 0.158
    assert compare.rate_comparison(twenty, twenty)[0] == compare.UNDETERMINED   # 20 seeds cannot show 0.1
    assert compare.rate_comparison(hundred, hundred)[0] == compare.MATCH
    assert compare.rate_comparison(np.zeros(20), twenty)[0] == compare.DIFFERS
    assert compare.is_rate("diverged", [0.0, 0.0]) and compare.is_rate("converged", [1.0, 0.0, 1.0])
    assert not compare.is_rate("test_accuracy", [0.95, 1.0])


def test_a_rate_from_two_seeds_never_matches_twenty_published():
    c2 = registry.get("c2")

    def recs(seeds):
        return [{"case": "c2", "arm": arm, "framework": "tf", "mode": "as_written", "seed": s, "profile": "smoke",
                 "status": "ok", "diverged": arm == "plain", "spec_hash": identity.spec_hash(c2, "smoke"),
                 "metrics": {"fit_failed": float(arm == "plain"), "min_val_mae": 5.0 + 0.1 * s},
                 "group": {"size": 2, "path": "vectorized"}, "env": {"device": "cpu", "cpu": XEON}}
                for arm in ("plain", "bn", "standardized") for s in seeds]

    result = compare.compare(_loaded(recs(range(20))), _loaded(recs(range(2))), "smoke")
    rates = [r for r in result.rows if r.check in ("diverged", "fit_failed")]
    assert rates and all(r.result == compare.UNDETERMINED for r in rates)
    assert result.outcome == compare.NOT_JUDGED


# --- the published records, as the user ran them ---------------------------

def test_a_two_seed_rerun_of_the_published_full_records_is_not_judged_and_warns_nothing(tmp_path):
    """C1 and C2 full, seeds 0-1, both frameworks, bit for bit the published ones."""
    lines = [line for line in (ROOT / "results" / "full" / "records.jsonl").read_text().splitlines()
             if line.strip() and json.loads(line)["case"] in ("c1", "c2") and json.loads(line)["seed"] < 2]
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "records.jsonl").write_text("\n".join(lines) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no library warning may reach the output
        result = compare.run(tmp_path, ROOT / "results", "full")
    assert result.outcome == compare.NOT_JUDGED and result.tested_verdicts == 0
    assert set(result.unjudged) == {"c1", "c2"} and all("--seeds 20" in why for why in result.unjudged.values())
    assert not any(r.result == compare.MATCH for r in result.rows if r.kind == "arm")
    bits = {(r.case, r.item): r.test for r in _by(result, "bits")}
    assert bits[("c1", "tf/as_written")].startswith("bit-identical: 8 of 8 tf seed-runs")


# --- the command line ----------------------------------------------------------------

def test_exit_codes_through_the_cli(tmp_path, capsys):
    published = _write(tmp_path / "results", _records())
    same = _write(tmp_path / "same", _records())
    flipped = _write(tmp_path / "flipped", _records(cpu=EPYC, both_shift=-0.04))
    few = _write(tmp_path / "few", _records(seeds=range(2), cpu=EPYC))
    argv = ["compare", "--profile", "smoke", "--published", str(published), "--results-dir"]
    assert main([*argv, str(same)]) == 0
    out = capsys.readouterr().out
    assert "| verdict" in out and "c1a/tf/as_written" in out and out.splitlines()[-1].startswith("REPRODUCED")
    assert main([*argv, str(flipped)]) == 1
    assert capsys.readouterr().out.splitlines()[-1].startswith("DIFFERS")
    assert main([*argv, str(few)]) == 3
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("NOT JUDGED") and "at least 5 fresh seeds" in out
    assert main([*argv, str(tmp_path / "missing")]) == 2
    assert "no current records" in capsys.readouterr().err
    assert main(["compare", "--profile", "smoke", "--published", str(tmp_path / "none"),
                 "--results-dir", str(same)]) == 2
    assert "no published records" in capsys.readouterr().err


def test_the_help_documents_every_exit_code(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    out = capsys.readouterr().out
    for outcome, code in compare.EXIT.items():
        assert f"{code}  {outcome}" in out
    assert "2  bad input" in out and f"at least {compare.MIN_SEEDS} fresh seeds" in COMPARE_EXIT


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
    assert compare.compare(_loaded(_speed_records()), _loaded(flipped), "smoke").outcome == compare.DIFFERENT


def test_a_published_case_of_another_spec_differs():
    result = compare.compare(_loaded(_records(spec="f" * 16)), _loaded(_records()), "smoke")
    [row] = _by(result, "case")
    assert row.failed and "another spec" in row.test and result.exit_code == 1
