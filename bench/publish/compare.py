"""``bench compare``: does a fresh run reproduce the published tables of its profile?

A fresh run (``runs/<profile>/``) is judged against the published records
(``results/<profile>/``) of the same profile, case by case, at three levels:

* **Verdicts**, per claim x framework x mode. The published verdict must come
  out again. A verdict is *tested* only with at least as many paired seeds as
  were published: with fewer, a published "reproduced" may honestly come out
  "inconclusive", so the row is *not tested* and the fresh verdict is not even
  computed (a test on 2 seeds is no test, and its degenerate data only make
  the statistics warn).
* **Arm means**, per arm x framework x mode x claim metric, against a declared
  margin (``margin``). A 0/1 metric (``diverged``, ``fit_failed``, or any whose
  values are all 0 or 1) compares the two rates with exact Clopper-Pearson
  intervals (``rate_comparison``): 2 of 2 is consistent with a rate as low as
  0.16, so it never matches 20 of 20 at a 0.1 margin. Any other metric needs
  ``MIN_SEEDS`` fresh seeds (``equivalence``): the difference of the means with
  an equivalence test (TOST), on the per-seed differences when every fresh seed
  is published (seed i starts from the same weights and batches on both sides),
  else on the two means with Welch's standard error. A spread below the metric's
  float32 resolution (``ROUNDING`` of its scale) is rounding, not a measured
  spread: the standard deviation is floored there, so a constant difference is
  decided by the test like any other, never declared exact. *match* (shown
  inside the margin at 0.05), *differs* (shown beyond it at 0.05), else
  *undetermined*, which is neither a pass nor a failure. A speed case's
  timings (``TIMED_METRICS``) are shown and not judged.
* **Bits**, per case x framework x mode, on every seed-run both sides hold,
  whatever machine made them: "bit-identical: 8 of 8 tf seed-runs" is a match,
  across CPU types, thread counts and commits too. A seed-run whose values
  differ is expected where the two records' environments differ (another CPU
  type runs other kernels; training amplifies a last-bit difference), so it is
  listed with what differs between them as the likely explanation; one that
  differs with identical environments is a failure.

The outcome (``Comparison.outcome``, the last line and the exit status):

* ``REPRODUCED`` (exit 0): at least one verdict was tested, every case of the
  fresh run was judged, and nothing differs;
* ``DIFFERS`` (exit 1): a verdict, an arm mean or a same-environment bit
  comparison differs, or a published case was made under another spec of the
  case than the code defines now;
* ``NOT JUDGED`` (exit 3): nothing differs but some case could not be judged: it
  has no published table, or fewer fresh paired seeds than published (the
  output says how many would judge it), or (a case with no verdicts) no arm mean
  was decided; or no verdict at all was tested.

Bad input (no fresh or no published records) is exit 2, as every command's.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
from scipy import stats as _st
from tabulate import tabulate

from bench.analysis.evaluate import evaluate
from bench.errors import StoreError
from bench.records import identity, store
from bench.host import environment
from bench.spec import registry
from bench.spec.throughput import TIMED_METRICS
from bench.stats import proportions

ALPHA = 0.05
MARGINS = {"test_accuracy": 0.005, "diverged": 0.1, "fit_failed": 0.1}
RATE_METRICS = frozenset({"diverged", "fit_failed"})
RATE_MARGIN = 0.1          # any other metric found to be 0/1 is a rate too
RELATIVE_MARGIN = 0.05
# At fewer than 5 seeds (4 degrees of freedom) the seeds' SD is too loose an estimate to test
# a mean with: its 95 % interval reaches 2.9x the observed SD at 5 seeds, 6.3x at 3 and 32x at 2,
# and a chance near-zero SD (probability 0.23 of one below 0.3 sigma at 2 seeds, 0.014 at 5)
# would pass any margin.
MIN_SEEDS = 5
# float32 training keeps about 7 significant digits: a spread below 8 float32 ulps of the
# metric's scale is rounding, not seed-to-seed variation.
ROUNDING = 8 * float(np.finfo(np.float32).eps)
MATCH, DIFFERS, NOT_TESTED, UNDETERMINED, INFO = "match", "FAIL", "not tested", "undetermined", "n/a"
REPRODUCED, DIFFERENT, NOT_JUDGED = "REPRODUCED", "DIFFERS", "NOT JUDGED"
EXIT = {REPRODUCED: 0, DIFFERENT: 1, NOT_JUDGED: 3}
TOO_FEW, LACKS = "too few seeds to retest", "the fresh run lacks arm(s)"
# Environment keys that restate others (the version string, the fingerprint's parts).
_REDUNDANT_ENV = frozenset({"bench", "cpu_model", "cpu_flags"})
_ENV_NAMES = {"cpu": "CPU fingerprint", "dirty": "modified tree", "device": "device", "threads": "threads",
              "cores": "cores", "commit": "commit", "python": "Python", "platform": "OS", "processor": "architecture"}


@dataclass(frozen=True)
class Row:
    case: str
    item: str        # "claim/framework/mode", "arm/framework/mode" or "framework/mode"
    check: str       # "verdict", a metric name, "bits" or "case"
    published: str
    fresh: str
    test: str
    result: str      # MATCH, DIFFERS, NOT_TESTED, UNDETERMINED or INFO
    needs: int = 0   # NOT_TESTED: the fresh paired seeds that would test it

    @property
    def failed(self) -> bool:
        return self.result == DIFFERS

    @property
    def kind(self) -> str | None:
        return self.check if self.check in ("verdict", "bits", "case") else "arm"


@dataclass
class Comparison:
    profile: str
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    unjudged: dict = field(default_factory=dict)   # case -> why it could not be judged

    @property
    def tested_verdicts(self) -> int:
        return sum(r.kind == "verdict" and r.result in (MATCH, DIFFERS) for r in self.rows)

    @property
    def outcome(self) -> str:
        if any(r.failed for r in self.rows):
            return DIFFERENT
        if self.unjudged or not self.tested_verdicts:
            return NOT_JUDGED
        return REPRODUCED

    @property
    def exit_code(self) -> int:
        return EXIT[self.outcome]

    @property
    def passed(self) -> bool:
        return self.outcome == REPRODUCED


def margin(metric: str, published_mean: float) -> float:
    """The equivalence margin of an arm mean, in metric units (see the module docstring)."""
    if metric in MARGINS:
        return MARGINS[metric]
    return RELATIVE_MARGIN * abs(published_mean) if math.isfinite(published_mean) else math.nan


def _fmt(x, digits: int = 4) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}g}"


# --- verdicts ------------------------------------------------------------------

def _verdicts(records: list[dict], cases) -> dict:
    """``{(case, "claim/fw/mode"): (verdict, n_pairs)}`` of ``cases``, each family as its report has it."""
    return {(case.id, f"{res.claim_id}/{fw}/{mode}"): (res.verdict, res.n_pairs)
            for case, fw, mode, res in evaluate(records, cases)}


def _ok_seeds(records: list[dict], case_id: str) -> dict:
    """``{(arm, framework, mode): {seed, ...}}`` of the ok records of one case."""
    out: dict = {}
    for r in records:
        if r["case"] == case_id and r.get("status") == "ok":
            out.setdefault((r["arm"], r["framework"], r["mode"]), set()).add(r["seed"])
    return out


def _fresh_pairs(seeds: dict, claim, fw: str, mode: str) -> tuple[int, list]:
    """Seeds the fresh run holds for every arm of ``claim`` (the most its test could pair), and
    the claim's arms it lacks."""
    lacking = [a for a in claim.arms if (a, fw, mode) not in seeds]
    if lacking:
        return 0, lacking
    return len(set.intersection(*(seeds[(a, fw, mode)] for a in claim.arms))), []


