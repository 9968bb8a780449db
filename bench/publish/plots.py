"""The report's figures, one PNG per case and kind, drawn with matplotlib (Agg).

* ``forest``: each claim's estimate with the CI its verdict is decided by per framework/mode, zero
  and the claim's margin (or its smallest effect that matters) marked; one row of panels per
  claim (their units differ).
* ``strips``: every seed's value of each claimed (continuous) metric per arm
  and framework/mode; a diverged seed (no finite value) is drawn as a red cross
  on the top edge, so no run vanishes.
* ``curves``: learning curves, mean over the finite seeds per arm: a training
  loss panel above the curve of the metric the claims use (``min_val_mae`` is
  the running minimum of the validation MAE), a note for arms without finite
  values, and one shared legend under the panels so 10 arms stay readable.

Figures are 12 inches wide at 100 dpi: 1200 px, legible at GitHub's width.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from bench.records import atomic
from bench.spec import Case
from bench.stats import kinds

WIDTH_IN, DPI = 12.0, 100
VERDICT_COLORS = {"reproduced": "tab:green", "contradicted": "tab:red", "inconclusive": "tab:gray"}
# How a claimed metric is followed along training: (curve key, running minimum?).
CURVE_OF = {"min_val_mae": ("test_mae", True), "final_val_mae": ("test_mae", False)}
CURVE_LABEL = {"min_val_mae": "best validation MAE so far (min_val_mae)", "final_val_mae": "validation MAE"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, out_dir, name: str) -> Path:
    path = Path(out_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    try:   # atomically: a full or read-only target is one sentence, never a half-written PNG
        atomic.write_with(path, lambda tmp: fig.savefig(tmp, dpi=DPI, bbox_inches="tight", format="png"))
    finally:
        _plt().close(fig)
    return path


def _panel_name(fw: str, mode: str) -> str:
    return fw if mode == "as_written" else f"{fw} ({mode})"


def _colors(case: Case) -> dict:
    cmap = _plt().get_cmap("tab10" if len(case.arms) <= 10 else "tab20")
    return {arm.name: cmap(i % cmap.N) for i, arm in enumerate(case.arms)}


# --- forest ---------------------------------------------------------------------

def forest(evaluated, case: Case, out_dir) -> list[Path]:
    """``<case>_forest.png``: each claim's effect and the CI its verdict is decided by
    (``ClaimResult.ci_level``: Holm's adjusted level) per framework/mode."""
    mine = [(fw, mode, res) for c, fw, mode, res in evaluated if c is case or c.id == case.id]
    if not mine:
        return []
    plt = _plt()
    claims = [c for c in case.claims if any(res.claim_id == c.id for *_, res in mine)]
    heights = [max(1, sum(res.claim_id == c.id for *_, res in mine)) * 0.45 + 0.9 for c in claims]
    fig, axes = plt.subplots(len(claims), 1, figsize=(WIDTH_IN, sum(heights)), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    for ax, claim in zip(axes[:, 0], claims):
        entries = [(fw, mode, res) for fw, mode, res in mine if res.claim_id == claim.id]
        for y, (fw, mode, res) in enumerate(entries):
            color = VERDICT_COLORS.get(str(res.verdict), "tab:purple")
            est, lo, hi = res.estimate, res.ci_low, res.ci_high
            if math.isfinite(est):
                if math.isfinite(lo) and math.isfinite(hi):
                    ax.plot([lo, hi], [y, y], color=color, lw=2.5)
                ax.plot([est], [y], "o", color=color, ms=8)
                level = f" ({100 * res.ci_level:.3g}% CI)" if abs(res.ci_level - 0.95) > 1e-9 else ""
                ax.annotate(f"{res.verdict}{level}", (est, y), xytext=(0, 7), textcoords="offset points",
                            ha="center", fontsize=8, color=color)
            else:
                ax.annotate(f"no estimate ({res.verdict})", (0, y), ha="center", va="center", fontsize=8)
        ax.axvline(0, color="black", lw=1)
        margin = getattr(entries[0][2], "margin", None)
        sides = kinds.get(claim.kind).MARGIN_SIDES   # (-1, 1): +-margin; (-1,): -margin
        if margin is not None and math.isfinite(margin) and sides:
            for side in sides:
                ax.axvline(side * margin, color="tab:orange", ls="--", lw=1)
            ax.text(1.0, 1.02, f"margin ±{margin:g}" if len(sides) == 2 else f"margin -{margin:g}",
                    transform=ax.transAxes, ha="right", fontsize=8, color="tab:orange")
        smallest = getattr(entries[0][2], "min_effect", None)   # below it, a real effect is "smaller than claimed"
        if smallest is not None and math.isfinite(smallest) and smallest > 0 and not sides:
            at = smallest if claim.direction == "greater" else -smallest
            ax.axvline(at, color="tab:purple", ls=":", lw=1.2)
            ax.text(1.0, 1.02, f"smallest effect that matters {at:+.3g}", transform=ax.transAxes, ha="right",
                    fontsize=8, color="tab:purple")
        ax.set_yticks(range(len(entries)), [_panel_name(fw, mode) for fw, mode, _ in entries])
        ax.set_ylim(-0.7, len(entries) - 0.3)
        ax.invert_yaxis()
        sign = "> 0" if claim.direction == "greater" else "< 0"
        ax.set_title(f"{claim.id}: {claim.metric}, claimed {sign}  ({claim.kind})", loc="left", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        _include_zero(ax, at if smallest is not None and math.isfinite(smallest) and smallest > 0 and not sides
                      else 0.0)
    axes[-1, 0].set_xlabel("estimate with the CI its verdict is decided by: 95 %, or Holm's adjusted level "
                           "where shown (rates: difference; trend: peak above nearer end)")
    fig.tight_layout()
    return [_save(fig, out_dir, f"{case.id}_forest.png")]


def _include_zero(ax, also: float = 0.0) -> None:
    """Widen the x range to show zero (and ``also``, e.g. the smallest effect that matters)."""
    lo, hi = ax.get_xlim()
    lo, hi = min(lo, 0, also), max(hi, 0, also)
    span = hi - lo
    ax.set_xlim(lo - 0.05 * span, hi + 0.05 * span)


# --- strips ---------------------------------------------------------------------

def _strip_metrics(case: Case, records: list[dict]) -> list[str]:
    """The claimed metrics that vary continuously; a 0/1 outcome (diverged, fit_failed)
    shows as a rate in the forest plot instead. A case whose claims are all 0/1
    (C2) gets its first continuous metric, so its seeds are still seen."""
    def continuous(name: str) -> bool:
        vals = [r["metrics"].get(name) for r in records]
        vals = [float(v) for v in vals if v is not None and math.isfinite(float(v))]
        return bool(vals) and not set(vals) <= {0.0, 1.0}

    claimed = [m for m in dict.fromkeys(c.metric for c in case.claims) if continuous(m)]
    if claimed:
        return claimed
    return [m.name for m in case.metrics if continuous(m.name)][:1]


def strips(records: list[dict], case: Case, out_dir) -> list[Path]:
    """``<case>_seeds.png``: each seed's claimed metric per arm; diverged seeds as red crosses."""
    ok = [r for r in records if r["case"] == case.id and r.get("status") == "ok"]
    panels = sorted({(r["framework"], r["mode"]) for r in ok})
    metrics = _strip_metrics(case, ok)
    if not panels or not metrics:
        return []
    plt = _plt()
    colors = _colors(case)
    arms = [a.name for a in case.arms if any(r["arm"] == a.name for r in ok)]
    fig, axes = plt.subplots(len(metrics), len(panels), squeeze=False, sharey="row",
                             figsize=(WIDTH_IN, 3.2 * len(metrics) + 0.4 * (len(arms) > 5)))
    rng = np.random.default_rng(0)   # jitter only; fixed so the figure is the same on every run
    for row, metric in enumerate(metrics):
        finite_all = [float(r["metrics"].get(metric, math.nan)) for r in ok]
        finite_all = [v for v in finite_all if math.isfinite(v)]
        top = (max(finite_all) if finite_all else 1.0)
        span = (top - min(finite_all)) if len(finite_all) > 1 else 1.0
        cross_y = top + 0.08 * (span or 1.0)
        for col, (fw, mode) in enumerate(panels):
            ax = axes[row, col]
            n_div = 0
            for x, arm in enumerate(arms):
                vals = [float(r["metrics"].get(metric, math.nan)) for r in ok
                        if (r["arm"], r["framework"], r["mode"]) == (arm, fw, mode)]
                if not vals:
                    continue
                vals = np.array(vals)
                finite = vals[np.isfinite(vals)]
                jitter = rng.uniform(-0.18, 0.18, size=len(vals))
                good = np.isfinite(vals)
                ax.scatter(x + jitter[good], vals[good], s=18, color=colors[arm], alpha=0.8, zorder=3)
                if len(finite):
                    ax.plot([x - 0.3, x + 0.3], [finite.mean()] * 2, color="black", lw=1.5, zorder=4)
                if (~good).any():
                    n_div += int((~good).sum())
                    ax.scatter(x + jitter[~good], [cross_y] * int((~good).sum()), marker="x", s=40,
                               color="tab:red", zorder=5)
            ax.set_xticks(range(len(arms)), arms, rotation=30 if len(arms) > 4 else 0,
                          ha="right" if len(arms) > 4 else "center", fontsize=8)
            ax.set_title(f"{case.id} {_panel_name(fw, mode)}" + (f"  (x = {n_div} diverged)" if n_div else ""),
                         fontsize=10)
            ax.grid(axis="y", alpha=0.3)
        axes[row, 0].set_ylabel(f"{metric}\n(each dot a seed; bar = mean)", fontsize=9)
    fig.tight_layout()
    return [_save(fig, out_dir, f"{case.id}_seeds.png")]


# --- learning curves ------------------------------------------------------------

def curves(records: list[dict], case: Case, out_dir: Path, metric: str | None = None) -> list[Path]:
    """``<case>_curves.png``: training loss and the claimed metric along training; none for a
    speed case, whose repetitions time steps and record no curve (its strip plot shows them)."""
    if case.throughput is not None:
        return []
    mine = [r for r in records if r["case"] == case.id and r.get("status") == "ok"]
    panels = sorted({(r["framework"], r["mode"]) for r in mine})
    if not panels:
        return []
    metric = metric or _curve_metric(case, mine)
    plt = _plt()
    colors = _colors(case)
    series = [("train_loss", "training loss")]
    if metric != "train_loss":
        series.append((metric, CURVE_LABEL.get(metric, metric)))
    fig, axes = plt.subplots(len(series), len(panels), figsize=(WIDTH_IN, 3.0 * len(series) + 0.6),
                             squeeze=False, sharex="col", sharey="row")
    bands = len(case.arms) <= 4   # more than four bands only hide each other
    handles = {}
    for col, (fw, mode) in enumerate(panels):
        runs = [r for r in mine if (r["framework"], r["mode"]) == (fw, mode)]
        for row, (name, label) in enumerate(series):
            ax = axes[row, col]
            missing = []
            for arm in [a.name for a in case.arms]:
                arm_runs = [r for r in runs if r["arm"] == arm]
                if not arm_runs:
                    continue
                curves_ = [_series(r, name) for r in arm_runs if not r["diverged"]]
                curves_ = [c for c in curves_ if c is not None and len(c[0])]
                if not curves_:
                    missing.append(f"{arm} ({sum(r['diverged'] for r in arm_runs)}/{len(arm_runs)} diverged)")
                    continue
                n = min(len(s) for s, _ in curves_)
                steps = np.asarray(curves_[0][0][:n])
                vals = np.array([v[:n] for _, v in curves_], dtype=float)
                mean = np.nanmean(vals, 0)
                n_div = len(arm_runs) - len(curves_)
                (line,) = ax.plot(steps, mean, color=colors[arm], lw=1.6)
                handles.setdefault(arm, line)
                if bands and len(curves_) > 1:
                    sd = np.nanstd(vals, 0)
                    ax.fill_between(steps, mean - sd, mean + sd, color=colors[arm], alpha=0.15)
                if n_div:
                    ax.plot(steps[-1:], mean[-1:], "x", color="tab:red")
            if missing:
                ax.text(0.02, 0.97, "no finite values: " + "; ".join(missing), transform=ax.transAxes,
                        va="top", fontsize=8, color="tab:red",
                        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
            if row == 0:
                ax.set_title(f"{case.id}: {_panel_name(fw, mode)}", fontsize=10)
            if col == 0:
                ax.set_ylabel(label, fontsize=9)
            if row == len(series) - 1:
                ax.set_xlabel("training step")
            ax.grid(alpha=0.3)
    if _positive(mine):   # a loss that falls by orders of magnitude (or blows up) reads on a log axis
        axes[0, 0].set_yscale("log")
    note = "mean over finite seeds" + (" ± sd" if bands else "") + "; red x: some seeds of that arm diverged"
    if handles:   # every arm may have diverged on every seed (C2's `plain`): then only the note speaks
        fig.legend([handles[a] for a in handles], list(handles), loc="lower center",
                   ncol=min(len(handles), 5), fontsize=9, frameon=False, bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(note, fontsize=9, y=1.0)
    rows_of_legend = math.ceil(max(1, len(handles)) / 5)
    fig.tight_layout(rect=(0, 0.045 * rows_of_legend + 0.02, 1, 0.97))
    return [_save(fig, out_dir, f"{case.id}_curves.png")]


def _positive(records: list[dict]) -> bool:
    vals = [v for r in records for v in r.get("curve", {}).get("train_loss", []) if v is not None]
    return bool(vals) and min(vals) > 0 and max(vals) / min(vals) > 20


def _series(record: dict, metric: str):
    """(steps, values) of ``metric`` along training, or None when the record has no such curve."""
    curve = record.get("curve", {})
    key, running_min = CURVE_OF.get(metric, (metric, False))
    if key not in curve:
        return None
    values = np.asarray([math.nan if v is None else v for v in curve[key]], dtype=float)
    if running_min:
        values = np.fmin.accumulate(values)
    return curve["step"][:len(values)], values


def _curve_metric(case: Case, records: list[dict]) -> str:
    """The first claimed metric that can be followed along training, else the first
    test metric recorded per epoch (a 0/1 outcome such as ``diverged`` has no curve)."""
    keys = {k for r in records for k in r.get("curve", {})}
    for name in [c.metric for c in case.claims] + [m.name for m in case.metrics]:
        if CURVE_OF.get(name, (name,))[0] in keys and name != "train_loss":
            return name
    for name in ("test_accuracy", "test_mae", "test_loss"):
        if name in keys:
            return name
    return "train_loss"
