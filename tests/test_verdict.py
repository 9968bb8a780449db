"""bench.analysis.verdict: pairing, exclusion, Holm adjustment, verdicts and agreement."""
import json
import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats as st

from bench.analysis import verdict
from bench.errors import SpecError
from bench.spec import Claim

FAST = {"n_resamples": 200}


def two_arm(direction="greater", cid="c1"):
    return Claim(id=cid, statement="a beats b", metric="acc",
                 contrast=(("a", 1.0), ("b", -1.0)), direction=direction)


def samples_from(diffs, base=0.5):
    """Arm b fixed at ``base`` + small seed noise, arm a = b + diffs."""
    b = {s: base + 0.01 * ((s * 7) % 5) for s in range(len(diffs))}
    a = {s: b[s] + d for s, d in enumerate(diffs)}
    return {"a": a, "b": b}


POSITIVE = [0.10, 0.12, 0.08, 0.11, 0.09, 0.13, 0.10, 0.07]
NOISE = [0.02, -0.01, 0.01, -0.02, 0.005, -0.015, 0.01, -0.01]


def test_clear_positive_effect_is_reproduced():
    r = verdict.evaluate_claim(two_arm(), samples_from(POSITIVE), **FAST)
    assert r.verdict == "reproduced"
    assert r.n_pairs == 8
    assert r.estimate == pytest.approx(np.mean(POSITIVE))
    assert r.ci_low < r.estimate < r.ci_high
    assert r.primary.p_value == pytest.approx(st.ttest_1samp(POSITIVE, 0.0).pvalue)
    assert r.robustness.p_value == pytest.approx(2 / 2 ** 8)   # exact, all positive
    assert r.effect_name == "hedges_g" and r.effect_size > 0
    assert r.p_superiority == 1.0
    assert [t.name for t in r.unpaired] == ["welch_t", "mann_whitney"]
    assert r.p_holm is None and "unadjusted" in r.reason


def test_negative_effect_contradicts_greater_claim():
    r = verdict.evaluate_claim(two_arm(), samples_from([-d for d in POSITIVE]), **FAST)
    assert r.verdict == "contradicted" and "opposite sign" in r.reason
    assert r.effect_size < 0 and r.p_superiority == 0.0


def test_negative_effect_reproduces_less_claim():
    r = verdict.evaluate_claim(two_arm("less"), samples_from([-d for d in POSITIVE]), **FAST)
    assert r.verdict == "reproduced"


def test_effect_sign_follows_contrast_weights():
    # same data, arms listed as (b: -1, a: +1): g must still be a minus b
    claim = Claim(id="c", statement="", metric="acc", contrast=(("b", -1.0), ("a", 1.0)),
                  direction="greater")
    r = verdict.evaluate_claim(claim, samples_from(POSITIVE), **FAST)
    assert r.effect_size > 0 and r.estimate > 0


def test_noise_is_inconclusive():
    r = verdict.evaluate_claim(two_arm(), samples_from(NOISE), **FAST)
    assert r.verdict == "inconclusive"
    assert r.primary.p_value > 0.5
    assert r.p_superiority == 0.5


def test_non_finite_seeds_are_excluded_and_counted():
    s = samples_from(POSITIVE)
    s["a"][3] = math.nan
    s["b"][5] = math.inf
    s["b"][6] = math.nan
    r = verdict.evaluate_claim(two_arm(), s, **FAST)
    assert r.n_pairs == 5
    assert r.n_excluded == (("a", 1), ("b", 2))
    kept = [d for i, d in enumerate(POSITIVE) if i not in (3, 5, 6)]
    assert r.estimate == pytest.approx(np.mean(kept))
    summary = {a.arm: a for a in r.arm_summary}
    assert (summary["a"].n_finite, summary["a"].n_nonfinite) == (7, 1)
    assert (summary["b"].n_finite, summary["b"].n_nonfinite) == (6, 2)
    finite_b = [v for k, v in s["b"].items() if k not in (5, 6)]
    assert summary["b"].mean == pytest.approx(np.mean(finite_b))
    assert summary["b"].sd == pytest.approx(np.std(finite_b, ddof=1))
    assert r.unpaired[0].n == 7 + 6   # unpaired tests use every finite value