def verdict_rows(published: list[dict], fresh: list[dict], cases) -> list[Row]:
    """Each published verdict of ``cases``, retested where the fresh run has the seeds for it."""
    old = _verdicts(published, cases)
    rows = []
    for case in cases:
        seeds = _ok_seeds(fresh, case.id)
        run = {(fw, mode) for _, fw, mode in seeds}
        claims = {c.id: c for c in case.claims}
        mine = sorted((item, v) for (cid, item), v in old.items() if cid == case.id)
        testable = []
        for item, (was, n_old) in mine:
            claim_id, fw, mode = item.split("/")
            pairs, lacking = _fresh_pairs(seeds, claims[claim_id], fw, mode)
            if (fw, mode) not in run:
                rows.append(Row(case.id, item, "verdict", f"{was} (n={n_old})", "not run",
                                f"the fresh run has no {fw}/{mode} records", INFO))
            elif lacking:
                rows.append(Row(case.id, item, "verdict", f"{was} (n={n_old})", "not run",
                                f"{LACKS} {', '.join(lacking)}", NOT_TESTED, n_old))
            elif pairs < n_old:
                rows.append(Row(case.id, item, "verdict", f"{was} (n={n_old})", f"not computed (n={pairs})",
                                f"fresh n {pairs} < published n {n_old}: {TOO_FEW}", NOT_TESTED, n_old))
            else:
                testable.append((item, was, n_old))
        if not testable:
            continue
        new = _verdicts(fresh, [case])
        for item, was, n_old in testable:
            now, n_new = new.get((case.id, item), ("absent", 0))
            text = (f"{was} (n={n_old})", f"{now} (n={n_new})")
            if now == was:
                rows.append(Row(case.id, item, "verdict", *text, "same verdict", MATCH))
            elif n_new >= n_old:
                rows.append(Row(case.id, item, "verdict", *text, f"fresh n {n_new} >= published n {n_old}", DIFFERS))
            else:   # seeds whose values are not finite left fewer pairs than the records suggested
                rows.append(Row(case.id, item, "verdict", *text, f"fresh n {n_new} < published n {n_old}: {TOO_FEW}",
                                NOT_TESTED, n_old))
    return rows


