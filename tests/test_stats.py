"""bench.stats.significance on tiny inputs whose answers can be checked by hand."""
import math

import numpy as np
import pytest
from scipy import stats as st

from bench.stats import significance as stats


# --- paired tests ---------------------------------------------------------------

def test_paired_t_matches_hand_computation():
    # mean 2, sd 1, se 1/sqrt(3): t = 2 sqrt(3), df 2
    res = stats.paired_t([1.0, 2.0, 3.0])
    t = 2.0 * math.sqrt(3.0)
    assert res.statistic == pytest.approx(3.4641016, abs=1e-6)
    assert res.p_value == pytest.approx(2.0 * st.t.sf(t, df=2), rel=1e-12)
    assert res.n == 3 and res.note == ""


def test_paired_t_sign_follows_mean():
    assert stats.paired_t([-1.0, -2.0, -3.0]).statistic == pytest.approx(-3.4641016, abs=1e-6)


def test_wilcoxon_exact_all_positive():
    # n = 3, every sign positive: two-sided exact p = 2 * (1 / 2**3)
    res = stats.wilcoxon_signed_rank([1.0, 2.0, 3.0])
    assert res.statistic == 0.0
    assert res.p_value == pytest.approx(0.25)


def test_wilcoxon_drops_zero_differences():
    # zero dropped -> d = [1, -2, 3, 4], T- = 2; P(T <= 2) = 3/16 over 16 sign patterns
    res = stats.wilcoxon_signed_rank([1.0, -2.0, 3.0, 0.0, 4.0])
    assert res.statistic == 2.0
    assert res.p_value == pytest.approx(6 / 16)
    assert res.n == 5 and "1 zero" in res.note


@pytest.mark.parametrize("fn", [stats.paired_t, stats.wilcoxon_signed_rank])
def test_paired_fewer_than_two(fn):
    for d in ([], [0.7]):
        res = fn(d)
        assert math.isnan(res.p_value) and res.note == stats.FEW and res.n == len(d)


@pytest.mark.parametrize("fn", [stats.paired_t, stats.wilcoxon_signed_rank])
def test_paired_all_zero_gives_p_one(fn):
    res = fn([0.0, 0.0, 0.0, 0.0])
    assert res.p_value == 1.0 and res.statistic == 0.0 and res.note == stats.EQUAL


def test_zero_variance_nonzero_constant():
    t = stats.paired_t([2.0] * 5)
    assert math.isnan(t.p_value) and math.isnan(t.statistic) and t.note == stats.ZERO_VAR
    w = stats.wilcoxon_signed_rank([2.0] * 5)
    assert w.p_value == pytest.approx(2 / 32)


@pytest.mark.parametrize("fn", [stats.paired_t, stats.wilcoxon_signed_rank, stats.bootstrap_ci,
                                stats.hedges_gz, stats.paired_superiority])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_input_raises(fn, bad):
    with pytest.raises(ValueError, match="NaN or inf"):
        fn([1.0, bad, 2.0])


@pytest.mark.parametrize("fn", [stats.welch_t, stats.mann_whitney, stats.hedges_g,
                                stats.prob_superiority, stats.bootstrap_ci_diff])
def test_unpaired_non_finite_raises(fn):
    with pytest.raises(ValueError):
        fn([1.0, 2.0], [math.nan, 3.0])


def test_two_dimensional_input_raises():
    with pytest.raises(ValueError, match="one-dimensional"):
        stats.paired_t([[1.0, 2.0], [3.0, 4.0]])


# --- unpaired tests ---------------------------------------------------------------

A, B = [1.0, 2.0, 3.0], [4.0, 6.0, 8.0]   # means 2 and 6, variances 1 and 4


def test_welch_matches_hand_computation():
    res = stats.welch_t(A, B)
    se = math.sqrt(1 / 3 + 4 / 3)
    df = (5 / 3) ** 2 / ((1 / 3) ** 2 / 2 + (4 / 3) ** 2 / 2)   # = 50 / 17
    assert df == pytest.approx(50 / 17)
    assert res.statistic == pytest.approx(-4.0 / se)
    assert res.p_value == pytest.approx(2.0 * st.t.sf(4.0 / se, df), rel=1e-10)
    assert res.n == 6


def test_mann_whitney_exact_complete_separation():
    # U_a = 0; exact two-sided p = 2 / C(6, 3) = 0.1
    res = stats.mann_whitney(A, B)
    assert res.statistic == 0.0
    assert res.p_value == pytest.approx(0.1)


