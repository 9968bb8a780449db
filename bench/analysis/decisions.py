"""The decisions of ``bench run --adaptive`` (its ``adaptive.json``), read back onto the
evaluated claims: the report shows them as the verdicts.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bench.records import adaptive_log


def claim_key(case, fw, mode, res) -> str:
    """The "case/claim/framework/mode" key a decision is logged under."""
    return f"{case.id}/{res.claim_id}/{fw}/{mode}"


def apply(evaluated, out_dir: Path):
    """Replace fixed-n verdicts by the adaptive run's decisions, when ``adaptive.json`` has them.

    A decided claim takes its sequential verdict; an undecided member of the
    adaptive family is inconclusive. The fixed-n verdict moves into the reason.
    Results the adaptive run did not cover are returned unchanged.
    """
    log = adaptive_log.read(out_dir)   # checked: a malformed file is one sentence
    if log is None:
        return evaluated
    decisions, undecided = log.get("decisions"), set(log.get("undecided", ()))
    if decisions is None:
        return evaluated
    out = []
    for case, fw, mode, res in evaluated:
        key = claim_key(case, fw, mode, res)
        fixed = f"fixed-n analysis (not valid under optional stopping): {res.verdict}, {res.reason}"
        if key in decisions:
            d = decisions[key]
            res = replace(res, verdict=d["verdict"],
                          reason=f"adaptive: decided at {d['seeds']} seeds by the group-sequential boundary; {fixed}")
        elif key in undecided:
            res = replace(res, verdict="inconclusive",
                          reason=f"adaptive: not decided within {log['max_seeds']} seeds; {fixed}")
        out.append((case, fw, mode, res))
    return out
