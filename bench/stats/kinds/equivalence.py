"""Equivalence claims: the contrast lies within +-margin (TOST against the declared margin).

'reproduced' means shown equivalent, 'contradicted' that |difference| is shown
beyond the margin; a non-significant difference alone is never read as equivalence.
Each one-sided test runs at alpha / 2 (TOST's p is doubled), so 'reproduced' means
the 95 % t CI (at Holm's adjusted level in a family) lies inside +-margin: the level
non-inferiority uses, so on the same data equivalence always implies non-inferiority.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from bench.stats import equivalence, power as powerlib, significance as stats
from bench.stats.kinds import common

NAME = "equivalence"
ORDER = 3
TEST = ("TOST (two one-sided paired t-tests, each at alpha / 2, the level non-inferiority uses) "
        "against the declared margin: 'reproduced' means shown equivalent within +-margin, i.e. the "
        "t CI shown (95 %, or Holm's adjusted level) lies inside it; "
        "'contradicted' means |difference| shown larger than the margin; a non-significant "
        "difference alone is never read as equivalence.")
MDE_UNIT = ""
NEEDED_UNIT = ""
SIZED = False
interval = common.paired_interval
MARGIN_SIDES = (-1.0, 1.0)

validate = common.check_margin
robust_note = common.no_robust_note


def _constant_equivalence(contrast: np.ndarray, margin: float, scale: float):
    """(tost, beyond) for a contrast equal on every seed, by exact sign flips; None otherwise.

    A constant exactly at the margin (within ``stats.constant_tolerance`` of the values'
    ``scale``) is shown neither inside nor beyond it."""
    n = contrast.size
    if n < 2 or not np.all(contrast == contrast[0]):
        return None
    c = float(contrast[0])
    if c == 0:
        # Identical arms on every seed: equivalent by construction, whatever n is.
        tost = stats.TestResult("tost", math.inf, 0.0, n, "identical on every seed: equivalent by construction")
        return tost, stats.TestResult("beyond_margin", -math.inf, 1.0, n, stats.EQUAL)
    gap = abs(c) - margin
    if abs(gap) <= stats.constant_tolerance(scale + margin):
        gap = 0.0
    two = min(1.0, 2.0 / 2 ** n)   # the two-sided exact sign-flip p of a constant
    note = "constant contrast: exact sign-flip p"
    tost = stats.TestResult("tost", c, two if gap < 0 else 1.0, n, note)
    beyond = stats.TestResult("beyond_margin", c, two if gap > 0 else 1.0, n, note)
    return tost, beyond


def _doubled(test: stats.TestResult) -> stats.TestResult:
    """TOST's p (the larger one-sided p) doubled: compared with alpha it runs each one-sided
    test at alpha / 2, i.e. the 95 % CI inside +-margin, the level non-inferiority uses."""
    return replace(test, p_value=min(1.0, 2 * test.p_value)) if math.isfinite(test.p_value) else test


def analyse(claim, samples, random_state, n_resamples, higher_is_better=None) -> dict:
    margin = claim.margin
    seeds, table, excluded = common.pair(claim, samples)
    w = common.weights(claim)
    contrast = common.contrast_of(table, w)
    scale = float(np.max(np.abs(table) @ np.abs(w))) if table.size else 0.0
    # Doubled TOST at alpha = 0.05 is exactly "the 95 % t CI lies inside +-margin": that CI is shown.
    ci = stats.t_ci(contrast, 0.95)
    tests = _constant_equivalence(contrast, margin, scale)
    if tests is None:
        tests = (_doubled(equivalence.tost_paired(contrast, margin)),
                 equivalence.beyond_margin_paired(contrast, margin))
    tost, beyond = tests
    inside = not abs(ci.estimate) >= margin   # NaN estimate: TOST (undefined) is primary
    primary, other = (tost, beyond) if inside else (beyond, tost)
    if len(claim.arms) == 2:
        _, _, a, b = common.oriented(claim, samples)
        effect = stats.hedges_g(a, b)
    else:
        effect = stats.hedges_gz(contrast)
    return common.base(seeds, contrast, excluded, ci, primary, stats.paired_t(contrast), effect,
                       secondary=(other, stats.wilcoxon_signed_rank(contrast)), margin=margin)


def decide(result, p: float, alpha: float, label: str) -> tuple[str, str]:
    margin = f"+-{result.margin:.3g}"
    if p >= alpha:
        return "inconclusive", (f"{result.primary.name} {label} = {p:.3g} >= alpha = {alpha:g}: neither "
                                f"equivalence within {margin} nor a larger difference is shown")
    if result.primary.name == "tost":
        extra = f" ({result.primary.note})" if result.primary.note else ""
        return "reproduced", f"TOST {label} = {p:.3g} < {alpha:g}: equivalent within {margin}{extra}"
    return "contradicted", f"{label} = {p:.3g} < {alpha:g}: |difference| is larger than {margin}"


def power(result, alpha: float) -> powerlib.Power:
    """Exact TOST power (``bench.stats.power.tost``) with each one-sided test at alpha / 2."""
    return powerlib.tost(result.estimate, common.contrast_sd(result), result.n_pairs, result.margin, alpha / 2)


def label(result, fmt) -> str:
    return f"{'TOST' if result.primary.name == 'tost' else 'beyond margin'} ±{fmt(result.margin, 3)}"
