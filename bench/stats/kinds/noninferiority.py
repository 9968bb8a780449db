"""Non-inferiority claims: "at least as good as", the contrast shown above -margin.

Paired t of the per-seed contrast (oriented so the claimed direction is
positive) against -margin, one-sided p doubled; Wilcoxon on the shifted contrast as robustness.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from bench.stats import equivalence, power as powerlib, significance as stats
from bench.stats.kinds import common

NAME = "noninferiority"
ORDER = 4
TEST = ("non-inferiority against the declared margin: paired t of the per-seed contrast "
        "(oriented so the claimed direction is positive) against -margin, one-sided p "
        "doubled (each side at alpha / 2, the level equivalence uses); 'reproduced' means the "
        "t CI shown (95 %, or Holm's adjusted level: the interval this test inverts) lies above "
        "-margin, 'contradicted' that it lies below; a contrast of exactly -margin on every seed "
        "is neither; Wilcoxon on the shifted contrast as robustness.")
MDE_UNIT = ""
NEEDED_UNIT = ""
SIZED = False
interval = common.paired_interval
MARGIN_SIDES = (-1.0,)

robust_note = common.no_robust_note


def validate(claim) -> None:
    common.check_two_opposite_arms(claim)
    common.check_margin(claim)


def analyse(claim, samples, random_state, n_resamples, higher_is_better=None) -> dict:
    """"At least as good as": the contrast in the claimed direction must be shown above -margin."""
    margin, sign = claim.margin, (1.0 if claim.direction == "greater" else -1.0)
    seeds, table, excluded = common.pair(claim, samples)
    contrast = common.contrast_of(table, common.weights(claim))
    # The doubled one-sided t p < 0.05 exactly when this 95 % t CI excludes -margin.
    ci = stats.t_ci(contrast, 0.95)
    # The contrast's distance above -margin, snapped like the contrast: a contrast of exactly
    # -margin on every seed (up to the rounding of the values and the margin) is 0, not +-1e-18.
    scale = float(np.max(np.abs(table) @ np.abs(common.weights(claim)))) + margin if table.size else margin
    shifted = stats.snap_constant(sign * contrast + margin, scale=scale)
    if shifted.size >= 2 and np.all(shifted == 0):
        note = "contrast exactly -margin on every seed: neither side shown"
        better = stats.TestResult("noninferior", 0.0, 1.0, shifted.size, note)
        worse = stats.TestResult("inferior", 0.0, 1.0, shifted.size, note)
    elif shifted.size >= 2 and np.all(shifted == shifted[0]):
        flip = stats.constant_sign_flip(shifted)   # two-sided = the doubled one-sided exact p
        better = replace(flip, name="noninferior", p_value=flip.p_value if shifted[0] > 0 else 1.0)
        worse = replace(flip, name="inferior", p_value=flip.p_value if shifted[0] < 0 else 1.0)
    else:
        better, worse = equivalence.noninferiority_paired(sign * contrast, margin)
    primary, other = (worse, better) if sign * ci.estimate <= -margin else (better, worse)
    _, _, a, b = common.oriented(claim, samples)
    return common.base(seeds, contrast, excluded, ci, primary, stats.wilcoxon_signed_rank(shifted),
                       stats.hedges_g(a, b), secondary=(other, stats.paired_t(contrast)), margin=margin)


def decide(result, p: float, alpha: float, label: str) -> tuple[str, str]:
    side = "above" if result.primary.name == "noninferior" else "below"
    bound = f"-{result.margin:.3g} (oriented so the claimed direction is positive)"
    if p >= alpha:
        return "inconclusive", (f"{result.primary.name} {label} = {p:.3g} >= alpha = {alpha:g}: the contrast "
                                f"is shown neither above nor below {bound}")
    if side == "above":
        return "reproduced", f"{label} = {p:.3g} < {alpha:g}: at worst {result.margin:.3g} behind (non-inferior)"
    return "contradicted", f"{label} = {p:.3g} < {alpha:g}: more than {result.margin:.3g} behind (inferior)"


def power(result, alpha: float) -> powerlib.Power:
    """One-sided noncentral t at the doubled one-sided level, as a distance above -margin."""
    sign = 1.0 if result.direction == "greater" else -1.0
    return powerlib.noninferiority(sign * result.estimate + result.margin, common.contrast_sd(result),
                                   result.n_pairs, alpha)


def label(result, fmt) -> str:
    return (f"{'non-inferior' if result.primary.name == 'noninferior' else 'inferior'} "
            f"beyond -{fmt(result.margin, 3)}")
