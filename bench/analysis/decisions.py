"""The decisions of ``bench run --adaptive`` (its ``adaptive.json``), read back onto the
evaluated claims: the report shows them as the verdicts.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path


def claim_key(case, fw, mode, res) -> str:
    return f"{case.id}/{res.claim_id}/{fw}/{mode}"


def apply(evaluated, out_dir: Path):
    """Replace fixed-n verdicts by the adaptive run's decisions, when ``adaptive.json`` has them.

    A decided claim takes its sequential verdict; an undecided member of the
    adaptive family is inconclusive. The fixed-n verdict moves into the reason.
    Results the adaptive run did not cover are returned unchanged.
    """
    path = Path(out_dir) / "adaptive.json"
    if not path.exists():
        return evaluated
    log = json.loads(path.read_text(encoding="utf-8"))
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
