"""The answer at a glance: one row per claim x framework (x mode) with its verdict.

Built from the evaluated claim results (``bench.analysis.evaluate``: the
``ClaimResult`` of each claim in each framework/mode) without recomputing
anything; verdict strings are shown as they come, so a new verdict word
appears as itself. ``markdown`` heads ``REPORT.md`` (each row links down to its
case's section), ``terminal`` is what ``bench report`` prints, and ``rows``
feeds the HTML page.
"""
from __future__ import annotations

from tabulate import tabulate

from bench.publish.tables import fmt

# A mark beside the verdicts this suite knows; any other verdict is shown bare.
MARKS = {"reproduced": "✅", "contradicted": "❌", "inconclusive": "❔"}


def anchor(case_id: str) -> str:
    """The id of a case's section in REPORT.md and the HTML page."""
    return f"case-{case_id}"


def estimate_text(res) -> str:
    return f"{fmt(res.estimate)} [{fmt(res.ci_low)}, {fmt(res.ci_high)}]"


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
                    "post": reported_text(claim), "statement": claim.statement,
                    "value": res.estimate, "ci_low": res.ci_low, "ci_high": res.ci_high})
    return out


def _verdict(text: str) -> str:
    mark = MARKS.get(text)
    return f"{mark} {text}" if mark else text


def _framework(row: dict) -> str:
    return row["framework"] if row["mode"] == "as_written" else f"{row['framework']} ({row['mode']})"


def markdown(evaluated) -> list[str]:
    """The scoreboard table of REPORT.md, with a link per row to its case's details."""
    table, previous = [], None
    for r in rows(evaluated):
        first = (r["case"], r["claim"]) != previous   # the statement once per claim, beside its first framework
        previous = (r["case"], r["claim"])
        table.append({"claim": f"[{r['claim']}](#{anchor(r['case'])})",
                      "statement": _short(r["statement"]) if first else "", "framework": _framework(r),
                      "verdict": _verdict(r["verdict"]), "estimate [95% CI]": r["estimate"],
                      "metric": r["metric"], "post reported": r["post"] if first else ""})
    if not table:
        return ["No claim could be tested: none has records for all of its arms."]
    return [tabulate(table, headers="keys", tablefmt="github")]


def terminal(evaluated) -> str:
    """The scoreboard as plain text for the terminal."""
    table = [{"claim": r["claim"], "framework": _framework(r), "verdict": r["verdict"],
              "estimate [95% CI]": r["estimate"], "statement": _short(r["statement"], 50)}
             for r in rows(evaluated)]
    if not table:
        return "no claim could be tested: none has records for all of its arms."
    return tabulate(table, headers="keys", tablefmt="simple")