# --- arm means -----------------------------------------------------------------

def is_rate(metric: str, values) -> bool:
    """A 0/1 outcome per seed: a rate metric by name, or every value 0 or 1."""
    values = np.asarray(values, dtype=float)
    return metric in RATE_METRICS or (values.size > 0 and bool(np.all((values == 0) | (values == 1))))


def rate_comparison(published: np.ndarray, fresh: np.ndarray, margin_: float = RATE_MARGIN) -> tuple[str, str]:
    """Result and text of fresh rate - published rate against +-``margin_``, from each rate's exact
    (Clopper-Pearson) 95 % interval: the difference lies in [fresh low - published high, fresh high -
    published low] with at least 95 % on each side (each bound fails only if one of two 2.5 % tails
    does). *match* when that interval is inside the margin, *differs* when it lies beyond it."""
    f, p = proportions.clopper_pearson(fresh), proportions.clopper_pearson(published)
    low, high = f.low - p.high, f.high - p.low
    text = (f"rate {int(fresh.sum())}/{len(fresh)} vs {int(published.sum())}/{len(published)}, diff "
            f"{_fmt(f.estimate - p.estimate, 3)}, exact bounds [{_fmt(low, 3)}, {_fmt(high, 3)}], margin "
            f"{_fmt(margin_, 3)}")
    if -margin_ < low and high < margin_:
        return MATCH, text
    if low > margin_ or high < -margin_:
        return DIFFERS, text
    return UNDETERMINED, text