def test_missing_seed_counts_as_excluded():
    s = samples_from(POSITIVE)
    del s["a"][0]
    r = verdict.evaluate_claim(two_arm(), s, **FAST)
    assert r.n_pairs == 7 and dict(r.n_excluded) == {"a": 1, "b": 0}


def test_one_paired_seed_is_inconclusive():
    s = {"a": {0: 0.9, 1: math.nan}, "b": {0: 0.5, 1: 0.4}}
    r = verdict.evaluate_claim(two_arm(), s, **FAST)
    assert r.verdict == "inconclusive"
    assert r.reason == "only 1 paired seed with finite values"
    assert math.isnan(r.primary.p_value)


def test_constant_contrast_is_decided_by_its_exact_sign_flip_p():
    # The same +0.1 on every seed: t is undefined, the exact sign-flip p is 2 / 2**n.
    five = verdict.evaluate_claim(two_arm(), samples_from([0.1] * 5), **FAST)
    assert five.primary.name == "sign_flip_exact" and five.primary.p_value == pytest.approx(2 / 32)
    assert five.verdict == "inconclusive" and five.permutation.p_value == pytest.approx(2 / 32)
    ten = verdict.evaluate_claim(two_arm(), samples_from([0.1] * 10), **FAST)
    assert ten.primary.p_value == pytest.approx(2 / 1024) and ten.verdict == "reproduced"
    assert ten.ci_low == ten.ci_high == pytest.approx(0.1)
    assert verdict.evaluate_claim(two_arm("less"), samples_from([0.1] * 10), **FAST).verdict == "contradicted"
    zero = verdict.evaluate_claim(two_arm(), samples_from([0.0] * 10), **FAST)
    assert zero.verdict == "inconclusive" and "exactly 0" in zero.reason


def test_interaction_uses_paired_standardized_contrast():
    claim = Claim(id="x", statement="dropout and L2 together hurt", metric="acc",
                  contrast=(("both", 1.0), ("drop", -1.0), ("l2", -1.0), ("none", 1.0)),
                  direction="less", kind="interaction")
    diffs = [-0.05, -0.04, -0.06, -0.05, -0.03]
    s = {"drop": {i: 0.8 for i in range(5)}, "l2": {i: 0.8 for i in range(5)},
         "none": {i: 0.8 for i in range(5)}, "both": {i: 0.8 + d for i, d in enumerate(diffs)}}
    r = verdict.evaluate_claim(claim, s, **FAST)
    j = 1 - 3 / (4 * 4 - 1)
    assert r.effect_name == "hedges_gz"
    assert r.effect_size == pytest.approx(j * np.mean(diffs) / np.std(diffs, ddof=1))
    assert r.unpaired == ()
    assert r.verdict == "reproduced"


def test_holm_turns_borderline_result_inconclusive():
    diffs = [1.0, 2.0, 3.0, 4.0, 0.5]          # paired t p = 0.0305
    border = verdict.evaluate_claim(two_arm(cid="border"), samples_from(diffs), **FAST)
    other = verdict.evaluate_claim(two_arm(cid="other"), samples_from(NOISE), **FAST)
    assert border.verdict == "reproduced"
    adjusted = verdict.adjust([border, other])
    assert adjusted[0].claim_id == "border"
    assert adjusted[0].p_holm == pytest.approx(2 * border.primary.p_value)
    assert adjusted[0].verdict == "inconclusive"
    assert adjusted[0].reason.startswith("Holm-adjusted p = 0.061")
    alone = verdict.adjust([border])[0]
    assert alone.verdict == "reproduced" and alone.p_holm == border.primary.p_value


def test_adjust_keeps_nan_out_of_family():
    good = verdict.evaluate_claim(two_arm(cid="g"), samples_from(POSITIVE), **FAST)
    flat = verdict.evaluate_claim(two_arm(cid="f"), {"a": {0: 0.9}, "b": {0: 0.5}}, **FAST)
    out = verdict.adjust([flat, good])
    assert math.isnan(out[0].p_holm) and out[0].verdict == "inconclusive"
    assert out[1].p_holm == good.primary.p_value      # family size 1


