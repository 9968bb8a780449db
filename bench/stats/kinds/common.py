"""What the claim kinds share: pairing arms by seed, the contrast, diverged seeds ranked worst,
the fields of an analysis, and the directional verdict most kinds use.

``samples`` is ``{arm: {seed: value}}``; a claim is any object with ``id``, ``arms``,
``contrast``, ``direction``, ``margin`` and ``kind`` (``bench.spec.Claim``; not imported,
so the spec may ask the kind registry without a cycle). A result is
``bench.analysis.verdict.ClaimResult``, read by attribute.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy.stats import rankdata, t as _t

from bench.errors import SpecError
from bench.stats import power as powerlib, significance as stats

# The report's name for a primary test, where the kind does not name it itself.
TEST_NAMES = {"paired_t": "paired t", "welch_t": "Welch t (unpaired fallback)",
              "boschloo": "Boschloo exact", "mcnemar_exact": "exact McNemar (paired)",
              "sign_flip_exact": "exact sign flip (constant contrast)",
              "wilcoxon_all_seeds": "Wilcoxon, all seeds (diverged = worst)"}


def values(by_seed: dict) -> np.ndarray:
    """The finite values of one arm."""
    found = np.array(list(by_seed.values()), dtype=float)
    return found[np.isfinite(found)]


def pair(claim, samples: dict):
    """Seeds kept (ascending), the (n_pairs, k) table of arm values and the per-arm
    count of seeds excluded because that arm had no finite value there."""
    seeds = sorted(set().union(*(samples[arm].keys() for arm in claim.arms)))
    table = np.array([[samples[arm].get(s, math.nan) for arm in claim.arms] for s in seeds],
                     dtype=float).reshape(len(seeds), len(claim.arms))
    finite = np.isfinite(table)
    keep = finite.all(axis=1)
    excluded = tuple((arm, int((~finite[:, i]).sum())) for i, arm in enumerate(claim.arms))
    return [s for s, k in zip(seeds, keep) if k], table[keep], excluded


def weights(claim) -> np.ndarray:
    return np.array([w for _, w in claim.contrast], dtype=float)


def contrast_of(table: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The per-seed contrast ``table @ w`` (n_pairs,), snapped to one exact value when it is
    constant up to the rounding of the arm values it is computed from
    (``bench.stats.significance.is_constant``: scale = the largest sum of |w| x |value| on a seed)."""
    c = table @ w
    if c.size == 0:
        return c
    scale = float(np.max(np.abs(table) @ np.abs(w)))
    return stats.snap_constant(c, scale=scale)


def oriented(claim, samples: dict):
    """The two arms' finite values, positive-weight arm first."""
    (arm_a, w_a), (arm_b, _) = claim.contrast
    if w_a < 0:
        arm_a, arm_b = arm_b, arm_a
    return arm_a, arm_b, values(samples[arm_a]), values(samples[arm_b])


def worst_rank_contrast(claim, samples: dict, higher_is_better: bool):
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
        contrast = (scored * weights(claim)).sum(axis=1)
    contrast = np.where(np.isnan(contrast), 0.0, contrast)
    return int(bad.any(axis=1).sum()), contrast


def _diverged_signs(everything: np.ndarray, n_div: int) -> tuple[int, ...]:
    """The side each diverged seed falls on (+1, -1; 0 where diverged runs cancelled)."""
    signs = [int(np.sign(v)) for v in everything if math.isinf(v)]
    return tuple(signs) + (0,) * (n_div - len(signs))


def ranked(contrast: np.ndarray) -> np.ndarray:
    """Infinite contrasts replaced by finite ones that rank above every finite |value|."""
    finite = contrast[np.isfinite(contrast)]
    top = 2.0 * (float(np.max(np.abs(finite))) if finite.size else 1.0) + 1.0
    return np.where(np.isfinite(contrast), contrast, np.sign(contrast) * top)


def base(seeds, contrast, excluded, ci, primary, robustness, effect, **extra) -> dict:
    """The fields every analysis returns, plus the kind's ``extra`` ones."""
    fields = dict(
        n_pairs=len(seeds), n_excluded=excluded, estimate=ci.estimate, ci_low=ci.low, ci_high=ci.high,
        ci_label=f"{ci.confidence:.0%} t", primary=primary, robustness=robustness, unpaired=(),
        effect_name=effect.name, effect_size=effect.value, effect_note=effect.note,
        p_superiority=stats.paired_superiority(contrast).value,
        contrast=tuple((int(s), float(v)) for s, v in zip(seeds, contrast)))
    fields.update(extra)
    return fields


def paired_primary(contrast: np.ndarray) -> stats.TestResult:
    """Paired t, or the exact sign-flip p when the contrast is one nonzero constant (t undefined)."""
    if contrast.size >= 2 and stats.is_constant(contrast) and not np.all(contrast == 0):
        return stats.constant_sign_flip(contrast)
    return stats.paired_t(contrast)


