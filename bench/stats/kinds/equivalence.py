"""Equivalence claims: the contrast lies within +-margin (TOST against the declared margin).

'reproduced' means shown equivalent, 'contradicted' that |difference| is shown
beyond the margin; a non-significant difference alone is never read as equivalence.
"""
from __future__ import annotations

import math

import numpy as np

from bench.stats import equivalence, power as powerlib, significance as stats
from bench.stats.kinds import common

NAME = "equivalence"
ORDER = 3
TEST = ("TOST (two one-sided paired t-tests) against the declared margin: 'reproduced' means "
        "shown equivalent within +-margin, i.e. the 90 % t CI shown lies inside it; "
        "'contradicted' means |difference| shown larger than the margin; a non-significant "
        "difference alone is never read as equivalence.")
MDE_UNIT = ""
NEEDED_UNIT = ""
SIZED = False
MARGIN_SIDES = (-1.0, 1.0)

validate = common.check_margin
robust_note = common.no_robust_note


def _constant_equivalence(contrast: np.ndarray, margin: float):
    """(tost, beyond) for a contrast equal on every seed, by exact sign flips; None otherwise."""
    n = contrast.size
    if n < 2 or not np.all(contrast == contrast[0]):
        return None
    c = float(contrast[0])
    if c == 0:
        # Identical arms on every seed: equivalent by construction, whatever n is.
        tost = stats.TestResult("tost", math.inf, 0.0, n, "identical on every seed: equivalent by construction")
        return tost, stats.TestResult("beyond_margin", -math.inf, 1.0, n, stats.EQUAL)
    inside = abs(c) < margin
    one = 1.0 / 2 ** n
    note = "constant contrast: exact sign-flip p"
    tost = stats.TestResult("tost", c, one if inside else 1.0, n, note)
    beyond = stats.TestResult("beyond_margin", c, 1.0 if abs(c) <= margin else min(1.0, 2 * one), n, note)
    return tost, beyond


def analyse(claim, samples, random_state, n_resamples, higher_is_better=None) -> dict:
    margin = claim.margin
    seeds, table, excluded = common.pair(claim, samples)
    contrast = table @ common.weights(claim)
    # TOST at alpha = 0.05 is exactly "the 90 % t CI lies inside +-margin": that CI is shown.
    ci = stats.t_ci(contrast, 0.90)
    tests = _constant_equivalence(contrast, margin)
    if tests is None:
        tests = equivalence.tost_paired(contrast, margin), equivalence.beyond_margin_paired(contrast, margin)
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
    """Exact TOST power (``bench.stats.power.tost``)."""
    return powerlib.tost(result.estimate, common.contrast_sd(result), result.n_pairs, result.margin, alpha)


def label(result, fmt) -> str:
    return f"{'TOST' if result.primary.name == 'tost' else 'beyond margin'} ±{fmt(result.margin, 3)}"
