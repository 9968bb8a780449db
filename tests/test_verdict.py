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