def with_diverged(fields: dict, claim, samples, higher_is_better, contrast) -> dict:
    """Primary over every seed (diverged = worst rank); the exclusion analysis kept as sensitivity."""
    if higher_is_better is None:
        return fields
    n_div, everything = worst_rank_contrast(claim, samples, higher_is_better)
    if n_div == 0:
        return fields
    scores = ranked(everything)
    primary = stats.wilcoxon_signed_rank(scores)
    nonzero = scores[scores != 0]
    ranks = rankdata(np.abs(nonzero))
    # Statistic: R+ - R-, signed, so the verdict can read the direction over every seed.
    primary = replace(primary, name="wilcoxon_all_seeds",
                      statistic=float(ranks[nonzero > 0].sum() - ranks[nonzero < 0].sum()),
                      note=f"{n_div} seed(s) with a diverged run ranked worst" + (
                          f"; {primary.note}" if primary.note else ""))
    fields.update(primary=primary, robustness=fields["primary"], sensitivity=fields["primary"],
                  n_diverged=n_div,
                  diverged_signs=_diverged_signs(everything, n_div))
    return fields


# --- spec-time checks ------------------------------------------------------------------------------

def check_two_opposite_arms(claim) -> None:
    """A contrast of exactly two arms, one against the other."""
    w = [w for _, w in claim.contrast]
    if len(w) != 2 or w[0] * w[1] >= 0:
        raise SpecError(f"{claim.kind} claim {claim.id!r} needs two arms with weights of opposite sign.")


def check_margin(claim) -> None:
    """A finite margin > 0 in metric units."""
    if not (claim.margin is not None and 0 < claim.margin < math.inf):
        raise SpecError(f"{claim.kind} claim {claim.id!r} needs a margin > 0 in metric units.")


# --- verdicts -------------------------------------------------------------------------------------

def signed_effect(result) -> float:
    """The direction the primary test found: for the all-seeds rank test, the sign of
    its rank sums (the survivors' mean can point the other way); else the estimate."""
    if result.primary.name == "wilcoxon_all_seeds":
        return result.primary.statistic
    return result.estimate


# Primary tests whose interval is the one the report shows (the verdict's own CI): only for
# these may a CI that lies wholly below the smallest effect that matters decide a verdict
# the test itself did not reach.
INVERTS_CI = ("paired_t", "welch_t", "peak_iut_t")


def decide_direction(result, p: float, alpha: float, label: str) -> tuple[str, str]:
    """Reproduced, smaller than claimed, contradicted or inconclusive from a two-sided
    primary ``p`` (decided at ``alpha``), the sign of the effect and the result's CI, which
    is the interval at the level ``p`` is decided at (``ci_label``).

    The ladder is monotone in the true effect: a significant effect of the opposite sign
    contradicts the claim; a CI wholly below the smallest effect that matters says the
    claimed effect is absent, whether or not the CI also excludes 0 ("smaller than
    claimed"); a significant effect of the claimed sign whose CI reaches the smallest
    effect that matters reproduces it; anything else is inconclusive.
    """
    if result.primary.note == stats.EQUAL:
        return "inconclusive", "contrast is exactly 0 on every paired seed"
    claimed = 1.0 if result.direction == "greater" else -1.0
    # The sign of a rank test over every seed is its statistic's; else the estimate's.
    sign = float(np.sign(signed_effect(result)))
    significant = p < alpha
    if significant and sign == -claimed:
        return "contradicted", f"{label} = {p:.3g} < {alpha:g} and the contrast has the opposite sign"
    smallest = result.min_effect
    near = result.ci_high if claimed > 0 else -result.ci_low   # the CI's end on the claimed side
    width = result.ci_high - result.ci_low
    own_ci = result.primary.name in INVERTS_CI and width > 0
    if (smallest is not None and math.isfinite(near) and near < smallest
            and ((significant and sign == claimed) or own_ci)):
        test = f"{label} = {p:.3g} {'<' if significant else '>='} {alpha:g}"
        zero = "" if significant else ", whatever the sign of its other end"
        return "smaller than claimed", (f"{test}, and its {result.ci_label} CI lies entirely below the "
                                        f"smallest effect that matters, {smallest:.3g} "
                                        f"({result.min_effect_source}): the claimed effect is absent{zero}")
    if not significant:
        return "inconclusive", f"{label} = {p:.3g} >= alpha = {alpha:g}"
    if sign == claimed:
        return "reproduced", f"{label} = {p:.3g} < {alpha:g} and the contrast has the claimed sign"
    return "inconclusive", "mean contrast is 0"


