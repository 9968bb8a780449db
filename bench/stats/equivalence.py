"""Equivalence tests (TOST) and the comparison of two frameworks' effects.

TOST (two one-sided tests, Schuirmann 1987) shows that a mean lies inside
``(-margin, +margin)``: both ``H0: mean <= -margin`` and ``H0: mean >= +margin``
must be rejected, so its p-value is the larger of the two one-sided p-values
and it needs no multiplicity correction. A non-significant difference is
never read as equivalence: equivalence is only concluded from TOST.

``diffs`` has shape ``(n,)`` (one paired contrast per seed). Degenerate input
gives NaN with a note, never an exception: fewer than 2 values ("fewer than 2
samples"), or zero spread ("zero variance"; with zero spread the sampling
error cannot be estimated, so neither test is defined).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats as _st

from bench.stats.significance import FEW, ZERO_VAR, TestResult, _finite, snap_constant

AGREEMENTS = ("equivalent", "different", "undetermined")


def _tost_from(estimate: float, se: float, df: float, margin: float, n: int) -> TestResult:
    if not margin > 0 or not math.isfinite(margin):
        raise ValueError(f"equivalence margin must be a finite number > 0, got {margin}.")
    if n < 2 or not df > 0:
        return TestResult("tost", math.nan, math.nan, n, FEW)
    if not se > 0:
        return TestResult("tost", math.nan, math.nan, n, ZERO_VAR)
    p_low = _st.t.sf((estimate + margin) / se, df)     # H0: mean <= -margin
    p_high = _st.t.cdf((estimate - margin) / se, df)   # H0: mean >= +margin
    t = min((estimate + margin) / se, (margin - estimate) / se)
    return TestResult("tost", float(t), float(max(p_low, p_high)), n)


def _beyond_from(estimate: float, se: float, df: float, margin: float, n: int) -> TestResult:
    """Is |mean| > margin? One-sided test on the nearer bound, doubled (one per side)."""
    if n < 2 or not df > 0:
        return TestResult("beyond_margin", math.nan, math.nan, n, FEW)
    if not se > 0:
        return TestResult("beyond_margin", math.nan, math.nan, n, ZERO_VAR)
    t = (abs(estimate) - margin) / se
    return TestResult("beyond_margin", float(t), float(min(1.0, 2 * _st.t.sf(t, df))), n)


def _moments(diffs) -> tuple[float, float, int]:
    d = _finite(diffs, "diffs")
    n = d.size
    mean = float(d.mean()) if n else math.nan
    se = float(d.std(ddof=1) / math.sqrt(n)) if n >= 2 else math.nan
    return mean, se, n


def tost_paired(diffs, margin: float) -> TestResult:
    """TOST of the mean of ``diffs`` (n,) against ``(-margin, margin)``; t-based, df = n - 1.

    The statistic is the smaller of the two one-sided t values. p < alpha means
    the mean is shown to lie inside the margin, i.e. the 1 - 2 alpha CI does.
    """
    mean, se, n = _moments(diffs)
    return _tost_from(mean, se, n - 1, margin, n)


def beyond_margin_paired(diffs, margin: float) -> TestResult:
    """Test that |mean(diffs)| exceeds ``margin`` (the claim of equivalence is wrong).

    p = 2 * P(T > (|mean| - margin) / se), capped at 1: the one-sided test
    against the nearer bound, Bonferroni-doubled because either side counts.
    """
    mean, se, n = _moments(diffs)
    return _beyond_from(mean, se, n - 1, margin, n)


def noninferiority_paired(diffs, margin: float) -> tuple[TestResult, TestResult]:
    """Non-inferiority of the mean of ``diffs`` (n,), oriented so that larger is
    better: ``(noninferior, inferior)``.

    ``noninferior`` tests ``H0: mean <= -margin`` (rejecting it shows the
    claimed arm is at worst ``margin`` behind); ``inferior`` tests
    ``H0: mean >= -margin`` (rejecting it shows it is more than ``margin``
    behind). Both p-values are one-sided and doubled (capped at 1), because
    the caller reads whichever side the estimate falls on: p < alpha then
    means the two-sided 1 - alpha CI excludes ``-margin``, the usual reading
    of a non-inferiority trial (one-sided alpha / 2).
    """
    if not margin > 0 or not math.isfinite(margin):
        raise ValueError(f"non-inferiority margin must be a finite number > 0, got {margin}.")
    mean, se, n = _moments(diffs)
    names = ("noninferior", "inferior")
    if n < 2:
        return tuple(TestResult(name, math.nan, math.nan, n, FEW) for name in names)
    if not se > 0:
        return tuple(TestResult(name, math.nan, math.nan, n, ZERO_VAR) for name in names)
    t = (mean + margin) / se
    return (TestResult("noninferior", float(t), float(min(1.0, 2 * _st.t.sf(t, n - 1))), n),
            TestResult("inferior", float(t), float(min(1.0, 2 * _st.t.cdf(t, n - 1))), n))


@dataclass(frozen=True)
class Agreement:
    """TF vs PyTorch for one claim: the difference of their mean contrasts.

    ``paired`` says whether the difference was taken per shared seed (the
    frameworks see the same batches per seed) or from two independent
    estimates (Welch). ``outcome`` is "equivalent", "different" or
    "undetermined"; ``beyond`` is the test that the gap exceeds the margin.
    """
    outcome: str
    difference: float
    margin: float
    margin_source: str
    difference_test: TestResult
    tost: TestResult
    paired: bool
    note: str = ""
    beyond: TestResult = TestResult("beyond_margin", math.nan, math.nan, 0)


def _constant(est: float, margin: float, n: int, usable: bool):
    """(tost, beyond) for a gap equal on every shared seed, by exact sign flips."""
    if est == 0:
        return (TestResult("tost", math.inf, 0.0, n, "identical on every seed: equivalent by construction"),
                TestResult("beyond_margin", -math.inf, 1.0, n, "all equal"))
    if not usable:
        nan = TestResult("tost", math.nan, math.nan, n, "no agreement margin declared")
        return nan, replace(nan, name="beyond_margin")
    one, note = 1.0 / 2 ** n, "constant difference: exact sign-flip p"
    return (TestResult("tost", est, one if abs(est) < margin else 1.0, n, note),
            TestResult("beyond_margin", est, min(1.0, 2 * one) if abs(est) > margin else 1.0, n, note))


def compare_effects(a: dict, b: dict, margin: float | None = None, alpha: float = 0.05,
                    scale: float | None = None) -> Agreement:
    """Compare two frameworks' per-seed contrasts ``a`` and ``b``, each ``{seed: value}``,
    as an equivalence question first.

    With >= 3 shared seeds the per-seed differences are tested (paired TOST,
    paired beyond-margin test, paired t); otherwise the two means are compared
    with Welch's standard error and Welch-Satterthwaite df. ``margin`` is in
    metric units and declared with the claim (``bench.analysis.verdict.agreement_margin``),
    never estimated from these seeds; None leaves the outcome undetermined.

    "equivalent": TOST rejects at ``alpha`` (the gap lies inside +-margin),
    whatever the difference test says; "different": the gap is shown beyond
    the margin; "undetermined": neither. A gap equal on every shared seed is
    decided by exact sign flips, and an identical one (0 on every seed) is
    equivalent by construction; "equal" is ``bench.stats.significance.is_constant``
    with ``scale`` the magnitude the contrasts were computed from (default: theirs).
    The plain difference t-test is reported only.
    """
    va = np.array([v for v in a.values() if math.isfinite(v)], dtype=float)
    vb = np.array([v for v in b.values() if math.isfinite(v)], dtype=float)
    source = "declared" if margin is not None else "none declared"
    usable = margin is not None and margin > 0 and math.isfinite(margin)
    margin = float(margin) if margin is not None else math.nan
    shared = sorted(s for s in set(a) & set(b) if math.isfinite(a[s]) and math.isfinite(b[s]))
    paired = len(shared) >= 3
    if paired:
        gaps = np.array([a[s] - b[s] for s in shared])
        ref = scale if scale is not None else float(np.max(np.abs([[a[s], b[s]] for s in shared])))
        est, se, n = _moments(snap_constant(gaps, scale=ref))
        df = n - 1.0
    else:
        n = va.size + vb.size
        est = float(va.mean() - vb.mean()) if va.size and vb.size else math.nan
        ua = va.var(ddof=1) / va.size if va.size >= 2 else math.nan
        ub = vb.var(ddof=1) / vb.size if vb.size >= 2 else math.nan
        se = math.sqrt(ua + ub)
        df = (ua + ub) ** 2 / (ua ** 2 / (va.size - 1) + ub ** 2 / (vb.size - 1)) if se > 0 else math.nan
        n = n if va.size >= 2 and vb.size >= 2 else min(va.size, vb.size)
    diff = _difference(est, se, df, n)
    note = ""
    if n >= 2 and se == 0 and math.isfinite(est):
        tost, beyond = _constant(est, margin, n, usable)
        note = tost.note
    elif usable:
        tost, beyond = _tost_from(est, se, df, margin, n), _beyond_from(est, se, df, margin, n)
    else:
        tost = TestResult("tost", math.nan, math.nan, n, "no agreement margin declared")
        beyond = replace(tost, name="beyond_margin")
        note = tost.note
    if tost.p_value < alpha:
        outcome = "equivalent"
    elif beyond.p_value < alpha:
        outcome = "different"
    else:
        outcome = "undetermined"
    return Agreement(outcome, est, margin, source, diff, tost, paired, note, beyond)


def _difference(est: float, se: float, df: float, n: int) -> TestResult:
    if n < 2 or not df > 0 or not math.isfinite(est):
        return TestResult("difference_t", math.nan, math.nan, n, FEW)
    if not se > 0:
        if est == 0:
            return TestResult("difference_t", 0.0, 1.0, n, "all equal")
        return TestResult("difference_t", math.nan, math.nan, n, ZERO_VAR)
    t = est / se
    return TestResult("difference_t", float(t), float(2 * _st.t.sf(abs(t), df)), n)
