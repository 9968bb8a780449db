"""Two sources on one question side by side: each claim that names others in ``Claim.pairs_with``
(a paper's claim and the post that repeats its advice, say) beside them, with both verdicts per
framework and both budgets, per published profile.

Read from each ``results/<profile>/claims.csv`` as the verdict matrix is (``bench.publish.matrix``),
never typed; ``bench verdicts --pairs`` prints it. A profile where neither claim has a verdict
is left out; where one has none, it says "not run".
"""
from __future__ import annotations

from tabulate import tabulate

from bench.publish.matrix import rows as matrix_rows
from bench.publish.scoreboard import MARKS
from bench.spec import PROFILES, registry


def _verdicts(found: dict, profile: str, case_id: str, claim_id: str) -> str:
    """``"tf: ✅ reproduced; torch: ..."`` for one claim at one profile, or "not run"."""
    entry = found.get((case_id, claim_id), {})
    columns = [k for k in entry if k.startswith(f"{profile} ")]
    if not columns:
        return "not run"
    return "; ".join(f"{c.split(' ', 1)[1]}: {MARKS.get(entry[c], '')} {entry[c]}".replace("  ", " ")
                     for c in columns)


def _budget(case, profile: str) -> str:
    if profile not in case.profiles:
        return "no such profile"
    return case.profiles[profile].notes or "the case's own budget"


def rows(results_dir, cases=None) -> list[dict]:
    """One dict per (profile, claim, paired claim) with a verdict on either side, fullest profile first."""
    cases = registry.discover() if cases is None else cases
    owner = {claim.id: case for case in cases.values() for claim in case.claims}
    found = {(r["case"], r["claim"]): r for r in matrix_rows(results_dir)}
    out = []
    for profile in reversed(PROFILES):
        for case in cases.values():
            for claim in case.claims:
                for other_id in claim.pairs_with:
                    other = owner.get(other_id)
                    mine = _verdicts(found, profile, case.id, claim.id)
                    theirs = _verdicts(found, profile, other.id, other_id) if other else "no such claim"
                    if mine == theirs == "not run":
                        continue
                    out.append({"profile": profile, "claim": claim.id, "source": case.source, "verdicts": mine,
                                "budget": _budget(case, profile), "paired claim": other_id,
                                "paired source": other.source if other else "", "paired verdicts": theirs,
                                "paired budget": _budget(other, profile) if other else ""})
    return out


def markdown(results_dir, cases=None) -> str:
    """The pairs as a GitHub table, or one sentence when no pair has a verdict yet."""
    found = rows(results_dir, cases)
    if not found:
        return "No paired claim has a verdict yet in any published profile (bench report writes claims.csv)."
    return tabulate(found, headers="keys", tablefmt="github")
