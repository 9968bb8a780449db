"""Rows of the report's tables: arms, claims, TF vs PyTorch agreement, adaptive looks.

Each function returns a list of dicts (one per row) or a tabulated string;
``bench.publish.report`` assembles them into ``REPORT.md`` and ``claims.csv``.
"""
from __future__ import annotations

import math
from collections import defaultdict
from itertools import combinations

import numpy as np
from tabulate import tabulate

from bench.analysis import verdict
from bench.analysis.evaluate import variants
from bench.spec import Case
from bench.stats import kinds


def fmt(x, digits=4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return f"{x:.{digits}g}" if abs(x) < 1e-3 and x != 0 else f"{x:.{digits}f}"


def _summary(vals: np.ndarray) -> str:
    """``mean ± sd`` of the finite values; ``k/n`` for a 0/1 outcome; a word when there are none."""
    if not len(vals):
        return "n/a (no finite value)"
    if np.isin(vals, (0.0, 1.0)).all():
        return f"{int(vals.sum())}/{len(vals)}"
    sd = vals.std(ddof=1) if len(vals) > 1 else float("nan")
    return f"{fmt(vals.mean())} ± {fmt(sd)}"


def arm_table(records: list[dict], case: Case) -> str:
    rows = []
    for r_arm in case.arms:
        for fw, mode in variants([r for r in records if r["case"] == case.id]):
            mine = [r for r in records if (r["case"], r["arm"], r["framework"], r["mode"])
                    == (case.id, r_arm.name, fw, mode)]
            if not mine:
                continue
            ok = [r for r in mine if r["status"] == "ok"]
            row = {"arm": r_arm.name, "framework": f"{fw}/{mode}", "seeds ok": len(ok),
                   "diverged (n)": sum(r["diverged"] for r in ok),
                   "failed": sum(r["status"] == "failed" for r in mine)}
            for metric in case.metrics:
                if metric.name == "diverged":
                    continue  # counted above
                vals = np.array([r["metrics"].get(metric.name, np.nan) for r in ok], dtype=float)
                vals = vals[np.isfinite(vals)]
                row[metric.name] = _summary(vals)
            walls = [r["timing"]["wall_s"] for r in ok]
            row["s/run (median)"] = f"{np.median(walls):.1f}" if walls else "n/a"
            rows.append(row)
    return tabulate(rows, headers="keys", tablefmt="github")


def test_label(res) -> str:
    """The primary test, as named in the report (its kind's ``label``)."""
    return kinds.get(res.kind).label(res, fmt)


def _checks(res) -> str:
    tests = [t for t in (res.robustness, res.permutation, *res.secondary) if t is not None]
    return "; ".join(f"{t.name} {fmt(t.p_value, 3)}" for t in tests)


def _mde(res) -> str:
    pw = res.power
    if pw is None:
        return "n/a"
    unit = kinds.get(res.kind).MDE_UNIT
    return f"{fmt(pw.mde, 3)}{unit} (n={res.n_pairs if res.paired else pw.n})"


def _needed(res) -> str:
    if res.verdict != "inconclusive" or res.power is None:
        return "—"
    if res.power.seeds_needed is None:
        return f"n/a ({res.power.note})" if res.power.note else "n/a"
    return str(res.power.seeds_needed) + kinds.get(res.kind).NEEDED_UNIT


def claim_rows(evaluated) -> list[dict]:
    rows = []
    for case, fw, mode, res in evaluated:
        claim = next(c for c in case.claims if c.id == res.claim_id)
        reported = claim.reported_text()
        if res.rates:
            ours = ", ".join(f"{arm} {fmt(p, 3)} [{fmt(lo, 3)}, {fmt(hi, 3)}]" for arm, p, lo, hi in res.rates)
        else:
            ours = ", ".join(f"{s.arm} {fmt(s.mean)}" for s in res.arm_summary)
        rows.append({
            "claim": claim.id, "framework": f"{fw}/{mode}", "test": test_label(res), "n": res.n_pairs,
            "excl.": sum(n for _, n in res.n_excluded), "ours (mean)": ours, "post reported": reported,
            "estimate [CI]": f"{fmt(res.estimate)} [{fmt(res.ci_low)}, {fmt(res.ci_high)}] {res.ci_label}",
            "effect": f"{res.effect_name} {fmt(res.effect_size, 3)}",
            "p": fmt(res.primary.p_value, 3), "p Holm": fmt(res.p_holm, 3), "q BH": fmt(res.q_bh, 3),
            "robustness p": _checks(res), "MDE 80%": _mde(res), "seeds needed": _needed(res),
            "verdict": res.verdict,
        })
    return rows


def notes(evaluated) -> list[str]:
    """One bullet per result whose reason or robustness check a reader should see."""
    out = []
    for _, fw, mode, res in evaluated:
        sens = res.sensitivity
        out.append(f"- {res.claim_id} {fw}/{mode}: {res.verdict}: {res.reason}."
                   + (f" Robustness disagrees: {res.robust_note}." if res.robust_note else "")
                   + (f" Caveat: {res.caveat}." if getattr(res, "caveat", "") else "")
                   + (f" Sensitivity (the {res.n_diverged} seed(s) with a diverged run excluded): "
                      f"{sens.name} p = {fmt(sens.p_value, 3)}, estimate {fmt(res.estimate)}." if sens else ""))
    return out


def agreement_rows(evaluated) -> list[dict]:
    """One row per claim x mode x pair of frameworks that both have its result.

    Frameworks pair in sorted order (the order of ``evaluated``), each pair once:
    with two frameworks ``a``, ``b`` the columns are ``a``, ``b`` and ``a - b``.
    """
    by_claim = defaultdict(dict)
    for case, fw, mode, res in evaluated:
        by_claim[(case.id, res.claim_id, mode)][fw] = res
    rows = []
    for (case_id, claim_id, mode), fws in sorted(by_claim.items()):
        for a, b in combinations(sorted(fws), 2):
            found = verdict.agreement_test(fws[a], fws[b])
            rows.append({"claim": claim_id, "mode": mode, a: fws[a].verdict, b: fws[b].verdict,
                         f"{a} - {b}": fmt(found.difference), "paired": "yes" if found.paired else "no",
                         "margin": f"±{fmt(found.margin, 3)} ({found.margin_source})",
                         "p TOST": fmt(found.tost.p_value, 3),
                         "p beyond margin": fmt(found.beyond.p_value, 3),
                         "p diff": fmt(found.difference_test.p_value, 3),
                         "frameworks": found.outcome + (f" ({found.note})" if found.note else "")})
    return rows


def environment_rows(records: list[dict]) -> list[dict]:
    seen = {}
    for r in records:
        env = r.get("env", {})
        seen[tuple(sorted(env.items()))] = env
    return list(seen.values())


def _num(x):
    """A float for ``claims.csv``: None and non-numbers become NaN."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def claim_csv_rows(evaluated) -> list[dict]:
    """``claims.csv``: one row per claim x framework x mode, numbers as numbers.

    The display strings of the report (``claim_rows``) are for reading; these
    columns are for analysis: estimate, ci_low, ci_high (the interval the verdict
    is decided by, at ci_level: Holm's adjusted level), p, p_holm, q_bh,
    effect (with effect_name), mde, n, n_excluded, seeds_needed, beside the
    verdict and its reason.
    """
    rows = []
    for case, fw, mode, res in evaluated:
        pw = res.power
        rows.append({
            "case": case.id, "claim": res.claim_id, "framework": fw, "mode": mode, "kind": res.kind,
            "metric": res.metric, "test": test_label(res), "n": res.n_pairs,
            "n_excluded": sum(n for _, n in res.n_excluded),
            "estimate": _num(res.estimate), "ci_low": _num(res.ci_low), "ci_high": _num(res.ci_high),
            "ci_level": _num(res.ci_level), "p": _num(res.primary.p_value), "p_holm": _num(res.p_holm), "q_bh": _num(res.q_bh),
            "effect_name": res.effect_name, "effect": _num(res.effect_size),
            "mde": _num(pw.mde) if pw is not None else math.nan,
            "seeds_needed": _num(pw.seeds_needed) if pw is not None else math.nan,
            "margin": _num(res.margin), "verdict": res.verdict, "reason": res.reason,
        })
    return rows