@pytest.mark.parametrize("fn", [stats.welch_t, stats.mann_whitney])
def test_unpaired_degenerate(fn):
    assert fn([1.0], [2.0, 3.0]).note == stats.FEW
    assert math.isnan(fn([1.0], [2.0, 3.0]).p_value)
    same = fn([5.0, 5.0], [5.0, 5.0, 5.0])
    assert same.p_value == 1.0 and same.note == stats.EQUAL


def test_welch_both_constant_but_different():
    res = stats.welch_t([1.0, 1.0], [2.0, 2.0])
    assert math.isnan(res.p_value) and res.note == stats.ZERO_VAR


# --- bootstrap ------------------------------------------------------------------

def test_bootstrap_two_values_spans_both():
    # resampled means of [0, 1] are 0, .5, 1 with prob 1/4, 1/2, 1/4
    ci = stats.bootstrap_ci([0.0, 1.0], n_resamples=2000, random_state=1)
    assert (ci.estimate, ci.low, ci.high) == (0.5, 0.0, 1.0)


def test_bootstrap_is_reproducible_and_covers_mean():
    rng = np.random.default_rng(0)
    v = rng.normal(1.0, 1.0, size=20)
    first = stats.bootstrap_ci(v, n_resamples=500, random_state=3)
    again = stats.bootstrap_ci(v, n_resamples=500, random_state=np.random.default_rng(3))
    assert first == again
    # a percentile interval always holds the mean; its width is what can be wrong: near the
    # normal-theory width 2 x 1.96 x sd / sqrt(n) (within a quarter) for 20 normal values
    expected = 2 * 1.96 * v.std(ddof=1) / np.sqrt(v.size)
    assert abs((first.high - first.low) / expected - 1) < 0.25
    assert abs((first.low + first.high) / 2 - v.mean()) < 0.25 * expected
    narrow = stats.bootstrap_ci(v, confidence=0.5, n_resamples=500, random_state=3)
    assert first.low < narrow.low < narrow.high < first.high


def test_bootstrap_degenerate():
    one = stats.bootstrap_ci([3.0], n_resamples=10)
    assert one.estimate == 3.0 and math.isnan(one.low) and one.note == stats.FEW
    const = stats.bootstrap_ci([2.0, 2.0, 2.0], n_resamples=10)
    assert (const.low, const.high, const.note) == (2.0, 2.0, stats.EQUAL)
    with pytest.raises(ValueError):
        stats.bootstrap_ci([1.0, 2.0], confidence=1.0)


def test_bootstrap_diff_resamples_each_arm():
    # b is constant, so the diff means are mean(a*) - 5 in {-5, -4.5, -4}
    ci = stats.bootstrap_ci_diff([0.0, 1.0], [5.0, 5.0], n_resamples=2000, random_state=0)
    assert (ci.estimate, ci.low, ci.high, ci.n) == (-4.5, -5.0, -4.0, 4)
    assert stats.bootstrap_ci_diff([1.0], [2.0, 3.0]).note == stats.FEW


# --- effect sizes -----------------------------------------------------------------

def test_hedges_g_by_hand():
    # pooled var (2*1 + 2*4)/4 = 2.5; J = 1 - 3/(4*6 - 9) = 0.8
    g = stats.hedges_g(A, B)
    assert g.value == pytest.approx(0.8 * -4.0 / math.sqrt(2.5))
    assert g.value == pytest.approx(-2.0238577, abs=1e-6)
    assert stats.hedges_g(B, A).value == pytest.approx(-g.value)


def test_hedges_g_degenerate():
    assert stats.hedges_g([1.0], [1.0, 2.0]).note == stats.FEW
    flat = stats.hedges_g([1.0, 1.0], [2.0, 2.0])
    assert math.isnan(flat.value) and flat.note == stats.ZERO_VAR
    assert stats.hedges_g([1.0, 1.0], [1.0, 1.0]).note == stats.EQUAL


def test_hedges_gz_by_hand():
    # d_z = 2 / 1; J = 1 - 3/(4*2 - 1) = 4/7
    assert stats.hedges_gz([1.0, 2.0, 3.0]).value == pytest.approx(8 / 7)


def test_hedges_gz_degenerate():
    assert math.isnan(stats.hedges_gz([1.0, 2.0]).value)
    assert stats.hedges_gz([1.0, 2.0]).note == "fewer than 3 samples"
    assert stats.hedges_gz([2.0, 2.0, 2.0]).note == stats.ZERO_VAR
    assert stats.hedges_gz([0.0, 0.0, 0.0]).note == stats.EQUAL


