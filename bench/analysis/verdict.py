"""From a claim and its per-seed samples to a verdict.

The design is paired by seed: the arms of a case share initial weights and
batch order per seed, so the unit of analysis is the per-seed contrast
``sum(w * metric[arm][seed])`` over the claim's arms. A seed enters only if
every arm has a finite value for it; diverged runs (NaN/inf) are excluded and
counted. When the metric's direction is known, a continuous two-arm or
interaction contrast keeps them instead, ranked worst (``bench.stats.kinds``), and
the exclusion analysis is shown beside it as a sensitivity check.

``evaluate_claim`` computes the statistics of one claim in one framework with
the test that matches the claim's kind (``bench.stats.kinds``); ``adjust`` then
applies Holm within each family (the report uses one per case and mode: its
claims x frameworks, which replicate one hypothesis per claim; another mode is a
sensitivity analysis with its own family, so it never moves an as-written verdict), adds
Benjamini-Hochberg q-values over the whole report as a suite-level figure,
recomputes power at the Holm level and sets the verdicts from the adjusted
primary p-value and the interval that decision inverts (at Holm's level for the
claim): reproduced, smaller than claimed (the interval lies entirely below the
claim's smallest effect that matters, so the claimed effect is absent, whatever
the sign of its lower end), contradicted or inconclusive
(``bench.stats.kinds.common.decide_direction``). ``agreement`` compares the two
frameworks' effects as an equivalence question
(``bench.stats.equivalence.compare_effects``); for a trend claim it compares the
same contrast in both (each framework's peak height, at both frameworks' peaks).

What counts as diverged: a run whose metric is not finite (the trainer records NaN
metrics when its loss or an evaluation goes non-finite). A finite value, however far
out (a collapsed run at -1000 SD), is a measurement and enters the analysis as one;
the Wilcoxon robustness check flags when such a value alone decides the t-test.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Optional

import numpy as np

from bench.stats import equivalence, kinds, significance as stats
from bench.stats import power as powerlib
from bench.errors import SpecError
from bench.spec import Claim

ALPHA = 0.05
VERDICTS = ("reproduced", "smaller than claimed", "contradicted", "inconclusive")
AGREEMENTS = ("equivalent", "different", "undetermined")
# A claim's smallest effect that matters, when it declares none: this fraction of the
# effect the post itself reports (the contrast of its per-arm figures), where it reports one.
MIN_EFFECT_FRACTION = 0.5


def post_effect(claim: Claim) -> Optional[float]:
    """The post's own effect on the claim's contrast, from ``claim.reported``; None unless
    every arm of the contrast has a plain number there. For a trend claim, the post's
    best interior arm's height above the nearer end (what the trend verdict decides on),
    not the weighted sum of its arms."""
    reported = dict(claim.reported)
    if claim.kind == "trend":
        # The quantity the trend verdict is decided on: the peak's height above the nearer end.
        return kinds.get("trend").post_height(reported, claim.arms, claim.direction)
    total = 0.0
    for arm, w in claim.contrast:
        try:
            total += w * float(reported[arm])
        except (KeyError, ValueError):
            return None
    return total if math.isfinite(total) else None


def min_effect(claim: Claim) -> tuple[Optional[float], str]:
    """The smallest effect that matters for ``claim`` (metric units, > 0) and where it came from.

    ``claim.min_effect`` when declared; else ``MIN_EFFECT_FRACTION`` x |the post's
    own effect| when the post reports one on the claimed side and the kind's verdict checks
    an effect's size (``SIZED``); else None (no size check).
    """
    if claim.min_effect is not None:
        return float(claim.min_effect), "declared"
    post = post_effect(claim)
    claimed = 1.0 if claim.direction == "greater" else -1.0
    if post is None or post * claimed <= 0 or not kinds.get(claim.kind).SIZED:
        return None, ""
    return MIN_EFFECT_FRACTION * abs(post), f"{MIN_EFFECT_FRACTION:g} x the post's {abs(post):.3g}"


@dataclass(frozen=True)
class ArmSummary:
    """One arm's values over all its seeds: finite count, mean, sd (ddof 1), non-finite count.

    ``mean`` is NaN when ``n_finite`` is 0 and ``sd`` when it is below 2.
    """
    arm: str
    n_finite: int
    mean: float
    sd: float
    n_nonfinite: int


@dataclass(frozen=True)
class ClaimResult:
    """The statistics and verdict of one claim in one framework.

    ``n_excluded`` maps each arm to the number of seeds dropped because that
    arm had no finite value (NaN, inf or missing) there. ``estimate`` is the
    mean per-seed contrast (trend: the peak's height above the nearer end) and
    ``ci_low``/``ci_high`` the interval named by ``ci_label`` (Student-t for
    paired contrasts, at the level the verdict is decided at). ``unpaired`` holds Welch t and Mann-Whitney on each arm's
    finite values (two-arm claims only, for reporting). ``p_superiority`` is
    the fraction of paired seeds with a positive contrast (ties 0.5).
    ``p_holm`` is None until ``adjust``; before that ``verdict`` treats the
    claim as a family of one (unadjusted), and ``reason`` says so.

    Added per kind: ``paired`` (False for the unpaired fallback and for the
    binary exact test), ``permutation`` (sign-flip test, paired kinds),
    ``secondary`` (other tests reported), ``robust_note`` (set when the primary
    and a robustness test disagree about significance at ``alpha``),
    ``contrast`` ((seed, value) per paired seed, used for TF<->PyTorch
    agreement), ``rates`` ((arm, rate, low, high) Wilson 95 % CIs, binary),
    ``margin`` (equivalence), ``peak`` (trend: the interior arm tested),
    ``q_bh`` (Benjamini-Hochberg over the whole report, a suite-level figure),
    ``family``/``family_size`` (the Holm family: one case in one mode), ``power``,
    ``alpha_applied`` (the level the raw primary p is in effect compared with:
    alpha, or Holm's level for this claim, ``bench.stats.significance.holm_levels``),
    ``estimate``/``ci_low``/``ci_high`` at ``ci_level`` (the estimate and interval
    the verdict is decided by, at ``alpha_applied``; ``ci_label`` names it and says
    where it is not the primary test's own), ``caveat`` (where the interval is known
    not to hold its level), trend's ``shape``, ``peak_end`` and ``table`` (seed,
    every arm's value), ``min_effect`` (smallest effect that matters, metric units)
    with its source, and, when a seed diverged in a continuous contrast,
    ``n_diverged`` and ``sensitivity`` (the paired t on the surviving seeds,
    beside the all-seeds primary).
    """
    claim_id: str
    metric: str
    kind: str
    direction: str
    n_pairs: int
    n_excluded: tuple[tuple[str, int], ...]
    arm_summary: tuple[ArmSummary, ...]
    estimate: float
    ci_low: float
    ci_high: float
    primary: stats.TestResult
    robustness: stats.TestResult
    unpaired: tuple[stats.TestResult, ...]
    effect_name: str
    effect_size: float
    effect_note: str
    p_superiority: float
    p_holm: Optional[float]
    verdict: str
    reason: str
    paired: bool = True
    permutation: Optional[stats.TestResult] = None
    secondary: tuple[stats.TestResult, ...] = ()
    robust_note: str = ""
    contrast: tuple[tuple[int, float], ...] = ()
    rates: tuple[tuple[str, float, float, float], ...] = ()
    margin: Optional[float] = None
    agreement_margin: Optional[float] = None
    peak: str = ""
    q_bh: Optional[float] = None
    family_size: int = 1
    power: Optional[powerlib.Power] = None
    ci_label: str = "95% t"
    min_effect: Optional[float] = None
    min_effect_source: str = ""
    family: str = ""
    sensitivity: Optional[stats.TestResult] = None
    n_diverged: int = 0
    diverged_signs: tuple[int, ...] = ()
    agreement_source: str = ""
    ci_level: float = 0.95
    alpha_applied: float = ALPHA
    shape: str = ""
    peak_end: str = ""
    table: tuple[tuple[int, tuple[float, ...]], ...] = ()
    caveat: str = ""

    def to_dict(self) -> dict:
        """A JSON-ready dict; non-finite floats become None (JSON has no NaN)."""
        out = _json_safe(asdict(self))
        out["n_excluded"] = dict(self.n_excluded)
        return out


def _json_safe(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def _summarize(arm: str, by_seed: dict) -> ArmSummary:
    values = np.array(list(by_seed.values()), dtype=float)
    finite = values[np.isfinite(values)]
    mean = float(finite.mean()) if finite.size else math.nan
    sd = float(finite.std(ddof=1)) if finite.size >= 2 else math.nan
    return ArmSummary(arm, int(finite.size), mean, sd, int(values.size - finite.size))


def _check(claim: Claim, samples: dict) -> None:
    missing = [arm for arm in claim.arms if arm not in samples]
    if missing:
        raise SpecError(f"claim {claim.id!r} needs samples for arms {missing}; got {sorted(samples)}.")
    if claim.direction not in ("greater", "less"):
        raise SpecError(f"claim {claim.id!r} direction must be 'greater' or 'less'.")
    if claim.kind not in kinds.names():
        raise SpecError(f"claim {claim.id!r} has unknown kind {claim.kind!r}.")
    kinds.get(claim.kind).validate(claim)


def evaluate_claim(claim: Claim, samples: dict, alpha: float = ALPHA, random_state=0,
                   n_resamples: int = 10_000, higher_is_better: Optional[bool] = None) -> ClaimResult:
    """Test ``claim`` on ``samples`` = {arm: {seed: metric value}}.

    The test matches ``claim.kind`` (see ``bench.stats.kinds``: one module per kind). For two-arm
    claims the primary test is the paired t on the per-seed contrast with
    Wilcoxon and a sign-flip permutation test as robustness checks; Hedges' g
    between the two arms' finite values (positive-weight arm minus the other)
    is the effect size; interactions use Hedges' g_z of the contrast.
    ``random_state`` seeds the bootstrap and any Monte Carlo permutation.
    ``higher_is_better`` (the metric's direction) lets a continuous contrast keep
    seeds whose run diverged, ranked worst; None keeps the exclusion analysis.
    """
    _check(claim, samples)
    fields = kinds.get(claim.kind).analyse(claim, samples, random_state, n_resamples, higher_is_better)
    smallest, source = min_effect(claim)
    result = ClaimResult(
        claim_id=claim.id, metric=claim.metric, kind=claim.kind, direction=claim.direction,
        arm_summary=tuple(_summarize(arm, samples[arm]) for arm in claim.arms),
        p_holm=None, verdict="inconclusive", reason="", agreement_margin=agreement_margin(claim),
        agreement_source=agreement_source(claim), min_effect=smallest, min_effect_source=source, **fields)
    result = replace(result, robust_note=_robust_note(result, alpha), power=_power(result, alpha),
                     caveat=skew_caveat(claim.metric))
    result = at_level(result, alpha)
    verdict, reason = decide(result, result.primary.p_value, alpha, "unadjusted p")
    return replace(result, verdict=verdict, reason=reason)


def at_level(result: ClaimResult, level: float) -> ClaimResult:
    """``result`` with the estimate and interval its verdict is decided by when the raw
    primary p is compared with ``level`` (per kind: ``interval``)."""
    return replace(result, alpha_applied=float(level), **kinds.get(result.kind).interval(result, level))


# Metrics whose per-seed contrasts are skewed (positive quantities spanning orders of
# magnitude, or bounded rates): the t interval is not claimed to hold its level for them.
SKEWED = ("grad_norm", "grad_ratio", "sparsity", "mae")


def skew_caveat(metric: str) -> str:
    """The caveat printed beside a claim on a skewed metric (``SKEWED``), else ""."""
    if not any(part in metric for part in SKEWED):
        return ""
    return ("skewed metric: the t interval's coverage is not guaranteed (lognormal contrasts with "
            "sigma 0.5-1 at 5-20 seeds gave 0.82-0.93 for a nominal 0.95 in tests/test_simulation.py, "
            "always missing on the same side); read the Wilcoxon robustness p beside it")


def _robust_note(result: ClaimResult, alpha: float) -> str:
    """Names the robustness tests whose significance at ``alpha`` differs from the primary's (per kind)."""
    return kinds.get(result.kind).robust_note(result, alpha)


def _power(result: ClaimResult, alpha: float) -> powerlib.Power:
    """The power of ``result``'s primary test at level ``alpha`` (per kind)."""
    return kinds.get(result.kind).power(result, alpha)


def decide(result: ClaimResult, p: float, alpha: float, label: str) -> tuple[str, str]:
    """Verdict and one-sentence reason from the primary p-value ``p``, named ``label``."""
    if result.paired and result.n_pairs < 2 and result.primary.name != "wilcoxon_all_seeds":
        plural = "" if result.n_pairs == 1 else "s"
        return "inconclusive", f"only {result.n_pairs} paired seed{plural} with finite values"
    if math.isnan(p):
        note = result.primary.note or "undefined"
        return "inconclusive", f"primary test p-value undefined ({note})"
    return kinds.get(result.kind).decide(result, p, alpha, label)


def adjust(results: list[ClaimResult], alpha: float = ALPHA, families=None) -> list[ClaimResult]:
    """Holm-adjust the primary p-values within each family; BH over all; set verdicts.

    ``families`` (one label per result, e.g. case and mode) splits ``results``
    into Holm families: a case's claims x frameworks in one mode are one family,
    so one case's verdicts never depend on which other cases share the
    report, nor an as-written verdict on whether a sensitivity mode ran. None makes ``results`` one family. Returns new results in the
    same order with ``p_holm`` (NaN where the primary p is NaN; those do not
    count towards the family size), ``q_bh`` (Benjamini-Hochberg over every
    result given: a suite-level false-discovery figure, never a verdict),
    ``family``/``family_size``, ``power`` recomputed at alpha / family size
    (the strictest Holm step, so the MDE is an upper bound), the estimate and
    interval at Holm's level for the claim (``alpha_applied``: the interval
    Holm's decision inverts) and ``verdict``/``reason`` decided on ``p_holm``.
    """
    labels = list(families) if families is not None else [""] * len(results)
    if len(labels) != len(results):
        raise ValueError(f"got {len(labels)} family labels for {len(results)} results.")
    raw = np.array([r.primary.p_value for r in results], dtype=float)
    q_bh = stats.benjamini_hochberg(raw)
    p_holm = np.full(raw.shape, math.nan)
    size = {}
    for label in dict.fromkeys(labels):
        idx = np.array([i for i, lab in enumerate(labels) if lab == label], dtype=int)
        p_holm[idx] = stats.holm(raw[idx])
        size[label] = max(1, int(np.sum(~np.isnan(raw[idx]))))
    out = []
    levels = np.full(raw.shape, alpha)
    for label in dict.fromkeys(labels):
        idx = np.array([i for i, lab in enumerate(labels) if lab == label], dtype=int)
        levels[idx] = stats.holm_levels(raw[idx], alpha)
    for result, label, p, q, level in zip(results, labels, p_holm, q_bh, levels):
        m = size[label]
        result = replace(result, p_holm=float(p), q_bh=float(q), family_size=m, family=label,
                         power=_power(result, alpha / m))
        result = at_level(result, float(level))
        verdict, reason = decide(result, float(p), alpha, "Holm-adjusted p")
        out.append(replace(result, verdict=verdict, reason=reason))
    return out


def agreement_margin(claim: Claim) -> Optional[float]:
    """The TF<->PyTorch equivalence margin of ``claim``, in metric units, fixed before any data.

    ``claim.agreement_margin`` when declared; else the claim's smallest effect
    that matters (``min_effect``: two frameworks agree when their effects
    differ by less than an effect that would matter); else the claim's
    equivalence / non-inferiority ``margin``; else None (agreement stays
    undetermined). Never estimated from the seeds being compared.
    """
    if claim.agreement_margin is not None:
        return float(claim.agreement_margin)
    smallest, _ = min_effect(claim)
    if smallest is not None:
        return smallest
    return float(claim.margin) if claim.margin is not None else None


def agreement_source(claim: Claim) -> str:
    """Where ``agreement_margin(claim)`` comes from, for the report."""
    if claim.agreement_margin is not None:
        return "declared"
    if min_effect(claim)[0] is not None:
        return "min effect: " + (min_effect(claim)[1] or "declared")
    return "claim margin" if claim.margin is not None else "none declared"


def agreement_test(a: ClaimResult, b: ClaimResult, alpha: float = ALPHA) -> equivalence.Agreement:
    """TF vs PyTorch for one claim, as an equivalence question first.

    *equivalent*: TOST shows the two effects differ by less than the claim's
    agreement margin (``agreement_margin``), whatever a difference test says;
    *different*: the gap is shown beyond the margin; *undetermined*: neither,
    or no margin. Identical per-seed contrasts are equivalent by construction.
    """
    if a.claim_id != b.claim_id:
        raise ValueError(f"cannot compare different claims {a.claim_id!r} and {b.claim_id!r}.")
    if a.kind == "trend" and a.table and b.table:
        return _trend_agreement(a, b, alpha)
    found = equivalence.compare_effects(dict(a.contrast), dict(b.contrast), a.agreement_margin, alpha,
                                        scale=_scale(a, b))
    return replace(found, margin_source=a.agreement_source or found.margin_source)


def _scale(*results: ClaimResult) -> float:
    """The magnitude the per-seed contrasts were computed from (for the constant rule)."""
    means = [abs(s.mean) for r in results for s in r.arm_summary if math.isfinite(s.mean)]
    return 2.0 * len(results[0].arm_summary) * max(means, default=0.0)


def _trend_agreement(a: ClaimResult, b: ClaimResult, alpha: float) -> equivalence.Agreement:
    """Like with like: at each framework's peak (arm and nearer end), the same per-seed
    contrast in both frameworks; "equivalent" only when equivalent at every such peak,
    "different" when shown different at one, else undetermined."""
    arms = [s.arm for s in a.arm_summary]
    spots = list(dict.fromkeys((r.peak, r.peak_end) for r in (a, b) if r.peak and r.peak_end))
    found = []
    for peak, end in spots:
        i, j = arms.index(peak), arms.index(end)
        per = [{seed: row[i] - row[j] for seed, row in r.table} for r in (a, b)]
        got = equivalence.compare_effects(per[0], per[1], a.agreement_margin, alpha, scale=_scale(a, b))
        found.append(replace(got, margin_source=a.agreement_source or got.margin_source,
                             note=f"{peak} - {end}" + (f"; {got.note}" if got.note else "")))
    if not found:
        return equivalence.compare_effects(dict(a.contrast), dict(b.contrast), a.agreement_margin, alpha)
    rank = {"different": 0, "undetermined": 1, "equivalent": 2}
    worst = min(found, key=lambda g: (rank[g.outcome], -g.tost.p_value if math.isfinite(g.tost.p_value) else 0))
    if len(found) > 1:
        worst = replace(worst, note=f"peaks differ; compared at {', '.join(g.note for g in found)}; "
                                    f"shown: {worst.note}")
    return worst


def agreement(a: ClaimResult, b: ClaimResult, alpha: float = ALPHA) -> str:
    """"equivalent", "different" or "undetermined" (see ``agreement_test``)."""
    return agreement_test(a, b, alpha).outcome
