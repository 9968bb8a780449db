"""Seconds per seed-step of C4's CNN: the suite's per-seed and vectorized paths in both
frameworks beside a plain Keras ``model.fit`` and a plain PyTorch loop of the same net, and
the share of this machine's measured peak that each reaches by the work it does.

Every loop trains C4's ``fc`` arm (the keras-io net: two conv blocks, Dropout 0.5 around
Dense 128) on the first Fashion-MNIST images, one epoch of ``steps`` batches of 128. A
loop's seconds per step come from two lengths, ``steps // 4`` and ``steps`` batches: the
difference of their training times over the difference of their steps, which removes
building, tracing and every other fixed cost; each loop first runs once untimed (what a
process pays on its first run only). A suite row at group size S trains seeds
0..S-1 together (S = 1 is the per-seed reference path) and divides by S. The loops run
``repeats`` times, interleaved (each repetition visits them all, in reverse order every
other time), so a change in the machine's load falls on every loop alike; a row shows the
best and the median of its repetitions.

Work done is ``bench.speed.flops.training_flops``: the convolutions' and dense layers'
matmul FLOPs, forward plus both backward products, without the first layer's input
gradient (1.97 GFLOP per step of 128 images for this net). "% of peak" is that over the
best seconds per seed-step, against the best rate of a 2048 x 2048 fp32 matmul on the
suite's threads measured in the same command (before and after the loops; the higher).
The reference loops run in their own processes with their frameworks' defaults.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import replace

from bench import backends, data
from bench.run.training import train_group, train_seed
from bench.spec import Job, registry
from bench.speed.flops import training_flops

CASE, ARM = "c4", "fc"
SUITE = tuple(backends.names())
REFERENCES = backends.reference_loops(conv=True)
GROUP_SIZES = (1, 4)
BATCH = 128
TEST_ROWS = 256   # evaluated after training (not timed): kept small
PEAK_N = 2048


def _budget(steps: int):
    case = registry.get(CASE)
    return replace(case.data, epochs=1, train_subsample=steps * BATCH, test_subsample=TEST_ROWS)


_ARRAYS: dict = {}


def _arrays(steps: int, data_dir):
    if steps not in _ARRAYS:
        case = registry.get(CASE)
        _ARRAYS[steps] = data.prepare(data.load(case.data.dataset, data_dir), _budget(steps))
    return _ARRAYS[steps]


def _suite_seconds(loop: str, size: int, steps: int, data_dir) -> tuple[float, float]:
    """Training seconds of ``size`` seeds (one group; one seed: the per-seed path), and mean accuracy."""
    case = registry.get(CASE)
    job = Job(case, case.arm(ARM), loop, "as_written", "full", _budget(steps))
    backend, arrays, seeds = backends.load(loop), _arrays(steps, data_dir), list(range(size))
    outs = train_group(job, backend, arrays, seeds) if size > 1 else [train_seed(job, backend, arrays, 0)]
    return outs[0]["timing"]["train_s"] * size, statistics.mean(o["metrics"]["test_accuracy"] for o in outs)


def _reference(loop: str, steps: int, data_dir) -> tuple[float, float]:
    out = backends.reference_loop(loop)(_arrays(steps, data_dir), 1, 0)
    return out["seconds"], out["test_accuracy"]


class _Fresh:
    """A reference loop's own process (spawned once, so its framework imports once), which
    runs with its framework's defaults rather than the settings the suite made in this one."""

    def __init__(self):
        import multiprocessing

        self.pool = multiprocessing.get_context("spawn").Pool(1)

    def __call__(self, loop: str, steps: int, data_dir):
        return self.pool.apply(_reference, (loop, steps, data_dir))

    def close(self):
        self.pool.terminate()


def _per_step(run, steps: int) -> tuple[float, float]:
    """Seconds per step from a short and a long run, and the long run's accuracy."""
    short = max(1, steps // 4)
    t_short, _ = run(short)
    t_long, accuracy = run(steps)
    return (t_long - t_short) / (steps - short), accuracy


def measure(loops, steps: int = 40, group_sizes=GROUP_SIZES, repeats: int = 3,
            data_dir=None) -> tuple[list[dict], float, float]:
    """One row per loop (and per group size for the suite's backends), the peak FLOP/s, and
    the FLOPs of one training step of 128 images (``training_flops``)."""
    case = registry.get(CASE)
    flops_step = training_flops(case.arm(ARM).layers, tuple(case.input_shape)) * BATCH
    units = [(loop, size) for loop in loops if loop in SUITE for size in group_sizes]
    units += [(loop, 1) for loop in loops if loop not in SUITE]
    fresh = {loop: _Fresh() for loop in loops if loop not in SUITE}
    peaks = [backends.peak_matmul_flops(PEAK_N)]
    seconds = {unit: [] for unit in units}
    accuracy = {}
    try:
        def run(loop, size, n):
            return _suite_seconds(loop, size, n, data_dir) if loop in SUITE else fresh[loop](loop, n, data_dir)

        for loop, size in units:   # a first run pays once per process (kernel selection, caches): untimed
            run(loop, size, max(1, steps // 4))
        for r in range(repeats):
            for loop, size in (units if r % 2 == 0 else units[::-1]):
                per_step, accuracy[(loop, size)] = _per_step(lambda n: run(loop, size, n), steps)
                seconds[(loop, size)].append(per_step / size)
    finally:
        for pool in fresh.values():
            pool.close()
    peaks.append(backends.peak_matmul_flops(PEAK_N))
    peak = max(peaks)
    rows = []
    for loop, size in units:
        best, median = min(seconds[(loop, size)]), statistics.median(seconds[(loop, size)])
        path = ("per-seed" if size == 1 else "vectorized") if loop in SUITE else "reference"
        rows.append({"loop": f"bench ({loop})" if loop in SUITE else loop, "path": path, "S": size,
                     "ms/seed-step best": 1e3 * best, "ms/seed-step median": 1e3 * median,
                     "GFLOP/s by work": flops_step / best / 1e9, "% of peak": 100 * flops_step / best / peak,
                     "test_accuracy": accuracy[(loop, size)]})
    refs = {r["loop"]: r["ms/seed-step best"] for r in rows if r["path"] == "reference"}
    for row in rows:
        for name, ms in refs.items():
            row[f"x vs {name}"] = ms / row["ms/seed-step best"]
    return rows, peak, flops_step
