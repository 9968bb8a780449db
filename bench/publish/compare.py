"""``bench compare``: does a fresh run reproduce the published tables of its profile?

A fresh run (``runs/<profile>/``) is judged against the published records
(``results/<profile>/``) of the same profile, case by case, at the three levels
a result can transfer at:

* **Verdicts**, per claim x framework x mode. The published verdict must come
  out again. A verdict can only be retested with at least as many paired seeds
  as were published: with fewer, a published "reproduced" may honestly come
  out "inconclusive", so such a row is *not tested* unless the two verdicts
  are opposite (reproduced vs contradicted), which fails at any seed count.
* **Arm means**, per arm x framework x mode x claim metric: the difference of
  the fresh and published means with an equivalence test (TOST) against a
  stated margin (``margin``): on the per-seed differences when every fresh seed
  (at least 3) is published (seed i shares its initial weights and batches on
  both sides), else on the two means with Welch's standard error. *equivalent* (TOST
  rejects at 0.05) transfers; *different* (the difference is shown to exceed
  the margin, at 0.05) fails; *undetermined* (neither, e.g. 2 fresh seeds) is
  neither a pass nor a failure and says more seeds would decide it. A speed
  case's timings (``TIMED_METRICS``) are shown and not judged: their arm means
  are the machine's speed and load; the speed claim's verdict, which compares
  arms timed together in one process, is judged as any other.
* **Bits**, per case x framework x mode, only where both sides ran on the CPU
  with the same CPU fingerprint (model and feature flags), thread count,
  framework version, training path and commit: there seed *i* must repeat bit
  for bit, and any difference fails. Elsewhere per-seed values are not
  expected to match: another CPU type runs other kernels (vector width, FMA,
  oneDNN/MKL code paths, the reduction order of a BatchNorm split over
  threads), each rounds differently, and training amplifies a last-bit
  difference into a different trajectory; a seed's value then moves by about
  its seed-to-seed spread while the arm means and the verdicts stay.

Margins are declared, never estimated from the fresh run: ``MARGINS`` in metric
units (accuracy 0.005, a rate 0.1), else ``RELATIVE_MARGIN`` of the
*published* mean (5 %: losses and MAEs, whose scale differs by case).

The run passes (exit 0) when no row fails and something could be compared;
a published case whose records were made under another spec of the case than
the code defines now fails (the published tables do not describe this code).
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as _st
from tabulate import tabulate

from bench.host import environment
from bench.records import identity, store
from bench.spec import registry
from bench.spec.throughput import TIMED_METRICS
from bench.analysis.evaluate import evaluate
from bench.errors import StoreError

ALPHA = 0.05
MARGINS = {"test_accuracy": 0.005, "diverged": 0.1, "fit_failed": 0.1}
RELATIVE_MARGIN = 0.05
MATCH, DIFFERS, NOT_TESTED, UNDETERMINED, INFO = "match", "FAIL", "not tested", "undetermined", "n/a"
DECIDED = ("reproduced", "contradicted")


@dataclass(frozen=True)
class Row:
    case: str
    item: str        # "claim/framework/mode", "arm/framework/mode" or "framework/mode"
    check: str       # "verdict", a metric name, "bits" or "case"
    published: str
    fresh: str
    test: str
    result: str      # MATCH, DIFFERS, NOT_TESTED, UNDETERMINED or INFO

    @property
    def failed(self) -> bool:
        return self.result == DIFFERS


@dataclass
class Comparison:
    profile: str
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def compared(self) -> int:
        return sum(r.result in (MATCH, DIFFERS) for r in self.rows)

    @property
    def passed(self) -> bool:
        return self.compared > 0 and not any(r.failed for r in self.rows)


def margin(metric: str, published_mean: float) -> float:
    """The equivalence margin of an arm mean, in metric units (see the module docstring)."""
    if metric in MARGINS:
        return MARGINS[metric]
    return RELATIVE_MARGIN * abs(published_mean) if math.isfinite(published_mean) else math.nan


def _fmt(x, digits: int = 4) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}g}"


# --- verdicts ------------------------------------------------------------------

def _verdicts(records: list[dict]) -> dict:
    """``{(case, "claim/fw/mode"): (verdict, n_pairs)}``, each side's family as its report has it."""
    cases = [c for c in registry.select(None) if any(r["case"] == c.id for r in records)]
    return {(case.id, f"{res.claim_id}/{fw}/{mode}"): (res.verdict, res.n_pairs)
            for case, fw, mode, res in evaluate(records, cases)}