def test_agreement_cases():
    r = verdict.evaluate_claim(two_arm(), samples_from(POSITIVE), **FAST)
    rep, con = r, replace(r, verdict="contradicted")
    inc = replace(r, verdict="inconclusive")
    # identical per-seed contrasts are equivalent by construction, whatever the verdicts or margin
    for x, y in ((rep, rep), (inc, inc), (rep, con), (replace(rep, agreement_margin=None), rep)):
        found = verdict.agreement_test(x, y)
        assert found.outcome == "equivalent" and "by construction" in found.note
    with pytest.raises(ValueError):
        verdict.agreement(rep, replace(r, claim_id="other"))


def test_agreement_is_an_equivalence_question():
    rng = np.random.default_rng(0)
    close = [0.10 + e for e in rng.normal(0, 0.01, 20)]
    near = [c + 0.003 + e for c, e in zip(close, rng.normal(0.0, 0.002, 20))]
    far = [c + 0.05 + e for c, e in zip(close, rng.normal(0, 0.01, 20))]
    claim = replace(two_arm(), agreement_margin=0.01)
    a, b, c = (verdict.evaluate_claim(claim, samples_from(x), **FAST) for x in (close, near, far))
    found = verdict.agreement_test(a, b)
    # The 0.003 gap is significant, but shown inside the margin: equivalent, not "different".
    assert found.difference_test.p_value < 0.05 and found.tost.p_value < 0.05
    assert found.paired and found.outcome == "equivalent" and found.margin_source == "declared"
    far_found = verdict.agreement_test(a, c)
    assert far_found.outcome == "different" and far_found.beyond.p_value < 0.05
    few = verdict.evaluate_claim(claim, samples_from(close[:2]), **FAST)
    assert verdict.agreement(few, few) in verdict.AGREEMENTS
    assert verdict.agreement_test(replace(a, agreement_margin=1e-6), b).outcome == "different"
    assert verdict.agreement_test(replace(a, agreement_margin=0.0031), b).outcome == "undetermined"
    # No margin declared and none derivable: undetermined, never estimated from these seeds.
    none = verdict.agreement_test(replace(a, agreement_margin=None), b)
    assert none.outcome == "undetermined" and "no agreement margin" in none.note


def test_agreement_margin_defaults():
    declared = replace(two_arm(), agreement_margin=0.02, min_effect=0.05)
    assert verdict.agreement_margin(declared) == 0.02
    assert verdict.agreement_margin(replace(declared, agreement_margin=None)) == 0.05
    post = replace(two_arm(), reported=(("a", 0.97), ("b", 0.95)))
    assert verdict.agreement_margin(post) == pytest.approx(verdict.MIN_EFFECT_FRACTION * 0.02)
    assert verdict.agreement_source(post).startswith("min effect: 0.5 x the post's")
    assert verdict.agreement_margin(two_arm()) is None


def test_constant_agreement_gap_is_decided_by_sign_flips():
    base = verdict.evaluate_claim(replace(two_arm(), agreement_margin=0.01), samples_from(POSITIVE), **FAST)
    shifted = replace(base, contrast=tuple((s, v + 0.004) for s, v in base.contrast))
    assert verdict.agreement(base, shifted) == "equivalent"    # 8 seeds: 1 / 256 < 0.05
    jumped = replace(base, contrast=tuple((s, v + 0.04) for s, v in base.contrast))
    assert verdict.agreement(base, jumped) == "different"


