"""Seconds per seed-run of the C1 MLP: the suite's backends at several group sizes, beside
reference loops and this machine's measured peak matmul rate.

Every loop trains the C1 "both" arm (dropout + L2, the heaviest) on the same
data, one after the other in one command, so the figures are side by side on
one machine; the reference loops each run in a fresh process, with their
framework's defaults rather than the settings the suite makes. A suite row at
group size S trains seeds 0..S-1 together (S = 1 is the per-seed reference
path) and reports the group's wall time divided by S.
``epochs`` scales the budget (10 is the post's full run).

Achieved FLOP/s counts the usual 6 x parameters x training samples per seed-run
(forward 2, backward 4 FLOPs per weight and example) over the training time.
That count includes the first layer's input gradient, which no loop computes
(nothing needs it), and leaves out all elementwise work; for C1 the matmul work
actually done is 6P - 2 x 784 x 256 = 1.07 M FLOPs per example, 0.73 of the
count, so by work done every rate is 0.73 of the one shown. The peak is the best
rate of a 2048 x 2048 fp32 matmul in PyTorch on the same threads, measured in
the same command.
"""
from __future__ import annotations

from dataclasses import replace

from bench import backends, data, grouping, registry
from bench.backends import Job
from bench.training import train_group, train_seed

SUITE = ("tf", "torch")
REFERENCES = ("plain_torch", "post_tf")
GROUP_SIZES = (1, 4, 16, 64)
PEAK_N = 2048


def _reference(loop: str, budget, data_dir) -> dict:
    from bench.backends import reference

    ds = data.load(budget.dataset, data_dir)
    return getattr(reference, loop)(data.prepare(ds, budget), budget.epochs, 0)


def _in_fresh_process(loop: str, budget, data_dir) -> dict:
    """A reference loop in a new process, so it runs with its framework's defaults,
    not the settings the suite's backends made in this one (threads, subnormals)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_reference, (loop, budget, data_dir))


def measure(loops, epochs: int = 10, group_sizes=GROUP_SIZES, data_dir=None) -> tuple[list[dict], float]:
    """One row per loop (and per group size for the suite's backends), and the peak FLOP/s."""
    case = registry.get("c1")
    arm = case.arm("both")
    budget = replace(case.data, epochs=epochs)
    arrays = data.prepare(data.load(case.data.dataset, data_dir), budget)
    samples = len(arrays[0]) * epochs
    flops_per_run = 6 * grouping.parameter_count(arm.layers, tuple(case.input_shape)) * samples
    peak = backends.load("torch").peak_matmul_flops(PEAK_N)
    rows = []
    for loop in loops:
        if loop in SUITE:
            job = Job(case, arm, loop, "as_written", "full", budget)
            backend = backends.load(loop)
            for size in group_sizes:
                seeds = list(range(size))
                outs = train_group(job, backend, arrays, seeds) if size > 1 else [train_seed(job, backend, arrays, 0)]
                train_s = outs[0]["timing"]["train_s"]   # the group's training time / S
                rows.append({"loop": f"bench ({loop})", "S": size, "s/seed-run": outs[0]["timing"]["wall_s"],
                             "steps": outs[0]["steps"], "test_accuracy": sum(o["metrics"]["test_accuracy"]
                                                                            for o in outs) / size,
                             "GFLOP/s": flops_per_run / train_s / 1e9})
        else:
            out = _in_fresh_process(loop, budget, data_dir)
            rows.append({"loop": loop, "S": 1, "s/seed-run": out["seconds"], "steps": out["steps"],
                         "test_accuracy": out["test_accuracy"], "GFLOP/s": flops_per_run / out["seconds"] / 1e9})
    refs = {r["loop"]: r["s/seed-run"] for r in rows if r["loop"] in REFERENCES}
    for row in rows:
        row["% of peak"] = 100 * row["GFLOP/s"] * 1e9 / peak
        for name, seconds in refs.items():
            row[f"x vs {name}"] = seconds / row["s/seed-run"]
    return rows, peak
