"""The regression gate on synthetic records: baselines, spec hashes, each failure kind, bad input."""
import dataclasses
import json

import numpy as np
import pytest

from bench.publish import baseline, check
from bench.spec import registry
from bench.records import store
from bench.cli import main
from bench.errors import StoreError
from bench.spec import Metric, Optimizer, Profile

C1 = registry.get("c1")
C1_HASH = baseline.spec_hash(C1, "smoke")   # records of the current spec; others are stale
SEEDS = (0, 1, 2)


def _records(shift=0.0, loss_shift=0.0, device="cpu", cpu="Xeon [0123abcd]", threads=None):
    """C1 records for both frameworks: 'both' is clearly worse than the others, seeds vary."""
    out = []
    for fw in ("tf", "torch"):
        for i, arm in enumerate(("none", "dropout", "l2", "both")):
            for seed in SEEDS:
                acc = 0.9 - (0.1 if arm == "both" else 0.0) + 0.01 * seed + 0.001 * i + shift
                out.append({"case": "c1", "arm": arm, "framework": fw, "mode": "as_written", "seed": seed,
                            "profile": "smoke", "status": "ok", "diverged": False, "spec_hash": C1_HASH,
                            "metrics": {"test_accuracy": acc, "test_loss": 0.3 + loss_shift,
                                        "train_loss": 0.2 + 0.01 * seed},
                            "env": {"device": device, "cpu": cpu, "bench": "test",
                                    **({} if threads is None else {"threads": threads})}})
    return out


def _write(tmp_path, records, name="run"):
    with store.RecordWriter(store.records_path(tmp_path / name, "smoke")) as w:
        for r in records:
            w.append(r)
    return tmp_path / name


@pytest.fixture
def stored():
    return baseline.build(_records(), "smoke")


def _failed(rows):
    return [r for r in rows if r.failed]


# --- spec hash -------------------------------------------------------------------

def test_spec_hash_is_stable_and_ignores_prose():
    again = dataclasses.replace(C1, title="reworded", notes="new notes",
                                claims=tuple(dataclasses.replace(c, statement="x") for c in C1.claims))
    assert baseline.spec_hash(C1, "smoke") == baseline.spec_hash(again, "smoke")
    assert len(baseline.spec_hash(C1, "smoke")) == 16


def test_a_new_spec_field_left_at_its_default_keeps_the_hash():
    before = dataclasses.make_dataclass("Data", [("batch_size", int)], frozen=True)
    after = dataclasses.make_dataclass("Data", [("batch_size", int), ("standardize", bool, False)], frozen=True)
    assert baseline._canonical(before(128)) == baseline._canonical(after(128))
    assert baseline._canonical(before(128)) != baseline._canonical(after(128, standardize=True))


def test_spec_hash_sees_hyperparameters_and_the_profile_budget_only():
    lr = dataclasses.replace(C1, optimizer=Optimizer("adam", lr=0.001))
    assert baseline.spec_hash(lr, "smoke") != baseline.spec_hash(C1, "smoke")
    smoke = dataclasses.replace(C1, profiles={**C1.profiles, "smoke": Profile(seeds=3, epochs=1)})
    assert baseline.spec_hash(smoke, "smoke") != baseline.spec_hash(C1, "smoke")
    full = dataclasses.replace(C1, profiles={**C1.profiles, "full": Profile(seeds=20)})
    assert baseline.spec_hash(full, "smoke") == baseline.spec_hash(C1, "smoke")


# --- compare ---------------------------------------------------------------------

def test_the_same_records_pass_with_every_row_identical(stored):
    rows = check.compare(stored, _records(), "smoke")
    assert rows and not _failed(rows) and all(r.result == check.SAME for r in rows)
    assert {r.check for r in rows} == {"test_accuracy", "test_loss", "train_loss", "verdict"}


def test_worse_accuracy_beyond_tolerance_fails_and_says_what_fell(stored):
    rows = check.compare(stored, _records(shift=-0.02), "smoke")
    bad = _failed(rows)
    assert bad and {r.check for r in bad} == {"test_accuracy"}
    assert "test_accuracy (higher is better) is worse than the baseline" in bad[0].hint
    assert "tolerance 0.01" in bad[0].hint


def test_a_shift_within_tolerance_or_for_the_better_passes(stored):
    within = check.compare(stored, _records(shift=-0.005), "smoke")
    assert not _failed(within) and any(r.result == check.WITHIN for r in within)
    better = check.compare(stored, _records(shift=+0.05, loss_shift=-0.2), "smoke")
    assert not _failed(better)
    assert {r.check for r in better if r.result == check.BETTER} == {"test_accuracy", "test_loss"}


