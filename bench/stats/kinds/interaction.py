"""Interaction claims: a 2x2 (or any weighted) contrast of arms, paired by seed.

The paired t on the per-seed contrast is the interaction term of a linear model
with seed blocks; diverged seeds and constant contrasts are handled as for two-arm claims.
"""
from __future__ import annotations

from bench.stats import significance as stats
from bench.stats.kinds import common

NAME = "interaction"
ORDER = 1
TEST = ("paired t-test on the per-seed 2x2 contrast (both - dropout) - (l2 - none), i.e. the "
        "interaction term of a linear model with seed blocks (primary); sign-flip permutation "
        "and Wilcoxon as robustness checks; diverged seeds and constant contrasts as for two_arm; "
        "t 95 % CI of the contrast.")
MDE_UNIT = ""
NEEDED_UNIT = ""
SIZED = True
interval = common.paired_interval
MARGIN_SIDES = ()

decide = common.decide_direction
robust_note = common.robust_note
power = common.paired_power


def validate(claim) -> None:
    """Any weighted contrast of the case's arms is an interaction."""


def analyse(claim, samples, random_state, n_resamples, higher_is_better=None) -> dict:
    seeds, table, excluded = common.pair(claim, samples)
    contrast = common.contrast_of(table, common.weights(claim))
    ci = stats.t_ci(contrast, 0.95)
    fields = common.base(seeds, contrast, excluded, ci, common.paired_primary(contrast),
                         stats.wilcoxon_signed_rank(contrast), stats.hedges_gz(contrast),
                         permutation=stats.paired_permutation(contrast, n_resamples, random_state))
    return common.with_diverged(fields, claim, samples, higher_is_better, contrast)


def label(result, fmt) -> str:
    return common.primary_name(result)