def equivalence(published: np.ndarray, fresh: np.ndarray, margin_: float, paired: bool = False) -> tuple[str, str]:
    """Result and text of the TOST of mean(fresh) - mean(published) against +-``margin_`` (continuous
    metrics); *differs* when the difference is shown beyond it. ``paired``: the arrays are aligned by
    seed, so the per-seed differences are tested (df n - 1); otherwise Welch's standard error and df.
    Fewer than ``MIN_SEEDS`` fresh seeds: not tested. Each SD is floored at ``ROUNDING`` of the
    metric's scale (a smaller spread is float rounding)."""
    diff = float(fresh.mean() - published.mean())
    text = f"diff {_fmt(diff, 3)}, margin {_fmt(margin_, 3)}" + (", paired" if paired else "")
    if not (margin_ > 0 and math.isfinite(margin_)):
        return UNDETERMINED, text + " (no usable margin)"
    if len(fresh) < MIN_SEEDS:
        return NOT_TESTED, text + f" (an arm mean needs at least {MIN_SEEDS} fresh seeds)"
    if len(published) < 2:
        return UNDETERMINED, text + " (fewer than 2 published seeds)"
    floor = ROUNDING * max(abs(float(published.mean())), abs(float(fresh.mean())), margin_)
    floored = False
    if paired:
        sd = float((fresh - published).std(ddof=1))
        floored = sd < floor
        se, df = max(sd, floor) / math.sqrt(len(fresh)), len(fresh) - 1.0
    else:
        vp, vf = float(published.var(ddof=1)), float(fresh.var(ddof=1))
        floored = min(vp, vf) < floor ** 2
        ua, ub = max(vp, floor ** 2) / len(published), max(vf, floor ** 2) / len(fresh)
        se = math.sqrt(ua + ub)
        df = (ua + ub) ** 2 / (ua ** 2 / (len(published) - 1) + ub ** 2 / (len(fresh) - 1))
    p_tost = max(_st.t.sf((diff + margin_) / se, df), _st.t.cdf((diff - margin_) / se, df))
    p_beyond = min(1.0, 2 * _st.t.sf((abs(diff) - margin_) / se, df))
    text += f", TOST p {_fmt(p_tost, 2)}, beyond p {_fmt(p_beyond, 2)}"
    if floored:
        text += f" (spread below float rounding, SD floored at {_fmt(floor, 2)})"
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
    metrics = list(dict.fromkeys(c.metric for c in case.claims)) or [m.name for m in case.metrics]
    groups = sorted({(r["arm"], r["framework"], r["mode"]) for r in fresh if r["case"] == case.id}
                    & {(r["arm"], r["framework"], r["mode"]) for r in published if r["case"] == case.id})
    for group in groups:
        for metric in metrics:
            pub, new = _values(published, case.id, group, metric), _values(fresh, case.id, group, metric)
            if not pub or not new:
                continue
            full = np.array(list(pub.values()), dtype=float)
            if is_rate(metric, [*pub.values(), *new.values()]):
                a, b = full, np.array(list(new.values()), dtype=float)
                result, text = rate_comparison(a, b, MARGINS.get(metric, RATE_MARGIN))
                needs = 0
            else:
                # paired by seed when every fresh seed is published
                paired = set(new) <= set(pub)
                seeds = sorted(new)
                a = np.array([pub[s] for s in seeds] if paired else list(pub.values()), dtype=float)
                b = np.array([new[s] for s in seeds], dtype=float)
                result, text = equivalence(a, b, margin(metric, float(full.mean())), paired)
                needs = MIN_SEEDS if result == NOT_TESTED else 0
            if metric in TIMED_METRICS:   # steps per second: this machine's speed and load, not the code's result
                result, text, needs = INFO, f"{text}; a timing, shown and not judged (the speed claim's verdict is)", 0
            rows.append(Row(case.id, "/".join(group), metric, f"{_fmt(float(a.mean()))} (n={len(a)})",
                            f"{_fmt(float(b.mean()))} (n={len(b)})", text, result, needs))
    return rows