def test_smaller_than_claimed():
    # Significant in the claimed direction but far below the post's effect of 0.2.
    claim = replace(two_arm(), reported=(("a", 0.9), ("b", 0.7)))
    small = [0.010, 0.012, 0.011, 0.009, 0.010, 0.011, 0.012, 0.010]
    r = verdict.evaluate_claim(claim, samples_from(small), **FAST)
    assert r.min_effect == pytest.approx(0.1) and "post" in r.min_effect_source
    assert r.verdict == "smaller than claimed" and "smallest effect that matters" in r.reason
    assert verdict.evaluate_claim(claim, samples_from(POSITIVE), **FAST).verdict == "reproduced"
    declared = replace(two_arm(), min_effect=0.2)
    assert verdict.evaluate_claim(declared, samples_from(POSITIVE), **FAST).verdict == "smaller than claimed"
    # "less" claims read the CI's upper side mirrored.
    less = replace(two_arm("less"), min_effect=0.2)
    assert verdict.evaluate_claim(less, samples_from([-x for x in POSITIVE]), **FAST).verdict == \
        "smaller than claimed"
    assert verdict.evaluate_claim(replace(less, min_effect=0.05), samples_from([-x for x in POSITIVE]),
                                  **FAST).verdict == "reproduced"


def test_holm_family_per_case():
    strong = verdict.evaluate_claim(two_arm(cid="s"), samples_from(POSITIVE), **FAST)
    border = verdict.evaluate_claim(two_arm(cid="b"), samples_from([1.0, 2.0, 3.0, 4.0, 0.5]), **FAST)
    alone = verdict.adjust([border], families=["c9"])[0]
    mixed = verdict.adjust([border, strong, strong, strong], families=["c9", "c1", "c1", "c1"])
    assert alone.verdict == mixed[0].verdict == "reproduced" and mixed[0].family_size == 1
    assert mixed[0].p_holm == alone.p_holm and mixed[1].family == "c1" and mixed[1].family_size == 3
    # BH runs over every result given: a suite-level figure.
    assert mixed[0].q_bh == pytest.approx(st.false_discovery_control(
        [border.primary.p_value] + [strong.primary.p_value] * 3)[0])
    assert verdict.adjust([border, strong], families=None)[0].family_size == 2


def test_a_claim_without_a_p_value_does_not_count_towards_its_family():
    # Holm over the claims that can be tested: one that cannot be rejected must not make the others pay
    strong = verdict.evaluate_claim(two_arm(cid="s"), samples_from(POSITIVE), **FAST)
    border = verdict.evaluate_claim(two_arm(cid="b"), samples_from([1.0, 2.0, 3.0, 4.0, 0.5]), **FAST)
    untested = replace(strong, primary=replace(strong.primary, p_value=math.nan))
    with_it = verdict.adjust([border, strong, untested], families=["c9"] * 3)
    without = verdict.adjust([border, strong], families=["c9"] * 2)
    assert [r.family_size for r in with_it] == [2, 2, 2]
    assert [r.p_holm for r in with_it[:2]] == [r.p_holm for r in without]
    assert math.isnan(with_it[2].p_holm) and with_it[2].verdict == "inconclusive"


def test_diverged_seeds_ranked_worst_with_exclusion_beside():
    s = samples_from(POSITIVE)
    for seed in (0, 1, 2):
        s["a"][seed] = math.nan              # the arm claimed better diverged on 3 seeds
    r = verdict.evaluate_claim(two_arm(), s, higher_is_better=True, **FAST)
    assert r.primary.name == "wilcoxon_all_seeds" and r.n_diverged == 3 and r.primary.statistic < 20
    assert r.sensitivity.name == "paired_t" and r.sensitivity.p_value < 0.05
    assert r.verdict != "reproduced"         # the survivors alone would have reproduced it
    old = verdict.evaluate_claim(two_arm(), s, **FAST)
    assert old.primary.name == "paired_t" and old.verdict == "reproduced"
    # Diverging in the arm claimed worse only strengthens the claim.
    t = samples_from(POSITIVE)
    t["b"][0] = math.inf
    assert verdict.evaluate_claim(two_arm(), t, higher_is_better=True, **FAST).verdict == "reproduced"


