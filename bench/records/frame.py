"""Run records as a tidy pandas DataFrame: one row per seed-run, metrics as float columns.

``bench.load_records("results/full")`` is the one-liner for analysis. The
identifying columns come first (case, arm, framework, mode, seed, profile),
then the outcome (status, diverged, diverged_step, steps, planned_steps,
wall_s, train_s, spec hash where the record carries one) and one float column
per metric (NaN where a run diverged or did not record it). Learning curves and
environments stay in the records; ``curves`` gives the curves in long form.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from bench.records import profiles, store

ID_COLUMNS = ("case", "arm", "framework", "mode", "seed", "profile")
OUTCOME_COLUMNS = ("status", "diverged", "diverged_step", "steps", "planned_steps")


def _records(results_dir: str | os.PathLike, profile: Optional[str]) -> list[dict]:
    """The latest record per key: of ``profile``; of the directory itself when it is
    a profile folder (holds ``records.jsonl``); else of every profile it holds."""
    root = Path(results_dir)
    if profile is not None:
        return store.load(root, profile)
    if (root / "records.jsonl").is_file():
        return list(store.latest(store.iter_records(root / "records.jsonl")).values())
    return [r for p in profiles.present(root) for r in store.load(root, p)]


def load_records(results_dir: str | os.PathLike, profile: Optional[str] = None):
    """A DataFrame of the records under ``results_dir`` (see the module docstring)."""
    import pandas as pd

    rows = []
    for r in _records(results_dir, profile):
        row = {k: r.get(k) for k in ID_COLUMNS}
        row.update({k: r.get(k) for k in OUTCOME_COLUMNS})
        timing = r.get("timing") or {}
        row["wall_s"], row["train_s"] = timing.get("wall_s"), timing.get("train_s")
        if "spec_hash" in r:
            row["spec_hash"] = r["spec_hash"]
        if r.get("overrides"):
            row["overrides"] = ", ".join(f"{k}={v}" for k, v in sorted(r["overrides"].items()))
        for name, value in (r.get("metrics") or {}).items():
            row[f"metric.{name}"] = value
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=[*ID_COLUMNS, *OUTCOME_COLUMNS])
    metric_cols = sorted(c for c in frame.columns if c.startswith("metric."))
    for col in metric_cols + ["wall_s", "train_s"]:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype(float)
    # A metric named like an outcome column (``diverged`` as 0/1) repeats it: keep the outcome's.
    clash = [c for c in metric_cols if c[len("metric."):] in frame.columns]
    frame = frame.drop(columns=clash).rename(columns={c: c[len("metric."):] for c in metric_cols})
    frame["diverged"] = frame["diverged"].fillna(False).astype(bool)
    frame["seed"] = frame["seed"].astype(int)
    return frame.sort_values(list(ID_COLUMNS[:5])).reset_index(drop=True)


def curves(results_dir: str | os.PathLike, profile: Optional[str] = None):
    """Learning curves in long form: one row per (seed-run, step, series)."""
    import pandas as pd

    rows = []
    for r in _records(results_dir, profile):
        curve = r.get("curve") or {}
        for name, values in curve.items():
            if name == "step":
                continue
            for step, value in zip(curve.get("step", []), values):
                rows.append({**{k: r.get(k) for k in ID_COLUMNS}, "step": step, "series": name,
                             "value": float(value) if value is not None else float("nan")})
    return pd.DataFrame(rows)
