"""Per-kind analyses through bench.analysis.verdict: unpaired fallback, binary, equivalence, trend, bad input."""
import math

import numpy as np
import pytest
from scipy import stats as st

from bench.stats import equivalence, proportions, trend
from bench.analysis import verdict
from bench.errors import SpecError
from bench.spec import Claim

FAST = {"n_resamples": 200}


def claim(kind, arms=("a", "b"), weights=(1.0, -1.0), direction="greater", **kw):
    return Claim(id=kind, statement="", metric="m", contrast=tuple(zip(arms, weights)),
                 direction=direction, kind=kind, **kw)


def test_two_arm_reports_permutation_and_flags_disagreement():
    diffs = [0.1, 0.12, 0.09, 0.11]      # t significant; exact permutation p >= 2/16
    s = {"a": {i: 0.5 + d for i, d in enumerate(diffs)}, "b": {i: 0.5 for i in range(4)}}
    r = verdict.evaluate_claim(claim("two_arm"), s, **FAST)
    assert r.permutation.name == "permutation" and r.permutation.p_value == pytest.approx(2 / 16)
    assert r.primary.p_value < 0.05 and "permutation p = 0.125" in r.robust_note
    assert r.power.mde > 0 and r.power.n == 4


def test_unpaired_fallback_when_seeds_do_not_overlap():
    s = {"a": {0: 0.9, 1: 0.91, 2: 0.92, 3: math.nan}, "b": {3: 0.5, 4: 0.52, 5: 0.51}}
    r = verdict.evaluate_claim(claim("two_arm"), s, **FAST)
    assert not r.paired and r.n_pairs == 0
    assert r.primary.name == "welch_t" and r.robustness.name == "mann_whitney"
    assert r.primary.p_value == pytest.approx(st.ttest_ind([0.9, 0.91, 0.92], [0.5, 0.52, 0.51],
                                                           equal_var=False).pvalue)
    assert r.verdict == "reproduced" and r.estimate == pytest.approx(0.91 - 0.51)


def test_binary_uses_mcnemar_on_seed_pairs_boschloo_wilson():
    plain = {i: 1.0 for i in range(8)}
    bn = {i: 0.0 for i in range(8)}
    r = verdict.evaluate_claim(claim("binary", ("plain", "bn")), {"plain": plain, "bn": bn}, **FAST)
    # The seeds are paired by design, so the conditional (McNemar) test is primary.
    assert r.primary.name == "mcnemar_exact" and r.primary.p_value == pytest.approx(2 / 2 ** 8) and r.paired
    table = [[8, 0], [0, 8]]
    assert r.robustness.name == "boschloo" and r.robustness.p_value == pytest.approx(st.boschloo_exact(table).pvalue)
    assert r.power.method.startswith("exact McNemar")
    # Without paired seeds Boschloo is primary.
    apart = {"plain": {i: 1.0 for i in range(4)}, "bn": {i: 0.0 for i in range(4, 8)}}
    u = verdict.evaluate_claim(claim("binary", ("plain", "bn")), apart, **FAST)
    assert u.primary.name == "boschloo" and not u.paired
    assert r.estimate == 1.0 and r.ci_high == 1.0 and 0.5 < r.ci_low < 1.0
    (arm, rate, low, high), _ = r.rates
    assert (arm, rate, high) == ("plain", 1.0, 1.0) and low == pytest.approx(
        proportions.wilson([1] * 8).low)
    assert r.verdict == "reproduced" and r.effect_name == "cohens_h"
    assert r.effect_size == pytest.approx(math.pi)


def test_binary_degenerate_and_bad_values():
    same = {"a": {0: 0.0, 1: 0.0}, "b": {0: 0.0, 1: 0.0}}
    r = verdict.evaluate_claim(claim("binary"), same, **FAST)
    assert r.primary.p_value == 1.0 and r.verdict == "inconclusive"
    with pytest.raises(SpecError, match="0/1"):
        verdict.evaluate_claim(claim("binary"), {"a": {0: 0.3}, "b": {0: 1.0}}, **FAST)


