"""Seconds per seed-run of the C1 MLP: the suite's backends beside reference loops.

Every loop trains the C1 "both" arm (dropout + L2, the heaviest) on the same
data, in one process, one after the other, so the figures are side by side on
one machine. ``epochs`` scales the budget (10 is the post's full run).
"""
from __future__ import annotations

from dataclasses import replace

from bench import backends, data, registry
from bench.backends import Job
from bench.training import train_seed

SUITE = ("tf", "torch")


def measure(loops, epochs: int = 10, seed: int = 0, data_dir=None) -> list[dict]:
    """One row per loop: ``{"loop", "seconds", "steps", "test_accuracy"}``."""
    case = registry.get("c1")
    budget = replace(case.data, epochs=epochs)
    arrays = data.prepare(data.load(case.data.dataset, data_dir), budget)
    rows = []
    for loop in loops:
        if loop in SUITE:
            job = Job(case, case.arm("both"), loop, "as_written", "full", budget)
            out = train_seed(job, backends.load(loop), arrays, seed)
            rows.append({"loop": f"bench ({loop})", "seconds": out["timing"]["wall_s"], "steps": out["steps"],
                         "test_accuracy": out["metrics"]["test_accuracy"]})
        else:
            from bench.backends import reference

            rows.append(getattr(reference, loop)(arrays, epochs, seed))
    return rows