def verdict_rows(published: list[dict], fresh: list[dict], case_ids) -> list[Row]:
    old, new = _verdicts(published), _verdicts(fresh)
    rows = []
    for case_id, item in sorted(k for k in set(old) | set(new) if k[0] in case_ids):
        (was, n_old), (now, n_new) = old.get((case_id, item), ("absent", 0)), new.get((case_id, item), ("absent", 0))
        if "absent" in (was, now):
            rows.append(Row(case_id, item, "verdict", was, now, "only one side has every arm", INFO))
        elif was == now:
            rows.append(Row(case_id, item, "verdict", f"{was} (n={n_old})", f"{now} (n={n_new})", "same verdict", MATCH))
        elif {was, now} == set(DECIDED) or n_new >= n_old:
            why = "opposite verdicts" if {was, now} == set(DECIDED) else f"fresh n {n_new} >= published n {n_old}"
            rows.append(Row(case_id, item, "verdict", f"{was} (n={n_old})", f"{now} (n={n_new})", why, DIFFERS))
        else:
            rows.append(Row(case_id, item, "verdict", f"{was} (n={n_old})", f"{now} (n={n_new})",
                            f"fresh n {n_new} < published n {n_old}: too few seeds to retest", NOT_TESTED))
    return rows


# --- arm means -----------------------------------------------------------------

def equivalence(published: np.ndarray, fresh: np.ndarray, margin_: float, paired: bool = False) -> tuple[str, str]:
    """Result and text of the TOST of mean(fresh) - mean(published) against +-``margin_``;
    "different" when the difference is shown beyond it. ``paired``: the arrays are aligned by
    seed (seed i starts from the same weights and batches on both sides), so the per-seed
    differences are tested (df n - 1); otherwise Welch's standard error and df."""
    diff = float(fresh.mean() - published.mean())
    text = f"diff {_fmt(diff, 3)}, margin {_fmt(margin_, 3)}" + (", paired" if paired else "")
    if not (margin_ > 0 and math.isfinite(margin_)):
        return UNDETERMINED, text + " (no usable margin)"
    if len(published) < 2 or len(fresh) < 2:
        return UNDETERMINED, text + " (fewer than 2 seeds on one side)"
    if paired:
        d = fresh - published
        se, df = float(d.std(ddof=1)) / math.sqrt(len(d)), len(d) - 1.0
    else:
        ua, ub = published.var(ddof=1) / len(published), fresh.var(ddof=1) / len(fresh)
        se = math.sqrt(ua + ub)
        df = (ua + ub) ** 2 / ((ua ** 2 / (len(published) - 1) if ua else 0)
                               + (ub ** 2 / (len(fresh) - 1) if ub else 0)) if se > 0 else 0.0
    if se == 0:   # no spread: the difference is exact
        return (MATCH if abs(diff) < margin_ else DIFFERS), text + " (no spread)"
    p_tost = max(_st.t.sf((diff + margin_) / se, df), _st.t.cdf((diff - margin_) / se, df))
    p_beyond = min(1.0, 2 * _st.t.sf((abs(diff) - margin_) / se, df))
    text += f", TOST p {_fmt(p_tost, 2)}, beyond p {_fmt(p_beyond, 2)}"
    if p_tost < ALPHA:
        return MATCH, text
    return (DIFFERS, text) if p_beyond < ALPHA else (UNDETERMINED, text)


def _values(records: list[dict], case_id: str, group: tuple, metric: str) -> dict:
    """``{seed: value}`` of the finite values of one arm/framework/mode."""
    out = {}
    for r in records:
        if r.get("status") == "ok" and (r["case"], r["arm"], r["framework"], r["mode"]) == (case_id, *group):
            value = float(r["diverged"]) if metric == "diverged" else float(r["metrics"].get(metric, math.nan))
            if math.isfinite(value):
                out[r["seed"]] = value
    return out