def test_to_dict_is_strict_json():
    s = samples_from(POSITIVE)
    s["a"][2] = math.nan
    r = verdict.adjust([verdict.evaluate_claim(two_arm(), s, **FAST)])[0]
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert d["n_excluded"] == {"a": 1, "b": 0}
    assert d["primary"]["name"] == "paired_t" and d["verdict"] == "reproduced"
    one = verdict.evaluate_claim(two_arm(), {"a": {0: 1.0}, "b": {0: 0.0}}, **FAST)
    assert json.loads(json.dumps(one.to_dict(), allow_nan=False))["primary"]["p_value"] is None


def test_bootstrap_seed_is_reproducible():
    first = verdict.evaluate_claim(two_arm(), samples_from(POSITIVE), random_state=7, **FAST)
    again = verdict.evaluate_claim(two_arm(), samples_from(POSITIVE), random_state=7, **FAST)
    assert (first.ci_low, first.ci_high) == (again.ci_low, again.ci_high)


def test_bad_claims_raise_spec_error():
    with pytest.raises(SpecError, match="arms"):
        verdict.evaluate_claim(two_arm(), {"a": {0: 1.0}}, **FAST)
    same_sign = Claim(id="s", statement="", metric="acc", contrast=(("a", 1.0), ("b", 1.0)),
                      direction="greater")
    with pytest.raises(SpecError, match="opposite sign"):
        verdict.evaluate_claim(same_sign, samples_from(POSITIVE), **FAST)


def test_constants():
    assert verdict.VERDICTS == ("reproduced", "smaller than claimed", "contradicted", "inconclusive")
    assert verdict.AGREEMENTS == ("equivalent", "different", "undetermined")
    assert verdict.ALPHA == 0.05


def test_failed_seeds_never_enter_a_claims_samples():
    from bench.spec import registry
    from bench.analysis import evaluate as analysis

    c1 = registry.get("c1")
    ok = {"case": "c1", "framework": "torch", "mode": "as_written", "status": "ok", "diverged": False}
    records = [{**ok, "arm": "both", "seed": 0, "metrics": {"test_accuracy": 0.9}},
               {**ok, "arm": "both", "seed": 1, "status": "failed", "error": "RuntimeError: boom",
                "metrics": {"test_accuracy": 0.1}}]
    assert analysis.samples_for(records, c1, "torch", "as_written", "test_accuracy") == {"both": {0: 0.9}}


# --- verdicts that cannot contradict each other ---------------------------------------------------

def _accuracies(k, shift, n_test=10_000):
    """Two arms of accuracies k / n_test, arm a exactly ``shift`` images ahead on every seed."""
    return {"a": {i: (int(v) + shift) / n_test for i, v in enumerate(k)},
            "b": {i: int(v) / n_test for i, v in enumerate(k)}}


def test_a_contrast_constant_up_to_rounding_is_decided_by_its_sign_flip_p():
    """Arm a exactly 14 images better on 5 seeds: the float differences disagree in the 16th
    digit, which must not hand them to a t-test with an SD of 1e-16 (p ~ 1e-54)."""
    rng = np.random.default_rng(1)
    found = set()
    for _ in range(20):
        k = rng.integers(8000, 9800, 5)
        s = _accuracies(k, 14)
        found.add(len({s["a"][i] - s["b"][i] for i in range(5)}))
        r = verdict.evaluate_claim(two_arm(), s, **FAST)
        assert r.primary.name == "sign_flip_exact" and r.primary.p_value == pytest.approx(2 / 2 ** 5)
        assert r.verdict == "inconclusive" and r.ci_low == r.ci_high == pytest.approx(0.0014)
    assert max(found) > 1   # the draws do differ by rounding: the rule, not luck, decides
    # A genuine spread of one image on one seed is not constant.
    s = _accuracies([9000] * 5, 14)
    s["a"][0] += 1 / 10_000
    assert verdict.evaluate_claim(two_arm(), s, **FAST).primary.name == "paired_t"


