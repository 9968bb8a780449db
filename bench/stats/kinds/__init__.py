"""One analysis per claim kind: samples -> the statistics of a ``ClaimResult``.

``samples`` is ``{arm: {seed: value}}``. Each analysis returns the fields of
``bench.analysis.verdict.ClaimResult`` other than the verdict, the adjusted p-values and
power, which ``bench.analysis.verdict`` fills in. One line per kind, as the report prints it:
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy.stats import rankdata

from bench.stats import equivalence, proportions, significance as stats, trend
from bench.errors import SpecError
from bench.spec import Claim

TESTS = {
    "two_arm": "paired t-test on the per-seed difference (primary); Wilcoxon signed-rank and a "
               "sign-flip permutation test as robustness checks; a difference that is the same on every "
               "seed is decided by its exact sign-flip p; when a seed diverged in one arm, the primary is "
               "Wilcoxon over every seed with the diverged run ranked worst, and the paired t on the "
               "surviving seeds is shown beside it as a sensitivity check; Welch / Mann-Whitney when fewer "
               "than 2 seeds are paired; t 95 % CI of the mean difference.",
    "interaction": "paired t-test on the per-seed 2x2 contrast (both - dropout) - (l2 - none), i.e. the "
                   "interaction term of a linear model with seed blocks (primary); sign-flip permutation "
                   "and Wilcoxon as robustness checks; diverged seeds and constant contrasts as for two_arm; "
                   "t 95 % CI of the contrast.",
    "binary": "exact McNemar on the seed pairs (primary; the arms share seeds), Boschloo's exact test on "
              "the 2x2 table of counts as robustness (primary when fewer than 2 seeds are paired); Wilson "
              "95 % CIs per rate and Newcombe's CI of the rate difference; effect size Cohen's h.",
    "equivalence": "TOST (two one-sided paired t-tests) against the declared margin: 'reproduced' means "
                   "shown equivalent within +-margin, i.e. the 90 % t CI shown lies inside it; "
                   "'contradicted' means |difference| shown larger than the margin; a non-significant "
                   "difference alone is never read as equivalence.",
    "noninferiority": "non-inferiority against the declared margin: paired t of the per-seed contrast "
                      "(oriented so the claimed direction is positive) against -margin, one-sided p "
                      "doubled; 'reproduced' means the 95 % t CI shown (the interval this test inverts) "
                      "lies above -margin, 'contradicted' that it lies below; Wilcoxon on the shifted "
                      "contrast as robustness.",
    "trend": "inverted U over the arms in declared order: the interior arm with the best mean is the "
             "candidate peak; it must beat both ends (intersection-union of two one-sided paired "
             "t-tests; a constant leg by its exact sign-flip p), Bonferroni x (k - 2) candidates x 2 "
             "shapes; Wilcoxon version as robustness; t 95 % CI of the peak contrast.",
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


def worst_rank_contrast(claim: Claim, samples: dict, higher_is_better: bool):
    """Every seed run in all arms, a diverged (non-finite) run scored as the worst outcome.

    Returns (n_diverged_seeds, contrast (n,)). A diverged run gets -inf on a
    higher-is-better metric (+inf otherwise); a seed where diverged runs cancel
    (inf - inf) is a tie (0). Infinite contrasts then carry the largest rank
    in a signed-rank test, i.e. the diverged arm lost that seed by more than
    any finite margin. Seeds missing from an arm (never run) stay out.
    """
    seeds = sorted(set.intersection(*(set(samples[arm]) for arm in claim.arms)))
    table = np.array([[samples[arm][s] for arm in claim.arms] for s in seeds], dtype=float)
    table = table.reshape(len(seeds), len(claim.arms))
    bad = ~np.isfinite(table)
    worst = -math.inf if higher_is_better else math.inf
    scored = np.where(bad, worst, table)
    with np.errstate(invalid="ignore"):
        contrast = (scored * _weights(claim)).sum(axis=1)
    contrast = np.where(np.isnan(contrast), 0.0, contrast)
    return int(bad.any(axis=1).sum()), contrast


def _ranked(contrast: np.ndarray) -> np.ndarray:
    """Infinite contrasts replaced by finite ones that rank above every finite |value|."""
    finite = contrast[np.isfinite(contrast)]
    top = 2.0 * (float(np.max(np.abs(finite))) if finite.size else 1.0) + 1.0
    return np.where(np.isfinite(contrast), contrast, np.sign(contrast) * top)


def _base(seeds, contrast, excluded, ci, primary, robustness, effect, **extra) -> dict:
    fields = dict(
        n_pairs=len(seeds), n_excluded=excluded, estimate=ci.estimate, ci_low=ci.low, ci_high=ci.high,
        ci_label=f"{ci.confidence:.0%} t", primary=primary, robustness=robustness, unpaired=(),
        effect_name=effect.name, effect_size=effect.value, effect_note=effect.note,
        p_superiority=stats.paired_superiority(contrast).value,
        contrast=tuple((int(s), float(v)) for s, v in zip(seeds, contrast)))
    fields.update(extra)
    return fields


def _paired_primary(contrast: np.ndarray) -> stats.TestResult:
    """Paired t, or the exact sign-flip p when the contrast is one nonzero constant (t undefined)."""
    if contrast.size >= 2 and np.all(contrast == contrast[0]) and contrast[0] != 0:
        return stats.constant_sign_flip(contrast)
    return stats.paired_t(contrast)


def _with_diverged(fields: dict, claim, samples, higher_is_better, contrast) -> dict:
    """Primary over every seed (diverged = worst rank); the exclusion analysis kept as sensitivity."""
    if higher_is_better is None:
        return fields
    n_div, everything = worst_rank_contrast(claim, samples, higher_is_better)
    if n_div == 0:
        return fields
    ranked = _ranked(everything)
    primary = stats.wilcoxon_signed_rank(ranked)
    nonzero = ranked[ranked != 0]
    ranks = rankdata(np.abs(nonzero))
    # Statistic: R+ - R-, signed, so the verdict can read the direction over every seed.
    primary = replace(primary, name="wilcoxon_all_seeds",
                      statistic=float(ranks[nonzero > 0].sum() - ranks[nonzero < 0].sum()),
                      note=f"{n_div} seed(s) with a diverged run ranked worst" + (
                          f"; {primary.note}" if primary.note else ""))
    fields.update(primary=primary, robustness=fields["primary"], sensitivity=fields["primary"],
                  n_diverged=n_div)
    return fields


def two_arm(claim, samples, random_state, n_resamples, higher_is_better=None) -> dict:
    seeds, table, excluded = pair(claim, samples)
    contrast = table @ _weights(claim)
    _, _, a, b = _oriented(claim, samples)
    unpaired = (stats.welch_t(a, b), stats.mann_whitney(a, b))
    if len(seeds) < 2 and min(a.size, b.size) >= 2:
        # Pairs unavailable (different seeds finished or diverged in each arm): unpaired fallback.
        ci = stats.welch_ci(a, b, 0.95)
        fields = _base(seeds, contrast, excluded, ci, unpaired[0], unpaired[1], stats.hedges_g(a, b),
                       paired=False)
        fields["ci_label"] = "95% Welch t"
        fields["p_superiority"] = stats.prob_superiority(a, b).value
        return fields
    ci = stats.t_ci(contrast, 0.95)
    fields = _base(seeds, contrast, excluded, ci, _paired_primary(contrast),
                   stats.wilcoxon_signed_rank(contrast), stats.hedges_g(a, b), unpaired=unpaired,
                   permutation=stats.paired_permutation(contrast, n_resamples, random_state))
    return _with_diverged(fields, claim, samples, higher_is_better, contrast)


def interaction(claim, samples, random_state, n_resamples, higher_is_better=None) -> dict:
    seeds, table, excluded = pair(claim, samples)
    contrast = table @ _weights(claim)
    ci = stats.t_ci(contrast, 0.95)
    fields = _base(seeds, contrast, excluded, ci, _paired_primary(contrast),
                   stats.wilcoxon_signed_rank(contrast), stats.hedges_gz(contrast),
                   permutation=stats.paired_permutation(contrast, n_resamples, random_state))
    return _with_diverged(fields, claim, samples, higher_is_better, contrast)


def binary(claim, samples, random_state, n_resamples, higher_is_better=None) -> dict:
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
    mcnemar = proportions.mcnemar_exact(table[:, [col_a, col_b]])
    boschloo = proportions.exact_test(a, b, "boschloo")
    paired = len(seeds) >= 2
    # The arms share seeds by design, so the paired (conditional) test is primary when pairs exist.
    primary, robust = (mcnemar, boschloo) if paired else (boschloo, mcnemar)
    fields = _base(seeds, contrast, excluded, ci, primary, robust, proportions.cohens_h(a, b),
                   paired=paired, secondary=(proportions.exact_test(a, b, "fisher"),),
                   rates=tuple((arm, w.estimate, w.low, w.high) for arm, w in rates))
    fields["ci_label"] = "95% Newcombe"
    fields["p_superiority"] = stats.prob_superiority(a, b).value
    return fields


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


def equivalent(claim, samples, random_state, n_resamples, higher_is_better=None) -> dict:
    margin = claim.margin
    seeds, table, excluded = pair(claim, samples)
    contrast = table @ _weights(claim)
    # TOST at alpha = 0.05 is exactly "the 90 % t CI lies inside +-margin": that CI is shown.
    ci = stats.t_ci(contrast, 0.90)
    tests = _constant_equivalence(contrast, margin)
    if tests is None:
        tests = equivalence.tost_paired(contrast, margin), equivalence.beyond_margin_paired(contrast, margin)
    tost, beyond = tests
    inside = not abs(ci.estimate) >= margin   # NaN estimate: TOST (undefined) is primary
    primary, other = (tost, beyond) if inside else (beyond, tost)
    if len(claim.arms) == 2:
        _, _, a, b = _oriented(claim, samples)
        effect = stats.hedges_g(a, b)
    else:
        effect = stats.hedges_gz(contrast)
    return _base(seeds, contrast, excluded, ci, primary, stats.paired_t(contrast), effect,
                 secondary=(other, stats.wilcoxon_signed_rank(contrast)), margin=margin)


def noninferior(claim, samples, random_state, n_resamples, higher_is_better=None) -> dict:
    """"At least as good as": the contrast in the claimed direction must be shown above -margin."""
    margin, sign = claim.margin, (1.0 if claim.direction == "greater" else -1.0)
    seeds, table, excluded = pair(claim, samples)
    contrast = table @ _weights(claim)
    # The doubled one-sided t p < 0.05 exactly when this 95 % t CI excludes -margin.
    ci = stats.t_ci(contrast, 0.95)
    shifted = sign * contrast + margin
    if shifted.size >= 2 and np.all(shifted == shifted[0]) and shifted[0] != 0:
        flip = stats.constant_sign_flip(shifted)   # two-sided = the doubled one-sided exact p
        better = replace(flip, name="noninferior", p_value=flip.p_value if shifted[0] > 0 else 1.0)
        worse = replace(flip, name="inferior", p_value=flip.p_value if shifted[0] < 0 else 1.0)
    else:
        better, worse = equivalence.noninferiority_paired(sign * contrast, margin)
    primary, other = (worse, better) if sign * ci.estimate <= -margin else (better, worse)
    _, _, a, b = _oriented(claim, samples)
    return _base(seeds, contrast, excluded, ci, primary, stats.wilcoxon_signed_rank(shifted),
                 stats.hedges_g(a, b), secondary=(other, stats.paired_t(contrast)), margin=margin)


def ordered(claim, samples, random_state, n_resamples, higher_is_better=None) -> dict:
    seeds, table, excluded = pair(claim, samples)
    if table.shape[0] == 0:
        table = np.empty((0, len(claim.arms)))
    shape = trend.inverted_u(table, "t")
    robust = trend.inverted_u(table, "wilcoxon").test if table.shape[0] >= 2 else shape.test
    ci = stats.t_ci(shape.contrast, 0.95)
    return _base(seeds, shape.contrast, excluded, ci, shape.test, robust,
                 stats.hedges_gz(shape.contrast), peak=claim.arms[shape.column])


ANALYSES = {"two_arm": two_arm, "interaction": interaction, "binary": binary,
            "equivalence": equivalent, "noninferiority": noninferior, "trend": ordered}