def test_wilson_and_clopper_pearson_by_hand():
    w = proportions.wilson([1, 0, 0, 0])
    z = st.norm.ppf(0.975)
    centre = (0.25 + z * z / 8) / (1 + z * z / 4)
    assert (w.low + w.high) / 2 == pytest.approx(centre)
    cp = proportions.clopper_pearson([0] * 10)
    assert cp.low == 0.0 and cp.high == pytest.approx(1 - 0.025 ** (1 / 10))
    assert math.isnan(proportions.wilson([]).estimate)


def test_equivalence_needs_tost_not_nonsignificance():
    eq = claim("equivalence", margin=0.05)
    rng = np.random.default_rng(0)
    tight = {"a": {i: 0.9 + e for i, e in enumerate(rng.normal(0, 0.005, 12))},
             "b": {i: 0.9 for i in range(12)}}
    r = verdict.evaluate_claim(eq, tight, **FAST)
    assert r.primary.name == "tost" and r.verdict == "reproduced" and "equivalent" in r.reason
    # The CI shown is the 95 % t CI (each one-sided test at alpha / 2, as non-inferiority),
    # inside the margin exactly when TOST succeeds.
    d = np.array([v - 0.9 for v in tight["a"].values()])
    half = st.t.ppf(0.975, 11) * d.std(ddof=1) / math.sqrt(12)
    assert r.ci_label == "95% t" and (r.ci_low, r.ci_high) == pytest.approx((d.mean() - half, d.mean() + half))
    noisy = {"a": {0: 0.9, 1: 0.7, 2: 1.1}, "b": {0: 0.9, 1: 0.9, 2: 0.9}}
    r = verdict.evaluate_claim(eq, noisy, **FAST)
    assert r.robustness.p_value > 0.5                     # no significant difference...
    assert r.verdict == "inconclusive"                    # ...is not equivalence
    far = {"a": {i: 1.2 + 0.01 * i for i in range(6)}, "b": {i: 0.9 for i in range(6)}}
    r = verdict.evaluate_claim(eq, far, **FAST)
    assert r.primary.name == "beyond_margin" and r.verdict == "contradicted"


def test_noninferiority_reads_the_ci_against_the_margin():
    ni = claim("noninferiority", margin=0.01)
    base = {i: 0.90 for i in range(10)}
    rng = np.random.default_rng(2)
    # Slightly worse (-0.002) but well inside the margin: non-inferior, though not better.
    near = {"a": {i: 0.898 + e for i, e in enumerate(rng.normal(0, 0.002, 10))}, "b": base}
    r = verdict.evaluate_claim(ni, near, **FAST)
    assert r.primary.name == "noninferior" and r.verdict == "reproduced" and r.estimate < 0
    assert r.ci_label == "95% t" and r.ci_low > -0.01    # the CI the test inverts
    # Worse by 0.03, three margins: contradicted.
    far = {"a": {i: 0.87 + e for i, e in enumerate(rng.normal(0, 0.002, 10))}, "b": base}
    r = verdict.evaluate_claim(ni, far, **FAST)
    assert r.primary.name == "inferior" and r.verdict == "contradicted"
    # Right at the margin with noise: neither.
    edge = {"a": {i: 0.89 + e for i, e in enumerate(rng.normal(0, 0.01, 10))}, "b": base}
    assert verdict.evaluate_claim(ni, edge, **FAST).verdict == "inconclusive"
    # "less": the claimed direction is down; a contrast of +0.002 is within the margin.
    lower = claim("noninferiority", margin=0.01, direction="less")
    up = {"a": {i: 0.902 + e for i, e in enumerate(rng.normal(0, 0.002, 10))}, "b": base}
    assert verdict.evaluate_claim(lower, up, **FAST).verdict == "reproduced"


def test_noninferiority_p_by_hand():
    d = np.array([-0.004, 0.001, -0.002, 0.0, -0.003])
    better, worse = equivalence.noninferiority_paired(d, 0.01)
    one_sided = st.ttest_1samp(d, -0.01, alternative="greater").pvalue
    assert better.p_value == pytest.approx(2 * one_sided)
    assert worse.p_value == pytest.approx(min(1.0, 2 * (1 - one_sided)))
    with pytest.raises(ValueError, match="margin"):
        equivalence.noninferiority_paired(d, 0.0)