def test_the_constant_rule_follows_scale_and_resolution():
    from bench.stats import significance as stats
    x = np.array([0.9014, 0.9231, 0.8862]) - np.array([0.9, 0.9217, 0.8848])
    assert len(set(x)) > 1 and stats.is_constant(x, scale=2.0) and not stats.is_constant(x + [0, 0, 1e-7])
    # float32 resolution (6e-8 relative) is a measurement, never rounding
    assert not stats.is_constant(np.float32(0.9) + np.array([0.0, 6e-8]) * 0.9, scale=0.9)
    # a declared resolution: values closer than half a step are one value
    assert stats.is_constant([0.50, 0.50004], resolution=1e-4) and not stats.is_constant([0.5, 0.5001], resolution=1e-4)
    assert list(stats.snap_constant(x, scale=2.0)) == [pytest.approx(0.0014)] * 3
    assert list(stats.snap_constant(np.array([1e-17, -1e-17]), scale=1.0)) == [0.0, 0.0]


def test_non_inferiority_exactly_at_the_margin_is_not_shown():
    """A contrast of exactly -margin on every seed is neither non-inferior nor inferior."""
    ni = Claim(id="ni", statement="", metric="acc", contrast=(("a", 1.0), ("b", -1.0)), direction="greater",
               kind="noninferiority", margin=0.005)
    rng = np.random.default_rng(0)
    for n in (6, 8):
        for _ in range(10):
            r = verdict.evaluate_claim(ni, _accuracies(rng.integers(8500, 9500, n), -50), **FAST)
            assert r.verdict == "inconclusive" and r.primary.p_value == 1.0, r.reason


def test_equivalence_always_implies_non_inferiority_on_the_same_data():
    """One level for both: the 95 % CI inside +-margin implies it lies above -margin."""
    margin = 0.5
    eq = Claim(id="e", statement="", metric="m", contrast=(("a", 1.0), ("b", -1.0)), direction="greater",
               kind="equivalence", margin=margin)
    ni = replace(eq, id="n", kind="noninferiority")
    rng = np.random.default_rng(4)
    pairs = []
    for _ in range(300):
        n = int(rng.integers(5, 12))
        d = rng.normal(rng.uniform(-0.4, 0.1), rng.uniform(0.2, 0.6), n)
        s = {"a": dict(enumerate(d + 1.0)), "b": dict(enumerate(np.ones(n)))}
        pairs.append((verdict.evaluate_claim(eq, s, **FAST), verdict.evaluate_claim(ni, s, **FAST)))
    shown = [(e, f) for e, f in pairs if e.verdict == "reproduced"]
    assert len(shown) > 20
    assert all(f.verdict == "reproduced" for _, f in shown), [f.reason for _, f in shown if f.verdict != "reproduced"]
    for e, f in pairs:
        assert (e.ci_low, e.ci_high) == (f.ci_low, f.ci_high) and e.ci_level == f.ci_level == 0.95
        assert (e.verdict == "reproduced") == (-margin < e.ci_low and e.ci_high < margin)
        assert (f.verdict == "reproduced") == (f.ci_low > -margin)


def test_the_interval_shown_is_the_one_holm_decides_by():
    rng = np.random.default_rng(5)
    claims = [two_arm(cid=f"c{i}") for i in range(4)]
    for _ in range(40):
        results = [verdict.evaluate_claim(c, samples_from(rng.normal(eff, 0.05, 8)), **FAST)
                   for c, eff in zip(claims, rng.uniform(0.0, 0.08, 4))]
        for r in verdict.adjust(results):
            assert (r.p_holm < 0.05) == (r.ci_low > 0 or r.ci_high < 0), (r.p_holm, r.ci_low, r.ci_high)
            assert r.ci_level == pytest.approx(1 - r.alpha_applied)
            d = np.array([v for _, v in r.contrast])
            half = st.t.ppf(1 - r.alpha_applied / 2, 7) * d.std(ddof=1) / math.sqrt(8)
            assert (r.ci_low, r.ci_high) == pytest.approx((d.mean() - half, d.mean() + half))