def arm_rows(published: list[dict], fresh: list[dict], case) -> list[Row]:
    rows = []
    metrics = list(dict.fromkeys(c.metric for c in case.claims))
    groups = sorted({(r["arm"], r["framework"], r["mode"]) for r in fresh if r["case"] == case.id}
                    & {(r["arm"], r["framework"], r["mode"]) for r in published if r["case"] == case.id})
    for group in groups:
        for metric in metrics:
            pub, new = _values(published, case.id, group, metric), _values(fresh, case.id, group, metric)
            if not pub or not new:
                continue
            # paired by seed when every fresh seed is published and there are >= 3 of them
            paired = len(new) >= 3 and set(new) <= set(pub)
            seeds = sorted(new) if paired else None
            a = np.array([pub[s] for s in seeds] if paired else list(pub.values()), dtype=float)
            b = np.array([new[s] for s in seeds] if paired else list(new.values()), dtype=float)
            full = np.array(list(pub.values()), dtype=float)
            result, text = equivalence(a, b, margin(metric, float(full.mean())), paired)
            if metric in TIMED_METRICS:   # steps per second: this machine's speed and load, not the code's result
                result, text = INFO, f"{text}; a timing, shown and not judged (the speed claim's verdict is)"
            rows.append(Row(case.id, "/".join(group), metric, f"{_fmt(float(a.mean()))} (n={len(a)})",
                            f"{_fmt(float(b.mean()))} (n={len(b)})", text, result))
    return rows


# --- bits ----------------------------------------------------------------------

# A record's env entries that are not a library's version (``bench.run.stamp.describe``); every
# other entry is one, so the library names come from the records, not from the installed backends.
NOT_VERSIONS = frozenset({"bench", "commit", "dirty", "python", "platform", "processor", "cpu", "cpu_model",
                          "cpu_flags", "cores", "device", "threads"})


def _bits_key(r: dict) -> tuple:
    """What must match for seed i to repeat bit for bit: CPU, threads, library versions, path, commit."""
    env = r.get("env", {})
    versions = tuple(sorted((k, v) for k, v in env.items() if k not in NOT_VERSIONS))
    return (env.get("device"), env.get("cpu"), env.get("threads"), versions,
            (r.get("group") or {}).get("path"), env.get("commit"))


def _why_not(old: tuple, new: tuple) -> str:
    names = ("device", "CPU fingerprint", "threads", "library versions", "training path", "commit")
    return ", ".join(n for n, a, b in zip(names, old, new) if a != b)


def bit_rows(published: list[dict], fresh: list[dict], case_id: str) -> list[Row]:
    old = {store.key(r): r for r in published if r["case"] == case_id and r.get("status") == "ok"}
    rows = []
    pairs: dict = {}
    for r in fresh:
        if r["case"] == case_id and r.get("status") == "ok" and store.key(r) in old:
            pairs.setdefault((r["framework"], r["mode"]), []).append((old[store.key(r)], r))
    for (fw, mode), both in sorted(pairs.items()):
        comparable = [(a, b) for a, b in both if _bits_key(a) == _bits_key(b) and _bits_key(a)[0] == "cpu"
                      and _bits_key(a)[1] not in (None, "unknown")]
        same = sum(_same_bits(a, b) for a, b in comparable)
        if not comparable:
            a, b = both[0]
            rows.append(Row(case_id, f"{fw}/{mode}", "bits", f"{len(both)} shared seed-runs", "not comparable",
                            f"different {_why_not(_bits_key(a), _bits_key(b)) or 'device'}: "
                            f"bits are not expected to transfer", INFO))
            continue
        rows.append(Row(case_id, f"{fw}/{mode}", "bits", f"{len(comparable)} comparable seed-runs",
                        f"{same} identical", "same CPU, threads, versions, path and commit",
                        MATCH if same == len(comparable) else DIFFERS))
    return rows


