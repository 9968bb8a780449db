"""Trend claims: an inverted U over three or more arms in their declared order.

The interior arm with the best mean is the candidate peak; it must beat both
ends (intersection-union of two one-sided paired tests, Bonferroni over candidates and shapes).

What the report shows is what the test decides on: the peak's height above the
nearer end, i.e. the smaller of its two legs (peak - first, peak - last), per
seed and on average, with the interval the test inverts. Each leg's two-sided
t CI at level 1 - alpha / (k - 2) (alpha: Holm's level for the claim) is the
one its one-sided test at alpha / (2 (k - 2)) inverts; the height's interval
is [min of the lower ends, min of the upper ends] (for a trough, the mirror), so
it lies above 0 exactly when the shape test rejects. The (k - 2) widening pays
for choosing the peak among the interior arms from the data (the coverage this
gives is measured in tests/test_simulation.py).
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
        "shapes; Wilcoxon version as robustness. The estimate is the peak's height above the "
        "nearer end, with the t CI the shape test inverts (each leg at 1 - alpha / (k - 2)).")
MDE_UNIT = ""
NEEDED_UNIT = ""
SIZED = True
MARGIN_SIDES = ()

decide = common.decide_direction
robust_note = common.robust_note


def validate(claim) -> None:
    if len(claim.contrast) < 3:
        raise SpecError(f"trend claim {claim.id!r} needs >= 3 arms in their order.")


def legs(table: np.ndarray, column: int) -> np.ndarray:
    """(n, 2): per seed, the arm at ``column`` minus the first arm and minus the last
    (each snapped to a constant when it is one up to rounding, as the shape test sees it)."""
    scale = 2.0 * float(np.max(np.abs(table))) if table.size else 0.0
    return np.column_stack([stats.snap_constant(table[:, column] - table[:, end], scale=scale)
                            for end in (0, -1)]).reshape(table.shape[0], 2)


def height(two_legs: np.ndarray, shape: str) -> tuple[np.ndarray, int]:
    """The per-seed leg the height is read from (the smaller mean for a peak, the larger
    for a trough: the nearer end) and its end (0: first arm, 1: last arm)."""
    means = two_legs.mean(axis=0)
    end = int(np.argmin(means)) if shape == "peak" else int(np.argmax(means))
    return two_legs[:, end], end


def analyse(claim, samples, random_state, n_resamples, higher_is_better=None) -> dict:
    seeds, table, excluded = common.pair(claim, samples)
    if table.shape[0] == 0:
        table = np.empty((0, len(claim.arms)))
    shape = trend.inverted_u(table, "t")
    robust = trend.inverted_u(table, "wilcoxon").test if table.shape[0] >= 2 else shape.test
    contrast, end = height(legs(table, shape.column), shape.shape) if table.shape[0] else (np.empty(0), 1)
    ci = stats.t_ci(contrast, 0.95)
    return common.base(seeds, contrast, excluded, ci, shape.test, robust, stats.hedges_gz(contrast),
                       peak=claim.arms[shape.column], shape=shape.shape,
                       peak_end=claim.arms[0] if end == 0 else claim.arms[-1],
                       table=tuple((int(s), tuple(float(v) for v in row)) for s, row in zip(seeds, table)))


def interval(result, alpha: float) -> dict:
    """The peak's height above the nearer end and its CI at the level the shape test is decided at."""
    k = len(result.arm_summary)
    level = 1.0 - alpha / max(1, k - 2)
    label = f"{common.level_text(level)} t{common.holm_note(alpha)}, height above nearer end, x{k - 2} candidates"
    rows = np.array([v for _, v in result.table], dtype=float).reshape(-1, k)
    if rows.shape[0] < 2:
        return dict(ci_level=level, ci_label=label)
    column = [s.arm for s in result.arm_summary].index(result.peak)
    two = legs(rows, column)
    cis = [stats.t_ci(two[:, i], level) for i in range(2)]
    pick = min if result.shape == "peak" else max
    return dict(estimate=pick(c.estimate for c in cis), ci_low=pick(c.low for c in cis),
                ci_high=pick(c.high for c in cis), ci_level=level, ci_label=label)


def post_height(reported: dict, arms, direction: str):
    """The post's own height of its best interior arm above the nearer end (metric units),
    from its per-arm figures; None unless every arm has a plain number."""
    try:
        values = np.array([float(reported[arm]) for arm in arms])
    except (KeyError, ValueError):
        return None
    if not np.all(np.isfinite(values)):
        return None
    if direction == "greater":
        return float(values[1:-1].max() - max(values[0], values[-1]))
    return float(values[1:-1].min() - min(values[0], values[-1]))


def power(result, alpha: float) -> powerlib.Power:
    # The inverted-U test's power depends on the whole curve (both legs, every candidate
    # peak), not on one effect, so no single-number MDE is printed rather than an untested one.
    return powerlib.Power(math.nan, result.n_pairs, alpha, powerlib.POWER, result.estimate, None,
                          "none for a shape claim",
                          "no MDE: an inverted-U test's power depends on the whole curve, not on one effect")


def label(result, fmt) -> str:
    return f"peak IUT ({result.peak})"
