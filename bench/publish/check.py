"""The regression gate: a fresh run's records against the stored baseline (``bench.publish.baseline``).

``compare`` yields one ``Row`` per thing compared and fails a row on
(a) a verdict that changed, (b) a metric worse in its declared direction
(``Metric.higher_is_better``) beyond its tolerance, (c) a case whose spec hash
changed since the baseline, a case new to the records or missing from them,
and (d) failed, missing or newly diverged seeds. A better result is reported,
never failed.

How (b) is judged. Seeds are paired: seed *i* of the fresh run has the same
initial weights and batches as seed *i* of the baseline, so the unit is the
per-seed worsening ``w_i = ±(new_i - old_i)`` (sign from the metric's direction).

* ``tolerance``: fail when ``mean(w) > tol``. Valid where runs are
  bit-deterministic: on CPU the same seed gives the same record (see
  ``tests/test_backends.py``), so on the baseline's machine and versions every
  ``w_i`` is exactly 0 and any change is code.
* ``test``: for runs that do not repeat bit for bit (GPU, another CPU type),
  a one-sided paired t-test of ``w - tol`` against 0, Holm-adjusted over every
  metric row of the check at family-wise ``ALPHA``: fail only when the
  worsening is significantly beyond the tolerance. Pairing by seed keeps the
  shared initial weights and batches out of the noise; Holm keeps a clean run
  on another machine, whose every metric moves a little, from failing some of
  its hundreds of rows by chance. The smoke profiles give C1, C2 and C3 enough
  seeds for this to catch a planted regression (``tests/test_gate.py``);
  ``bench check`` prints the smallest worsening it detects per metric
  (``detectable``). Where the t-test is undefined (fewer than 2 seeds, or
  every ``w_i`` equal) it falls back to ``tolerance``.
* ``auto`` (default): ``tolerance`` when both sides ran on the CPU of one
  machine type (same ``env.cpu`` fingerprint: model and feature flags) with the
  same thread count where the records give one, else ``test``. Across CPU types
  a short run can drift far even with identical versions (docs/ci-gate.md
  has a measured case), which only the test tells from a regression.

Tolerances are absolute, in metric units: ``Metric.tolerance`` when the spec
declares one, else ``TOLERANCES[name]``, else ``DEFAULT_RELATIVE`` of the
baseline mean.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import asdict, dataclass

import numpy as np
from tabulate import tabulate

from bench.publish import baseline as base
from bench.records import identity, store
from bench.stats import significance as stats
from bench.errors import StoreError
from bench.spec import Case, Metric
from bench.spec.throughput import TIMED_METRICS

METHODS = ("auto", "tolerance", "test")
ALPHA = 0.05
# Smoke runs are short and noisy between code versions, but identical for one
# version on one machine; these bound what another CPU's kernels may shift.
TOLERANCES = {"test_accuracy": 0.01, "test_loss": 0.05, "train_loss": 0.05}
DEFAULT_RELATIVE = 0.02
FAIL, BETTER, WITHIN, SAME = "FAIL", "better", "within tolerance", "same"
STALE = "stale records ignored"   # a note, never a failure: the gate judges the current records


@dataclass(frozen=True)
class Row:
    case: str
    item: str      # "arm/framework/mode", "claim/framework/mode" or the case itself
    check: str     # a metric name, "verdict", "spec", "seeds", "diverged", "failed seed", "case"
    old: str
    new: str
    test: str
    result: str    # FAIL, BETTER, WITHIN or SAME
    hint: str = ""
    # The ``test`` method's unadjusted one-sided p-values; ``compare`` Holm-adjusts them
    # over every metric row of the check (the family), then decides the row.
    p_worse: float = math.nan
    p_better: float = math.nan

    @property
    def failed(self) -> bool:
        return self.result == FAIL


def tolerance(metric: Metric, old_mean: float) -> float:
    declared = getattr(metric, "tolerance", None)
    if declared is not None:
        return float(declared)
    if metric.name in TOLERANCES:
        return TOLERANCES[metric.name]
    return DEFAULT_RELATIVE * abs(old_mean)


def _fmt(x) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.4f}"


def _one_sided_p(diffs: np.ndarray) -> tuple[float, str]:
    """p of H1 mean(diffs) > 0 by the paired t-test, or NaN with the reason."""
    res = stats.paired_t(diffs)
    if math.isnan(res.p_value):
        return math.nan, res.note
    return (res.p_value / 2 if res.statistic > 0 else 1 - res.p_value / 2), ""


def judge(worse: np.ndarray, tol: float, method: str) -> tuple[str, str]:
    """Result and test text for per-seed worsenings ``worse`` of shape (n_seeds,)."""
    mean = float(worse.mean())
    plain = f"mean worse by {mean:+.4g}, tolerance {tol:.3g}"
    if method == "test":
        p_worse, note = _one_sided_p(worse - tol)
        p_better, _ = _one_sided_p(-worse - tol)
        if not math.isnan(p_worse):
            text = f"paired t: p(worse > {tol:.3g}) = {p_worse:.3g}, p(better > {tol:.3g}) = {p_better:.3g}"
            if p_worse < ALPHA:
                return FAIL, text
            return (BETTER if p_better < ALPHA else WITHIN), text
        plain += f" (t-test undefined: {note})"
    if np.all(worse == 0):
        return SAME, "identical per seed"
    if mean > tol:
        return FAIL, plain
    return (BETTER if mean < -tol else WITHIN), plain


def _metric_rows(case: Case, group: str, old: dict, new: dict, method: str) -> list[Row]:
    rows = []
    lost = sorted(set(old["diverged"]) - set(new["diverged"]), key=int)
    if lost:
        rows.append(Row(case.id, group, "seeds", f"{len(old['diverged'])} seeds", f"missing {lost}",
                        "seed count", FAIL, f"{case.id}/{group} has no ok record for seeds {lost}; "
                        f"run the profile in full."))
    # a seed the baseline lacks did not diverge there: its divergence is new too
    newly = sorted(s for s, d in new["diverged"].items() if d and not old["diverged"].get(s, False))
    healed = sorted(s for s, d in new["diverged"].items() if not d and old["diverged"].get(s, False))
    if newly or healed:
        rows.append(Row(case.id, group, "diverged", f"{sum(old['diverged'].values())} seeds",
                        f"{sum(new['diverged'].values())} seeds", f"newly diverged {newly}, recovered {healed}",
                        FAIL if newly else BETTER,
                        f"{case.id}/{group} now diverges on seeds {newly}." if newly else ""))
    if method == "auto":
        method = "tolerance" if same_cpu_machine(old, new) else "test"
    for metric in case.metrics:
        if metric.name in TIMED_METRICS:   # a speed case's timing: the machine's load, not the code
            continue
        o, n = old["metrics"].get(metric.name, {}), new["metrics"].get(metric.name, {})
        seeds = sorted((s for s in o if o[s] is not None and n.get(s) is not None), key=int)
        if not seeds:
            continue
        a = np.array([o[s] for s in seeds], dtype=float)
        b = np.array([n[s] for s in seeds], dtype=float)
        worse = (a - b) if metric.higher_is_better else (b - a)
        tol = tolerance(metric, float(a.mean()))
        result, text = judge(worse, tol, method)
        arrow = "higher" if metric.higher_is_better else "lower"
        hint = (f"{case.id} {metric.name} ({arrow} is better) is worse than the baseline beyond its "
                f"tolerance {tol:.3g}") if result == FAIL else ""
        p_worse, p_better = (_one_sided_p(worse - tol)[0], _one_sided_p(-worse - tol)[0]) \
            if method == "test" else (math.nan, math.nan)
        rows.append(Row(case.id, group, metric.name, _fmt(float(a.mean())), _fmt(float(b.mean())),
                        f"{method}: {text}", result,
                        hint or (f"{case.id} {metric.name} ({arrow} is better) is worse than the baseline beyond "
                                 f"its tolerance {tol:.3g}" if not math.isnan(p_worse) else ""),
                        p_worse, p_better))
    return rows


def _verdict_rows(case: Case, old: dict, new: dict) -> list[Row]:
    rows = []
    timed = {c.id for c in case.claims if c.metric in TIMED_METRICS}
    for name in sorted(set(old) | set(new)):
        was = old.get(name, {}).get("verdict", "absent")
        now = new.get(name, {}).get("verdict", "absent")
        if name.split("/")[0] in timed:   # a claim on a timing: reported, not judged (see TIMED_METRICS)
            rows.append(Row(case.id, name, "verdict", was, now, "a timing: not judged", SAME, ""))
            continue
        hint = "" if was == now else f"{case.id} claim {name}: verdict changed from {was} to {now}."
        rows.append(Row(case.id, name, "verdict", was, now, "verdict flip" if hint else "unchanged",
                        FAIL if hint else SAME, hint))
    return rows


def same_cpu_machine(old: dict, new: dict) -> bool:
    """Both sides ran on the CPU, on one known CPU fingerprint: only then do runs
    repeat bit for bit (another CPU's kernels round differently, and a short,
    unstable run such as C3's smoke can move far on that)."""
    cpus = set(old.get("cpus", ["unknown"])) | set(new.get("cpus", ["unknown"]))
    return set(old["devices"]) | set(new["devices"]) <= {"cpu"} and len(cpus) == 1 and "unknown" not in cpus


def compare(stored: dict, records: list[dict], profile: str, method: str = "auto") -> list[Row]:
    """Every comparison of ``records`` (one profile's latest records) with the baseline ``stored``."""
    if method not in METHODS:
        raise StoreError(f"unknown check method {method!r}; choose from {METHODS}.")
    regen = base.regenerate_hint(profile)
    rows = [Row(r["case"], base.group_name(r), "failed seed", "ok", r.get("error", "failed")[:60],
                f"seed {r['seed']}", FAIL, f"{r['case']}/{base.group_name(r)} seed {r['seed']} failed; "
                f"its record holds the traceback.") for r in records if r.get("status") != "ok"]
    cases = base.cases_of(records)
    fresh_verdicts = base.verdicts(records, cases)
    for case_id in sorted(set(stored["cases"]) - {c.id for c in cases}):
        rows.append(Row(case_id, case_id, "case", "in baseline", "no records", "presence", FAIL,
                        f"case {case_id} is in the baseline but not in the fresh run; run every case, "
                        f"or if it was removed on purpose {regen}."))
    for case in cases:
        entry = stored["cases"].get(case.id)
        if entry is None:
            rows.append(Row(case.id, case.id, "case", "absent", "in records", "presence", FAIL,
                            f"case {case.id} is new since the baseline; {regen}."))
            continue
        now = base.spec_hash(case, profile)
        if now != entry["spec_hash"]:
            rows.append(Row(case.id, case.id, "spec", entry["spec_hash"], now, "spec hash", FAIL,
                            f"the spec of case {case.id} changed since the baseline; re-read each claim's statement "
                            f"against its arms and direction (tests/test_claim_statements.py checks them) before "
                            f"you bless the change, then, if it is intended, {regen}."))
        claims_now = identity.claims_hash(case)
        if entry.get("claims_hash", claims_now) != claims_now:   # baselines before claims had a hash: not judged
            rows.append(Row(case.id, case.id, "claims", entry["claims_hash"], claims_now, "claims hash", FAIL,
                            f"a claim of case {case.id} changed since the baseline (its arms, direction, kind, "
                            f"metric or margin); re-read each claim's statement against its arms and direction "
                            f"(tests/test_claim_statements.py checks them), then, if it is intended, {regen}."))
        fresh = base.groups(records, case)
        for group in sorted(set(entry["groups"]) | set(fresh)):
            if group not in fresh:
                rows.append(Row(case.id, group, "seeds", "in baseline", "no ok records", "presence", FAIL,
                                f"{case.id}/{group} has no finished records; run the profile in full."))
            elif group not in entry["groups"]:   # the baseline must cover every group it is asked about
                rows.append(Row(case.id, group, "group", "absent", "in records", "presence", FAIL,
                                f"{case.id}/{group} is in the fresh run but not in the baseline; {regen}."))
            else:
                rows += _metric_rows(case, group, entry["groups"][group], fresh[group], method)
        rows += _verdict_rows(case, entry["verdicts"], fresh_verdicts[case.id])
    return _holm(rows)


def _holm(rows: list[Row]) -> list[Row]:
    """Decide the ``test`` rows at a family-wise ALPHA (Holm over every metric row of the check):
    a clean run on another CPU moves every metric a little, and at ALPHA per row some of
    hundreds of rows would fail by chance."""
    tested = [i for i, r in enumerate(rows) if not math.isnan(r.p_worse)]
    if not tested:
        return rows
    worse = stats.holm([rows[i].p_worse for i in tested])
    better = stats.holm([rows[i].p_better for i in tested])
    out = list(rows)
    for i, pw, pb in zip(tested, worse, better):
        r = rows[i]
        result = FAIL if pw < ALPHA else BETTER if pb < ALPHA else WITHIN
        out[i] = dataclasses.replace(r, result=result, hint=r.hint if result == FAIL else "",
                                     test=f"{r.test}; Holm over {len(tested)}: p(worse) {pw:.3g}")
    return out


def detectable(stored: dict, alpha: float = ALPHA, power: float = 0.8) -> list[dict]:
    """Per case x metric, the smallest worsening the ``test`` method detects with ``power`` at the
    baseline's seed count, in metric units: tol + (t(1 - alpha/m) + t(power)) * sd_w / sqrt(n),
    with df = n - 1, m the number of metric rows (Holm's strictest step) and sd_w = sqrt(2) x the
    baseline's seed-to-seed SD (another machine's run of a seed taken as independent of this
    one's: the worst case). The largest over the case's arms and frameworks is shown, and the median."""
    from scipy import stats as st

    cells = []
    for case_id, entry in sorted(stored["cases"].items()):
        for group, g in entry["groups"].items():
            for metric, by_seed in g["metrics"].items():
                vals = np.array([v for v in by_seed.values() if v is not None], dtype=float)
                cells.append((case_id, metric, vals))
    m = max(1, len(cells))
    out: dict = {}   # (case, metric) -> [(mde, n, tol) per group]
    for case_id, metric, vals in cells:
        n = len(vals)
        spec = next((x for x in _case_metrics(case_id) if x.name == metric), None)
        if spec is None:
            continue
        tol = tolerance(spec, float(vals.mean()) if n else 0.0)
        if n < 2:
            mde = math.inf
        else:
            sd_w = math.sqrt(2) * float(vals.std(ddof=1))
            mde = tol + (st.t.ppf(1 - alpha / m, n - 1) + st.t.ppf(power, n - 1)) * sd_w / math.sqrt(n)
        out.setdefault((case_id, metric), []).append((mde, n, tol))
    rows = []
    for (case_id, metric), cells_ in out.items():
        usable = [c for c in cells_ if c[1] >= 2] or cells_   # a group with no finite value says nothing
        worst = max(usable)
        rows.append({"case": case_id, "metric": metric, "seeds": worst[1], "tolerance": worst[2],
                     "median over groups": float(np.median([c[0] for c in usable])),
                     "smallest detectable worsening": worst[0]})
    return rows


def _case_metrics(case_id: str):
    from bench.spec import registry

    case = registry.discover().get(case_id)
    return case.metrics if case is not None else ()


def render_detectable(baseline_path, profile: str) -> str:
    """The ``detectable`` table, for ``bench check`` to print under its verdict."""
    rows = [{**r, "tolerance": f"{r['tolerance']:.3g}", "median over groups": f"{r['median over groups']:.3g}",
             "smallest detectable worsening": f"{r['smallest detectable worsening']:.3g}"}
            for r in detectable(base.load(baseline_path, profile))]
    return ("Off the baseline's machine (--method test) the gate detects, with 80 % power at family-wise "
            f"alpha {ALPHA}, a worsening of at least (metric units, worst arm x framework):\n"
            + tabulate(rows, headers="keys", tablefmt="github"))


def run(results_dir: str | os.PathLike, profile: str, baseline_path=None, method: str = "auto",
        cases=None) -> list[Row]:
    """``compare`` of the records with the baseline; ``cases`` limits both sides to those case ids."""
    stored = base.load(baseline_path, profile)
    loaded = identity.load(results_dir, profile)   # current records only; stale ones are named below
    records = loaded.records
    if cases:
        unknown = sorted(set(cases) - set(stored["cases"]))
        if unknown:
            raise StoreError(f"--case {', '.join(unknown)}: not in the {profile} baseline, which holds "
                             f"{', '.join(sorted(stored['cases']))}.")
        stored = {**stored, "cases": {k: v for k, v in stored["cases"].items() if k in cases}}
        records = [r for r in records if r["case"] in cases]
    if not records:
        raise StoreError(f"no records in {store.records_path(results_dir, profile)}; run "
                         f"`bench run --profile {profile} --results-dir {results_dir}` first.")
    rows = compare(stored, records, profile, method)
    if loaded.stale:
        rows.append(Row(",".join(sorted(loaded.stale)), "records", "stale", "", f"{sum(loaded.stale.values())} ignored",
                        "spec hash", STALE, loaded.note()))
    return rows


def render(rows: list[Row], show_all: bool = False) -> str:
    """The table of what changed (every row with ``show_all``), then a verdict and what to do."""
    shown = [r for r in rows if show_all or r.result != SAME]
    cols = ("case", "item", "check", "old", "new", "test", "result")
    lines = [tabulate([[getattr(r, c) for c in cols] for r in shown], headers=cols, tablefmt="github")] \
        if shown else []
    failed = [r for r in rows if r.failed]
    same = sum(r.result == SAME for r in rows)
    lines.append(f"bench check: {len(rows)} comparisons, {same} identical to the baseline, "
                 f"{sum(r.result == BETTER for r in rows)} better, {len(failed)} failed.")
    if failed:
        lines.append("FAILED:")
        where: dict = {}
        for r in failed:  # one line per reason, naming every place it applies
            where.setdefault(r.hint, []).append(r.item)
        lines += [f"  - {hint}" if hint.endswith(".") else f"  - {hint} in {', '.join(items)}."
                  for hint, items in where.items()]
    else:
        lines.append("PASSED: no regression against the baseline.")
    return "\n".join(lines)


def to_json(rows: list[Row], profile: str) -> str:
    def finite(value):
        return None if isinstance(value, float) and math.isnan(value) else value
    return json.dumps({"profile": profile, "passed": not any(r.failed for r in rows),
                       "rows": [{**{k: finite(v) for k, v in asdict(r).items()}, "failed": r.failed}
                                for r in rows]}, indent=1)
