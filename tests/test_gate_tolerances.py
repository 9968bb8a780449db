"""Every tolerance of the regression gate, pinned from both sides.

For each metric the gate judges, a fresh run worse than the baseline by just under the
tolerance passes and by just over it fails; the tolerances are written here as docs/ci-gate.md
states them (0.01 accuracy, 0.05 loss, 2 % of the baseline mean otherwise), so
a tolerance loosened in ``bench/publish/check.py`` (say 0.05 -> 0.5 for ``train_loss``) fails.
"""
import copy

import pytest

from bench.publish import baseline, check

SEEDS = (0, 1, 2)
ENV = {"device": "cpu", "cpu": "Xeon [0123abcd]", "bench": "test"}


def _c1(metrics_of):
    return [{"case": "c1", "arm": arm, "framework": "torch", "mode": "as_written", "seed": seed,
             "profile": "smoke", "status": "ok", "diverged": False, "metrics": metrics_of(arm, seed), "env": ENV}
            for arm in ("none", "dropout", "l2", "both") for seed in SEEDS]


def _c3(metrics_of):
    return [{"case": "c3", "arm": arm, "framework": "torch", "mode": "as_written", "seed": seed,
             "profile": "smoke", "status": "ok", "diverged": False, "metrics": metrics_of(arm, seed), "env": ENV}
            for arm in ("post", "no_dropout", "no_bn", "standardized") for seed in SEEDS]


def _c1_metrics(arm, seed):
    # 'both' clearly worse, so verdicts are stable under the small shifts below
    return {"test_accuracy": 0.9 - (0.1 if arm == "both" else 0.0) + 0.01 * seed,
            "test_loss": 0.3 + 0.01 * seed, "train_loss": 0.2 + 0.01 * seed}


def _c3_metrics(arm, seed):
    return {"min_val_mae": 0.6 + 0.01 * seed, "final_val_mae": 0.7 + 0.01 * seed,
            "gap_mae": 0.1 + 0.001 * seed, "diverged": 0.0, "fit_failed": 0.0}


# (records, their metrics, metric, tolerance as documented from the baseline mean, +1 if higher is better)
CASES = [
    (_c1, _c1_metrics, "test_accuracy", lambda old_mean: 0.01, +1),
    (_c1, _c1_metrics, "test_loss", lambda old_mean: 0.05, -1),
    (_c1, _c1_metrics, "train_loss", lambda old_mean: 0.05, -1),
    (_c3, _c3_metrics, "min_val_mae", lambda old_mean: 0.02 * old_mean, -1),
    (_c3, _c3_metrics, "final_val_mae", lambda old_mean: 0.02 * old_mean, -1),
]


def _rows(make, metrics_of, metric, worse_by, sign):
    old = make(metrics_of)
    stored = baseline.build(copy.deepcopy(old), "smoke")
    new = copy.deepcopy(old)
    for r in new:
        r["metrics"][metric] -= sign * worse_by   # worse in the metric's declared direction
    return [r for r in check.compare(stored, new, "smoke", method="tolerance") if r.check == metric]


@pytest.mark.parametrize("make,metrics_of,metric,tol,sign", CASES, ids=[c[2] for c in CASES])
def test_a_worsening_just_inside_the_tolerance_passes_and_just_outside_fails(make, metrics_of, metric, tol, sign):
    values = [r["metrics"][metric] for r in make(metrics_of)]   # every arm has the same values here
    limit = tol(sum(values) / len(values))
    inside = _rows(make, metrics_of, metric, 0.9 * limit, sign)
    outside = _rows(make, metrics_of, metric, 1.1 * limit, sign)
    assert inside and all(r.result == check.WITHIN for r in inside), [(r.item, r.result, r.test) for r in inside]
    assert outside and all(r.result == check.FAIL for r in outside), [(r.item, r.result, r.test) for r in outside]
    better = _rows(make, metrics_of, metric, -1.1 * limit, sign)
    assert all(r.result == check.BETTER for r in better)


@pytest.mark.parametrize("metric", ["test_accuracy", "test_loss", "train_loss"])
def test_auto_on_one_cpu_uses_the_same_tolerance(metric):
    sign = +1 if metric == "test_accuracy" else -1
    limit = {"test_accuracy": 0.01, "test_loss": 0.05, "train_loss": 0.05}[metric]
    old = _c1(_c1_metrics)
    stored = baseline.build(copy.deepcopy(old), "smoke")
    for factor, expected in ((0.9, check.WITHIN), (1.1, check.FAIL)):
        new = copy.deepcopy(old)
        for r in new:
            r["metrics"][metric] -= sign * factor * limit
        rows = [r for r in check.compare(stored, new, "smoke") if r.check == metric]
        assert rows and all(r.result == expected and r.test.startswith("tolerance") for r in rows)


def test_the_spec_hash_failure_says_to_re_read_the_claims():
    old = _c1(_c1_metrics)
    stored = baseline.build(copy.deepcopy(old), "smoke")
    stored["cases"]["c1"]["spec_hash"] = "0" * len(stored["cases"]["c1"]["spec_hash"])
    [row] = [r for r in check.compare(stored, old, "smoke") if r.check == "spec"]
    assert row.failed and "re-read each claim's statement against its arms and direction" in row.hint


def test_a_changed_claim_keeps_the_records_but_fails_the_gate_by_its_claims_hash(monkeypatch):
    import dataclasses

    from bench.records import identity
    from bench.spec import registry

    old = _c1(_c1_metrics)
    stored = baseline.build(copy.deepcopy(old), "smoke")
    c1 = registry.get("c1")
    first = c1.claims[0]
    swapped = dataclasses.replace(first, contrast=tuple((arm, -w) for arm, w in first.contrast))
    changed = dataclasses.replace(c1, claims=(swapped, *c1.claims[1:]))
    # the claims decide verdicts, not what trains: every record stays current ...
    assert identity.spec_hash(changed, "smoke") == identity.spec_hash(c1, "smoke")
    assert identity.claims_hash(changed) != identity.claims_hash(c1)
    known = registry.discover()
    monkeypatch.setattr(registry, "discover", lambda: {**known, "c1": changed})
    # ... and the gate says the claim changed, with the hint to re-read it
    rows = [r for r in check.compare(stored, old, "smoke") if r.check == "claims"]
    assert len(rows) == 1 and rows[0].failed
    assert "re-read each claim's statement against its arms and direction" in rows[0].hint
    assert not [r for r in check.compare(stored, old, "smoke") if r.check == "spec"]


def test_a_seed_that_diverges_but_is_not_in_the_baseline_fails_the_gate():
    stored = baseline.build(_c1(_c1_metrics), "smoke")
    fresh = _c1(_c1_metrics) + [
        {"case": "c1", "arm": "both", "framework": "torch", "mode": "as_written", "seed": 3, "profile": "smoke",
         "status": "ok", "diverged": True, "metrics": {"test_accuracy": float("nan"), "test_loss": float("nan"),
                                                       "train_loss": float("nan")}, "env": ENV}]
    rows = [r for r in check.compare(stored, fresh, "smoke") if r.check == "diverged"]
    assert len(rows) == 1 and rows[0].failed and "newly diverged ['3']" in rows[0].test
