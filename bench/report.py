"""Records -> ``REPORT.md``, ``claims.csv`` and plots under ``<results>/<profile>/``.

Every number in the report is computed here from the committed records; none
is typed in. Claims are evaluated per (framework, mode) with the test that
matches their kind, and Holm's correction runs over every claim x framework x
mode in the report (the family). The tables themselves are built in
``bench.tables``.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from bench import equivalence, kinds, registry, store, verdict
from bench.errors import StoreError
from bench.spec import Case
from bench.tables import agreement_rows, arm_table, claim_csv_rows, claim_rows, environment_rows, notes
from bench.tables import fmt as _fmt  # noqa: F401  (kept for callers of the old name)
from bench.tables import variants as _variants

METHOD_FILE = "METHOD.md"

HOW_TO_READ = """\
**How to read this.** Each arm was trained over the listed seeds. Seed *i* gives every arm
the same initial weights (where shapes match) and the same batch order, and both frameworks
the same batches, so comparisons are **paired by seed**. A claim is a per-seed contrast of
one metric between arms. Its kind decides the test (`test` column); the primary test's
p-value is two-sided and Holm-corrected across the whole family of claims x frameworks x
modes in this report (`p Holm`); `q BH` is the Benjamini-Hochberg q-value, for reference only.

| kind | test |
|---|---|
{tests}

