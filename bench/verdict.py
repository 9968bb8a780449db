"""From a claim and its per-seed samples to a verdict.

The design is paired by seed: the arms of a case share initial weights and
batch order per seed, so the unit of analysis is the per-seed contrast
``sum(w * metric[arm][seed])`` over the claim's arms. A seed enters only if
every arm has a finite value for it; diverged runs (NaN/inf) are excluded and
counted, never imputed.

``evaluate_claim`` computes the statistics of one claim in one framework with
the test that matches the claim's kind (``bench.kinds``); ``adjust`` then
applies Holm across the whole family of a run (every claim x framework), adds
Benjamini-Hochberg q-values for reference, recomputes power at the Holm level
and sets the verdicts from the adjusted primary p-value. ``agreement`` compares
the two frameworks' effects (``bench.equivalence.compare_effects``).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Optional

import numpy as np

from bench import equivalence, kinds, stats
from bench import power as powerlib
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

    Added per kind: ``paired`` (False for the unpaired fallback and for the
    binary exact test), ``permutation`` (sign-flip test, paired kinds),
    ``secondary`` (other tests reported), ``robust_note`` (set when the primary
    and a robustness test disagree about significance at ``alpha``),
    ``contrast`` ((seed, value) per paired seed, used for TF<->PyTorch
    agreement), ``rates`` ((arm, rate, low, high) Wilson 95 % CIs, binary),
    ``margin`` (equivalence), ``peak`` (trend: the interior arm tested),
    ``q_bh`` (Benjamini-Hochberg, reference only), ``family_size`` and ``power``.
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
    if claim.kind not in kinds.ANALYSES:
        raise SpecError(f"claim {claim.id!r} has unknown kind {claim.kind!r}.")
    weights = [w for _, w in claim.contrast]
    if claim.kind in ("two_arm", "binary", "noninferiority") and (len(weights) != 2 or weights[0] * weights[1] >= 0):
        raise SpecError(f"{claim.kind} claim {claim.id!r} needs two arms with weights of opposite sign.")
    if claim.kind in ("equivalence", "noninferiority") and not (
            claim.margin is not None and 0 < claim.margin < math.inf):
        raise SpecError(f"{claim.kind} claim {claim.id!r} needs a margin > 0 in metric units.")
    if claim.kind == "trend" and len(weights) < 3:
        raise SpecError(f"trend claim {claim.id!r} needs >= 3 arms in their order.")


def evaluate_claim(claim: Claim, samples: dict, alpha: float = ALPHA, random_state=0,
                   n_resamples: int = 10_000) -> ClaimResult:
    """Test ``claim`` on ``samples`` = {arm: {seed: metric value}}.

    The test matches ``claim.kind`` (see ``bench.kinds.TESTS``). For two-arm
    claims the primary test is the paired t on the per-seed contrast with
    Wilcoxon and a sign-flip permutation test as robustness checks; Hedges' g
    between the two arms' finite values (positive-weight arm minus the other)
    is the effect size; interactions use Hedges' g_z of the contrast.
    ``random_state`` seeds the bootstrap and any Monte Carlo permutation.
    """
    _check(claim, samples)
    fields = kinds.ANALYSES[claim.kind](claim, samples, random_state, n_resamples)
    result = ClaimResult(
        claim_id=claim.id, metric=claim.metric, kind=claim.kind, direction=claim.direction,
        arm_summary=tuple(_summarize(arm, samples[arm]) for arm in claim.arms),
        p_holm=None, verdict="inconclusive", reason="", agreement_margin=claim.agreement_margin,
        **fields)
    result = replace(result, robust_note=_robust_note(result, alpha), power=powerlib.for_result(result, alpha))
    verdict, reason = _decide(result, result.primary.p_value, alpha, "unadjusted p")
    return replace(result, verdict=verdict, reason=reason)


def _robust_note(result: ClaimResult, alpha: float) -> str:
    """Names the robustness tests whose significance at ``alpha`` differs from the primary's."""
    if result.kind in ("equivalence", "noninferiority") or math.isnan(result.primary.p_value):
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


