"""Records -> ``REPORT.md``, ``claims.csv`` and plots under ``<results>/<profile>/``.

Every number in the report is computed here from the committed records; none
is typed in. Claims are evaluated per (framework, mode) and Holm's correction
runs over every claim x framework x mode in the report (the family).
"""
from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from bench import registry, store, verdict
from bench.errors import StoreError
from bench.spec import Case

HOW_TO_READ = """\
**How to read this.** Each arm was trained over the listed seeds. Seed *i* gives every arm
the same initial weights (where shapes match) and the same batch order, and both frameworks
the same batches, so comparisons are **paired by seed**. A claim is a per-seed contrast of
one metric between arms (a difference of two arms, or the 2x2 interaction
`(both - dropout) - (l2 - none)`). The primary test is the paired t-test on the per-seed
contrast, with the Wilcoxon signed-rank test as a robustness check; `diff` is the mean
contrast with a bootstrap 95 % CI (seeds resampled). p-values are two-sided and
Holm-corrected across the whole family of claims x frameworks x modes in this report.

| verdict | meaning |
|---|---|
| reproduced | Holm-adjusted p < 0.05 and the effect has the claimed sign |
| contradicted | Holm-adjusted p < 0.05 and the effect has the opposite sign |
| inconclusive | otherwise (too few seeds, too small an effect, or no effect) |

A diverged run (NaN/inf loss) is an outcome: it is counted in the arm table, and its seed
is excluded from continuous-metric contrasts (the `excl.` column says how many).
"""


def _fmt(x, digits=4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{digits}g}" if abs(x) < 1e-3 and x != 0 else f"{x:.{digits}f}"


def _variants(records: list[dict]) -> list[tuple[str, str]]:
    return sorted({(r["framework"], r["mode"]) for r in records})


def samples_for(records: list[dict], case: Case, framework: str, mode: str, metric: str) -> dict:
    """``{arm: {seed: value}}`` of the finished records; diverged runs give NaN."""
    out: dict = defaultdict(dict)
    for r in records:
        if (r["case"], r["framework"], r["mode"], r.get("status")) == (case.id, framework, mode, "ok"):
            value = r["diverged"] if metric == "diverged" else r["metrics"].get(metric, float("nan"))
            out[r["arm"]][r["seed"]] = float(value)
    return dict(out)


def evaluate(records: list[dict], cases: list[Case]) -> list[tuple[Case, str, str, object]]:
    """Every claim x (framework, mode) with records for all its arms, Holm-adjusted together."""
    rows, results = [], []
    for case in cases:
        mine = [r for r in records if r["case"] == case.id]
        for fw, mode in _variants(mine):
            for claim in case.claims:
                samples = samples_for(mine, case, fw, mode, claim.metric)
                if not all(arm in samples for arm in claim.arms):
                    continue
                rows.append((case, fw, mode))
                results.append(verdict.evaluate_claim(claim, samples))
    adjusted = verdict.adjust(results)
    return [(case, fw, mode, res) for (case, fw, mode), res in zip(rows, adjusted)]


def arm_table(records: list[dict], case: Case) -> str:
    rows = []
    for r_arm in case.arms:
        for fw, mode in _variants([r for r in records if r["case"] == case.id]):
            mine = [r for r in records if (r["case"], r["arm"], r["framework"], r["mode"])
                    == (case.id, r_arm.name, fw, mode)]
            if not mine:
                continue
            ok = [r for r in mine if r["status"] == "ok"]
            row = {"arm": r_arm.name, "framework": f"{fw}/{mode}", "seeds ok": len(ok),
                   "diverged": sum(r["diverged"] for r in ok),
                   "failed": sum(r["status"] == "failed" for r in mine)}
            for metric in case.metrics:
                vals = np.array([r["metrics"].get(metric.name, np.nan) for r in ok], dtype=float)
                vals = vals[np.isfinite(vals)]
                sd = vals.std(ddof=1) if len(vals) > 1 else float("nan")
                row[metric.name] = f"{_fmt(vals.mean()) if len(vals) else 'n/a'} ± {_fmt(sd)}"
            walls = [r["timing"]["wall_s"] for r in ok]
            row["s/run (median)"] = f"{np.median(walls):.1f}" if walls else "n/a"
            rows.append(row)
    return tabulate(rows, headers="keys", tablefmt="github")