def test_smaller_than_claimed_when_the_interval_lies_below_the_smallest_effect_that_matters():
    """A CI wholly below min_effect says the claimed effect is absent, whether or not it
    overlaps 0; the verdict never weakens as the true effect shrinks."""
    c = replace(two_arm(), min_effect=0.2)
    near_zero = verdict.evaluate_claim(c, samples_from(NOISE), **FAST)
    assert near_zero.ci_low < 0 < near_zero.ci_high < 0.2
    assert near_zero.verdict == "smaller than claimed" and "whatever the sign" in near_zero.reason
    small = verdict.evaluate_claim(c, samples_from(POSITIVE), **FAST)
    assert 0 < small.ci_low and small.ci_high < 0.2 and small.verdict == "smaller than claimed"
    big = verdict.evaluate_claim(c, samples_from([d * 3 for d in POSITIVE]), **FAST)
    assert big.verdict == "reproduced"
    # An interval that reaches min_effect but overlaps 0 stays inconclusive; a significant
    # opposite sign is contradicted, whatever min_effect says.
    wide = verdict.evaluate_claim(c, samples_from([0.3, -0.25, 0.2, -0.1, 0.25, -0.2, 0.1, -0.15]), **FAST)
    assert wide.verdict == "inconclusive"
    assert verdict.evaluate_claim(c, samples_from([-d for d in POSITIVE]), **FAST).verdict == "contradicted"


def test_a_claim_whose_other_arm_diverged_everywhere_keeps_its_rank_result():
    n = 8
    s = {"a": {i: 0.9 + 0.001 * i for i in range(n)}, "b": {i: math.nan for i in range(n)}}
    r = verdict.evaluate_claim(two_arm(), s, higher_is_better=True, **FAST)
    assert r.primary.name == "wilcoxon_all_seeds" and r.primary.p_value == pytest.approx(2 / 2 ** n)
    assert r.n_pairs == 0 and r.verdict == "reproduced", r.reason


def test_the_printed_mde_is_the_rank_tests_when_a_seed_diverged():
    from bench.stats.kinds import common
    rng = np.random.default_rng(3)
    for n, decidable in ((5, False), (8, True), (10, True)):
        b = dict(enumerate(rng.normal(0.9, 0.01, n)))
        a = {i: b[i] + rng.normal(0.01, 0.005) for i in range(n)}
        b[0] = math.nan   # the other arm diverged once: a seed for the claim
        r = verdict.evaluate_claim(two_arm(), {"a": a, "b": b}, higher_is_better=True, **FAST)
        assert r.primary.name == "wilcoxon_all_seeds" and "Wilcoxon" in r.power.method
        if not decidable:
            assert r.power.mde == math.inf and "not decidable at this n" in r.power.note
            continue
        # At the printed MDE, SciPy's own Wilcoxon over all seeds (the survivors drawn at the
        # MDE with the observed SD, the diverged seed ranked worst) rejects about 80 % of the time.
        sd = np.std([v for _, v in r.contrast], ddof=1)
        draws = r.power.mde + sd * np.random.default_rng(n).standard_normal((600, n - 1))
        hits = [st.wilcoxon(common.ranked(np.r_[math.inf, row])).pvalue < 0.05 for row in draws]
        assert abs(np.mean(hits) - 0.8) < 0.06, (n, np.mean(hits))
    # One diverged seed against the claim at n = 6: even a huge effect cannot reach 0.05.
    b = dict(enumerate(np.full(6, 0.5)))
    a = {i: 0.6 + 0.001 * i for i in range(6)}
    a[0] = math.nan
    r = verdict.evaluate_claim(two_arm(), {"a": a, "b": b}, higher_is_better=True, **FAST)
    assert r.power.mde == math.inf and "not decidable" in r.power.note


def test_only_a_non_finite_value_counts_as_diverged():
    """A finite value 1000 SD out is a measurement: it stays in the paired analysis."""
    rng = np.random.default_rng(2)
    d = list(rng.normal(0.05, 0.01, 10))
    d[3] = -10.0   # -1000 SD
    r = verdict.evaluate_claim(two_arm(), samples_from(d), higher_is_better=True, **FAST)
    assert r.n_diverged == 0 and r.n_pairs == 10 and r.primary.name == "paired_t"
    assert r.robustness.p_value < r.primary.p_value   # the ranks see the nine other seeds
    d[3] = math.nan
    s = samples_from(d)
    r = verdict.evaluate_claim(two_arm(), s, higher_is_better=True, **FAST)
    assert r.n_diverged == 1 and r.primary.name == "wilcoxon_all_seeds"


