"""Seconds per seed-run of the C1 MLP: the suite's backends at several group sizes, beside
reference loops and this machine's measured peak matmul rate.

Every loop trains the C1 "both" arm (dropout + L2, the heaviest) on the same
data, one after the other in one command, so the figures are side by side on
one machine; the reference loops each run in a fresh process, with their
framework's defaults rather than the settings the suite makes. A suite row at
group size S trains seeds 0..S-1 together (S = 1 is the per-seed reference
path) and reports the group's wall time divided by S.
``epochs`` scales the budget (10 is the post's full run). With ``workers`` P > 1
(``bench.run.workers``: one process per core, as ``bench run`` trains by default
on a CPU) a row at group size S has every worker train its own S seeds at the
same time, each after its framework and data are loaded; the row reports the
span from the first start to the last finish over P x S seed-runs, and its
FLOP/s over the slowest worker's training time.

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

import time
from dataclasses import replace

from bench import backends, data
from bench.run import grouping, workers as worker_pool
from bench.spec import registry
from bench.spec import Job
from bench.run.training import train_group, train_seed

SUITE = tuple(backends.names())
REFERENCES = backends.reference_loops()
GROUP_SIZES = (1, 4, 16, 64)
PEAK_N = 2048


def _reference(loop: str, budget, data_dir) -> dict:
    ds = data.load(budget.dataset, data_dir)
    return backends.reference_loop(loop)(data.prepare(ds, budget), budget.epochs, 0)


def _in_fresh_process(loop: str, budget, data_dir) -> dict:
    """A reference loop in a new process, so it runs with its framework's defaults,
    not the settings the suite's backends made in this one (threads, subnormals)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_reference, (loop, budget, data_dir))


def _job(loop: str, epochs: int) -> Job:
    case = registry.get("c1")
    return Job(case, case.arm("both"), loop, "as_written", "full", replace(case.data, epochs=epochs))


_ARRAYS: dict = {}   # C1's arrays, loaded once per process


def _prepare(loop: str, epochs: int, data_dir):
    """The framework imported and C1's data loaded, so that neither is timed."""
    job = _job(loop, epochs)
    if epochs not in _ARRAYS:
        _ARRAYS[epochs] = data.prepare(data.load(job.case.data.dataset, data_dir), job.data)
    return backends.load(loop), job, _ARRAYS[epochs]


def _warm(loop: str, epochs: int, data_dir) -> None:
    _prepare(loop, epochs, data_dir)


def _train(loop: str, epochs: int, seeds: list[int], data_dir) -> dict:
    """Seeds ``seeds`` of C1 "both" as one group (one seed: the per-seed path), with
    start and end on the system-wide monotonic clock, comparable across processes."""
    backend, job, arrays = _prepare(loop, epochs, data_dir)
    start = time.perf_counter()
    outs = train_group(job, backend, arrays, seeds) if len(seeds) > 1 else [train_seed(job, backend, arrays, seeds[0])]
    return {"start": start, "end": time.perf_counter(), "train_s": outs[0]["timing"]["train_s"] * len(seeds),
            "steps": outs[0]["steps"], "accuracy": [o["metrics"]["test_accuracy"] for o in outs]}


def _suite_row(loop: str, size: int, runs: list[dict], flops_per_run: float) -> dict:
    """One row from the runs that trained side by side (one per worker)."""
    n = size * len(runs)
    accuracy = [a for r in runs for a in r["accuracy"]]
    return {"loop": f"bench ({loop})", "workers": len(runs), "S": size,
            "s/seed-run": (max(r["end"] for r in runs) - min(r["start"] for r in runs)) / n,
            "steps": runs[0]["steps"], "test_accuracy": sum(accuracy) / n,
            "GFLOP/s": flops_per_run * n / max(r["train_s"] for r in runs) / 1e9}


def _suite_rows(loop: str, epochs: int, group_sizes, counts, data_dir, flops_per_run: float) -> list[dict]:
    rows = []
    for count in counts:
        if count == 1:
            _prepare(loop, epochs, data_dir)
            rows += [_suite_row(loop, size, [_train(loop, epochs, list(range(size)), data_dir)], flops_per_run)
                     for size in group_sizes]
            continue
        with worker_pool.Pool(count) as workers:
            workers.each(_warm, (loop, epochs, data_dir))
            for size in group_sizes:
                payloads = [(loop, epochs, list(range(i * size, (i + 1) * size)), data_dir) for i in range(count)]
                runs = []
                for _, ok, value in workers.map(_train, payloads):
                    if not ok:
                        raise value
                    runs.append(value)
                rows.append(_suite_row(loop, size, runs, flops_per_run))
    return rows


def measure(loops, epochs: int = 10, group_sizes=GROUP_SIZES, data_dir=None,
            worker_counts=(1,)) -> tuple[list[dict], float]:
    """One row per loop (and per worker count and group size for the suite's
    backends), and the peak FLOP/s."""
    case = registry.get("c1")
    arm = case.arm("both")
    budget = replace(case.data, epochs=epochs)
    arrays = data.prepare(data.load(case.data.dataset, data_dir), budget)
    _ARRAYS[epochs] = arrays
    samples = len(arrays[0]) * epochs
    flops_per_run = 6 * grouping.parameter_count(arm.layers, tuple(case.input_shape)) * samples
    peak = backends.peak_matmul_flops(PEAK_N)
    rows = []
    for loop in loops:
        if loop in SUITE:
            rows += _suite_rows(loop, epochs, group_sizes, worker_counts, data_dir, flops_per_run)
        else:
            out = _in_fresh_process(loop, budget, data_dir)
            rows.append({"loop": loop, "workers": 1, "S": 1, "s/seed-run": out["seconds"], "steps": out["steps"],
                         "test_accuracy": out["test_accuracy"], "GFLOP/s": flops_per_run / out["seconds"] / 1e9})
    refs = {r["loop"]: r["s/seed-run"] for r in rows if r["loop"] in REFERENCES}
    for row in rows:
        row["% of peak"] = 100 * row["GFLOP/s"] * 1e9 / peak
        for name, seconds in refs.items():
            row[f"x vs {name}"] = seconds / row["s/seed-run"]
    return rows, peak
