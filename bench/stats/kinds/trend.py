"""Trend claims: an inverted U over three or more arms in their declared order.

The interior arm with the best mean is the candidate peak; it must beat both
ends (intersection-union of two one-sided paired tests, Bonferroni over candidates and shapes).
"""
from __future__ import annotations

import math

import numpy as np

from bench.errors import SpecError
from bench.stats import power as powerlib, significance as stats, trend
from bench.stats.kinds import common

NAME = "trend"
ORDER = 5
TEST = ("inverted U over the arms in declared order: the interior arm with the best mean is the "
        "candidate peak; it must beat both ends (intersection-union of two one-sided paired "
        "t-tests; a constant leg by its exact sign-flip p), Bonferroni x (k - 2) candidates x 2 "
        "shapes; Wilcoxon version as robustness; t 95 % CI of the peak contrast.")
MDE_UNIT = ""
NEEDED_UNIT = ""
SIZED = True
MARGIN_SIDES = ()

decide = common.decide_direction
robust_note = common.robust_note


def validate(claim) -> None:
    if len(claim.contrast) < 3:
        raise SpecError(f"trend claim {claim.id!r} needs >= 3 arms in their order.")


def analyse(claim, samples, random_state, n_resamples, higher_is_better=None) -> dict:
    seeds, table, excluded = common.pair(claim, samples)
    if table.shape[0] == 0:
        table = np.empty((0, len(claim.arms)))
    shape = trend.inverted_u(table, "t")
    robust = trend.inverted_u(table, "wilcoxon").test if table.shape[0] >= 2 else shape.test
    ci = stats.t_ci(shape.contrast, 0.95)
    return common.base(seeds, shape.contrast, excluded, ci, shape.test, robust,
                       stats.hedges_gz(shape.contrast), peak=claim.arms[shape.column])


def power(result, alpha: float) -> powerlib.Power:
    # The inverted-U test's power depends on the whole curve (both legs, every candidate
    # peak), not on one effect, so no single-number MDE is printed rather than an untested one.
    return powerlib.Power(math.nan, result.n_pairs, alpha, powerlib.POWER, result.estimate, None,
                          "none for a shape claim",
                          "no MDE: an inverted-U test's power depends on the whole curve, not on one effect")


def label(result, fmt) -> str:
    return f"peak IUT ({result.peak})"
