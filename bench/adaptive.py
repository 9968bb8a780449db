"""Adaptive seeds: add seeds in batches until every claim is decided or the budget is spent.

Procedure (group-sequential, alpha spending with a Bonferroni combination of looks):

* The looks are fixed before any data: n_k = batch, 2 batch, ..., max_seeds
  seeds, with information fraction t_k = n_k / max_seeds.
* A spending function alpha(t) says how much of the overall alpha = 0.05 may be
  used by fraction t. The default is the O'Brien-Fleming-type Lan-DeMets
  function alpha(t) = 2 (1 - Phi(z_{1-alpha/2} / sqrt(t))): it spends almost
  nothing early (only huge effects stop a run after one batch) and keeps most
  of alpha for the last look, so a run that uses its whole budget loses little
  power against the fixed-n test. ``spending="pocock"`` (alpha ln(1 + (e - 1) t))
  spends evenly and stops earlier on moderate effects.
* At look k the family (every claim x framework x mode) is Holm-corrected at the
  *increment* alpha(t_k) - alpha(t_{k-1}). A claim decided at a look
  (reproduced or contradicted) keeps that verdict; the run stops when every
  claim is decided.
* Validity: by Holm each look makes a false decision with probability at most
  its increment, and by the union bound over looks the whole run does so with
  probability at most sum of increments = alpha, whatever the stopping rule,
  whatever the test of each claim kind (t, exact, TOST, permutation) and with no
  normality or independent-increments assumption. That generality is why this
  was chosen over exact group-sequential boundaries, which assume normal
  statistics with independent increments and would be approximate at 2-20 seeds
  and for exact binary tests. The price is some conservatism at the last look.

The fixed-n verdicts of ``REPORT.md`` computed afterwards on the same records
are *not* sequentially valid; the report's "Adaptive seeds" section, written
from ``adaptive.json``, holds the valid decisions.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from scipy import stats as _st

from bench import atomic, identity, report, runner, store, verdict
from bench.errors import SpecError

SPENDING = ("obrien_fleming", "pocock")


def spent(t: float, alpha: float = 0.05, spending: str = "obrien_fleming") -> float:
    """Cumulative alpha spent by information fraction ``t`` in (0, 1] (Lan-DeMets)."""
    if not 0 < t <= 1:
        raise ValueError(f"information fraction must lie in (0, 1], got {t}.")
    if spending == "obrien_fleming":
        return float(2 * _st.norm.sf(_st.norm.isf(alpha / 2) / math.sqrt(t)))
    if spending == "pocock":
        return float(alpha * math.log(1 + (math.e - 1) * t))
    raise ValueError(f"spending must be one of {SPENDING}, got {spending!r}.")


def looks(max_seeds: int, batch: int) -> list[int]:
    """The seed counts at which the claims are tested: batch, 2 batch, ..., max_seeds."""
    if batch < 2 or max_seeds < batch:
        raise SpecError(f"adaptive seeds need --batch >= 2 and --max-seeds >= --batch; "
                        f"got batch {batch}, max seeds {max_seeds}.")
    return [*range(batch, max_seeds, batch), max_seeds]


def nominal_levels(max_seeds: int, batch: int, alpha: float = 0.05,
                   spending: str = "obrien_fleming") -> list[tuple[int, float, float, float]]:
    """(seeds, fraction, cumulative spent, nominal level of this look) per look; levels sum to alpha."""
    out, before = [], 0.0
    for n in looks(max_seeds, batch):
        t = n / max_seeds
        cum = spent(t, alpha, spending)
        out.append((n, t, cum, cum - before))
        before = cum
    return out


@dataclass
class Outcome:
    """``decided`` maps "case/claim/framework/mode" to (verdict, seeds at the deciding look)."""
    decided: dict = field(default_factory=dict)
    undecided: list = field(default_factory=list)
    looks: list = field(default_factory=list)
    stopped_early: bool = False


def _key(case, fw, mode, res) -> str:
    return f"{case.id}/{res.claim_id}/{fw}/{mode}"


def run(cases, profile: str, max_seeds: int, batch: int, frameworks=runner.DEFAULT_FRAMEWORKS,
        modes=("as_written",), arm_names=None, results_dir="results", data_dir=None,
        progress: bool = True, alpha: float = 0.05, spending: str = "obrien_fleming",
        group_size=None, workers: int = 1) -> Outcome:
    """Train seeds batch by batch with ``bench.runner.run`` and test at each planned look.

    Each look trains only the new seeds (runs are resumable) and analyses seeds
    0..n_k-1 exactly, so records of other seeds already on disk do not leak in.
    Writes ``<results>/<profile>/adaptive.json`` for the report.
    """
    plan = nominal_levels(max_seeds, batch, alpha, spending)
    outcome = Outcome()
    family: list[str] = []
    for n, t, cum, level in plan:
        runner.run(cases, profile, frameworks, modes, arm_names, n, results_dir, data_dir, group_size=group_size,
                   progress=progress, workers=workers)
        current = identity.split(store.load(results_dir, profile), profile,   # never a stale record
                                 {c.id: identity.spec_hash(c, profile) for c in cases}).records
        records = [r for r in current if r["seed"] < n
                   and r["framework"] in frameworks and r["mode"] in modes]
        evaluated = report.evaluate(records, cases)
        results = verdict.adjust([res for *_, res in evaluated], alpha=level)
        keys = [_key(case, fw, mode, res) for (case, fw, mode, _), res in zip(evaluated, results)]
        family = sorted(set(family) | set(keys))
        new = [k for k, res in zip(keys, results)
               if res.verdict in ("reproduced", "contradicted") and k not in outcome.decided]
        for k, res in zip(keys, results):
            if k in new:
                outcome.decided[k] = (res.verdict, n)
        outcome.looks.append({"seeds": n, "fraction": t, "spent": cum, "alpha": level, "decided": new})
        if family and all(k in outcome.decided for k in family):
            outcome.stopped_early = n < max_seeds
            break
    outcome.undecided = [k for k in family if k not in outcome.decided]
    _write(outcome, Path(results_dir) / profile, max_seeds, batch, alpha, spending)
    return outcome


def _write(outcome: Outcome, out_dir: Path, max_seeds: int, batch: int, alpha: float, spending: str) -> None:
    name = {"obrien_fleming": "O'Brien-Fleming-type", "pocock": "Pocock-type"}[spending]
    procedure = (f"Seeds were added in batches of {batch} up to {max_seeds}, testing at each look with Holm "
                 f"at the increment of a {name} Lan-DeMets alpha-spending function (overall alpha {alpha:g}); "
                 f"the increments sum to alpha, so the decisions below keep the family-wise error at "
                 f"{alpha:g} under optional stopping. The fixed-n verdicts in the claim tables above are "
                 f"computed as if n had been fixed in advance and are not sequentially valid.")
    decided = "; ".join(f"{k}: {v} at {n} seeds" for k, (v, n) in sorted(outcome.decided.items())) or "none"
    result = (f"Decided: {decided}. Undecided at the budget: {', '.join(outcome.undecided) or 'none'}."
              + (" Stopped early: every claim was decided." if outcome.stopped_early else ""))
    atomic.write_text(out_dir / "adaptive.json", json.dumps(
        {"procedure": procedure, "outcome": result, "looks": outcome.looks, "spending": spending,
         "alpha": alpha, "max_seeds": max_seeds, "batch": batch}, indent=1))
