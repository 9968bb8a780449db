"""One analysis per claim kind: samples -> the statistics of a ``ClaimResult``.

``samples`` is ``{arm: {seed: value}}``. Each analysis returns the fields of
``bench.verdict.ClaimResult`` other than the verdict, the adjusted p-values and
power, which ``bench.verdict`` fills in. One line per kind, as the report prints it:
"""
from __future__ import annotations

import math

import numpy as np

from bench import equivalence, proportions, stats, trend
from bench.errors import SpecError
from bench.spec import Claim

TESTS = {
    "two_arm": "paired t-test on the per-seed difference (primary); Wilcoxon signed-rank and a "
               "sign-flip permutation test as robustness checks; Welch / Mann-Whitney when fewer "
               "than 2 seeds are paired; bootstrap 95 % CI of the mean difference.",
    "interaction": "paired t-test on the per-seed 2x2 contrast (both - dropout) - (l2 - none), i.e. the "
                   "interaction term of a linear model with seed blocks (primary); sign-flip permutation "
                   "and Wilcoxon as robustness checks; bootstrap 95 % CI of the contrast.",
    "binary": "Boschloo's exact test on the 2x2 table of outcome counts per arm (primary); exact "
              "McNemar on the seed pairs as robustness check; Wilson 95 % CIs per rate and Newcombe's "
              "CI of the rate difference; effect size Cohen's h.",
    "equivalence": "TOST (two one-sided paired t-tests) against the declared margin: 'reproduced' means "
                   "shown equivalent within +-margin; 'contradicted' means |difference| shown larger than "
                   "the margin; a non-significant difference alone is never read as equivalence.",
    "noninferiority": "non-inferiority against the declared margin: paired t of the per-seed contrast "
                      "(oriented so the claimed direction is positive) against -margin, one-sided p "
                      "doubled; 'reproduced' means the 95 % CI lies above -margin, 'contradicted' that it "
                      "lies below; Wilcoxon on the shifted contrast as robustness.",
    "trend": "inverted U over the arms in declared order: the interior arm with the best mean is the "
             "candidate peak; it must beat both ends (intersection-union of two one-sided paired "
             "t-tests), Bonferroni x (k - 2) candidates x 2 shapes; Wilcoxon version as robustness.",
}


def _values(by_seed: dict) -> np.ndarray:
    values = np.array(list(by_seed.values()), dtype=float)
    return values[np.isfinite(values)]


def pair(claim: Claim, samples: dict):
    """Seeds kept (ascending), the (n_pairs, k) table of arm values and the per-arm
    count of seeds excluded because that arm had no finite value there."""
    seeds = sorted(set().union(*(samples[arm].keys() for arm in claim.arms)))
    table = np.array([[samples[arm].get(s, math.nan) for arm in claim.arms] for s in seeds],
                     dtype=float).reshape(len(seeds), len(claim.arms))
    finite = np.isfinite(table)
    keep = finite.all(axis=1)
    excluded = tuple((arm, int((~finite[:, i]).sum())) for i, arm in enumerate(claim.arms))
    return [s for s, k in zip(seeds, keep) if k], table[keep], excluded


def _weights(claim: Claim) -> np.ndarray:
    return np.array([w for _, w in claim.contrast], dtype=float)


def _oriented(claim: Claim, samples: dict):
    """The two arms' finite values, positive-weight arm first."""
    (arm_a, w_a), (arm_b, _) = claim.contrast
    if w_a < 0:
        arm_a, arm_b = arm_b, arm_a
    return arm_a, arm_b, _values(samples[arm_a]), _values(samples[arm_b])


def _base(seeds, contrast, excluded, ci, primary, robustness, effect, **extra) -> dict:
    fields = dict(
        n_pairs=len(seeds), n_excluded=excluded, estimate=ci.estimate, ci_low=ci.low, ci_high=ci.high,
        primary=primary, robustness=robustness, unpaired=(), effect_name=effect.name,
        effect_size=effect.value, effect_note=effect.note,
        p_superiority=stats.paired_superiority(contrast).value,
        contrast=tuple((int(s), float(v)) for s, v in zip(seeds, contrast)))
    fields.update(extra)
    return fields


def two_arm(claim, samples, random_state, n_resamples) -> dict:
    seeds, table, excluded = pair(claim, samples)
    contrast = table @ _weights(claim)
    _, _, a, b = _oriented(claim, samples)
    unpaired = (stats.welch_t(a, b), stats.mann_whitney(a, b))
    if len(seeds) < 2 and min(a.size, b.size) >= 2:
        # Pairs unavailable (different seeds finished or diverged in each arm): unpaired fallback.
        ci = stats.bootstrap_ci_diff(a, b, 0.95, n_resamples, random_state)
        fields = _base(seeds, contrast, excluded, ci, unpaired[0], unpaired[1], stats.hedges_g(a, b),
                       paired=False)
        fields["p_superiority"] = stats.prob_superiority(a, b).value
        return fields
    ci = stats.bootstrap_ci(contrast, 0.95, n_resamples, random_state)
    return _base(seeds, contrast, excluded, ci, stats.paired_t(contrast),
                 stats.wilcoxon_signed_rank(contrast), stats.hedges_g(a, b), unpaired=unpaired,
                 permutation=stats.paired_permutation(contrast, n_resamples, random_state))


