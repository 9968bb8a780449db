"""From a claim and its per-seed samples to a verdict.

The design is paired by seed: the arms of a case share initial weights and
batch order per seed, so the unit of analysis is the per-seed contrast
``sum(w * metric[arm][seed])`` over the claim's arms. A seed enters only if
every arm has a finite value for it; diverged runs (NaN/inf) are excluded and
counted, never imputed.

``evaluate_claim`` computes the statistics of one claim in one framework;
``adjust`` then applies Holm across the whole family of a run (every claim x
framework) and sets the verdicts from the adjusted primary p-value.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Optional

import numpy as np

from bench import stats
from bench.errors import SpecError
from bench.spec import Claim

ALPHA = 0.05
VERDICTS = ("reproduced", "contradicted", "inconclusive")
AGREEMENTS = ("agree", "disagree", "undetermined")


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
    mean per-seed contrast and ``ci_low``/``ci_high`` its percentile-bootstrap
    95% interval. ``unpaired`` holds Welch t and Mann-Whitney on each arm's
    finite values (two-arm claims only, for reporting). ``p_superiority`` is
    the fraction of paired seeds with a positive contrast (ties 0.5).
    ``p_holm`` is None until ``adjust``; before that ``verdict`` treats the
    claim as a family of one (unadjusted), and ``reason`` says so.
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


def _finite_values(by_seed: dict) -> np.ndarray:
    values = np.array(list(by_seed.values()), dtype=float)
    return values[np.isfinite(values)]


def _check(claim: Claim, samples: dict) -> None:
    missing = [arm for arm in claim.arms if arm not in samples]
    if missing:
        raise SpecError(f"claim {claim.id!r} needs samples for arms {missing}; got {sorted(samples)}.")
    if claim.direction not in ("greater", "less"):
        raise SpecError(f"claim {claim.id!r} direction must be 'greater' or 'less'.")
    if claim.kind == "two_arm":
        weights = [w for _, w in claim.contrast]
        if len(weights) != 2 or weights[0] * weights[1] >= 0:
            raise SpecError(f"two-arm claim {claim.id!r} needs two arms with weights of opposite sign.")
    elif claim.kind != "interaction":
        raise SpecError(f"claim {claim.id!r} has unknown kind {claim.kind!r}.")


def _pair(claim: Claim, samples: dict) -> tuple[np.ndarray, tuple[tuple[str, int], ...]]:
    """Per-seed contrast (n_pairs,), seeds in ascending order, and excluded counts per arm."""
    seeds = sorted(set().union(*(samples[arm].keys() for arm in claim.arms)))
    table = np.array([[samples[arm].get(s, math.nan) for arm in claim.arms] for s in seeds],
                     dtype=float).reshape(len(seeds), len(claim.arms))
    finite = np.isfinite(table)
    keep = finite.all(axis=1)
    weights = np.array([w for _, w in claim.contrast], dtype=float)
    contrast = table[keep] @ weights
    excluded = tuple((arm, int((~finite[:, i]).sum())) for i, arm in enumerate(claim.arms))
    return contrast, excluded


def evaluate_claim(claim: Claim, samples: dict, alpha: float = ALPHA, random_state=0,
                   n_resamples: int = 10_000) -> ClaimResult:
    """Test ``claim`` on ``samples`` = {arm: {seed: metric value}}.

    Primary test: paired t on the per-seed contrast; robustness: Wilcoxon
    signed-rank. Effect size: Hedges' g between the two arms' finite values
    (sign: positive-weight arm minus the other) for two-arm claims, Hedges'
    g_z of the contrast for interactions. ``random_state`` seeds the bootstrap.
    """
    _check(claim, samples)
    contrast, excluded = _pair(claim, samples)
    n = int(contrast.size)
    ci = stats.bootstrap_ci(contrast, 0.95, n_resamples, random_state)
    unpaired: tuple[stats.TestResult, ...] = ()
    if claim.kind == "two_arm":
        (arm_a, w_a), (arm_b, _) = claim.contrast
        if w_a < 0:
            arm_a, arm_b = arm_b, arm_a
        a, b = _finite_values(samples[arm_a]), _finite_values(samples[arm_b])
        effect = stats.hedges_g(a, b)
        unpaired = (stats.welch_t(a, b), stats.mann_whitney(a, b))
    else:
        effect = stats.hedges_gz(contrast)
    result = ClaimResult(
        claim_id=claim.id, metric=claim.metric, kind=claim.kind, direction=claim.direction,
        n_pairs=n, n_excluded=excluded,
        arm_summary=tuple(_summarize(arm, samples[arm]) for arm in claim.arms),
        estimate=ci.estimate, ci_low=ci.low, ci_high=ci.high,
        primary=stats.paired_t(contrast), robustness=stats.wilcoxon_signed_rank(contrast),
        unpaired=unpaired, effect_name=effect.name, effect_size=effect.value,
        effect_note=effect.note, p_superiority=stats.paired_superiority(contrast).value,
        p_holm=None, verdict="inconclusive", reason="",
    )
    verdict, reason = _decide(result, result.primary.p_value, alpha, "unadjusted p")
    return replace(result, verdict=verdict, reason=reason)


def _decide(result: ClaimResult, p: float, alpha: float, label: str) -> tuple[str, str]:
    """Verdict and one-sentence reason from the primary p-value ``p``, named ``label``."""
    if result.n_pairs < 2:
        plural = "" if result.n_pairs == 1 else "s"
        return "inconclusive", f"only {result.n_pairs} paired seed{plural} with finite values"
    if math.isnan(p):
        note = result.primary.note or "undefined"
        return "inconclusive", f"primary test p-value undefined ({note})"
    if result.primary.note == stats.EQUAL:
        return "inconclusive", "contrast is exactly 0 on every paired seed"
    if p >= alpha:
        return "inconclusive", f"{label} = {p:.3g} >= alpha = {alpha:g}"
    claimed = 1.0 if result.direction == "greater" else -1.0
    sign = float(np.sign(result.estimate))
    significant = f"{label} = {p:.3g} < {alpha:g} and mean contrast {result.estimate:+.3g} has"
    if sign == claimed:
        return "reproduced", f"{significant} the claimed sign"
    if sign == -claimed:
        return "contradicted", f"{significant} the opposite sign"
    return "inconclusive", "mean contrast is 0"


def adjust(results: list[ClaimResult], alpha: float = ALPHA) -> list[ClaimResult]:
    """Holm-adjust the primary p-values of ``results`` as one family; set verdicts.

    Returns new results in the same order with ``p_holm`` filled (NaN where
    the primary p is NaN; those do not count towards the family size) and
    ``verdict``/``reason`` decided on ``p_holm``.
    """
    p_holm = stats.holm([r.primary.p_value for r in results])
    out = []
    for result, p in zip(results, p_holm):
        verdict, reason = _decide(result, float(p), alpha, "Holm-adjusted p")
        out.append(replace(result, p_holm=float(p), verdict=verdict, reason=reason))
    return out


def agreement(a: ClaimResult, b: ClaimResult) -> str:
    """Whether two frameworks' results for one claim agree.

    "agree": both reproduced or both contradicted; "disagree": one reproduced
    and the other contradicted; otherwise "undetermined" (an inconclusive side
    is not evidence either way). A later version adds an equivalence test of
    the two effect sizes, so that two inconclusive results can also agree.
    """
    if a.claim_id != b.claim_id:
        raise ValueError(f"cannot compare different claims {a.claim_id!r} and {b.claim_id!r}.")
    decisive = ("reproduced", "contradicted")
    if a.verdict in decisive and b.verdict in decisive:
        return "agree" if a.verdict == b.verdict else "disagree"
    return "undetermined"