def claim_rows(evaluated) -> list[dict]:
    rows = []
    for case, fw, mode, res in evaluated:
        claim = next(c for c in case.claims if c.id == res.claim_id)
        reported = ", ".join(f"{a} {v}" for a, v in claim.reported) or "—"
        means = ", ".join(f"{s.arm} {_fmt(s.mean)}" for s in res.arm_summary)
        rows.append({
            "claim": claim.id, "framework": f"{fw}/{mode}", "n": res.n_pairs,
            "excl.": sum(n for _, n in res.n_excluded),
            "ours (mean)": means, "post reported": reported,
            "diff [95% CI]": f"{_fmt(res.estimate)} [{_fmt(res.ci_low)}, {_fmt(res.ci_high)}]",
            "p (paired t)": _fmt(res.primary.p_value, 3), "p Holm": _fmt(res.p_holm, 3),
            "p Wilcoxon": _fmt(res.robustness.p_value, 3),
            "effect": f"{res.effect_name} {_fmt(res.effect_size, 3)}",
            "P(A>B)": _fmt(res.p_superiority, 3), "verdict": res.verdict,
        })
    return rows


def agreement_rows(evaluated) -> list[dict]:
    by_claim = defaultdict(dict)
    for case, fw, mode, res in evaluated:
        by_claim[(case.id, res.claim_id, mode)][fw] = res
    rows = []
    for (case_id, claim_id, mode), fws in sorted(by_claim.items()):
        if {"tf", "torch"} <= set(fws):
            rows.append({"claim": claim_id, "mode": mode, "tf": fws["tf"].verdict,
                         "torch": fws["torch"].verdict,
                         "frameworks": verdict.agreement(fws["tf"], fws["torch"])})
    return rows


def environment_rows(records: list[dict]) -> list[dict]:
    seen = {}
    for r in records:
        env = r.get("env", {})
        seen[tuple(sorted(env.items()))] = env
    return list(seen.values())


def write(results_dir, profile: str) -> Path:
    """Write the report for ``profile`` and return its path."""
    from bench import plots

    records = store.load(results_dir, profile)
    if not records:
        raise StoreError(f"no records in {store.records_path(results_dir, profile)}; "
                         f"run `bench run --profile {profile}` first.")
    cases = [c for c in registry.select(None) if any(r["case"] == c.id for r in records)]
    evaluated = evaluate(records, cases)
    out_dir = Path(results_dir) / profile
    lines = [f"# Results: profile `{profile}`", "",
             f"Generated {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC from {len(records)} records "
             f"in `records.jsonl`. Holm family size: {len(evaluated)}.", "", HOW_TO_READ]
    for case in cases:
        prof = case.profile(profile)
        lines += [f"## {case.id}: {case.title}", "", f"Source: {case.source}. Profile: {prof.notes}.", "",
                  "### Arms", "", arm_table(records, case), ""]
        mine = [e for e in evaluated if e[0] is case]
        lines += ["### Claims", "", tabulate(claim_rows(mine), headers="keys", tablefmt="github"), ""]
        for claim in case.claims:
            lines.append(f"- **{claim.id}**: {claim.statement}")
        agree = agreement_rows(mine)
        if agree:
            lines += ["", "### TensorFlow vs PyTorch", "", tabulate(agree, headers="keys", tablefmt="github")]
        for png in plots.curves(records, case, out_dir):
            lines += ["", f"![{case.id} learning curves]({png.name})"]
        lines.append("")
    lines += ["## Environment", "", tabulate(environment_rows(records), headers="keys", tablefmt="github"), ""]
    pd.DataFrame(claim_rows(evaluated)).to_csv(out_dir / "claims.csv", index=False)
    path = out_dir / "REPORT.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