def test_a_higher_loss_is_worse(stored):
    bad = _failed(check.compare(stored, _records(loss_shift=0.1), "smoke"))
    assert {r.check for r in bad} == {"test_loss"}


def test_a_verdict_flip_fails(stored):
    name = next(iter(stored["cases"]["c1"]["verdicts"]))
    was = stored["cases"]["c1"]["verdicts"][name]["verdict"]
    stored["cases"]["c1"]["verdicts"][name]["verdict"] = "contradicted" if was != "contradicted" else "reproduced"
    [bad] = _failed(check.compare(stored, _records(), "smoke"))
    assert bad.check == "verdict" and bad.item == name and "verdict changed" in bad.hint


def test_a_changed_spec_fails_until_the_baseline_is_regenerated(stored):
    stored["cases"]["c1"]["spec_hash"] = "0" * 16
    [bad] = _failed(check.compare(stored, _records(), "smoke"))
    assert bad.check == "spec" and "make baseline" in bad.hint


def test_failed_and_newly_diverged_seeds_fail(stored):
    records = _records()
    records[0] = {**records[0], "status": "failed", "error": "RuntimeError: boom"}
    records[5] = {**records[5], "diverged": True, "metrics": {k: float("nan") for k in records[5]["metrics"]}}
    checks = {r.check for r in _failed(check.compare(stored, records, "smoke"))}
    assert {"failed seed", "diverged"} <= checks


def test_a_case_new_to_the_records_or_missing_from_them_fails(stored):
    del stored["cases"]["c1"]
    [bad] = _failed(check.compare(stored, _records(), "smoke"))
    assert bad.check == "case" and "new since the baseline" in bad.hint and "make baseline" in bad.hint
    ghost = baseline.build(_records(), "smoke")
    ghost["cases"]["c0"] = ghost["cases"]["c1"]
    [bad] = _failed(check.compare(ghost, _records(), "smoke"))
    assert bad.case == "c0" and "not in the fresh run" in bad.hint


def test_a_missing_group_fails(stored):
    records = [r for r in _records() if r["framework"] != "torch"]
    bad = _failed(check.compare(stored, records, "smoke"))
    assert any(r.check == "seeds" and "torch" in r.item for r in bad)


def test_off_cpu_the_metric_is_judged_by_a_paired_t_test():
    stored = baseline.build(_records(device="NVIDIA H100"), "smoke")
    rows = check.compare(stored, _records(shift=-0.02, device="NVIDIA H100"), "smoke")
    # a constant shift has zero variance: the t-test is undefined, so the plain tolerance decides
    assert any(r.failed and "t-test undefined" in r.test for r in rows)


def test_another_cpu_type_is_judged_by_the_test_not_the_bare_tolerance(stored):
    same = check.compare(stored, _records(shift=-0.02), "smoke")
    assert any(r.failed and r.test.startswith("tolerance") for r in same)
    other = check.compare(stored, _records(shift=-0.02, cpu="EPYC [feedbeef]"), "smoke")
    assert not any(r.test.startswith("tolerance:") for r in other if r.check == "test_accuracy")
    assert not check.same_cpu_machine({"devices": ["cpu"]}, {"devices": ["cpu"], "cpus": ["x"]})


def test_another_thread_count_is_judged_by_the_test_not_the_bare_tolerance():
    """PyTorch's BatchNorm rounds differently per thread count, so one CPU type gives the
    same bits only at the same count; a baseline from two threads in one process does not
    make a run in one-thread workers bit-comparable."""
    stored = baseline.build(_records(threads=2), "smoke")
    same = check.compare(stored, _records(shift=-0.02, threads=2), "smoke")
    assert any(r.failed and r.test.startswith("tolerance") for r in same)
    other = check.compare(stored, _records(shift=-0.02, threads=1), "smoke")
    assert not any(r.test.startswith("tolerance:") for r in other if r.check == "test_accuracy")


@pytest.mark.parametrize("worse, result", [
    ([0.05, 0.06, 0.055, 0.052], check.FAIL),    # consistently far beyond tol=0.01
    ([0.05, -0.03, 0.02, -0.01], check.WITHIN),  # mean beyond tol, but noise: not significant
    ([-0.05, -0.06, -0.055, -0.052], check.BETTER),
])
def test_the_paired_t_test_fails_only_a_significant_worsening(worse, result):
    got, text = check.judge(np.array(worse), 0.01, "test")
    assert got == result and text.startswith("paired t")


def test_tolerance_lookup():
    assert check.tolerance(Metric("test_accuracy", True), 0.9) == 0.01
    assert check.tolerance(Metric("test_mae", False), 5.0) == pytest.approx(0.1)


# --- files and the command line ---------------------------------------------------