# --- bits ----------------------------------------------------------------------

def _setting(r: dict) -> dict:
    """What may decide a seed-run's bits, named: its environment (CPU fingerprint, threads,
    library versions, commit, any code-path switch a backend records) and its training path."""
    env = {k: v for k, v in (r.get("env") or {}).items() if k not in _REDUNDANT_ENV}
    group = r.get("group") or {}
    env["training path"] = environment.training_path(r) if group else None
    return env


def _differences(a: dict, b: dict) -> list[str]:
    """The settings that differ between two records, as "name (published vs fresh)"."""
    sa, sb = _setting(a), _setting(b)
    out = []
    for key in sorted(set(sa) | set(sb), key=lambda k: (k not in _ENV_NAMES, k)):
        if sa.get(key) != sb.get(key):
            x, y = sa.get(key, "absent"), sb.get(key, "absent")
            if key == "commit":
                x, y = str(x)[:10], str(y)[:10]
            out.append(f"{_ENV_NAMES.get(key, key)} ({x} vs {y})")
    return out


def _same_bits(a: dict, b: dict) -> bool:
    def same(x, y):
        return (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y)) or x == y
    return a["diverged"] == b["diverged"] and set(a["metrics"]) == set(b["metrics"]) and \
        all(same(a["metrics"][k], b["metrics"][k]) for k in a["metrics"])


def bit_rows(published: list[dict], fresh: list[dict], case_id: str) -> list[Row]:
    """Per framework x mode, every seed-run both sides hold: identical bits match anywhere;
    differing ones are expected (n/a) where the environments differ, a failure where they do not."""
    old = {store.key(r): r for r in published if r["case"] == case_id and r.get("status") == "ok"}
    pairs: dict = {}
    for r in fresh:
        if r["case"] == case_id and r.get("status") == "ok" and store.key(r) in old:
            pairs.setdefault((r["framework"], r["mode"]), []).append((old[store.key(r)], r))
    rows = []
    for (fw, mode), both in sorted(pairs.items()):
        same = [(a, b) for a, b in both if _same_bits(a, b)]
        moved = [(a, b) for a, b in both if not _same_bits(a, b)]
        unexplained = [(a, b) for a, b in moved if not _differences(a, b)]
        head = f"bit-identical: {len(same)} of {len(both)} {fw} seed-runs"
        fresh_text = f"{len(same)} identical"
        if not moved:
            across = sorted({d.split(" (")[0] for a, b in same for d in _differences(a, b)})
            test = head + (f", across {', '.join(across)}" if across else "")
            rows.append(Row(case_id, f"{fw}/{mode}", "bits", f"{len(both)} shared seed-runs", fresh_text, test,
                            MATCH))
            continue
        why = sorted({d for a, b in moved for d in _differences(a, b)})
        test = head + (f"; {len(moved) - len(unexplained)} differ where the environments differ: "
                       f"{'; '.join(why)}" if why else "")
        if unexplained:
            test += f"; {len(unexplained)} differ with identical environments"
        rows.append(Row(case_id, f"{fw}/{mode}", "bits", f"{len(both)} shared seed-runs", fresh_text, test,
                        DIFFERS if unexplained else INFO))
    return rows


# --- the whole comparison ----------------------------------------------------

