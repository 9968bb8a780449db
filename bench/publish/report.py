"""Records -> ``REPORT.md``, ``claims.csv`` and plots under ``<results>/<profile>/``.

``REPORT.md`` is a function of the records alone: it names no machine path and no
time of writing, so regenerating it from the same records anywhere gives the same file.

Every number in the report is computed here from the committed records; none
is typed in. Claims are evaluated per (framework, mode) with the test that
matches their kind; Holm's correction runs within each case (its claims x
frameworks x modes are one family), and Benjamini-Hochberg over the whole
report as a suite-level figure (``bench.analysis.evaluate``). After ``bench run
--adaptive`` the verdicts shown are the sequential ones (``bench.analysis.decisions.apply``).
The tables themselves are built in ``bench.publish.tables``; this module only renders.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from bench.records import adaptive_log, atomic, staging, store
from bench.stats import kinds
from bench.spec import registry
from bench.analysis import verdict
from bench.analysis.evaluate import evaluate, family
from bench.errors import StoreError
from bench.publish.tables import agreement_rows, arm_table, claim_csv_rows, claim_rows, environment_rows, notes

METHOD_FILE = "METHOD.md"

HOW_TO_READ = """\
**How to read this.** Each arm was trained over the listed seeds. Seed *i* gives every arm
the same initial weights (where shapes match) and the same batch order, and both frameworks
the same batches, so comparisons are **paired by seed**. A claim is a per-seed contrast of
one metric between arms. Its kind decides the test (`test` column); the primary test's
p-value is two-sided and Holm-corrected within the claim's **case and mode** (the family: that
case's claims x frameworks in one mode, which replicate one hypothesis per claim, so a case's
verdicts never depend on which other cases share this report, and an as-written verdict never
depends on whether a sensitivity mode such as `matched` ran; `p Holm`). `q BH` is the
Benjamini-Hochberg q-value over every result in this report, a suite-level figure, never a verdict.

| kind | test |
|---|---|
{tests}

`estimate` is the mean per-seed contrast (for binary claims, the difference of the two
rates; for trend claims the peak's height above the nearer end) with the CI its verdict is
decided by, at the level its label names: Holm's adjusted level for the claim (95 % in a family
of one; 1 - 0.05 / j where j is the multiplier Holm applies to the claim), so a paired t's CI excludes 0 exactly when its
Holm-adjusted p < 0.05. That is the Student-t CI of the mean contrast (it covers 95 % at 5-20
seeds for normal contrasts; the percentile bootstrap covered 84-93 % there); for equivalence and
non-inferiority the same t CI, inside +-margin (above -margin) exactly when TOST (the
non-inferiority test) succeeds: both run each one-sided test at alpha / 2, so equivalence on
the same data always implies non-inferiority; for trend claims each leg's t CI at 1 - alpha /
(k - 2), paying for the data-driven choice of the peak. Two intervals are not the primary
test's own, and say so in their label: Newcombe's CI for rates (McNemar decides) and the
surviving seeds' t CI when a diverged seed makes the all-seeds rank test primary. For skewed
metrics (gradient norms, sparsity, MAE) the t CI's coverage is not guaranteed and a caveat is
printed under the table. `robustness p`
lists the checks; a note under the table says when a check and the primary test disagree
about significance. `MDE 80%` is the smallest true effect, in metric units (a rate difference
from the reference arm's rate for binary claims; for equivalence the smallest margin provable
at a true difference of 0; for non-inferiority the distance above -margin), that the primary
test detects with 80 % power at the `n` used and at alpha / family size, the strictest Holm
step: exact noncentral-t power for t-tests, exact TOST power, exact enumerated power for the
McNemar / Boschloo tests; an approximation for trend claims. `seeds needed` (inconclusive
verdicts only) is the number of seeds that would detect the observed effect with 80 % power.

| verdict | meaning |
|---|---|
| reproduced | Holm-adjusted p < 0.05, the effect has the claimed sign, and its CI is not entirely below the claim's smallest effect that matters (equivalence: TOST shows the difference inside the margin; non-inferiority: shown above -margin) |
| smaller than claimed | the claimed effect is absent: the CI lies entirely below the smallest effect that matters (the claim's `min_effect`, else {frac:g} x the post's own effect where the post reports one), whether or not it also excludes 0, unless the effect is shown to have the opposite sign |
| contradicted | Holm-adjusted p < 0.05 and the effect has the opposite sign (equivalence: the difference is shown larger than the margin; non-inferiority: shown below -margin) |
| inconclusive | otherwise (too few seeds, too small an effect, or no effect); never read as "no difference" |

