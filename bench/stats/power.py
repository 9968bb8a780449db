"""Power, minimum detectable effect (MDE) and the seeds needed to detect an effect.

Continuous claims are tested with the paired t-test on the per-seed contrast,
so power is computed exactly from the noncentral t distribution: with n seeds,
contrast SD ``sd`` and true mean ``delta``, the two-sided level-``alpha`` test
rejects with probability

    P(|T| > t_{1-alpha/2, n-1}),  T ~ noncentral t(df = n - 1, nc = delta sqrt(n) / sd).

The MDE is the smallest ``delta`` with power >= ``power`` (80 % by default).
``sd`` is the observed SD of the contrast, so the MDE is itself an estimate.

Every printed MDE is the power of the test the verdict actually uses:

* binary claims: exact power by enumerating every outcome of the exact test
  (McNemar on seed pairs, arms independent within a seed; Boschloo when
  unpaired), as a rate difference from the reference arm's observed rate;
* equivalence (TOST): exact power by integrating the two one-sided t
  conditions over the chi-square distribution of the sample SD;
* non-inferiority: one-sided noncentral t at the doubled one-sided level;
* a continuous claim with a diverged seed: the Wilcoxon signed-rank test over
  every seed (diverged ranked worst), whose exact null over the observed ranks is
  enumerated and whose power is simulated (``signed_rank_all_seeds``); "not
  decidable at this n" when no outcome can reach alpha;
* trend claims: none. An inverted-U test's power depends on the whole curve
  (both legs, every candidate peak), not on one effect, so no MDE is printed
  rather than one that no simulation checks.

Every function returns NaN (or None for a count) with a ``note`` instead of
raising on degenerate input: fewer than 2 seeds, a zero or undefined SD, or a
zero observed effect (no number of seeds detects an effect of 0). Which of these
a claim uses is its kind's ``power`` (``bench.stats.kinds``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy import optimize as _opt
from scipy import stats as _st

POWER = 0.8
MAX_SEEDS = 10_000


@dataclass(frozen=True)
class Power:
    """``mde``: the smallest true effect (in the effect's units) detected with
    probability ``power`` at ``n``; ``seeds_needed``: the smallest n that detects
    the observed ``effect`` with that probability (None when undefined or above
    ``MAX_SEEDS``)."""
    mde: float
    n: int
    alpha: float
    power: float
    effect: float
    seeds_needed: Optional[int]
    method: str
    note: str = ""


def paired_t_power(delta: float, sd: float, n: int, alpha: float = 0.05) -> float:
    """Exact power of the two-sided one-sample (paired) t-test; shapes are scalars."""
    if n < 2 or not sd > 0:
        return math.nan
    df = n - 1
    crit = _st.t.ppf(1 - alpha / 2, df)
    nc = abs(delta) * math.sqrt(n) / sd     # power is symmetric in the sign of delta
    upper = float(_st.nct.sf(crit, df, nc))
    lower = float(_st.nct.cdf(-crit, df, nc))
    if math.isnan(upper):                    # SciPy's far tails can fail at df = 1
        upper = float(_st.norm.sf(crit - nc))
    return upper + (0.0 if math.isnan(lower) else lower)  # the lower tail is negligible when it fails


def _smallest_n(power_at, target: float) -> Optional[int]:
    """Smallest n >= 2 with power_at(n) >= target, by doubling then bisection (power rises with n)."""
    if power_at(2) >= target:
        return 2
    hi = 4
    while power_at(hi) < target:
        if hi >= MAX_SEEDS:
            return None
        hi = min(2 * hi, MAX_SEEDS)
    lo = hi // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if power_at(mid) >= target else (mid, hi)
    return hi


def paired_t(effect: float, sd: float, n: int, alpha: float = 0.05, power: float = POWER) -> Power:
    """MDE and seeds needed for the paired t-test on a contrast with SD ``sd`` over ``n`` seeds."""
    method = "paired t, noncentral t"
    if n < 2:
        return Power(math.nan, n, alpha, power, effect, None, method, "fewer than 2 samples")
    if not (sd > 0 and math.isfinite(sd)):
        return Power(math.nan, n, alpha, power, effect, None, method, "zero or undefined SD")
    # power(delta) rises from alpha at 0 to 1; bracket the root in units of sd.
    hi = sd
    while paired_t_power(hi, sd, n, alpha) < power:
        hi *= 2
        if hi > 1e6 * sd:
            return Power(math.inf, n, alpha, power, effect, None, method, "undetectable at this n")
    mde = _opt.brentq(lambda d: paired_t_power(d, sd, n, alpha) - power, 0.0, hi, xtol=sd * 1e-8)
    needed, note = None, ""
    if not math.isfinite(effect) or effect == 0:
        note = "observed effect is 0: no n detects it"
    else:
        needed = _smallest_n(lambda k: paired_t_power(abs(effect), sd, k, alpha), power)
        note = "" if needed is not None else f"needs more than {MAX_SEEDS} seeds"
    return Power(float(mde), n, alpha, power, effect, needed, method, note)


def _mcnemar_reject(n: int, alpha: float) -> np.ndarray:
    """(n+1, n+1) mask over (only-a count, only-b count): exact McNemar p < alpha."""
    k = np.arange(n + 1)
    only_a, only_b = np.meshgrid(k, k, indexing="ij")
    d = only_a + only_b
    lo = np.minimum(only_a, only_b)
    p = np.minimum(1.0, 2 * _st.binom.cdf(lo, np.maximum(d, 1), 0.5))
    return (d > 0) & (d <= n) & (p < alpha)


def mcnemar_power(p_a: float, p_b: float, n: int, alpha: float = 0.05) -> float:
    """Exact power of the two-sided exact McNemar test over ``n`` seed pairs.

    Rates ``p_a`` and ``p_b`` per arm, outcomes independent within a seed (so
    P(only a) = p_a (1 - p_b), P(only b) = p_b (1 - p_a)); every (only-a,
    only-b, concordant) count is enumerated with its multinomial probability.
    """
    if n < 1:
        return math.nan
    k = np.arange(n + 1)
    only_a, only_b = np.meshgrid(k, k, indexing="ij")
    rest = n - only_a - only_b
    ok = rest >= 0
    q_a, q_b = p_a * (1 - p_b), p_b * (1 - p_a)
    q_c = max(0.0, 1.0 - q_a - q_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = (_lgamma(n + 1) - _lgamma(only_a + 1) - _lgamma(only_b + 1) - _lgamma(np.where(ok, rest, 0) + 1)
                + _xlogy(only_a, q_a) + _xlogy(only_b, q_b) + _xlogy(np.where(ok, rest, 0), q_c))
    prob = np.where(ok, np.exp(logp), 0.0)
    return float(np.sum(prob[_mcnemar_reject(n, alpha)]))


def _lgamma(x):
    from scipy.special import gammaln
    return gammaln(x)


def _xlogy(x, y):
    from scipy.special import xlogy
    return xlogy(x, y)


_BOSCHLOO_CACHE: dict = {}


def _boschloo_reject(n_a: int, n_b: int, alpha: float) -> np.ndarray:
    """(n_a+1, n_b+1) mask over (events in a, events in b): Boschloo p < alpha (cached)."""
    key = (n_a, n_b, alpha)
    if key not in _BOSCHLOO_CACHE:
        mask = np.zeros((n_a + 1, n_b + 1), dtype=bool)
        for x_a in range(n_a + 1):
            for x_b in range(n_b + 1):
                if x_a * n_b == x_b * n_a:
                    continue   # equal rates: p = 1
                table = [[x_a, x_b], [n_a - x_a, n_b - x_b]]
                mask[x_a, x_b] = _st.boschloo_exact(table, alternative="two-sided").pvalue < alpha
        _BOSCHLOO_CACHE[key] = mask
    return _BOSCHLOO_CACHE[key]


def boschloo_power(p_a: float, p_b: float, n_a: int, n_b: int, alpha: float = 0.05) -> float:
    """Exact power of Boschloo's two-sided test for two independent binomial arms."""
    if min(n_a, n_b) < 1:
        return math.nan
    pa = _st.binom.pmf(np.arange(n_a + 1), n_a, p_a)
    pb = _st.binom.pmf(np.arange(n_b + 1), n_b, p_b)
    return float(np.sum(np.outer(pa, pb)[_boschloo_reject(n_a, n_b, alpha)]))


def binary_exact(rate_a: float, rate_b: float, n_a: int, n_b: int, paired: bool, alpha: float = 0.05,
                 power: float = POWER) -> Power:
    """MDE (a rate difference from the reference rate ``rate_b``) and seeds needed, exactly.

    The test is exact McNemar over ``n_a`` seed pairs when ``paired``, else
    Boschloo over ``n_a`` and ``n_b`` independent seeds. The MDE moves arm a's
    rate away from ``rate_b`` towards the side with more room; it is inf when
    even the largest difference is detected with less than ``power``.
    """
    method = "exact McNemar, enumerated" if paired else "Boschloo exact, enumerated"
    effect = rate_a - rate_b
    if min(n_a, n_b) < 1 or not math.isfinite(rate_b):
        return Power(math.nan, n_a, alpha, power, effect, None, method, "empty arm")

    def at(delta: float, n: int = n_a, m: int = n_b) -> float:
        p_a = rate_b + delta
        return mcnemar_power(p_a, rate_b, n, alpha) if paired else boschloo_power(p_a, rate_b, n, m, alpha)

    up = rate_b <= 0.5
    room = (1.0 - rate_b) if up else rate_b
    sign = 1.0 if up else -1.0
    if at(sign * room) < power:
        mde = math.inf
    else:
        mde = float(_opt.brentq(lambda d: at(sign * d) - power, 0.0, room, xtol=1e-6))
    needed, note = None, ""
    if not math.isfinite(effect) or effect == 0:
        note = "observed effect is 0: no n detects it"
    elif not paired:
        note = "seeds needed not searched for the unpaired exact test (seconds per n)"
    else:
        # Exact power is not monotone in n (discreteness), so scan upwards.
        for k in range(2, 201):
            if at(effect, k, k) >= power:
                needed = k
                break
        note = "" if needed is not None else "needs more than 200 seeds"
    if paired:
        note = (note + "; " if note else "") + "MDE as a rate difference, arms independent within a seed"
    return Power(mde, n_a if paired else n_a + n_b, alpha, power, effect, needed, method, note)


def two_proportions(h: float, n_a: int, n_b: int, alpha: float = 0.05, power: float = POWER) -> Power:
    """MDE in Cohen's h for two independent rates over ``n_a`` and ``n_b`` seeds (normal approx).

    Seeds needed assumes equal arms: n per arm = ((z_a + z_b) / h)^2 * 2, rounded up.
    """
    method = "two proportions, arcsine normal approx"
    n = n_a + n_b
    if min(n_a, n_b) < 1:
        return Power(math.nan, n, alpha, power, h, None, method, "empty arm")
    z = _st.norm.ppf(1 - alpha / 2) + _st.norm.ppf(power)
    mde = float(z * math.sqrt(1 / n_a + 1 / n_b))
    if not math.isfinite(h) or h == 0:
        return Power(mde, n, alpha, power, h, None, method, "observed effect is 0: no n detects it")
    per_arm = math.ceil(2 * (z / abs(h)) ** 2)
    return Power(mde, n, alpha, power, h, per_arm if per_arm <= MAX_SEEDS else None, method,
                 "seeds needed per arm")


def tost_power(difference: float, sd: float, n: int, margin: float, alpha: float = 0.05) -> float:
    """Exact power of the paired TOST (level ``alpha`` per one-sided test, df = n - 1).

    TOST rejects when mean - t s / sqrt(n) > -margin and mean + t s / sqrt(n) < margin
    (t = t_{1-alpha, n-1}); given the sample SD s the mean is normal, so the
    power is the integral over s (s^2 ~ sd^2 chi2_{n-1} / (n - 1)) of a
    difference of two normal CDFs, taken by the midpoint rule over 4000
    equally likely chi-square quantiles (error well below 1e-4).
    """
    if n < 2 or not sd > 0 or not margin > 0:
        return math.nan
    df = n - 1
    t = _st.t.ppf(1 - alpha, df)
    se = sd / math.sqrt(n)
    # Midpoint rule over the chi-square's quantiles: E_u[g(u)] = mean of g at equally likely u.
    s = sd * np.sqrt(_chi2_nodes(df) / df)
    half = np.maximum(margin - t * s / math.sqrt(n), 0.0)
    inside = _st.norm.cdf((half - difference) / se) - _st.norm.cdf((-half - difference) / se)
    return float(min(1.0, max(0.0, np.mean(np.where(half > 0, inside, 0.0)))))


_NODES: dict = {}


def _chi2_nodes(df: int, m: int = 4000) -> np.ndarray:
    if df not in _NODES:
        _NODES[df] = _st.chi2.ppf((np.arange(m) + 0.5) / m, df)
    return _NODES[df]


def tost(difference: float, sd: float, n: int, margin: float, alpha: float = 0.05,
         power: float = POWER) -> Power:
    """Equivalence (TOST) power, exact (``tost_power``).

    ``mde`` is the smallest margin that TOST establishes with ``power`` at n
    when the true difference is 0. ``seeds_needed``: the smallest n that shows
    equivalence within ``margin`` with ``power`` at the observed difference
    (which must lie inside the margin).
    """
    method = "TOST, exact"
    if n < 2:
        return Power(math.nan, n, alpha, power, difference, None, method, "fewer than 2 samples")
    if not (sd > 0 and math.isfinite(sd)):
        return Power(math.nan, n, alpha, power, difference, None, method, "zero or undefined SD")
    hi = sd
    while tost_power(0.0, sd, n, hi, alpha) < power:
        hi *= 2
        if hi > 1e6 * sd:
            return Power(math.inf, n, alpha, power, difference, None, method, "undetectable at this n")
    mde = float(_opt.brentq(lambda m: tost_power(0.0, sd, n, m, alpha) - power, 1e-12 * sd, hi, xtol=sd * 1e-8))
    gap = margin - abs(difference) if margin is not None else math.nan
    if not gap > 0:
        return Power(mde, n, alpha, power, difference, None, method,
                     "observed difference is outside the margin: no n shows equivalence")
    needed = _smallest_n(lambda k: tost_power(difference, sd, k, margin, alpha), power)
    return Power(mde, n, alpha, power, difference, needed, method,
                 "" if needed is not None else f"needs more than {MAX_SEEDS} seeds")


def one_sided_t_power(delta: float, sd: float, n: int, alpha_one: float) -> float:
    """Exact power of the one-sided one-sample t-test of H1: mean > 0 at level ``alpha_one``."""
    if n < 2 or not sd > 0:
        return math.nan
    df = n - 1
    return float(_st.nct.sf(_st.t.ppf(1 - alpha_one, df), df, delta * math.sqrt(n) / sd))


def noninferiority(distance: float, sd: float, n: int, alpha: float = 0.05, power: float = POWER) -> Power:
    """MDE as the true distance above -margin that the non-inferiority test shows with ``power``.

    The test is the one-sided t at alpha / 2 (the doubled one-sided p < alpha);
    ``distance`` is the observed oriented contrast + margin.
    """
    method = "non-inferiority, one-sided noncentral t"
    if n < 2:
        return Power(math.nan, n, alpha, power, distance, None, method, "fewer than 2 samples")
    if not (sd > 0 and math.isfinite(sd)):
        return Power(math.nan, n, alpha, power, distance, None, method, "zero or undefined SD")
    fn = lambda d, k=n: one_sided_t_power(d, sd, k, alpha / 2)  # noqa: E731
    hi = sd
    while fn(hi) < power:
        hi *= 2
        if hi > 1e6 * sd:
            return Power(math.inf, n, alpha, power, distance, None, method, "undetectable at this n")
    mde = float(_opt.brentq(lambda d: fn(d) - power, 0.0, hi, xtol=sd * 1e-8))
    if not distance > 0:
        return Power(mde, n, alpha, power, distance, None, method,
                     "observed contrast is not above -margin: no n shows non-inferiority")
    needed = _smallest_n(lambda k: fn(distance, k), power)
    return Power(mde, n, alpha, power, distance, needed, method,
                 "" if needed is not None else f"needs more than {MAX_SEEDS} seeds")


# --- the all-seeds rank test (diverged seeds ranked worst) --------------------------------------

RANK_REPLICATES = 4000


def _signed_rank_null(ranks2: np.ndarray) -> np.ndarray:
    """P(T+ = t) for t = 0..sum(ranks2) under random signs; ``ranks2`` are twice the
    (mid)ranks, so integers. Exact, by convolution over the ranks."""
    dist = np.zeros(int(ranks2.sum()) + 1)
    dist[0] = 1.0
    for r in ranks2.astype(int):
        shifted = np.zeros_like(dist)
        shifted[r:] = dist[:dist.size - r]
        dist = 0.5 * (dist + shifted)
    return dist


def signed_rank_all_seeds(sd: float, n_survivors: int, diverged_signs, alpha: float = 0.05,
                          power: float = POWER, effect: float = math.nan, direction: float = 1.0) -> Power:
    """MDE of the Wilcoxon signed-rank test over every seed, diverged ones ranked worst.

    ``n_survivors`` seeds have a normal contrast (SD ``sd``, true mean delta in
    ``direction``); each diverged seed is fixed at its observed side (``diverged_signs``:
    +1, -1, or 0 for one that cancels and drops out) and takes the top (mid)ranks. The
    test's exact null distribution over those ranks is enumerated; power at delta is
    the share of ``RANK_REPLICATES`` simulated survivor sets (a fixed seed, so the MDE
    is reproducible) whose two-sided p is below ``alpha``. When no outcome reaches
    ``alpha`` (e.g. 5 seeds or fewer: the smallest p is 2 / 2**n), the claim is not
    decidable at this n and the MDE is infinite.
    """
    method = "Wilcoxon over all seeds (diverged ranked worst), exact null, simulated power"
    signs = np.array([s for s in diverged_signs if s != 0], dtype=float)
    n_d, n_s = signs.size, int(n_survivors)
    n = n_s + n_d
    if n < 1:
        return Power(math.nan, n, alpha, power, effect, None, method, "no seeds")
    ranks2 = np.r_[2.0 * np.arange(1, n_s + 1), np.full(n_d, 2 * n_s + n_d + 1.0)]
    null = _signed_rank_null(ranks2)
    cdf = np.cumsum(null)
    sf = cdf[-1] - np.r_[0.0, cdf[:-1]]
    p_of = np.minimum(1.0, 2 * np.minimum(cdf, sf))     # two-sided p of each T+ (twice-rank units)
    if p_of.min() >= alpha:
        return Power(math.inf, n, alpha, power, effect, None, method,
                     f"not decidable at this n: the smallest p the all-seeds rank test can reach "
                     f"with {n} seeds is {p_of.min():.3g}")
    fixed = float(ranks2[n_s:][signs > 0].sum())
    orient = 1.0 if direction >= 0 else -1.0
    best = p_of[int(fixed + (ranks2[:n_s].sum() if orient > 0 else 0.0))]   # every survivor on the claimed side
    if best >= alpha:
        return Power(math.inf, n, alpha, power, effect, None, method,
                     f"not decidable at this n: with the diverged seeds where they fell, the smallest p "
                     f"the all-seeds rank test can reach over {n} seeds is {best:.3g}")
    if n_s == 0 or not (sd > 0 and math.isfinite(sd)):
        reject = bool(p_of[int(fixed)] < alpha)
        return Power(0.0 if reject else math.inf, n, alpha, power, effect, None, method,
                     "decided by the diverged seeds alone" if reject else "no survivors' spread to size an effect")
    z = np.random.default_rng(0).standard_normal((RANK_REPLICATES, n_s))

    def rate(delta: float) -> float:
        x = orient * delta + sd * z
        order = np.argsort(np.abs(x), axis=1)
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(1, n_s + 1), axis=1)
        t_plus = 2 * (ranks * (x > 0)).sum(axis=1) + fixed
        return float(np.mean(p_of[t_plus.astype(int)] < alpha))

    hi = sd
    while rate(hi) < power:
        hi *= 2
        if hi > 1e3 * sd:
            return Power(math.inf, n, alpha, power, effect, None, method,
                         f"undetectable at this n: power stays below {power:g} at any effect")
    lo = 0.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if rate(mid) >= power else (mid, hi)
    return Power(float(hi), n, alpha, power, effect, None, method, "")
