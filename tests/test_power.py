"""bench.stats.power: noncentral-t power, MDE, seeds needed; degenerate input gives NaN with a note."""
import math

import pytest
from scipy import stats as st

from bench.stats import power


def test_power_at_zero_effect_is_alpha():
    assert power.paired_t_power(0.0, 1.0, 10, 0.05) == pytest.approx(0.05, abs=1e-9)


def test_power_matches_normal_approximation_at_large_n():
    # n = 400, d = 0.2: nc = 4; normal approx power = Phi(4 - 1.96)
    assert power.paired_t_power(0.2, 1.0, 400) == pytest.approx(st.norm.cdf(4 - 1.959964), abs=3e-3)


def test_mde_has_exactly_80_percent_power_and_scales_with_sd():
    res = power.paired_t(effect=0.1, sd=2.0, n=10)
    assert power.paired_t_power(res.mde, 2.0, 10) == pytest.approx(0.8, abs=1e-6)
    assert power.paired_t(0.1, 1.0, 10).mde == pytest.approx(res.mde / 2, rel=1e-6)
    # textbook: d_z ~ 1.0 for n = 10 at 80 % power, two-sided 0.05
    assert 0.95 < power.paired_t(0.1, 1.0, 10).mde < 1.05


def test_seeds_needed_is_the_smallest_sufficient_n():
    res = power.paired_t(effect=0.5, sd=1.0, n=5)
    k = res.seeds_needed
    assert power.paired_t_power(0.5, 1.0, k) >= 0.8 > power.paired_t_power(0.5, 1.0, k - 1)
    assert 33 <= k <= 35   # normal approx (2.8 / 0.5)^2 = 31.4, plus the t correction


def test_lower_alpha_needs_larger_mde():
    assert power.paired_t(0.1, 1.0, 10, alpha=0.05 / 8).mde > power.paired_t(0.1, 1.0, 10).mde


def test_degenerate_power():
    assert power.paired_t(0.1, 1.0, 1).note == "fewer than 2 samples"
    assert math.isnan(power.paired_t(0.1, 0.0, 5).mde)
    zero = power.paired_t(0.0, 1.0, 5)
    assert zero.seeds_needed is None and "0" in zero.note and math.isfinite(zero.mde)
    assert power.paired_t(1e-9, 1.0, 5).seeds_needed is None      # beyond MAX_SEEDS
    assert math.isfinite(power.paired_t(0.05, 0.01, 2).mde)          # df = 1 tails stay defined


def test_two_proportions():
    res = power.two_proportions(h=1.0, n_a=10, n_b=10)
    assert res.mde == pytest.approx((1.959964 + 0.841621) * math.sqrt(0.2), rel=1e-5)
    assert res.seeds_needed == math.ceil(2 * (1.959964 + 0.841621) ** 2)
    assert power.two_proportions(0.0, 5, 5).seeds_needed is None
    assert math.isnan(power.two_proportions(0.5, 0, 5).mde)


def test_tost_power_is_exact():
    res = power.tost(difference=0.0, sd=1.0, n=20, margin=1.0)
    assert power.tost_power(0.0, 1.0, 20, res.mde) == pytest.approx(0.8, abs=1e-6)
    # Above the normal approximation (z_{0.95} + z_{0.9}) / sqrt(n), which ignores the t quantile and s.
    assert res.mde > (1.644854 + 1.281552) / math.sqrt(20)
    # At large n the exact power approaches the normal approximation.
    z = 1.0 / (1.0 / math.sqrt(400))
    assert power.tost_power(0.0, 1.0, 400, 0.15) == pytest.approx(
        2 * st.norm.cdf(0.15 * 20 - 1.644854) - 1, abs=5e-3)
    k = res.seeds_needed
    assert k is not None and power.tost_power(0.0, 1.0, k, 1.0) >= 0.8 > power.tost_power(0.0, 1.0, k - 1, 1.0)
    assert power.tost(1.5, 1.0, 20, 1.0).seeds_needed is None
    assert z > 0


def test_tost_power_matches_numerical_integration():
    from scipy import integrate

    def by_quad(d, sd, n, m, alpha=0.05):
        df, se = n - 1, sd / math.sqrt(n)
        t = st.t.ppf(1 - alpha, df)

        def g(u):
            h = m - t * sd * math.sqrt(u / df) / math.sqrt(n)
            return 0.0 if h <= 0 else (st.norm.cdf((h - d) / se) - st.norm.cdf((-h - d) / se)) * st.chi2.pdf(u, df)
        return integrate.quad(g, 0, df * (m * math.sqrt(n) / (t * sd)) ** 2, limit=200)[0]

    for args in [(0.0, 1.0, 10, 1.0), (0.3, 1.0, 5, 1.5), (0.0, 1.0, 20, 0.5), (0.2, 1.0, 3, 2.0)]:
        assert power.tost_power(*args) == pytest.approx(by_quad(*args), abs=1e-5)


def test_binary_power_is_exact_enumeration():
    # Only the all-discordant outcome rejects McNemar at n = 5 (p = 2/32 > 0.05: never).
    assert power.mcnemar_power(1.0, 0.0, 5) == 0.0
    # n = 6, rates 1 vs 0: every seed discordant, p = 2/64 < 0.05: power 1.
    assert power.mcnemar_power(1.0, 0.0, 6) == pytest.approx(1.0)
    # By hand at n = 6, p_a = 0.5, p_b = 0: only-a ~ Bin(6, 0.5); reject iff all 6 are only-a.
    assert power.mcnemar_power(0.5, 0.0, 6) == pytest.approx(0.5 ** 6)
    res = power.binary_exact(0.9, 0.0, 10, 10, paired=True)
    assert power.mcnemar_power(res.mde, 0.0, 10) == pytest.approx(0.8, abs=1e-4)
    # Boschloo: enumerated power agrees with the region scipy's test defines.
    assert 0.0 < power.boschloo_power(0.8, 0.1, 6, 6) < 1.0