`estimate` is the mean per-seed contrast (for binary claims, the difference of the two
rates) with a bootstrap 95 % CI (seeds resampled; Newcombe's score CI for rates). `robustness p`
lists the checks; a note under the table says when a check and the primary test disagree
about significance. `MDE 80%` is the smallest true effect, in metric units (Cohen's h for
rates; for equivalence the smallest margin provable at a true difference of 0; for
non-inferiority the distance from -margin), that the
primary test would detect with 80 % power at the `n` used and at alpha / family size, the
strictest Holm step (exact noncentral-t power for paired t; normal approximations for rates
and TOST). `seeds needed` (inconclusive verdicts only) is the number of seeds that would
detect the observed effect with 80 % power.

| verdict | meaning |
|---|---|
| reproduced | Holm-adjusted p < 0.05 and the effect has the claimed sign (equivalence: TOST shows the difference inside the margin; non-inferiority: the 95 % CI lies above -margin) |
| contradicted | Holm-adjusted p < 0.05 and the effect has the opposite sign (equivalence: the difference is shown larger than the margin; non-inferiority: the 95 % CI lies below -margin) |
| inconclusive | otherwise (too few seeds, too small an effect, or no effect); never read as "no difference" |

**TensorFlow vs PyTorch.** For each claim the two frameworks' per-seed contrasts are compared
(per shared seed when at least 3 are shared, otherwise as two independent means): *disagree*
when a t-test on the difference rejects at 0.05 (or the verdicts are reproduced vs
contradicted), *agree* when TOST shows the difference lies within the margin (the claim's
`agreement_margin`, else {sd:g} pooled seed-to-seed SD of the contrast), *undetermined*
otherwise. These tests are not part of the Holm family.

A diverged run (NaN/inf loss) is an outcome: it is counted in the arm table and enters binary
claims (`diverged` = 1); in continuous-metric contrasts its seed is **excluded and counted**
(`excl.`), never imputed. Fewer than 2 usable seeds, a zero-spread contrast or an undefined
p-value give an inconclusive verdict whose reason is listed under the table.
""".format(tests="\n".join(f"| {k} | {v} |" for k, v in kinds.TESTS.items()),
           sd=equivalence.DEFAULT_AGREEMENT_SD)


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


def write(results_dir, profile: str, html: bool = False) -> Path:
    """Write the report for ``profile`` and return its path."""
    return publish(results_dir, profile, html)[0]


def publish(results_dir, profile: str, html: bool = False) -> tuple[Path, str]:
    """Write REPORT.md, METHOD.md, claims.csv, the plots and (``html``) REPORT.html;
    return REPORT.md's path and the scoreboard as terminal text."""
    from bench import plots, scoreboard

    records = store.load(results_dir, profile)
    if not records:
        raise StoreError(f"no records in {store.records_path(results_dir, profile)}; "
                         f"run `bench run --profile {profile}` first.")
    cases = [c for c in registry.select(None) if any(r["case"] == c.id for r in records)]
    evaluated = evaluate(records, cases)
    out_dir = Path(results_dir) / profile
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = [f"# Results: profile `{profile}`", "",
             f"Generated {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC from {len(records)} records "
             f"in `records.jsonl`. {_family(evaluated)}", "", *overrides_lines(records),
             "## Scoreboard", "", *scoreboard.markdown(evaluated), "",
             f"Each claim links to its case below (arms, every test, plots). How the tests, verdicts and "
             f"the TensorFlow vs PyTorch comparison work: [METHOD.md]({METHOD_FILE}). Numbers for analysis: "
             f"`claims.csv`, and `bench.load_records(\"{Path(results_dir).as_posix()}/{profile}\")` for the records.", ""]
    figures: dict = {}
    for case in cases:
        prof = case.profile(profile)
        mine = [e for e in evaluated if e[0] is case]
        pngs = [*plots.forest(mine, case, out_dir), *plots.strips(records, case, out_dir),
                *plots.curves(records, case, out_dir)]
        figures[case.id] = pngs
        lines += [f'<a id="{scoreboard.anchor(case.id)}"></a>', "",
                  f"## {case.id}: {case.title}", "", f"Source: {case.source}. Profile: {prof.notes}.", ""]
        lines += [f"![{case.id} {png.stem.split('_')[-1]}]({png.name})" for png in pngs[:1]]
        lines += ["", "### Arms", "", arm_table(records, case), ""]
        table = tabulate(claim_rows(mine), headers="keys", tablefmt="github") if mine else (
            "No claim could be tested: none has records for all of its arms in this profile.")
        lines += ["### Claims", "", table, ""]
        for claim in case.claims:
            lines.append(f"- **{claim.id}** ({claim.kind}): {claim.statement}")
        lines += ["", "Verdict reasons:", "", *notes(mine)]
        agree = agreement_rows(mine)
        if agree:
            lines += ["", "### TensorFlow vs PyTorch", "", tabulate(agree, headers="keys", tablefmt="github")]
        for png in pngs[1:]:
            lines += ["", f"![{case.id} {png.stem.split('_')[-1]}]({png.name})"]
        lines.append("")
    lines += adaptive_section(out_dir)
    lines += ["## Environment", "", tabulate(environment_rows(records), headers="keys", tablefmt="github"), ""]
    pd.DataFrame(claim_csv_rows(evaluated)).to_csv(out_dir / "claims.csv", index=False)
    (out_dir / METHOD_FILE).write_text(f"# How to read the report\n\n{HOW_TO_READ}", encoding="utf-8")
    path = out_dir / "REPORT.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    if html:
        from bench import html as page

        page.write(out_dir / "REPORT.html", profile, evaluated, claim_rows(evaluated), figures,
                   HOW_TO_READ, overrides_lines(records))
    return path, scoreboard.terminal(evaluated)


def overrides_lines(records: list[dict]) -> list[str]:
    """A note naming each one-off ``--set`` override found in the records, per case."""
    seen: dict = defaultdict(set)
    for r in records:
        for k, v in (r.get("overrides") or {}).items():
            seen[r["case"]].add(f"{k}={v}")
    if not seen:
        return []
    parts = "; ".join(f"{case}: {', '.join(sorted(v))}" for case, v in sorted(seen.items()))
    return [f"**Overridden for this run (`bench run --set`):** {parts}. These records carry the changed "
            f"spec hash; they are a variation, not the suite as written.", ""]


def _family(evaluated) -> str:
    m = evaluated[0][3].family_size if evaluated else 0
    undefined = sum(res.primary.p_value != res.primary.p_value for *_, res in evaluated)
    extra = f" ({undefined} more with an undefined p-value stay inconclusive)" if undefined else ""
    return (f"Holm family size: {m}{extra}; every claim x framework x mode result below is one "
            f"member, and Benjamini-Hochberg runs over the same family.")


def adaptive_section(out_dir: Path) -> list[str]:
    """The sequential looks of ``bench run --adaptive``, when ``adaptive.json`` is present."""
    path = out_dir / "adaptive.json"
    if not path.exists():
        return []
    log = json.loads(path.read_text(encoding="utf-8"))
    rows = [{"look": i + 1, "seeds": look["seeds"], "info. fraction": f"{look['fraction']:.3f}",
             "alpha spent": f"{look['spent']:.4g}", "nominal alpha": f"{look['alpha']:.4g}",
             "decided": ", ".join(look["decided"]) or "—"} for i, look in enumerate(log["looks"])]
    return ["## Adaptive seeds", "", log["procedure"], "",
            tabulate(rows, headers="keys", tablefmt="github"), "", log["outcome"], ""]