def level_text(confidence: float) -> str:
    """95 % -> "95%", 1 - 0.05 / 3 -> "98.3%"."""
    return f"{100 * confidence:.3g}%"


def holm_note(alpha: float, base: float = 0.05) -> str:
    """" (Holm: alpha 0.05 / 3)" when the level is adjusted, else ""."""
    if alpha >= base * (1 - 1e-9):
        return ""
    return f" (Holm: alpha {base:g} / {base / alpha:.3g})"


def paired_interval(result, alpha: float) -> dict:
    """The t CI of the per-seed contrast at level 1 - ``alpha`` (Welch's for the unpaired
    fallback), i.e. the interval the t test decided at ``alpha`` inverts."""
    level = 1.0 - alpha
    if not result.paired:
        a, b = result.arm_summary
        ua, ub = a.sd ** 2 / a.n_finite, b.sd ** 2 / b.n_finite
        if not (ua + ub > 0) or min(a.n_finite, b.n_finite) < 2:
            return dict(ci_level=level)
        df = (ua + ub) ** 2 / (ua ** 2 / (a.n_finite - 1) + ub ** 2 / (b.n_finite - 1))
        half = float(_t.ppf(1 - alpha / 2, df)) * math.sqrt(ua + ub)
        return dict(ci_low=result.estimate - half, ci_high=result.estimate + half, ci_level=level,
                    ci_label=f"{level_text(level)} Welch t{holm_note(alpha)}")
    ci = stats.t_ci([v for _, v in result.contrast], level) if result.contrast else None
    label = f"{level_text(level)} t{holm_note(alpha)}"
    if result.primary.name == "wilcoxon_all_seeds":
        label += ", surviving seeds (the all-seeds rank test decides, not this interval)"
    if ci is None:
        return dict(ci_level=level, ci_label=label)
    return dict(estimate=ci.estimate, ci_low=ci.low, ci_high=ci.high, ci_level=level, ci_label=label)


def robust_note(result, alpha: float) -> str:
    """Names the robustness tests whose significance at ``alpha`` differs from the primary's."""
    if math.isnan(result.primary.p_value):
        return ""
    primary = result.primary.p_value < alpha
    checks = [t for t in (result.robustness, result.permutation) if t is not None]
    odd = [f"{t.name} p = {t.p_value:.3g}" for t in checks
           if not math.isnan(t.p_value) and (t.p_value < alpha) != primary]
    if not odd:
        return ""
    side = "significant" if primary else "not significant"
    floor = ""
    perm = result.permutation
    if perm is not None and not perm.note and perm.n >= 2 and 2 / 2 ** perm.n >= alpha:
        floor = f" (with {perm.n} seeds the smallest attainable permutation p is {2 / 2 ** perm.n:.3g})"
    return f"primary {result.primary.name} {side} at unadjusted alpha = {alpha:g} but " + ", ".join(odd) + floor


def no_robust_note(result, alpha: float) -> str:
    """For kinds whose robustness tests answer another question (equivalence, non-inferiority)."""
    return ""


# --- power and labels -----------------------------------------------------------------------------

def sd(found) -> float:
    v = np.asarray(found, dtype=float)
    return float(v.std(ddof=1)) if v.size >= 2 else math.nan


def contrast_sd(result) -> float:
    """The SD of the per-seed contrast a result carries."""
    return sd([v for _, v in result.contrast])


def paired_power(result, alpha: float) -> powerlib.Power:
    """Power of a paired continuous contrast's primary test at level ``alpha``.

    The all-seeds rank test (diverged seeds) gets its own MDE
    (``bench.stats.power.signed_rank_all_seeds``: "not decidable at this n" when no
    outcome can reach ``alpha``), and the unpaired fallback a paired t with the variance
    of a difference of two independent arms (an approximation, said in ``method``).
    """
    if not result.paired:
        # Unpaired fallback: a paired t with the variance of a difference of independent arms.
        a, b = result.arm_summary
        spread = math.sqrt(a.sd ** 2 + b.sd ** 2)
        found = powerlib.paired_t(result.estimate, spread, min(a.n_finite, b.n_finite), alpha)
        return replace(found, method="approximate: Welch by a paired t with independent arms' variance")
    if result.primary.name == "wilcoxon_all_seeds":
        # The MDE of the test that decides: the rank test over every seed, not a t on the survivors.
        return powerlib.signed_rank_all_seeds(contrast_sd(result), result.n_pairs, result.diverged_signs,
                                              alpha, effect=result.estimate,
                                              direction=1.0 if result.direction == "greater" else -1.0)
    return powerlib.paired_t(result.estimate, contrast_sd(result), result.n_pairs, alpha)


def primary_name(result) -> str:
    """The primary test as the report names it, from the test's own name."""
    return TEST_NAMES.get(result.primary.name, result.primary.name)
