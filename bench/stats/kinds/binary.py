"""Binary claims: the rate of a 0/1 outcome (e.g. metric ``diverged``) in two arms.

Exact McNemar on the seed pairs, Boschloo's exact test as robustness (primary
when fewer than 2 seeds are paired); Wilson CIs per rate, Newcombe's CI of the difference.
"""
from __future__ import annotations

import math

import numpy as np

from bench.errors import SpecError
from bench.stats import power as powerlib, proportions, significance as stats
from bench.stats.kinds import common

NAME = "binary"
ORDER = 2
TEST = ("exact McNemar on the seed pairs (primary; the arms share seeds), Boschloo's exact test on "
        "the 2x2 table of counts as robustness (primary when fewer than 2 seeds are paired); Wilson "
        "95 % CIs per rate and Newcombe's CI of the rate difference; effect size Cohen's h.")
MDE_UNIT = " (rate diff.)"
NEEDED_UNIT = " per arm"
SIZED = True
MARGIN_SIDES = ()

validate = common.check_two_opposite_arms
decide = common.decide_direction
robust_note = common.robust_note


def analyse(claim, samples, random_state, n_resamples, higher_is_better=None) -> dict:
    for arm in claim.arms:
        v = common.values(samples[arm])
        if not np.all((v == 0) | (v == 1)):
            raise SpecError(f"binary claim {claim.id!r} needs 0/1 values (metric 'diverged'); "
                            f"arm {arm!r} has others.")
    seeds, table, excluded = common.pair(claim, samples)
    arm_a, arm_b, a, b = common.oriented(claim, samples)
    col_a, col_b = claim.arms.index(arm_a), claim.arms.index(arm_b)
    contrast = table[:, col_a] - table[:, col_b]
    ci = proportions.rate_difference(a, b)
    rates = tuple((arm, proportions.wilson(v)) for arm, v in ((arm_a, a), (arm_b, b)))
    mcnemar = proportions.mcnemar_exact(table[:, [col_a, col_b]])
    boschloo = proportions.exact_test(a, b, "boschloo")
    paired = len(seeds) >= 2
    # The arms share seeds by design, so the paired (conditional) test is primary when pairs exist.
    primary, robust = (mcnemar, boschloo) if paired else (boschloo, mcnemar)
    fields = common.base(seeds, contrast, excluded, ci, primary, robust, proportions.cohens_h(a, b),
                         paired=paired, secondary=(proportions.exact_test(a, b, "fisher"),),
                         rates=tuple((arm, w.estimate, w.low, w.high) for arm, w in rates))
    fields["ci_label"] = "95% Newcombe"
    fields["p_superiority"] = stats.prob_superiority(a, b).value
    return fields


def power(result, alpha: float) -> powerlib.Power:
    """Exact enumerated power of McNemar (paired) or Boschloo (unpaired), as a rate difference."""
    (a, b) = result.rates if result.rates else ((None, math.nan, 0, 0), (None, math.nan, 0, 0))
    n_a, n_b = (s.n_finite for s in result.arm_summary)
    if result.paired:
        return powerlib.binary_exact(a[1], b[1], result.n_pairs, result.n_pairs, True, alpha)
    return powerlib.binary_exact(a[1], b[1], n_a, n_b, False, alpha)


def interval(result, alpha: float) -> dict:
    """Newcombe's CI of the rate difference at level 1 - ``alpha``. It is the unpaired
    interval, not the one the paired McNemar test inverts: the label says so."""
    level = 1.0 - alpha
    label = f"{common.level_text(level)} Newcombe{common.holm_note(alpha)} (unpaired; McNemar decides)"
    if len(result.rates) != 2 or not all(math.isfinite(r) for _, r, _, _ in result.rates):
        return dict(ci_level=level, ci_label=label)
    n = {s.arm: s.n_finite for s in result.arm_summary}
    arms = [np.r_[np.ones(round(rate * n[arm])), np.zeros(n[arm] - round(rate * n[arm]))]
            for arm, rate, _, _ in result.rates]
    ci = proportions.rate_difference(arms[0], arms[1], level)
    return dict(ci_low=ci.low, ci_high=ci.high, ci_level=level, ci_label=label)


def label(result, fmt) -> str:
    return common.primary_name(result)