**TensorFlow vs PyTorch** is an equivalence question. For each claim the two frameworks'
per-seed contrasts are compared (per shared seed when at least 3 are shared, otherwise as two
independent means) against a margin in metric units fixed with the claim, never estimated from
these seeds (its `agreement_margin`, else its smallest effect that matters, else its
equivalence / non-inferiority margin): *equivalent* when TOST shows the gap inside the margin
(whatever a difference test says), *different* when the gap is shown beyond it, *undetermined*
otherwise or without a margin. A gap of exactly 0 on every seed is equivalent by construction;
a constant gap is decided by exact sign flips. These tests are not part of the Holm families.

A diverged run (NaN/inf loss) is an outcome: it is counted in the arm table and enters binary
claims (`diverged` = 1). In a continuous two-arm or interaction contrast its seed is kept and
ranked worst (primary: Wilcoxon over every seed); the paired t on the surviving seeds
(`excl.` counts the seeds it drops) is shown beside it as a sensitivity check, and the MDE is
that rank test's ("not decidable at this n" when no outcome can reach 0.05, e.g. at 5 seeds or
fewer). Only a non-finite value counts as diverged: a finite value, however far out, is a
measurement. A contrast equal
on every seed (up to float rounding: a spread within 1e-12 of the values it is computed from)
is decided by its exact sign-flip p (2 / 2^n). Fewer than 2 usable seeds or an
undefined p-value give an inconclusive verdict whose reason is listed under the table.
""".format(tests="\n".join(f"| {k} | {v} |" for k, v in kinds.tests().items()),
           frac=verdict.MIN_EFFECT_FRACTION)


# METHOD.md is the short form of docs/method.md for a reader of one report; the page itself
# is the single description of the whole method.
WHOLE_METHOD = ("The whole method (records, paired and vectorized seeds, workers, modes, L2 conventions, "
                "families, profiles) is `docs/method.md` in the regbench repository.")


def write(results_dir, profile: str, html: bool = False) -> Path:
    """Write the report for ``profile`` and return its path."""
    return publish(results_dir, profile, html)[0]


def publish(results_dir, profile: str, html: bool = False) -> tuple[Path, str]:
    """Write REPORT.md, METHOD.md, claims.csv, the plots and (``html``) REPORT.html, all at once
    (``bench.records.staging``: an interrupt leaves the previous report whole);
    return REPORT.md's path and the scoreboard as terminal text."""
    out_dir = Path(results_dir) / profile
    with staging.stage(out_dir) as into:
        board = render(results_dir, profile, into, html)
    return out_dir / "REPORT.md", board


def render(results_dir, profile: str, into: Path, html: bool = False, records_from=None) -> str:
    """The report of ``results_dir``'s ``profile`` written into the folder ``into`` (a staging
    folder that ``publish`` puts in place); the records are read from ``records_from``
    (default ``results_dir``), laid out as a results directory. Returns the scoreboard."""
    from bench.publish import plots, scoreboard

    from bench.host import environment
    from bench.records import identity

    loaded = identity.load(records_from or results_dir, profile)   # current records only: never two specs in one table
    records = loaded.records
    if not records:
        raise StoreError(f"no records in {store.records_path(results_dir, profile)}; "
                         f"run `bench run --profile {profile}` first." + (f" ({loaded.note()})" if loaded.stale else ""))
    cases = registry.for_records({r["case"] for r in records})   # a broken or ambiguous case is refused
    store.require_complete(records, store.records_path(results_dir, profile))
    out_dir = Path(results_dir) / profile
    evaluated = adaptive_verdicts(evaluate(records, cases), out_dir)
    lines = [f"# Results: profile `{profile}`", "",
             f"Generated from {len(records)} records in `records.jsonl`. {_family(evaluated)}", "",
             *overrides_lines(records),
             "## Scoreboard", "", *scoreboard.markdown(evaluated), "",
             f"Each claim links to its case below (arms, every test, plots). How the tests, verdicts and "
             f"the TensorFlow vs PyTorch comparison work: [METHOD.md]({METHOD_FILE}). Numbers for analysis: "
             f"`claims.csv`, and `bench.load_records(DIR)` for the records, DIR being this report's directory.", "",
             "**What ran** (as found in the records: spec hash, commit, machine, training path, budget, seeds):", "",
             *environment.summary(records), *([f"\n**Note:** {loaded.note()}"] if loaded.stale else []), ""]
    figures: dict = {}
    partials: list = []   # the partial-seeds warnings, also shown at the top of REPORT.html
    for case in cases:
        prof = case.profile(profile)
        mine = [e for e in evaluated if e[0] is case]
        pngs = [*plots.forest(mine, case, into), *plots.strips(records, case, into),
                *plots.curves(records, case, into)]
        figures[case.id] = pngs
        lines += [f'<a id="{scoreboard.anchor(case.id)}"></a>', "",
                  f"## {case.id}: {case.title}", "", f"Source: {case.source}. Profile: {prof.notes}.", ""]
        partial = [] if (out_dir / "adaptive.json").exists() else partial_lines(records, case, profile)
        partials += partial
        lines += partial
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
    atomic.write_with(into / "claims.csv",
                      lambda tmp: pd.DataFrame(claim_csv_rows(evaluated)).to_csv(tmp, index=False))
    atomic.write_text(into / METHOD_FILE, f"# How to read the report\n\n{HOW_TO_READ}\n{WHOLE_METHOD}\n")
    atomic.write_text(into / "REPORT.md", "\n".join(lines))
    if html:
        from bench.publish import html as page

        page.write(into / "REPORT.html", profile, evaluated, claim_rows(evaluated), figures,
                   HOW_TO_READ, [*overrides_lines(records), *partials])
    return scoreboard.terminal(evaluated)