def test_equivalence_without_margin_is_a_spec_error():
    with pytest.raises(SpecError, match="margin"):
        verdict.evaluate_claim(claim("equivalence"), {"a": {0: 1.0}, "b": {0: 1.0}}, **FAST)


def test_trend_finds_an_interior_peak():
    rng = np.random.default_rng(1)
    means = [0.90, 0.95, 0.97, 0.93, 0.88]
    arms = ("r0", "r1", "r2", "r3", "r4")
    s = {arm: {i: m + e for i, e in enumerate(rng.normal(0, 0.005, 10))} for arm, m in zip(arms, means)}
    r = verdict.evaluate_claim(claim("trend", arms, (1.0,) * 5), s, **FAST)
    assert r.peak == "r2" and r.verdict == "reproduced" and r.estimate > 0
    u = verdict.evaluate_claim(claim("trend", arms, (1.0,) * 5, direction="less"), s, **FAST)
    assert u.verdict == "contradicted"


def test_trend_monotone_curve_is_not_a_peak():
    table = np.array([[0.80, 0.85, 0.90, 0.95]] * 6) + np.linspace(0, 0.01, 6)[:, None] * [1, -1, 1, -1]
    shape = trend.inverted_u(table)
    assert shape.test.p_value > 0.05


def test_trend_rising_curve_is_not_an_inverted_u():
    # The example: x2 > x1 on every seed by a constant 0.01 (a t leg with zero spread).
    rng = np.random.default_rng(17)
    x0 = 0.90 + rng.normal(0, 0.01, 8)
    x1 = x0 + 0.03 + rng.normal(0, 0.005, 8)
    x2 = x1 + 0.01
    for table in (np.column_stack([x0, x1, x2]), np.column_stack([x2, x1, x0])):
        for method in ("t", "wilcoxon"):
            assert trend.inverted_u(table, method).test.p_value > 0.5
    arms = ("r0", "r1", "r2")
    s = {arm: dict(enumerate(x)) for arm, x in zip(arms, (x0, x1, x2))}
    assert verdict.evaluate_claim(claim("trend", arms, (1.0,) * 3), s, **FAST).verdict == "inconclusive"
    # A real peak whose both legs are constant is decided by exact sign flips: 2 * 1/2**8.
    peak = np.column_stack([x0, x0 + 0.03, x0 + 0.01])
    assert trend.inverted_u(peak).test.p_value == pytest.approx(2 / 2 ** 8)


def test_trend_p_by_hand():
    # k = 3: one interior candidate; p = 2 * max(one-sided p of j - first, j - last)
    table = np.array([[0.0, 1.0, 0.5], [0.1, 1.2, 0.4], [0.0, 0.9, 0.6], [0.2, 1.1, 0.5]])
    p1 = st.ttest_1samp(table[:, 1] - table[:, 0], 0, alternative="greater").pvalue
    p2 = st.ttest_1samp(table[:, 1] - table[:, 2], 0, alternative="greater").pvalue
    assert trend.inverted_u(table).test.p_value == pytest.approx(2 * max(p1, p2))


@pytest.mark.parametrize("kind", ["two_arm", "interaction", "binary", "equivalence", "noninferiority", "trend"])
@pytest.mark.parametrize("values", [{}, {0: math.nan}, {0: 1.0}, {0: 1.0, 1: 1.0, 2: 1.0}])
def test_bad_input_is_defined_never_a_crash_or_silent_nan(kind, values):
    arms = {"two_arm": ("a", "b"), "binary": ("a", "b"), "equivalence": ("a", "b"), "noninferiority": ("a", "b"),
            "interaction": ("a", "b", "c", "d"), "trend": ("a", "b", "c")}[kind]
    weights = {"interaction": (1.0, -1.0, -1.0, 1.0), "trend": (1.0, 1.0, 1.0)}.get(kind, (1.0, -1.0))
    c = claim(kind, arms, weights, margin=0.1 if kind in ("equivalence", "noninferiority") else None)
    r = verdict.adjust([verdict.evaluate_claim(c, {arm: dict(values) for arm in arms}, **FAST)])[0]
    if kind == "equivalence" and len(values) == 3:
        # Identical arms on every seed: equivalent by construction.
        assert r.verdict == "reproduced" and "by construction" in r.reason
    else:
        assert r.verdict == "inconclusive" and r.reason
    r.to_dict()