def _decide(result: ClaimResult, p: float, alpha: float, label: str) -> tuple[str, str]:
    """Verdict and one-sentence reason from the primary p-value ``p``, named ``label``."""
    if result.paired and result.n_pairs < 2:
        plural = "" if result.n_pairs == 1 else "s"
        return "inconclusive", f"only {result.n_pairs} paired seed{plural} with finite values"
    if math.isnan(p):
        note = result.primary.note or "undefined"
        return "inconclusive", f"primary test p-value undefined ({note})"
    if result.primary.note == stats.EQUAL:
        return "inconclusive", "contrast is exactly 0 on every paired seed"
    if result.kind == "equivalence":
        return _decide_equivalence(result, p, alpha, label)
    if result.kind == "noninferiority":
        return _decide_noninferiority(result, p, alpha, label)
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


def _decide_equivalence(result: ClaimResult, p: float, alpha: float, label: str) -> tuple[str, str]:
    margin = f"+-{result.margin:.3g}"
    if p >= alpha:
        return "inconclusive", (f"{result.primary.name} {label} = {p:.3g} >= alpha = {alpha:g}: neither "
                                f"equivalence within {margin} nor a larger difference is shown")
    if result.primary.name == "tost":
        return "reproduced", f"TOST {label} = {p:.3g} < {alpha:g}: equivalent within {margin}"
    return "contradicted", f"{label} = {p:.3g} < {alpha:g}: |difference| is larger than {margin}"


def _decide_noninferiority(result: ClaimResult, p: float, alpha: float, label: str) -> tuple[str, str]:
    side = "above" if result.primary.name == "noninferior" else "below"
    bound = f"-{result.margin:.3g} (oriented so the claimed direction is positive)"
    if p >= alpha:
        return "inconclusive", (f"{result.primary.name} {label} = {p:.3g} >= alpha = {alpha:g}: the contrast "
                                f"is shown neither above nor below {bound}")
    if side == "above":
        return "reproduced", f"{label} = {p:.3g} < {alpha:g}: at worst {result.margin:.3g} behind (non-inferior)"
    return "contradicted", f"{label} = {p:.3g} < {alpha:g}: more than {result.margin:.3g} behind (inferior)"


def adjust(results: list[ClaimResult], alpha: float = ALPHA) -> list[ClaimResult]:
    """Holm-adjust the primary p-values of ``results`` as one family; set verdicts.

    Returns new results in the same order with ``p_holm`` filled (NaN where
    the primary p is NaN; those do not count towards the family size),
    ``q_bh`` (Benjamini-Hochberg, for reference), ``family_size``, ``power``
    recomputed at alpha / family size (the strictest Holm step, so the MDE is
    an upper bound) and ``verdict``/``reason`` decided on ``p_holm``.
    """
    raw = [r.primary.p_value for r in results]
    p_holm, q_bh = stats.holm(raw), stats.benjamini_hochberg(raw)
    m = max(1, int(np.sum(~np.isnan(np.asarray(raw, dtype=float)))))
    out = []
    for result, p, q in zip(results, p_holm, q_bh):
        result = replace(result, p_holm=float(p), q_bh=float(q), family_size=m,
                         power=powerlib.for_result(result, alpha / m))
        verdict, reason = _decide(result, float(p), alpha, "Holm-adjusted p")
        out.append(replace(result, verdict=verdict, reason=reason))
    return out


def agreement_test(a: ClaimResult, b: ClaimResult, alpha: float = ALPHA) -> equivalence.Agreement:
    """TF vs PyTorch for one claim: a difference test and TOST on the two per-seed contrasts.

    The margin is the claim's ``agreement_margin`` or, when None,
    ``equivalence.DEFAULT_AGREEMENT_SD`` pooled SDs of the contrast. Opposite
    decisive verdicts (one reproduced, one contradicted) always disagree.
    """
    if a.claim_id != b.claim_id:
        raise ValueError(f"cannot compare different claims {a.claim_id!r} and {b.claim_id!r}.")
    found = equivalence.compare_effects(dict(a.contrast), dict(b.contrast), a.agreement_margin, alpha)
    if {a.verdict, b.verdict} == {"reproduced", "contradicted"} and found.outcome != "disagree":
        found = replace(found, outcome="disagree", note="opposite decisive verdicts")
    return found


def agreement(a: ClaimResult, b: ClaimResult, alpha: float = ALPHA) -> str:
    """"agree", "disagree" or "undetermined" for two frameworks' results of one claim.

    "disagree": the difference of the two effects is significant (or the
    verdicts are opposite and decisive); "agree": TOST shows the difference
    lies within the agreement margin; "undetermined": neither. Two
    inconclusive results can agree, and two reproduced ones can disagree in size.
    """
    return agreement_test(a, b, alpha).outcome