def partial_lines(records: list[dict], case, profile: str) -> list[str]:
    """A warning when some arm x framework x mode of ``case`` has fewer ok seeds than ``profile``
    defines (a seed range published before the rest has run): its verdicts rest on fewer seeds."""
    from bench.host.environment import commit_of, seed_ranges

    wanted = case.profile(profile).seeds
    seeds: dict = defaultdict(set)
    for r in records:
        if r["case"] == case.id and r.get("status") == "ok":
            seeds[(r["arm"], r["framework"], r["mode"])].add(r["seed"])
    counts = sorted(len(s) for s in seeds.values())
    if not counts or counts[0] >= wanted:
        return []
    missing = sorted(set(range(wanted)) - set.intersection(*seeds.values()))
    commits = {commit_of(r.get("env", {})) for r in records if r["case"] == case.id} - {"unknown"}
    commit = f"commit {commits.pop()}" if len(commits) == 1 else "the same commit"
    how = (f" `bench run --profile {profile} --case {case.id} --seeds {missing[0]}:{missing[-1] + 1}` from "
           f"{commit}, then `bench publish`, adds them." if missing == list(range(missing[0], missing[-1] + 1))
           else "")
    return [f"**Partial, case `{case.id}`:** the `{profile}` profile defines {wanted} seeds per arm; "
            f"{counts[0] if counts[0] == counts[-1] else f'{counts[0]} to {counts[-1]}'} have run, so this "
            f"case's verdicts rest on fewer seeds than the profile's. Not yet run: seeds {seed_ranges(missing)}.{how}",
            ""]


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
    sizes = {}
    for case, _, mode, res in evaluated:
        sizes[family(case.id, mode)] = res.family_size
    undefined = sum(res.primary.p_value != res.primary.p_value for *_, res in evaluated)
    extra = f" ({undefined} more with an undefined p-value stay inconclusive)" if undefined else ""
    families = ", ".join(f"{case} {m}" for case, m in sizes.items()) or "none"
    return (f"Holm families (one per case and mode: its claims x frameworks), sizes: {families}{extra}. "
            f"Benjamini-Hochberg runs over all {len(evaluated)} results as a suite-level figure.")


def adaptive_verdicts(evaluated, out_dir: Path):
    """After ``bench run --adaptive``: the sequential decisions replace the fixed-n verdicts."""
    from bench.analysis import decisions
    return decisions.apply(evaluated, out_dir)


def adaptive_section(out_dir: Path) -> list[str]:
    """The sequential looks of ``bench run --adaptive``, when ``adaptive.json`` is present."""
    log = adaptive_log.read(out_dir)
    if log is None:
        return []
    rows = [{"look": i + 1, "seeds": look["seeds"], "info. fraction": f"{look['fraction']:.3f}",
             "alpha spent": f"{look['spent']:.4g}", "nominal alpha": f"{look['alpha']:.4g}",
             "decided": ", ".join(look["decided"]) or "—"} for i, look in enumerate(log["looks"])]
    return ["## Adaptive seeds", "", log["procedure"], "",
            tabulate(rows, headers="keys", tablefmt="github"), "", log["outcome"], ""]
