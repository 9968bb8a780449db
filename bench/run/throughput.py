"""One repetition of a speed case: every arm's training steps timed against each other.

For a case with ``Case.throughput`` a seed is a repetition. All arms of one
framework and mode are built from that seed's initial weights on the per-seed
path (``backend.Trainer``, the model as a user would train it), each trains
``warmup`` untimed steps, then ``rounds`` timed blocks of ``steps`` steps in ABBA
order (round r visits the arms forwards when r is even, backwards when odd), so
a drift in the machine's speed during the repetition falls on every arm alike.
An arm's ``steps_per_second`` is ``steps`` over its median block time; every
block time is kept in the record. Nothing else may train meanwhile: the runner
measures repetitions one at a time in its own process, after any training work.
"""
from __future__ import annotations

import math
import statistics
import time

import numpy as np

from bench.data import standardize
from bench.run.seeds import batch_order, initial_params, initializer_for
from bench.spec import Job


def _batches(job: Job, rows: int, seed: int, count: int) -> list[np.ndarray]:
    """The first ``count`` batches of ``seed``'s batch order, passes repeated as needed."""
    epochs = max(1, math.ceil(count / math.ceil(rows / job.data.batch_size)))
    return batch_order(rows, job.data.batch_size, epochs, seed, job.data.shuffle)[:count]


def measure(jobs: list[Job], backend, arrays: tuple, seed: int, clock=time.perf_counter) -> list[dict]:
    """Time ``jobs`` (the arms of one case in one framework and mode) for repetition ``seed``;
    one outcome per job, in order, shaped as ``bench.run.training.train_group``'s."""
    rule = jobs[0].case.throughput
    trainers, plans = [], []
    for job in jobs:
        x, y = (standardize(arrays) if job.arm.standardizes(job.data) else arrays)[:2]
        params = initial_params(job.arm.layers, job.case.input_shape, seed, initializer_for(job.framework, job.mode))
        trainer = backend.Trainer(job, params, seed)
        trainer.set_data(x, y)
        batches = _batches(job, len(x), seed, rule.seed_steps)
        trainers.append(trainer)
        plans.append(batches)
    losses, warm = [[] for _ in jobs], [0.0] * len(jobs)
    for i, trainer in enumerate(trainers):
        if rule.warmup:
            t0 = clock()
            losses[i].append(np.asarray(trainer.fit_epoch(plans[i][:rule.warmup]), np.float64))
            warm[i] = clock() - t0
    blocks = [[] for _ in jobs]
    order = list(range(len(jobs)))
    for r in range(rule.rounds):
        for i in (order if r % 2 == 0 else order[::-1]):
            start = rule.warmup + r * rule.steps
            t0 = clock()
            step_losses = trainers[i].fit_epoch(plans[i][start:start + rule.steps])
            blocks[i].append(clock() - t0)
            losses[i].append(np.asarray(step_losses, np.float64))
    outcomes = []
    for job, times, parts, warmup_s in zip(jobs, blocks, losses, warm):
        steps = np.concatenate(parts)
        bad = np.flatnonzero(~np.isfinite(steps))
        median = statistics.median(times)
        rate = rule.steps / median if median > 0 else float("nan")
        last = steps[-rule.steps:]
        outcomes.append({
            "metrics": {"steps_per_second": rate,
                        "train_loss": float(last.mean()) if not bad.size else float("nan")},
            "curve": {"step": [], "train_loss": []},
            "diverged": bool(bad.size), "diverged_step": int(bad[0]) + 1 if bad.size else None,
            "steps": rule.seed_steps, "planned_steps": rule.seed_steps,
            "init": initializer_for(job.framework, job.mode),
            "group": {"size": 1, "seeds": [seed], "path": "per_seed", "interleaved": [j.arm.name for j in jobs]},
            "throughput": {"rounds": rule.rounds, "steps": rule.steps, "warmup": rule.warmup,
                           "block_s": [float(t) for t in times], "warmup_s": float(warmup_s), "order": "ABBA"},
            "timing": {"wall_s": float(warmup_s + sum(times)), "train_s": float(warmup_s + sum(times)),
                       "eval_s": 0.0, "group_wall_s": float(warmup_s + sum(times))},
        })
    return outcomes