def interaction(claim, samples, random_state, n_resamples) -> dict:
    seeds, table, excluded = pair(claim, samples)
    contrast = table @ _weights(claim)
    ci = stats.bootstrap_ci(contrast, 0.95, n_resamples, random_state)
    return _base(seeds, contrast, excluded, ci, stats.paired_t(contrast),
                 stats.wilcoxon_signed_rank(contrast), stats.hedges_gz(contrast),
                 permutation=stats.paired_permutation(contrast, n_resamples, random_state))


def binary(claim, samples, random_state, n_resamples) -> dict:
    for arm in claim.arms:
        v = _values(samples[arm])
        if not np.all((v == 0) | (v == 1)):
            raise SpecError(f"binary claim {claim.id!r} needs 0/1 values (metric 'diverged'); "
                            f"arm {arm!r} has others.")
    seeds, table, excluded = pair(claim, samples)
    arm_a, arm_b, a, b = _oriented(claim, samples)
    col_a, col_b = claim.arms.index(arm_a), claim.arms.index(arm_b)
    contrast = table[:, col_a] - table[:, col_b]
    ci = proportions.rate_difference(a, b)
    rates = tuple((arm, proportions.wilson(v)) for arm, v in ((arm_a, a), (arm_b, b)))
    fields = _base(seeds, contrast, excluded, ci, proportions.exact_test(a, b, "boschloo"),
                   proportions.mcnemar_exact(table[:, [col_a, col_b]]), proportions.cohens_h(a, b),
                   paired=False, secondary=(proportions.exact_test(a, b, "fisher"),),
                   rates=tuple((arm, w.estimate, w.low, w.high) for arm, w in rates))
    fields["p_superiority"] = stats.prob_superiority(a, b).value
    return fields


def equivalent(claim, samples, random_state, n_resamples) -> dict:
    margin = claim.margin
    seeds, table, excluded = pair(claim, samples)
    contrast = table @ _weights(claim)
    ci = stats.bootstrap_ci(contrast, 0.95, n_resamples, random_state)
    tost = equivalence.tost_paired(contrast, margin)
    beyond = equivalence.beyond_margin_paired(contrast, margin)
    inside = not abs(ci.estimate) >= margin   # NaN estimate: TOST (undefined) is primary
    primary, other = (tost, beyond) if inside else (beyond, tost)
    if len(claim.arms) == 2:
        _, _, a, b = _oriented(claim, samples)
        effect = stats.hedges_g(a, b)
    else:
        effect = stats.hedges_gz(contrast)
    return _base(seeds, contrast, excluded, ci, primary, stats.paired_t(contrast), effect,
                 secondary=(other, stats.wilcoxon_signed_rank(contrast)), margin=margin)


def noninferior(claim, samples, random_state, n_resamples) -> dict:
    """"At least as good as": the contrast in the claimed direction must be shown above -margin."""
    margin, sign = claim.margin, (1.0 if claim.direction == "greater" else -1.0)
    seeds, table, excluded = pair(claim, samples)
    contrast = table @ _weights(claim)
    ci = stats.bootstrap_ci(contrast, 0.95, n_resamples, random_state)
    better, worse = equivalence.noninferiority_paired(sign * contrast, margin)
    primary, other = (worse, better) if sign * ci.estimate <= -margin else (better, worse)
    _, _, a, b = _oriented(claim, samples)
    return _base(seeds, contrast, excluded, ci, primary, stats.wilcoxon_signed_rank(sign * contrast + margin),
                 stats.hedges_g(a, b), secondary=(other, stats.paired_t(contrast)), margin=margin)


def ordered(claim, samples, random_state, n_resamples) -> dict:
    seeds, table, excluded = pair(claim, samples)
    if table.shape[0] == 0:
        table = np.empty((0, len(claim.arms)))
    shape = trend.inverted_u(table, "t")
    robust = trend.inverted_u(table, "wilcoxon").test if table.shape[0] >= 2 else shape.test
    ci = stats.bootstrap_ci(shape.contrast, 0.95, n_resamples, random_state)
    return _base(seeds, shape.contrast, excluded, ci, shape.test, robust,
                 stats.hedges_gz(shape.contrast), peak=claim.arms[shape.column])


ANALYSES = {"two_arm": two_arm, "interaction": interaction, "binary": binary,
            "equivalence": equivalent, "noninferiority": noninferior, "trend": ordered}
