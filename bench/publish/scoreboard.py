"""The answer at a glance: one row per claim, each framework (x mode) a column.

Built from the evaluated claim results (``bench.analysis.evaluate``: the
``ClaimResult`` of each claim in each framework/mode) without recomputing
anything; verdict strings are shown as they come, so a new verdict word
appears as itself. Each cell is the verdict and the estimate it is decided by,
with that estimate's interval (the one ``ci_label`` names). ``headline`` counts
the verdicts; ``markdown`` heads ``REPORT.md`` (each claim links down to its
case's section), ``terminal`` is what ``bench report`` prints, and ``rows`` /
``wide`` feed the HTML page.
"""
from __future__ import annotations

from collections import Counter

from tabulate import tabulate

from bench.publish.tables import fmt

# A mark beside the verdicts this suite knows, in the order counts are given; any other
# verdict is shown bare and counted after them.
MARKS = {"reproduced": "✅", "smaller than claimed": "🔽", "inconclusive": "❔", "contradicted": "❌"}


def anchor(case_id: str) -> str:
    """The id of a case's section in REPORT.md and the HTML page."""
    return f"case-{case_id}"


def variant(framework: str, mode: str) -> str:
    """A column name: the framework, with its mode where it is not the default."""
    return framework if mode == "as_written" else f"{framework} ({mode})"


def _variant_key(name: str):
    return name.split(" ")[0], " " in name   # tf, torch, torch (matched)


def counts(verdicts) -> str:
    """``"19 reproduced, 4 inconclusive, ..."``: known verdicts in MARKS's order, others after."""
    seen = Counter(verdicts)
    order = [v for v in MARKS if seen[v]] + sorted(set(seen) - set(MARKS))
    return ", ".join(f"{seen[v]} {v}" for v in order) or "no verdict"


def headline(evaluated) -> str:
    """How many claims, in which frameworks and modes, and how many of each verdict."""
    claims = {(case.id, res.claim_id) for case, _, _, res in evaluated}
    per = Counter(variant(fw, mode) for _, fw, mode, _ in evaluated)
    split = ", ".join(f"{name} {per[name]}" for name in sorted(per, key=_variant_key))
    return (f"{len(claims)} claim{'' if len(claims) == 1 else 's'}, {len(evaluated)} verdicts ({split}): "
            f"{counts(str(res.verdict) for *_, res in evaluated)}.")


def estimate_text(res) -> str:
    """The estimate and the interval its verdict is decided by; its level when not 95 %
    (Holm's adjusted level in a family, or a trend's search over candidates)."""
    level = getattr(res, "ci_level", 0.95)
    at = "" if abs(level - 0.95) < 1e-9 else f" at {100 * level:.3g}%"
    return f"{fmt(res.estimate)} [{fmt(res.ci_low)}, {fmt(res.ci_high)}]{at}"


def reported_text(claim) -> str:
    return claim.reported_text()


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def rows(evaluated) -> list[dict]:
    """One dict per claim x framework x mode, each claim's frameworks side by side
    (cases in report order, claims in case order)."""
    out = []
    cases = list(dict.fromkeys(case.id for case, *_ in evaluated))

    def order(item):
        case, fw, mode, res = item
        ids = [c.id for c in case.claims]
        return cases.index(case.id), ids.index(res.claim_id) if res.claim_id in ids else 0, fw, mode

    for case, fw, mode, res in sorted(evaluated, key=order):
        claim = next(c for c in case.claims if c.id == res.claim_id)
        out.append({"case": case.id, "claim": res.claim_id, "framework": fw, "mode": mode,
                    "verdict": str(res.verdict), "estimate": estimate_text(res), "metric": res.metric,
                    "post": reported_text(claim), "statement": claim.statement, "ci_label": res.ci_label,
                    "value": res.estimate, "ci_low": res.ci_low, "ci_high": res.ci_high})
    return out


def variants(evaluated) -> list[str]:
    """The framework (x mode) columns, in table order."""
    return sorted({variant(fw, mode) for _, fw, mode, _ in evaluated}, key=_variant_key)


def wide(evaluated) -> list[dict]:
    """One dict per claim: its case, statement, metric and the post's figure, and under each
    variant name the row of ``rows`` for that framework and mode (absent where not run)."""
    out: dict = {}
    for r in rows(evaluated):
        entry = out.setdefault((r["case"], r["claim"]), {"case": r["case"], "claim": r["claim"],
                                                          "statement": r["statement"], "metric": r["metric"],
                                                          "post": r["post"], "cells": {}})
        entry["cells"][variant(r["framework"], r["mode"])] = r
    return list(out.values())


def _verdict(text: str) -> str:
    mark = MARKS.get(text)
    return f"{mark} {text}" if mark else text


def cell_text(r: dict | None) -> str:
    """A verdict with the estimate it is decided by and that estimate's interval."""
    return "" if r is None else f"{_verdict(r['verdict'])}: {r['estimate']}"


def markdown(evaluated) -> list[str]:
    """The verdict counts and the scoreboard table of REPORT.md, each claim linked to its case's details."""
    names = variants(evaluated)
    table = [{"claim": f"[{w['claim']}](#{anchor(w['case'])})", "statement": _short(w["statement"]),
              **{name: cell_text(w["cells"].get(name)) for name in names},
              "metric": w["metric"], "post reported": w["post"]} for w in wide(evaluated)]
    if not table:
        return ["No claim could be tested: none has records for all of its arms."]
    return [f"**{headline(evaluated)}**", "",
            "Each cell: the verdict, then the estimate it is decided by with its interval "
            "at the level its verdict is decided at: 95 % for a claim alone in its Holm family, higher where Holm "
            "asks for it (the cell names the level; `ci_level` in claims.csv).", "",
            tabulate(table, headers="keys", tablefmt="github")]


def terminal(evaluated) -> str:
    """The scoreboard as plain text for the terminal: the counts, then one line per claim x framework."""
    table = [{"claim": r["claim"], "framework": variant(r["framework"], r["mode"]), "verdict": r["verdict"],
              "estimate [CI]": r["estimate"], "statement": _short(r["statement"], 50)}
             for r in rows(evaluated)]
    if not table:
        return "no claim could be tested: none has records for all of its arms."
    return headline(evaluated) + "\n\n" + tabulate(table, headers="keys", tablefmt="simple")
