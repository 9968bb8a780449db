"""Learning-curve plots: mean +- sd over seeds per arm, one panel per framework/mode."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from bench import atomic
from bench.spec import Case


def curves(records: list[dict], case: Case, out_dir: Path, metric: str | None = None) -> list[Path]:
    """Write ``<case>_curves.png`` and return the paths written (none without data)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in records if r["case"] == case.id and r.get("status") == "ok" and not r["diverged"]]
    if metric is None:
        metric = _curve_metric(case, ok)
    panels = sorted({(r["framework"], r["mode"]) for r in ok})
    if not panels:
        return []
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False, sharey=True)
    for ax, (fw, mode) in zip(axes[0], panels):
        by_arm = defaultdict(list)
        for r in ok:
            if (r["framework"], r["mode"]) == (fw, mode) and metric in r["curve"]:
                by_arm[r["arm"]].append((r["curve"]["step"], r["curve"][metric]))
        for arm, runs in sorted(by_arm.items()):
            n = min(len(s) for s, _ in runs)
            steps = np.asarray(runs[0][0][:n])
            vals = np.array([v[:n] for _, v in runs], dtype=float)
            mean, sd = vals.mean(0), vals.std(0)
            ax.plot(steps, mean, label=f"{arm} (n={len(runs)})")
            ax.fill_between(steps, mean - sd, mean + sd, alpha=0.2)
        ax.set_title(f"{case.id}: {fw} / {mode}")
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(metric)
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    path = Path(out_dir) / f"{case.id}_curves.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_with(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
    return [path]


def _curve_metric(case: Case, records: list[dict]) -> str:
    """The first claimed metric that has a learning curve, else the first test metric
    recorded per epoch (a 0/1 outcome such as ``diverged`` has no curve)."""
    keys = {k for r in records for k in r["curve"]}
    for name in [c.metric for c in case.claims] + [m.name for m in case.metrics]:
        if name in keys:
            return name
    for name in ("test_accuracy", "test_mae", "test_loss"):
        if name in keys:
            return name
    return "train_loss"
