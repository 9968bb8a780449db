"""Calibration: the tests hold their level under a simulated null, reach the analytic
power under a known effect, the bootstrap CI covers, and Holm/BH match hand values.

Every simulation is seeded, so each test is deterministic. The bands are still
set from the simulation's own binomial error, so that a correct implementation
would pass for (almost) any seed: with N simulated experiments and a true rate
r, the observed rate has SD sqrt(r (1 - r) / N); a band of +-4 SD is exceeded
by chance with probability about 6e-5, while a wrong test (e.g. a one-sided p
reported as two-sided, or an unpaired test on paired data) falls far outside.
"""
import math

import numpy as np
import pytest
from scipy import stats as st

from bench.stats import equivalence, power, proportions, significance as stats, trend

ALPHA = 0.05


def band(rate: float, n_sims: int, k: float = 4.0) -> float:
    return k * math.sqrt(rate * (1 - rate) / n_sims)


def rejection_rate(test, samples) -> float:
    return float(np.mean([test(s).p_value < ALPHA for s in samples]))


# --- false-positive rate under the null ------------------------------------------

N_NULL = 2000   # band +-4 SD = +-0.0195 around 0.05


def null_diffs(n_seeds=10, n_sims=N_NULL, seed=0):
    """Paired null: per-seed noise shared by both arms cancels, the rest is symmetric."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(0.9, 0.02, size=(n_sims, n_seeds))
    a = shared + rng.normal(0, 0.01, size=(n_sims, n_seeds))
    b = shared + rng.normal(0, 0.01, size=(n_sims, n_seeds))
    return a - b


def test_paired_t_holds_its_level():
    rate = rejection_rate(stats.paired_t, null_diffs())
    assert abs(rate - ALPHA) < band(ALPHA, N_NULL)


@pytest.mark.parametrize("test", [stats.wilcoxon_signed_rank,
                                  lambda d: stats.paired_permutation(d, random_state=0)])
def test_rank_and_permutation_tests_hold_their_level(test):
    # Exact but discrete at 8 seeds, so the size is at most alpha and may fall a little below.
    diffs = null_diffs(n_seeds=8, n_sims=1000, seed=1)
    rate = rejection_rate(test, diffs)
    assert ALPHA - band(ALPHA, 1000) - 0.02 < rate < ALPHA + band(ALPHA, 1000)


def test_welch_holds_its_level_with_unequal_variances():
    rng = np.random.default_rng(2)
    pairs = [(rng.normal(0, 1, 8), rng.normal(0, 3, 12)) for _ in range(N_NULL)]
    rate = float(np.mean([stats.welch_t(a, b).p_value < ALPHA for a, b in pairs]))
    assert abs(rate - ALPHA) < band(ALPHA, N_NULL)


@pytest.mark.parametrize("p0", [0.1, 0.3, 0.5])
def test_boschloo_size_is_at_most_alpha_exactly(p0):
    # No simulation: the size at a common rate p0 is the binomial probability of
    # every table the test rejects, summed exactly over all 6 x 6 outcomes.
    n = 5
    size = 0.0
    for x in range(n + 1):
        for y in range(n + 1):
            p = proportions.exact_test([1] * x + [0] * (n - x), [1] * y + [0] * (n - y)).p_value
            if p < ALPHA:
                size += st.binom.pmf(x, n, p0) * st.binom.pmf(y, n, p0)
    assert size <= ALPHA


def test_tost_size_at_the_margin_is_at_most_alpha():
    # The hardest null for TOST: the true difference sits exactly on the margin.
    rng = np.random.default_rng(3)
    diffs = rng.normal(0.5, 1.0, size=(N_NULL, 12))
    rate = float(np.mean([equivalence.tost_paired(d, 0.5).p_value < ALPHA for d in diffs]))
    assert rate < ALPHA + band(ALPHA, N_NULL)


def test_trend_peak_test_holds_its_level_on_a_flat_curve():
    rng = np.random.default_rng(4)
    tables = rng.normal(0.9, 0.01, size=(600, 10, 4))
    rate = float(np.mean([trend.inverted_u(t).test.p_value < ALPHA for t in tables]))
    assert rate < ALPHA + band(ALPHA, 600)


# --- power under a known effect -----------------------------------------------------

def test_paired_t_power_matches_noncentral_t():
    rng = np.random.default_rng(5)
    n, delta, sd, n_sims = 10, 0.8, 1.0, 2000
    diffs = rng.normal(delta, sd, size=(n_sims, n))
    expected = power.paired_t_power(delta, sd, n, ALPHA)
    assert 0.6 < expected < 0.9
    assert abs(rejection_rate(stats.paired_t, diffs) - expected) < band(expected, n_sims)


def test_mde_gives_80_percent_power_by_simulation():
    rng = np.random.default_rng(6)
    res = power.paired_t(effect=0.3, sd=1.0, n=12)
    diffs = rng.normal(res.mde, 1.0, size=(2000, 12))
    assert abs(rejection_rate(stats.paired_t, diffs) - 0.8) < band(0.8, 2000)


# --- bootstrap coverage ---------------------------------------------------------------

def test_bootstrap_ci_covers_the_true_mean_near_95_percent():
    # Percentile intervals run slightly narrow at small n (about 94 % at n = 30,
    # the shortfall is of order 1/n), so the band is centred on 0.95 but allows
    # 1.5 points of known undercoverage below the binomial band.
    rng = np.random.default_rng(7)
    n_sims = 1000
    hits = 0
    for _ in range(n_sims):
        v = rng.normal(0.3, 1.0, size=30)
        ci = stats.bootstrap_ci(v, 0.95, 1000, rng)
        hits += ci.low <= 0.3 <= ci.high
    cover = hits / n_sims
    assert 0.95 - band(0.95, n_sims) - 0.015 < cover < 0.95 + band(0.95, n_sims)


def test_paired_bootstrap_diff_covers_true_difference():
    rng = np.random.default_rng(8)
    n_sims, hits = 600, 0
    for _ in range(n_sims):
        base = rng.normal(0.9, 0.05, size=30)
        diffs = (base + rng.normal(0.02, 0.01, 30)) - base
        ci = stats.bootstrap_ci(diffs, 0.95, 1000, rng)
        hits += ci.low <= 0.02 <= ci.high
    cover = hits / n_sims
    assert 0.95 - band(0.95, n_sims) - 0.015 < cover < 0.95 + band(0.95, n_sims)


# --- multiplicity by hand ----------------------------------------------------------------

def test_holm_and_bh_by_hand():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> running max
    np.testing.assert_allclose(stats.holm(p), [0.03, 0.06, 0.06, 0.02])
    # BH: sorted times 4/rank -> 0.02, 0.02, 0.04, 0.04; running min from the top keeps them
    np.testing.assert_allclose(stats.benjamini_hochberg(p), [0.02, 0.04, 0.04, 0.02])
    # BH step-up: 0.04 * 4 / 3 = 0.0533 is pulled down to the largest p's 0.05 * 4 / 4 = 0.05
    np.testing.assert_allclose(stats.benjamini_hochberg([0.001, 0.02, 0.04, 0.05]),
                               [0.004, 0.04, 0.05, 0.05])
    out = stats.benjamini_hochberg([0.01, math.nan, 0.04])
    assert math.isnan(out[1])
    np.testing.assert_allclose(out[[0, 2]], [0.02, 0.04])
