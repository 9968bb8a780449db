"""Adaptive seeds: add seeds in batches until every claim is decided or the budget is spent.

Procedure (a group-sequential design with Lan-DeMets alpha spending):

* The looks are fixed before any data: n_k = batch, 2 batch, ..., max_seeds
  seeds, with information fraction t_k = n_k / max_seeds.
* A spending function alpha(t) says how much of the overall alpha = 0.05 may be
  used by fraction t. The default is the O'Brien-Fleming-type Lan-DeMets
  function, spent per side at alpha / 2: alpha(t) = 4 (1 - Phi(z_{1-alpha/4} / sqrt(t)))
  (with 5 equal looks its boundaries are 4.877, 3.357, 2.680, 2.290, 2.031): it spends almost
  nothing early (only huge effects stop a run after one batch).
  ``spending="pocock"`` (alpha ln(1 + (e - 1) t)) spends evenly.
* The two-sided boundaries c_1..c_K on the z scale are computed by recursive
  numerical integration of the joint distribution of the look statistics
  (Armitage, McPherson and Rowe 1969; Jennison and Turnbull 2000, ch. 19):
  Z_k sqrt(t_k) is a Brownian motion at the information fractions, and c_k is
  solved so that the probability of first crossing at look k under the null is
  alpha(t_k) - alpha(t_{k-1}). Look k rejects a claim when its primary p-value
  is below the nominal level 2 (1 - Phi(c_k)). Unlike a union bound over looks,
  this uses the correlation between looks, so the last look is tested at
  nearly the fixed-n level: at 30 seeds in batches of 5, power is within a
  point or two of the fixed-n test (tests/test_simulation.py measures it).
* Several claims: a case's claims x frameworks in one mode are one family, as in
  the report (each mode its own: a sensitivity mode never moves an as-written decision). Within it the looks run Holm's procedure with group-sequential
  boundaries (Maurer and Bretz 2013): an undecided claim is tested against the
  boundaries of level alpha / (claims not yet rejected in the family); a
  rejection passes its share on. A claim decided at a look keeps that verdict;
  the run stops when every claim is decided.
* The paired t at a handful of seeds correlates less between looks than a z
  statistic, which lifts the size of the plain normal boundaries a little
  above alpha (0.051-0.053 by simulation), so each look that spends enough to
  be estimated is recalibrated on 100,000 simulated null paths of the paired t
  (exact for normal per-seed contrasts, whatever their SD; ``look_levels``).
* Honest limits: that calibration is for the paired t on normal contrasts.
  Rank, exact binary and TOST primaries use the same nominal levels, which is
  an approximation for them; tests/test_simulation.py measures the size (at
  most 0.05 within its error) and power of the whole procedure with paired t.

After an adaptive run the report shows these sequential decisions as its
verdicts (``bench.analysis.decisions.apply``); the fixed-n analysis of the same
records, which is not valid under optional stopping, is kept only in each verdict's reason.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy import optimize as _opt
from scipy import stats as _st

from bench.records import atomic, identity, store
from bench.analysis.evaluate import evaluate, family
from bench.run import runner
from bench.run.options import AdaptiveOptions, RunOptions
from bench.analysis import decisions, verdict
from bench.errors import SpecError

SPENDING = ("obrien_fleming", "pocock")


def spent(t: float, alpha: float = 0.05, spending: str = "obrien_fleming") -> float:
    """Cumulative alpha spent by information fraction ``t`` in (0, 1] (Lan-DeMets)."""
    if not 0 < t <= 1:
        raise ValueError(f"information fraction must lie in (0, 1], got {t}.")
    if spending == "obrien_fleming":
        # Spent per side at alpha / 2 (Lan and DeMets 1983; ldbounds, gsDesign): 2 x 2 (1 - Phi(z_{1-alpha/4} / sqrt t)).
        return float(4 * _st.norm.sf(_st.norm.isf(alpha / 4) / math.sqrt(t)))
    if spending == "pocock":
        return float(alpha * math.log(1 + (math.e - 1) * t))
    raise ValueError(f"spending must be one of {SPENDING}, got {spending!r}.")


def looks(max_seeds: int, batch: int) -> list[int]:
    """The seed counts at which the claims are tested: batch, 2 batch, ..., max_seeds."""
    if batch < 2 or max_seeds < batch:
        raise SpecError(f"adaptive seeds need --batch >= 2 and --max-seeds >= --batch; "
                        f"got batch {batch}, max seeds {max_seeds}.")
    return [*range(batch, max_seeds, batch), max_seeds]


def _simpson(x: np.ndarray) -> np.ndarray:
    """Composite Simpson weights for an odd number of equally spaced points ``x``."""
    h = (x[-1] - x[0]) / (x.size - 1)
    w = np.ones(x.size)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return w * h / 3.0


def boundaries(fractions, alpha: float = 0.05, spending: str = "obrien_fleming",
               grid: int = 801) -> list[float]:
    """Two-sided z boundaries c_k at the information ``fractions`` (increasing, last 1).

    Recursive integration: the sub-density of S_k = Z_k sqrt(t_k) on the
    continuation region is carried from look to look on a Simpson grid and
    convolved with the N(0, t_k - t_{k-1}) increment; each c_k is the root of
    P(first crossing at look k) = alpha(t_k) - alpha(t_{k-1}).
    """
    t = [float(f) for f in fractions]
    if any(b <= a for a, b in zip(t, t[1:])) or not 0 < t[0] or abs(t[-1] - 1) > 1e-12:
        raise ValueError(f"information fractions must increase to 1, got {fractions}.")
    cum = [spent(f, alpha, spending) for f in t]
    inc = np.diff([0.0, *cum])
    c1 = float(_st.norm.isf(inc[0] / 2))
    out = [c1]
    s = np.linspace(-c1 * math.sqrt(t[0]), c1 * math.sqrt(t[0]), grid)
    dens = _st.norm.pdf(s, 0, math.sqrt(t[0]))
    for k in range(1, len(t)):
        sd = math.sqrt(t[k] - t[k - 1])
        w = _simpson(s) * dens

        def crossing(c: float) -> float:
            b = c * math.sqrt(t[k])
            return float(np.sum(w * (_st.norm.cdf((-b - s) / sd) + _st.norm.sf((b - s) / sd))))

        if inc[k] <= 0:
            ck = math.inf
        else:
            hi = 1.0
            while crossing(hi) > inc[k]:
                hi *= 2
            ck = float(_opt.brentq(lambda c: crossing(c) - inc[k], 1e-6, hi, xtol=1e-10))
        out.append(ck)
        if k < len(t) - 1:
            b = ck * math.sqrt(t[k]) if math.isfinite(ck) else 10 * math.sqrt(t[k])
            new = np.linspace(-b, b, grid)
            kernel = _st.norm.pdf((new[:, None] - s[None, :]) / sd) / sd
            dens, s = kernel @ w, new
    return out


_LEVELS: dict = {}
_PATHS: dict = {}
N_PATHS = 100_000          # simulated null paths of the paired t per look schedule
PATH_SEED = 17             # fixed: the levels are deterministic
CALIBRATION_MARGIN = 0.985  # spend 1.5 % less than alpha(t): ~1 SD of the simulation's own error


def _t_paths(max_seeds: int, batch: int) -> np.ndarray:
    """(N_PATHS, looks) two-sided paired-t p-values of simulated null paths (cached).

    Under the null with normal per-seed contrasts the joint law of the look
    t-statistics does not depend on the contrast's SD, so these paths are the
    exact null of the procedure up to simulation error.
    """
    key = (max_seeds, batch)
    if key not in _PATHS:
        x = np.random.default_rng(PATH_SEED).standard_normal((N_PATHS, max_seeds))
        s1, s2 = np.cumsum(x, axis=1), np.cumsum(x * x, axis=1)
        ns = looks(max_seeds, batch)
        out = np.empty((N_PATHS, len(ns)))
        for k, n in enumerate(ns):
            mean = s1[:, n - 1] / n
            var = np.maximum(s2[:, n - 1] - n * mean * mean, 0.0) / (n - 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.abs(mean) / np.sqrt(var / n)
            out[:, k] = 2 * _st.t.sf(t, n - 1)
        _PATHS[key] = out
    return _PATHS[key]


def look_levels(max_seeds: int, batch: int, alpha: float = 0.05,
                spending: str = "obrien_fleming") -> list[float]:
    """Nominal two-sided p-value level of each look for the paired t (cached).

    Start from the normal boundaries (``boundaries``: level 2 (1 - Phi(c_k))).
    Their correlation between looks is that of z statistics; the paired t at
    a few seeds correlates less, which by simulation lifts the size to about
    0.051 (batches of 5 up to 30) or 0.053 (batches of 2). So every look whose
    increment is large enough to estimate (>= 100 simulated crossings) is
    recalibrated on simulated null paths of the paired t (``_t_paths``): its
    level is the quantile at which the paths still running cross with
    probability ``CALIBRATION_MARGIN`` x the increment. Earlier looks (they
    spend almost nothing) keep the normal level.
    """
    key = (max_seeds, batch, round(alpha, 15), spending)
    if key not in _LEVELS:
        ns = looks(max_seeds, batch)
        fractions = [n / max_seeds for n in ns]
        z_levels = [float(2 * _st.norm.sf(c)) for c in boundaries(fractions, alpha, spending)]
        inc = np.diff([0.0, *[spent(f, alpha, spending) for f in fractions]])
        paths = _t_paths(max_seeds, batch)
        running = np.ones(N_PATHS, dtype=bool)
        levels = []
        for k in range(len(ns)):
            count = int(math.floor(CALIBRATION_MARGIN * inc[k] * N_PATHS))
            p = paths[running, k]
            if count >= 100 and count < p.size:
                level = float(np.partition(p, count)[count])   # exactly `count` running paths below it
            else:
                level = z_levels[k]
            running &= ~(paths[:, k] < level)
            levels.append(level)
        _LEVELS[key] = levels
    return _LEVELS[key]


def nominal_levels(max_seeds: int, batch: int, alpha: float = 0.05,
                   spending: str = "obrien_fleming") -> list[tuple[int, float, float, float]]:
    """(seeds, fraction, cumulative alpha spent, nominal p level of this look) per look."""
    levels = look_levels(max_seeds, batch, alpha, spending)
    return [(n, n / max_seeds, spent(n / max_seeds, alpha, spending), level)
            for n, level in zip(looks(max_seeds, batch), levels)]


def step_down(p_values, decided, look: int, max_seeds: int, batch: int, alpha: float = 0.05,
              spending: str = "obrien_fleming") -> list[int]:
    """Holm with group-sequential boundaries for one family at look index ``look`` (0-based).

    ``p_values`` (m,) are this look's primary p-values (NaN: untestable now);
    ``decided`` (m,) bools mark claims rejected at earlier looks. Returns the
    (index, nominal level) of each claim newly rejected: in order of p, each
    is tested at the nominal level of look ``look`` for overall level
    alpha / (m - rejected so far).
    """
    p = np.asarray(p_values, dtype=float)
    done = np.asarray(decided, dtype=bool)
    m = p.size
    rejected = int(done.sum())
    new = []
    for i in np.argsort(np.where(np.isnan(p), np.inf, p), kind="stable"):
        if done[i]:
            continue
        if np.isnan(p[i]) or rejected >= m:
            break
        level = look_levels(max_seeds, batch, alpha / (m - rejected), spending)[look]
        if not p[i] < level:
            break
        new.append((int(i), level))
        rejected += 1
    return new


@dataclass
class Outcome:
    """``decided`` maps "case/claim/framework/mode" to (verdict, seeds at the deciding look)."""
    decided: dict = field(default_factory=dict)
    undecided: list = field(default_factory=list)
    looks: list = field(default_factory=list)
    stopped_early: bool = False


def _family(key: str) -> str:
    """The Holm family of a "case/claim/framework/mode" key: its case and mode, as in the report."""
    case_id, _, _, mode = key.split("/")
    return family(case_id, mode)


def run(options: RunOptions) -> Outcome:
    """Train seeds batch by batch with ``bench.run.runner.run`` and test at each planned look.

    The settings are ``options.adaptive`` (``AdaptiveOptions()``'s defaults when None);
    ``options.seeds`` is ignored: each look asks for seeds 0..n_k-1.
    Each look trains only the new seeds (runs are resumable) and analyses seeds
    0..n_k-1 exactly, so records of other seeds already on disk do not leak in.
    Writes ``<results>/<profile>/adaptive.json`` for the report.
    """
    settings = options.adaptive or AdaptiveOptions()
    max_seeds, batch, alpha, spending = settings.max_seeds, settings.batch, settings.alpha, settings.spending
    cases, profile, results_dir = options.cases, options.profile, options.results_dir
    frameworks, modes = options.frameworks, options.modes
    plan = nominal_levels(max_seeds, batch, alpha, spending)
    outcome = Outcome()
    family: list[str] = []
    for look, (n, t, cum, level) in enumerate(plan):
        runner.run(replace(options, seeds=n))
        current = identity.split(store.load(results_dir, profile), profile,   # never a stale record
                                 {c.id: identity.spec_hash(c, profile) for c in cases}).records
        records = [r for r in current if r["seed"] < n
                   and r["framework"] in frameworks and r["mode"] in modes]
        evaluated = evaluate(records, cases)
        keys = [decisions.claim_key(case, fw, mode, res) for case, fw, mode, res in evaluated]
        family = sorted(set(family) | set(keys))
        new = []
        for group in dict.fromkeys(_family(k) for k in keys):
            idx = [i for i, k in enumerate(keys) if _family(k) == group]
            members = [k for k in family if _family(k) == group]
            # Claims of the family without records at this look count towards m, untestable now.
            p = [evaluated[i][3].primary.p_value for i in idx] + [math.nan] * (len(members) - len(idx))
            done = [keys[i] in outcome.decided for i in idx] + [k in outcome.decided for k in members
                                                              if k not in keys]
            for j, nominal in step_down(p, done, look, max_seeds, batch, alpha, spending):
                res = verdict.at_level(evaluated[idx[j]][3], nominal)   # its CI at the look's level
                found, _ = verdict.decide(res, res.primary.p_value, nominal, "primary p")
                if found == "inconclusive":
                    continue
                outcome.decided[keys[idx[j]]] = (found, n)
                new.append(keys[idx[j]])
        outcome.looks.append({"seeds": n, "fraction": t, "spent": cum, "alpha": level, "decided": new})
        if family and all(k in outcome.decided for k in family):
            outcome.stopped_early = n < max_seeds
            break
    outcome.undecided = [k for k in family if k not in outcome.decided]
    _write(outcome, Path(results_dir) / profile, max_seeds, batch, alpha, spending)
    return outcome


def _write(outcome: Outcome, out_dir: Path, max_seeds: int, batch: int, alpha: float, spending: str) -> None:
    name = {"obrien_fleming": "O'Brien-Fleming-type", "pocock": "Pocock-type"}[spending]
    procedure = (f"Seeds were added in batches of {batch} up to {max_seeds}. At each look every case's "
                 f"claims x frameworks in each mode were tested by Holm's procedure with group-sequential "
                 f"boundaries from a {name} Lan-DeMets alpha-spending function (overall alpha {alpha:g}; "
                 f"boundaries by recursive numerical integration; the nominal level of each look is below). "
                 f"The verdicts in the claim tables above are these sequential decisions; the fixed-n "
                 f"analysis of the same records is not valid under optional stopping and appears only in "
                 f"each verdict's reason.")
    decided = "; ".join(f"{k}: {v} at {n} seeds" for k, (v, n) in sorted(outcome.decided.items())) or "none"
    result = (f"Decided: {decided}. Undecided at the budget: {', '.join(outcome.undecided) or 'none'}."
              + (" Stopped early: every claim was decided." if outcome.stopped_early else ""))
    atomic.write_text(out_dir / "adaptive.json", json.dumps(
        {"procedure": procedure, "outcome": result, "looks": outcome.looks, "spending": spending,
         "alpha": alpha, "max_seeds": max_seeds, "batch": batch,
         "decisions": {k: {"verdict": v, "seeds": n} for k, (v, n) in sorted(outcome.decided.items())},
         "undecided": outcome.undecided}, indent=1))
