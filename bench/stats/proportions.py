"""Binary outcomes (0/1 per seed, e.g. ``diverged``): exact tests, rate intervals, effect sizes.

``a`` and ``b`` have shapes ``(n_a,)`` and ``(n_b,)`` and hold 0/1 values, one
per seed; ``pairs`` has shape ``(n, 2)`` and holds both arms' outcome on the
seeds where both are known. Any other value (NaN included) raises
``ValueError``: the caller (``bench.analysis.verdict``) drops unknown seeds and counts
them. An empty arm gives NaN with note "empty sample"; tables where every
outcome is equal give p = 1 with note "all equal". All p-values are two-sided.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats as _st

from bench.stats.significance import EQUAL, EffectSize, Interval, TestResult

EMPTY = "empty sample"


def _binary(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}.")
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must hold only 0/1 outcomes; drop unknown seeds first.")
    return arr


def wilson(x, confidence: float = 0.95) -> Interval:
    """Wilson score interval for the rate of ``x`` (n,) of 0/1 values.

    Chosen over Wald because it stays inside [0, 1] and keeps close to its
    nominal coverage at 0 or n events, which is exactly where C2 lives.
    """
    v = _binary(x, "x")
    n = v.size
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, confidence, 0, EMPTY)
    p = float(v.mean())
    z = float(_st.norm.ppf(0.5 + confidence / 2.0))
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), confidence, n)


def clopper_pearson(x, confidence: float = 0.95) -> Interval:
    """Exact (Clopper-Pearson) interval for the rate of ``x`` (n,); conservative."""
    v = _binary(x, "x")
    n = v.size
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, confidence, 0, EMPTY)
    ci = _st.binomtest(int(v.sum()), n).proportion_ci(confidence, method="exact")
    return Interval(float(v.mean()), float(ci.low), float(ci.high), confidence, n)


def rate_difference(a, b, confidence: float = 0.95) -> Interval:
    """rate(a) - rate(b) with Newcombe's hybrid score interval built from two Wilson intervals."""
    wa, wb = wilson(a, confidence), wilson(b, confidence)
    n = wa.n + wb.n
    if wa.n == 0 or wb.n == 0:
        return Interval(math.nan, math.nan, math.nan, confidence, n, EMPTY)
    d = wa.estimate - wb.estimate
    low = d - math.hypot(wa.estimate - wa.low, wb.high - wb.estimate)
    high = d + math.hypot(wa.high - wa.estimate, wb.estimate - wb.low)
    return Interval(d, low, high, confidence, n)


def exact_test(a, b, method: str = "boschloo") -> TestResult:
    """Exact unconditional (Boschloo) or conditional (Fisher) test of rate(a) == rate(b).

    Boschloo's test is uniformly at least as powerful as Fisher's. It treats the
    arms as independent samples, which ignores the seed pairing; ``mcnemar_exact``
    is the paired check. Needs one seed per arm.
    """
    a, b = _binary(a, "a"), _binary(b, "b")
    n = a.size + b.size
    name = "boschloo" if method == "boschloo" else "fisher"
    if a.size == 0 or b.size == 0:
        return TestResult(name, math.nan, math.nan, n, EMPTY)
    if np.all(a == a[0]) and np.all(b == a[0]):
        return TestResult(name, 1.0, 1.0, n, EQUAL)
    table = [[int(a.sum()), int(b.sum())], [int(a.size - a.sum()), int(b.size - b.sum())]]
    if method == "boschloo":
        res = _st.boschloo_exact(table, alternative="two-sided")
    else:
        res = _st.fisher_exact(table, alternative="two-sided")
    return TestResult(name, float(res.statistic), float(min(res.pvalue, 1.0)), n)


def mcnemar_exact(pairs) -> TestResult:
    """Exact McNemar test on ``pairs`` (n, 2): a binomial test on the discordant seeds.

    The statistic is the number of seeds where only the first arm has the
    outcome. No discordant seed gives p = 1 with note "all equal".
    """
    arr = np.asarray(pairs, dtype=float).reshape(-1, 2)
    _binary(arr.ravel(), "pairs")
    n = arr.shape[0]
    only_a = int(np.sum((arr[:, 0] == 1) & (arr[:, 1] == 0)))
    only_b = int(np.sum((arr[:, 0] == 0) & (arr[:, 1] == 1)))
    if n == 0:
        return TestResult("mcnemar_exact", math.nan, math.nan, 0, EMPTY)
    if only_a + only_b == 0:
        return TestResult("mcnemar_exact", 0.0, 1.0, n, EQUAL)
    p = _st.binomtest(only_a, only_a + only_b, 0.5).pvalue
    return TestResult("mcnemar_exact", float(only_a), float(min(p, 1.0)), n)


def cohens_h(a, b) -> EffectSize:
    """Cohen's h = 2 asin(sqrt(rate_a)) - 2 asin(sqrt(rate_b)); positive when a's rate is larger."""
    a, b = _binary(a, "a"), _binary(b, "b")
    n = a.size + b.size
    if a.size == 0 or b.size == 0:
        return EffectSize("cohens_h", math.nan, n, EMPTY)
    h = 2 * math.asin(math.sqrt(a.mean())) - 2 * math.asin(math.sqrt(b.mean()))
    return EffectSize("cohens_h", float(h), n)