def test_prob_superiority_by_hand():
    # 1 vs 2: 0 (x3); 2 vs 2: 0.5 (x3); 3 vs 2: 1 (x3) -> 4.5 / 9
    assert stats.prob_superiority([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]).value == 0.5
    # 3 vs {1,3,5}: 1 + .5 + 0; 4 vs {1,3,5}: 1 + 1 + 0 -> 3.5 / 6
    assert stats.prob_superiority([3.0, 4.0], [1.0, 3.0, 5.0]).value == pytest.approx(3.5 / 6)
    assert stats.prob_superiority(A, B).value == 0.0
    assert math.isnan(stats.prob_superiority([], [1.0]).value)


def test_paired_superiority_counts_ties_half():
    assert stats.paired_superiority([1.0, -1.0, 0.0, 2.0]).value == pytest.approx(2.5 / 4)
    assert stats.paired_superiority([]).note == "empty sample"


# --- Holm -----------------------------------------------------------------------

def test_holm_textbook_example():
    out = stats.holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(out, [0.03, 0.06, 0.06, 0.02])


def test_holm_nan_not_counted_and_capped():
    out = stats.holm([0.01, math.nan, 0.04])
    assert math.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2]], [0.02, 0.04])
    np.testing.assert_allclose(stats.holm([0.5, 0.6]), [1.0, 1.0])
    assert stats.holm([]).shape == (0,)


def test_holm_rejects_out_of_range():
    with pytest.raises(ValueError):
        stats.holm([0.2, 1.5])


# --- permutation ------------------------------------------------------------------

def test_permutation_exact_by_hand():
    # n = 3, all positive: only the all-plus and all-minus patterns reach |mean| = 2 -> p = 2 / 8
    res = stats.paired_permutation([1.0, 2.0, 3.0])
    assert res.statistic == 2.0 and res.p_value == pytest.approx(2 / 8) and res.note == ""
    # [1, -1, 2]: the signed sums are +-4, +-2 (twice each) and 0 (twice); |sum| >= 2 in 6 of 8
    assert stats.paired_permutation([1.0, -1.0, 2.0]).p_value == pytest.approx(6 / 8)


def test_permutation_degenerate_and_monte_carlo():
    assert stats.paired_permutation([0.5]).note == stats.FEW
    assert stats.paired_permutation([0.0, 0.0]).p_value == 1.0
    big = stats.paired_permutation(np.arange(1.0, 16.0), n_resamples=999, random_state=0)
    # no sign pattern drawn beats the observed one: each side gets (0 + 1) / (999 + 1), doubled
    assert "Monte Carlo" in big.note and big.p_value == pytest.approx(2 / 1000)
    with pytest.raises(ValueError, match="NaN or inf"):
        stats.paired_permutation([1.0, math.nan])


def test_t_ci_by_hand_and_degenerate():
    d = np.array([0.1, 0.3, 0.2, 0.4])
    half = st.t.ppf(0.975, 3) * d.std(ddof=1) / 2
    ci = stats.t_ci(d)
    assert (ci.low, ci.high) == pytest.approx((d.mean() - half, d.mean() + half))
    # The 95 % t CI excludes 0 exactly when the paired t p < 0.05.
    assert (ci.low > 0) == (stats.paired_t(d).p_value < 0.05)
    assert stats.t_ci([0.2] * 3).note == "zero variance" and math.isnan(stats.t_ci([1.0]).low)
    low = stats.t_bound(d, 0.95, "lower")
    assert low.low == pytest.approx(d.mean() - st.t.ppf(0.95, 3) * d.std(ddof=1) / 2) and low.high == math.inf


def test_welch_ci_inverts_welch_t():
    a, b = np.array([1.0, 1.2, 0.9, 1.4]), np.array([0.5, 0.9, 0.4])
    ci = stats.welch_ci(a, b)
    res = st.ttest_ind(a, b, equal_var=False)
    assert (ci.low > 0) == (res.pvalue < 0.05)
    assert (ci.low, ci.high) == pytest.approx(tuple(res.confidence_interval(0.95)))


def test_constant_sign_flip_is_the_exact_permutation_p():
    d = np.full(6, 0.3)
    assert stats.constant_sign_flip(d).p_value == pytest.approx(stats.paired_permutation(d).p_value)
    assert stats.constant_sign_flip(d, alternative="greater").p_value == pytest.approx(1 / 64)
    assert stats.constant_sign_flip(d, alternative="less").p_value == 1.0
    assert stats.constant_sign_flip(d, shift=-0.3).p_value == 1.0
    with pytest.raises(ValueError):
        stats.constant_sign_flip([0.1, 0.2])
