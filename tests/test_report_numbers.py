"""Report-level numbers of one family, from records through ``bench.analysis.evaluate``: the family
size (one family per case and mode), the Holm-adjusted p-values (recomputed by hand from the primary p-values) and the level at
which power and the MDE are computed (alpha / family size, the strictest Holm step)."""
import numpy as np
import pytest

from bench.spec import registry
from bench.analysis import evaluate as analysis

C1 = registry.get("c1")
VARIANTS = (("tf", "as_written"), ("torch", "as_written"), ("torch", "matched"))


def _records(n_seeds=6):
    rng = np.random.default_rng(7)
    out = []
    for v, (fw, mode) in enumerate(VARIANTS):
        for seed in range(n_seeds):
            level = rng.normal(0.9, 0.01)
            # effects of different sizes per variant, so the family's p-values differ
            values = {"none": level, "dropout": level + rng.normal(0, 0.004), "l2": level + rng.normal(0, 0.004),
                      "both": level - 0.004 * (v + 1) + rng.normal(0, 0.004)}
            for arm, acc in values.items():
                out.append({"case": "c1", "arm": arm, "framework": fw, "mode": mode, "seed": seed,
                            "profile": "smoke", "status": "ok", "diverged": False,
                            "metrics": {"test_accuracy": acc}})
    return out


def _holm_by_hand(p):
    m, order = len(p), np.argsort(p, kind="stable")
    out, running = np.empty(m), 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, p[i] * (m - k)))
        out[i] = running
    return out


def _families(evaluated):
    out = {}
    for _, fw, mode, res in evaluated:
        out.setdefault(res.family, []).append((fw, mode, res))
    return out


def test_family_size_holm_and_the_level_of_power():
    evaluated = analysis.evaluate(_records(), [C1])
    results = [res for *_, res in evaluated]
    assert len(results) == len(C1.claims) * len(VARIANTS)
    families = _families(evaluated)
    # One family per case and mode: as written (both frameworks) and matched (PyTorch only).
    assert sorted(families) == ["c1/as_written", "c1/matched"]
    for name, members in families.items():
        mine = [res for *_, res in members]
        m = len(C1.claims) * len({fw for fw, *_ in members})
        assert all(mode == name.split("/")[1] for _, mode, _ in members)
        raw = np.array([r.primary.p_value for r in mine])
        assert np.isfinite(raw).all() and len(set(raw)) == m
        assert all(r.family_size == m for r in mine)
        np.testing.assert_allclose([r.p_holm for r in mine], _holm_by_hand(raw), rtol=1e-12)
        for r in mine:
            # MDE and power at alpha / m, not at alpha: with m = 8 the MDE is larger than at 0.05
            assert r.power is not None and r.power.alpha == pytest.approx(0.05 / m)
            if r.p_holm >= 0.05:
                # Not significant: inconclusive, unless the claim's effect is shown absent, i.e. the
                # interval at Holm's level for the claim lies wholly below the smallest effect that matters.
                near = r.ci_high if r.direction == "greater" else -r.ci_low
                absent = r.min_effect is not None and near < r.min_effect
                assert r.verdict == ("smaller than claimed" if absent else "inconclusive"), r.reason


def test_an_as_written_verdict_does_not_depend_on_whether_a_matched_run_exists():
    """A matched run is a sensitivity analysis: adding it must not move any as-written number."""
    records = _records()
    alone = [res for _, fw, mode, res in analysis.evaluate([r for r in records if r["mode"] == "as_written"], [C1])]
    beside = [res for _, fw, mode, res in analysis.evaluate(records, [C1]) if mode == "as_written"]
    assert [(r.claim_id, r.p_holm, r.verdict, r.ci_low, r.ci_high) for r in alone] == \
        [(r.claim_id, r.p_holm, r.verdict, r.ci_low, r.ci_high) for r in beside]
    # The matched family's p-values are small enough that pooling would have moved Holm's.
    assert any(r.p_holm < 0.05 for _, _, mode, r in analysis.evaluate(records, [C1]) if mode == "matched")


def test_a_trend_claims_p_pays_for_the_search_over_candidates_and_shapes():
    """An inverted U over 4 arms: the best interior arm must beat both ends; its p is the larger of
    the two one-sided paired t p-values, x (k - 2) interior candidates, x 2 shapes (peak or trough)."""
    import dataclasses

    from scipy import stats as st

    from bench.spec import Claim

    order = ("none", "dropout", "l2", "both")
    claim = Claim("trend1", "Accuracy peaks at an interior arm.", "test_accuracy",
                  tuple((arm, 1.0) for arm in order), "greater", kind="trend")
    case = dataclasses.replace(C1, claims=(claim,))
    rng = np.random.default_rng(3)
    table = rng.normal(0.9, 0.01, (8, 1)) + np.array([0.0, 0.01, 0.004, 0.002]) + rng.normal(0, 0.004, (8, 4))
    records = [{"case": "c1", "arm": arm, "framework": "torch", "mode": "as_written", "seed": seed,
                "profile": "smoke", "status": "ok", "diverged": False, "metrics": {"test_accuracy": table[seed, a]}}
               for seed in range(8) for a, arm in enumerate(order)]
    [(*_, res)] = analysis.evaluate(records, [case])
    peak = 1 + int(np.argmax(table[:, 1:3].mean(axis=0)))
    p_ends = max(st.ttest_1samp(table[:, peak] - table[:, end], 0.0, alternative="greater").pvalue for end in (0, 3))
    expected = min(1.0, 2 * min(1.0, p_ends * (len(order) - 2)))
    assert res.peak == order[peak]
    assert res.primary.p_value == pytest.approx(expected, rel=1e-9)
    assert res.verdict == ("reproduced" if expected < 0.05 else "inconclusive")


def test_claims_with_an_undefined_p_value_do_not_count_towards_the_family():
    # one seed of the matched variant: its claims have no p-value, so they cannot be rejected and
    # must not make the others pay for them (Holm over the claims that can be tested)
    records = [r for r in _records() if not (r["mode"] == "matched" and r["seed"] > 0)]
    results = [res for *_, res in analysis.evaluate(records, [C1])]
    undefined = [r for r in results if np.isnan(r.primary.p_value)]
    assert len(undefined) == len(C1.claims) and all(r.verdict == "inconclusive" for r in undefined)
    defined = [r for r in results if not np.isnan(r.primary.p_value)]
    assert {r.family for r in defined} == {"c1/as_written"}
    assert all(r.family_size == len(defined) for r in defined)
    np.testing.assert_allclose([r.p_holm for r in defined],
                               _holm_by_hand(np.array([r.primary.p_value for r in defined])), rtol=1e-12)