def _same_bits(a: dict, b: dict) -> bool:
    def same(x, y):
        return (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y)) or x == y
    return a["diverged"] == b["diverged"] and set(a["metrics"]) == set(b["metrics"]) and \
        all(same(a["metrics"][k], b["metrics"][k]) for k in a["metrics"])


# --- the whole comparison ----------------------------------------------------

def compare(published: identity.Loaded, fresh: identity.Loaded, profile: str) -> Comparison:
    out = Comparison(profile)
    known = registry.discover()
    pub_cases = {r["case"] for r in published.records}
    fresh_cases = {r["case"] for r in fresh.records}
    for case_id in sorted(fresh_cases - pub_cases):
        stale = published.stale.get(case_id)
        if stale:
            out.rows.append(Row(case_id, case_id, "case", f"{stale} stale records", "current spec",
                                "the published records were made under another spec of this case", DIFFERS))
        else:
            out.rows.append(Row(case_id, case_id, "case", "not published", "fresh records", "nothing to compare", INFO))
    shared = sorted(pub_cases & fresh_cases)
    out.rows += verdict_rows(published.records, fresh.records, set(shared))
    for case_id in shared:
        out.rows += arm_rows(published.records, fresh.records, known[case_id])
        out.rows += bit_rows(published.records, fresh.records, case_id)
    if fresh.stale:
        out.notes.append(f"fresh run: {fresh.note()}")
    if published.stale:
        out.notes.append(f"published: {published.note()}")
    return out


def run(fresh_dir: str | os.PathLike, published_dir: str | os.PathLike, profile: str) -> Comparison:
    fresh, published = identity.load(fresh_dir, profile), identity.load(published_dir, profile)
    if not fresh.records:
        raise StoreError(f"no current records in {store.records_path(fresh_dir, profile)}; run "
                         f"`bench run --profile {profile} --results-dir {fresh_dir}` first.")
    if not published.records and not published.stale:
        raise StoreError(f"no published records in {store.records_path(published_dir, profile)}; "
                         f"pass --published DIR or another --profile.")
    result = compare(published, fresh, profile)
    result.notes.insert(0, "fresh: " + "; ".join(_machines(fresh.records)) + "; published: "
                        + "; ".join(_machines(published.records)))
    return result


def _machines(records: list[dict]) -> list[str]:
    return sorted({environment.machine(r.get("env", {})) for r in records})


def render(result: Comparison, show_all: bool = False) -> str:
    cols = ("case", "item", "check", "published", "fresh", "test", "result")
    # every verdict row (the published vs fresh table); arm and bit rows that transfer only with --all
    shown = [r for r in result.rows if show_all or r.check == "verdict" or r.result != MATCH]
    lines = [f"# bench compare: profile `{result.profile}`, fresh run vs published records", ""]
    lines += [f"- {n}" for n in result.notes] + [""]
    if shown:
        lines += [tabulate([[getattr(r, c) for c in cols] for r in shown], headers=cols, tablefmt="github"), ""]
    count = {k: {} for k in ("verdict", "arm", "bits")}
    for r in result.rows:
        kind = r.check if r.check in ("verdict", "bits") else ("arm" if r.check != "case" else None)
        if kind:
            count[kind][r.result] = count[kind].get(r.result, 0) + 1

    def said(kind):
        return ", ".join(f"{n} {k}" for k, n in sorted(count[kind].items())) or "none"

    lines.append(f"verdicts: {said('verdict')}; arm means: {said('arm')}; per-seed bits: {said('bits')}.")
    failed = [r for r in result.rows if r.failed]
    if failed:
        lines.append(f"NOT REPRODUCED: {len(failed)} comparison(s) failed: "
                     + "; ".join(f"{r.case} {r.item} {r.check}" for r in failed[:12])
                     + (" ..." if len(failed) > 12 else "") + ".")
    elif not result.compared:
        lines.append("NOTHING COMPARED: no verdict, arm mean or bit comparison could be decided; "
                     "run more seeds or the cases that are published.")
    else:
        lines.append("REPRODUCED: everything that could be tested transfers (undetermined and not-tested "
                     "rows need more fresh seeds to decide).")
    return "\n".join(lines)
