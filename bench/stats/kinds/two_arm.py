"""Two-arm claims: "A beats B" on a continuous metric, paired by seed.

Paired t on the per-seed difference; the unpaired Welch fallback when fewer
than 2 seeds are paired; diverged seeds ranked worst when the metric's direction is known.
"""
from __future__ import annotations

from bench.stats import significance as stats
from bench.stats.kinds import common

NAME = "two_arm"
ORDER = 0   # its place in listings (the spec's error message, the report's table of tests)
TEST = ("paired t-test on the per-seed difference (primary); Wilcoxon signed-rank and a "
        "sign-flip permutation test as robustness checks; a difference that is the same on every "
        "seed is decided by its exact sign-flip p; when a seed diverged in one arm, the primary is "
        "Wilcoxon over every seed with the diverged run ranked worst, and the paired t on the "
        "surviving seeds is shown beside it as a sensitivity check; Welch / Mann-Whitney when fewer "
        "than 2 seeds are paired; t 95 % CI of the mean difference.")
MDE_UNIT = ""
NEEDED_UNIT = ""
SIZED = True
interval = common.paired_interval
MARGIN_SIDES = ()

validate = common.check_two_opposite_arms
decide = common.decide_direction
robust_note = common.robust_note
power = common.paired_power


def analyse(claim, samples, random_state, n_resamples, higher_is_better=None) -> dict:
    seeds, table, excluded = common.pair(claim, samples)
    contrast = common.contrast_of(table, common.weights(claim))
    _, _, a, b = common.oriented(claim, samples)
    unpaired = (stats.welch_t(a, b), stats.mann_whitney(a, b))
    if len(seeds) < 2 and min(a.size, b.size) >= 2:
        # Pairs unavailable (different seeds finished or diverged in each arm): unpaired fallback.
        ci = stats.welch_ci(a, b, 0.95)
        fields = common.base(seeds, contrast, excluded, ci, unpaired[0], unpaired[1], stats.hedges_g(a, b),
                             paired=False)
        fields["ci_label"] = "95% Welch t"
        fields["p_superiority"] = stats.prob_superiority(a, b).value
        return fields
    ci = stats.t_ci(contrast, 0.95)
    fields = common.base(seeds, contrast, excluded, ci, common.paired_primary(contrast),
                         stats.wilcoxon_signed_rank(contrast), stats.hedges_g(a, b), unpaired=unpaired,
                         permutation=stats.paired_permutation(contrast, n_resamples, random_state))
    return common.with_diverged(fields, claim, samples, higher_is_better, contrast)


def label(result, fmt) -> str:
    return common.primary_name(result)