def test_a_skewed_metric_carries_its_caveat():
    s = samples_from(POSITIVE)
    assert verdict.evaluate_claim(replace(two_arm(), metric="grad_norm_first"), s, **FAST).caveat
    assert verdict.evaluate_claim(replace(two_arm(), metric="min_val_mae"), s, **FAST).caveat
    assert not verdict.evaluate_claim(two_arm(), s, **FAST).caveat


# --- trend claims -----------------------------------------------------------------------------------

ORDER = ("r0", "r1", "r2", "r3", "r4")


def _trend(**kw):
    return Claim(id="t", statement="", metric="acc", contrast=tuple((a, 1.0) for a in ORDER), direction="greater",
                 kind="trend", **kw)


def _table_samples(table):
    return {arm: dict(enumerate(table[:, j])) for j, arm in enumerate(ORDER)}


def test_a_trend_shows_the_height_its_test_decides_on():
    rng = np.random.default_rng(8)
    shapes = (np.array([0.0, 0.004, 0.006, 0.003, -0.002]), np.array([0.0, 0.01, 0.02, 0.03, 0.04]),
              np.array([0.0, 0.02, 0.015, 0.01, 0.012]))
    for _ in range(30):
        curve = shapes[rng.integers(3)]
        table = rng.normal(0.9, 0.01, (8, 1)) + curve + rng.normal(0, 0.004, (8, 5))
        r = verdict.evaluate_claim(_trend(), _table_samples(table), **FAST)
        j, end = ORDER.index(r.peak), ORDER.index(r.peak_end)
        legs = [table[:, j] - table[:, e] for e in (0, 4)]
        assert r.estimate == pytest.approx(min(x.mean() for x in legs) if r.primary.statistic >= 0 else
                                           max(x.mean() for x in legs))
        assert r.estimate == pytest.approx(np.mean(table[:, j] - table[:, end]))
        assert r.ci_level == pytest.approx(1 - 0.05 / 3)
        # decided by its interval: reproduced exactly when the height's CI lies above 0
        assert (r.verdict == "reproduced") == (r.ci_low > 0), (r.verdict, r.ci_low, r.primary.p_value)


def test_a_trends_smallest_effect_is_the_posts_peak_height_not_a_sum_of_arms():
    flat = _trend(reported=tuple((a, "0.97") for a in ORDER))
    assert verdict.min_effect(flat) == (None, "")        # no peak in the post: no size check
    peaked = _trend(reported=(("r0", "0.95"), ("r1", "0.97"), ("r2", "0.98"), ("r3", "0.96"), ("r4", "0.94")))
    assert verdict.min_effect(peaked)[0] == pytest.approx(0.5 * 0.03)
    assert verdict.agreement_margin(peaked) == pytest.approx(0.015)


def test_trend_agreement_compares_like_with_like_when_the_peaks_differ():
    """TF peaks at r1, PyTorch at r3, each by the same height: their own-peak contrasts agree,
    but the curves do not; at each other's peak they differ by far more than the margin."""
    rng = np.random.default_rng(9)
    noise = rng.normal(0, 0.002, (10, 5))
    base = rng.normal(0.9, 0.01, (10, 1))
    tf = base + np.array([0.0, 0.03, 0.0, -0.01, 0.0]) + noise
    pt = base + np.array([0.0, -0.01, 0.0, 0.03, 0.0]) + noise
    c = _trend(agreement_margin=0.01)
    a, b = (verdict.evaluate_claim(c, _table_samples(t), **FAST) for t in (tf, pt))
    assert (a.peak, b.peak) == ("r1", "r3")
    found = verdict.agreement_test(a, b)
    assert found.outcome == "different" and "peaks differ" in found.note
    same = verdict.agreement_test(a, verdict.evaluate_claim(c, _table_samples(tf + 1e-4 * noise), **FAST))
    assert same.outcome == "equivalent"