def _judge(out: Comparison, case, published: list[dict]) -> None:
    """Record in ``out.unjudged`` why ``case`` (published, compared) could not be judged, if so."""
    mine = [r for r in out.rows if r.case == case.id]
    verdicts = [r for r in mine if r.kind == "verdict" and r.result != INFO]
    if verdicts:
        short = [r for r in verdicts if r.result == NOT_TESTED]
        if short:
            need = max(r.needs for r in short)
            why = " and ".join(w for w in (TOO_FEW if any(TOO_FEW in r.test for r in short) else "",
                                           LACKS.replace("(s)", "s") if any(LACKS in r.test for r in short) else "")
                               if w)
            out.unjudged[case.id] = (f"{len(short)} of its {len(verdicts)} published verdicts not tested ({why}); "
                                     f"{need} fresh paired seeds of every arm (the published count) would judge "
                                     f"them: `bench run --profile {out.profile} --case {case.id} --seeds {need}`")
        return
    if any(r.kind == "verdict" for r in mine):
        out.unjudged[case.id] = "none of its published verdicts' frameworks and modes is in the fresh run"
        return
    arms = [r for r in mine if r.kind == "arm" and r.result in (MATCH, DIFFERS)]
    if not arms:
        have = {r["seed"] for r in published if r["case"] == case.id}
        out.unjudged[case.id] = (f"it has no verdict to retest and no arm mean could be decided: an arm mean needs "
                                 f"at least {MIN_SEEDS} fresh seeds (published: {len(have)}); `bench run --profile "
                                 f"{out.profile} --case {case.id} --seeds {MIN_SEEDS}` would judge it")


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
            line = f"{case_id} {profile} has no published table yet: bench compare cannot judge it"
            out.rows.append(Row(case_id, case_id, "case", "not published", "fresh records", line, INFO))
            out.unjudged[case_id] = "it has no published table yet"
    shared = [known[c] for c in sorted(pub_cases & fresh_cases) if c in known]
    out.rows += verdict_rows(published.records, fresh.records, shared)
    for case in shared:
        out.rows += arm_rows(published.records, fresh.records, case)
        out.rows += bit_rows(published.records, fresh.records, case.id)
        _judge(out, case, published.records)
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
    # verdict, bit and case rows always; arm rows that match or were not tested only with --all
    shown = [r for r in result.rows if show_all or r.kind != "arm" or r.result not in (MATCH, NOT_TESTED)]
    lines = [f"# bench compare: profile `{result.profile}`, fresh run vs published records", ""]
    lines += [f"- {n}" for n in result.notes]
    lines += [f"- arm means: rates (0/1 metrics) by exact Clopper-Pearson intervals at any n; other metrics need "
              f"at least {MIN_SEEDS} fresh seeds (TOST at {ALPHA})", ""]
    if shown:
        lines += [tabulate([[getattr(r, c) for c in cols] for r in shown], headers=cols, tablefmt="github"), ""]
    count: dict = {k: {} for k in ("verdict", "arm", "bits")}
    for r in result.rows:
        if r.kind in count:
            count[r.kind][r.result] = count[r.kind].get(r.result, 0) + 1

    def said(kind):
        return ", ".join(f"{n} {k}" for k, n in sorted(count[kind].items())) or "none"

    lines.append(f"verdicts: {said('verdict')}; arm means: {said('arm')}; per-seed bits: {said('bits')}.")
    outcome = result.outcome
    if outcome == DIFFERENT:
        failed = [r for r in result.rows if r.failed]
        lines.append(f"{DIFFERENT}: {len(failed)} comparison(s) differ from the published records: "
                     + "; ".join(f"{r.case} {r.item} {r.check}" for r in failed[:12])
                     + (" ..." if len(failed) > 12 else "") + ".")
    elif outcome == NOT_JUDGED:
        for case, why in sorted(result.unjudged.items()):
            lines.append(f"  {case}: not judged: {why}.")
        lines.append(f"{NOT_JUDGED}: {result.tested_verdicts} verdict(s) tested; "
                     + (f"{len(result.unjudged)} case(s) could not be judged ({', '.join(sorted(result.unjudged))})"
                        if result.unjudged else "no verdict could be tested")
                     + "; nothing tested differs.")
    else:
        lines.append(f"{REPRODUCED}: {result.tested_verdicts} verdict(s) tested, all as published; every arm mean "
                     f"decided matches (undetermined ones need more seeds to decide).")
    return "\n".join(lines)