def test_baseline_then_check_through_the_cli(tmp_path, capsys):
    run = _write(tmp_path, _records())
    path = tmp_path / "baselines" / "smoke.json"
    assert main(["baseline", "--profile", "smoke", "--results-dir", str(run), "--baseline", str(path)]) == 0
    data = json.loads(path.read_text())
    assert data["schema"] == baseline.SCHEMA and data["profile"] == "smoke"
    assert data["cases"]["c1"]["groups"]["none/tf/as_written"]["metrics"]["test_accuracy"]["2"] == pytest.approx(0.92)
    assert main(["check", "--profile", "smoke", "--results-dir", str(run), "--baseline", str(path)]) == 0
    assert "PASSED" in capsys.readouterr().out

    worse = _write(tmp_path, _records(shift=-0.1), "worse")
    assert main(["check", "--profile", "smoke", "--results-dir", str(worse), "--baseline", str(path)]) == 1
    out = capsys.readouterr().out
    assert "| FAIL" in out and "FAILED:" in out and "beyond its tolerance 0.01 in both/tf/as_written, " in out
    assert main(["check", "--profile", "smoke", "--results-dir", str(worse), "--baseline", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is False and any(r["failed"] and r["old"] != r["new"] for r in report["rows"])


def test_baseline_refuses_failed_seeds(tmp_path):
    records = _records()
    records[0] = {**records[0], "status": "failed", "error": "boom"}
    with pytest.raises(StoreError, match="failed; rerun"):
        baseline.write(_write(tmp_path, records), "smoke", tmp_path / "b.json")


def _bad(tmp_path, content):
    path = tmp_path / "smoke.json"
    if content is not None:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


@pytest.mark.parametrize("content, message", [
    (None, "no baseline at"),
    ("{not json", "is not readable JSON"),
    ({"schema": 1}, "is not a bench baseline"),
    ({"schema": 99, "records_schema": 1, "profile": "smoke", "cases": {}}, "has schema 99"),
    ({"schema": 1, "records_schema": 99, "profile": "smoke", "cases": {}}, "records of schema 99"),
    ({"schema": 1, "records_schema": 1, "profile": "quick", "cases": {}}, "is for profile 'quick'"),
])
def test_bad_baselines_get_one_sentence_saying_what_to_do(tmp_path, capsys, content, message):
    run = _write(tmp_path, _records())
    argv = ["check", "--profile", "smoke", "--results-dir", str(run), "--baseline", str(_bad(tmp_path, content))]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
    assert "bench baseline --profile" in err or "make baseline" in err or "--profile quick" in err


def test_records_of_another_schema_or_none_at_all(tmp_path, capsys):
    path = tmp_path / "b.json"
    baseline.write(_write(tmp_path, _records()), "smoke", path)
    assert main(["check", "--profile", "smoke", "--results-dir", str(tmp_path / "empty"),
                 "--baseline", str(path)]) == 2
    assert "no records" in capsys.readouterr().err
    other = store.records_path(tmp_path / "old", "smoke")
    other.parent.mkdir(parents=True)
    other.write_text(json.dumps({**_records()[0], "schema": 0}) + "\n")
    assert main(["check", "--profile", "smoke", "--results-dir", str(tmp_path / "old"),
                 "--baseline", str(path)]) == 2
    assert "schema 0" in capsys.readouterr().err


def test_a_regression_with_a_one_sided_p_near_0_04_fails_the_test_method():
    """The gate's test is one-sided (worse beyond the tolerance): a worsening whose one-sided p is
    0.04 must fail at 0.05. Reading the two-sided p (0.08) as if it were one-sided would pass it."""
    from scipy import stats as st
    n, tol = 10, 0.01
    z = np.array([1.2, -0.8, 0.3, -1.5, 0.9, 0.1, -0.4, 1.1, -0.6, -0.3])
    z = (z - z.mean()) / z.std(ddof=1)
    t = st.t.isf(0.04, n - 1)                      # the t statistic of a one-sided p of 0.04
    worse = tol + 0.004 * (t / np.sqrt(n) + z)     # mean - tol = t x se, with se = 0.004 / sqrt(n)
    assert st.ttest_1samp(worse - tol, 0.0, alternative="greater").pvalue == pytest.approx(0.04)
    result, text = check.judge(worse, tol, "test")
    assert result == check.FAIL and "p(worse > 0.01) = 0.04" in text, text
    # and just beyond 0.05 it passes (within tolerance): the test is not a hair trigger
    calm = tol + 0.004 * (st.t.isf(0.06, n - 1) / np.sqrt(n) + z)
    assert check.judge(calm, tol, "test")[0] == check.WITHIN
