"""Power, minimum detectable effect (MDE) and the seeds needed to detect an effect.

Continuous claims are tested with the paired t-test on the per-seed contrast,
so power is computed exactly from the noncentral t distribution: with n seeds,
contrast SD ``sd`` and true mean ``delta``, the two-sided level-``alpha`` test
rejects with probability

    P(|T| > t_{1-alpha/2, n-1}),  T ~ noncentral t(df = n - 1, nc = delta sqrt(n) / sd).

The MDE is the smallest ``delta`` with power >= ``power`` (80 % by default).
``sd`` is the observed SD of the contrast, so the MDE is itself an estimate.
Binary claims use Cohen's h with the normal approximation to the arcsine
transform, MDE_h = (z_{1-alpha/2} + z_{power}) sqrt(1/n_a + 1/n_b); exact tests
at a handful of seeds are more conservative than that, so it is optimistic.

Every function returns NaN (or None for a count) with a ``note`` instead of
raising on degenerate input: fewer than 2 seeds, a zero or undefined SD, or a
zero observed effect (no number of seeds detects an effect of 0).
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


def tost(difference: float, sd: float, n: int, margin: float, alpha: float = 0.05,
         power: float = POWER) -> Power:
    """Equivalence (TOST) power, normal approximation.

    ``mde`` here is the smallest margin that TOST would establish with ``power``
    at n when the true difference is 0: (z_{1-alpha} + z_{1-(1-power)/2}) sd / sqrt(n).
    Seeds needed to show equivalence at the observed difference (which must lie
    inside the margin): ((z_{1-alpha} + z_{power}) sd / (margin - |difference|))^2.
    """
    method = "TOST, normal approx"
    if n < 2:
        return Power(math.nan, n, alpha, power, difference, None, method, "fewer than 2 samples")
    if not (sd > 0 and math.isfinite(sd)):
        return Power(math.nan, n, alpha, power, difference, None, method, "zero or undefined SD")
    z_a = _st.norm.ppf(1 - alpha)
    mde = float((z_a + _st.norm.ppf(1 - (1 - power) / 2)) * sd / math.sqrt(n))
    gap = margin - abs(difference)
    if not gap > 0:
        return Power(mde, n, alpha, power, difference, None, method,
                     "observed difference is outside the margin: no n shows equivalence")
    needed = math.ceil(((z_a + _st.norm.ppf(power)) * sd / gap) ** 2)
    return Power(mde, n, alpha, power, difference, max(needed, 2) if needed <= MAX_SEEDS else None, method)


def _sd(values) -> float:
    v = np.asarray(values, dtype=float)
    return float(v.std(ddof=1)) if v.size >= 2 else math.nan


def for_result(result, alpha: float) -> Power:
    """Power of a ``bench.verdict.ClaimResult``'s primary test at level ``alpha``, by claim kind.

    Trend claims use the paired t at alpha / (2 (k - 2)), the level of one
    peak-vs-end comparison; the unpaired fallback a paired t with the variance
    of a difference of two independent arms. Both are approximations.
    """
    contrast = [v for _, v in result.contrast]
    if result.kind == "binary":
        n_a, n_b = (s.n_finite for s in result.arm_summary)
        return two_proportions(result.effect_size, n_a, n_b, alpha)
    if result.kind == "equivalence":
        return tost(result.estimate, _sd(contrast), result.n_pairs, result.margin, alpha)
    if result.kind == "noninferiority":
        # Distance of the oriented contrast from -margin, two-sided level alpha (the doubled one-sided p).
        sign = 1.0 if result.direction == "greater" else -1.0
        return paired_t(sign * result.estimate + result.margin, _sd(contrast), result.n_pairs, alpha)
    if result.kind == "trend":
        k = len(result.arm_summary)
        return paired_t(result.estimate, _sd(contrast), result.n_pairs, alpha / (2 * (k - 2)))
    if not result.paired:
        # Unpaired fallback: a paired t with the variance of a difference of independent arms.
        a, b = result.arm_summary
        sd = math.sqrt(a.sd ** 2 + b.sd ** 2)
        return paired_t(result.estimate, sd, min(a.n_finite, b.n_finite), alpha)
    return paired_t(result.estimate, _sd(contrast), result.n_pairs, alpha)
