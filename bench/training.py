"""One seed of one arm, start to finish: the training loop every backend shares.

The loop is neutral; a backend supplies only the ``Trainer`` steps. It draws
the seed's initial weights and batch order (``bench.seeds``), trains epoch by
epoch, evaluates at the end of each epoch (the learning-curve checkpoints) and
stops early once the loss is non-finite: a NaN is an outcome
(``diverged=True`` with the step), never an exception.
"""
from __future__ import annotations

import math
import time

import numpy as np

from bench.backends import Job
from bench.seeds import batch_order, initial_params, initializer_for


def _finite(values) -> bool:
    return all(math.isfinite(float(v)) for v in values)


def train_seed(job: Job, backend, arrays: tuple, seed: int) -> dict:
    """Train ``job.arm`` for one seed and return its outcome.

    ``arrays`` is ``(x_train, y_train, x_test, y_test)`` from ``bench.data.prepare``.
    The outcome holds ``metrics`` (final, inference mode; NaN when diverged),
    ``curve`` (one point per epoch), ``diverged``, ``diverged_step``, ``steps``
    and the timings.
    """
    x_train, y_train, x_test, y_test = arrays
    started = time.perf_counter()
    scheme = initializer_for(job.framework, job.mode)
    params = initial_params(job.arm.layers, job.in_features, seed, scheme)
    trainer = backend.Trainer(job, params, seed)
    trainer.set_data(x_train, y_train)
    batches = batch_order(len(x_train), job.data.batch_size, job.data.epochs, seed, job.data.shuffle)
    per_epoch = math.ceil(len(x_train) / job.data.batch_size)

    curve = {"step": [], "train_loss": []}
    steps, diverged, diverged_step, train_s, eval_s = 0, False, None, 0.0, 0.0
    final = {}
    for epoch in range(job.data.epochs):
        chunk = batches[epoch * per_epoch:(epoch + 1) * per_epoch]
        t0 = time.perf_counter()
        losses = np.asarray(trainer.fit_epoch(chunk), dtype=np.float64)
        train_s += time.perf_counter() - t0
        bad = np.flatnonzero(~np.isfinite(losses))
        if bad.size:
            diverged, diverged_step = True, steps + int(bad[0]) + 1
            steps = diverged_step
            break
        steps += len(chunk)
        t0 = time.perf_counter()
        final = trainer.evaluate(x_test, y_test)
        eval_s += time.perf_counter() - t0
        curve["step"].append(steps)
        curve["train_loss"].append(float(losses.mean()))
        for key, value in final.items():
            curve.setdefault(f"test_{key}", []).append(float(value))
        if not _finite(final.values()):
            diverged, diverged_step = True, steps
            break

    if diverged:
        metrics = {m.name: float("nan") for m in job.case.metrics}
    else:
        metrics = {f"test_{k}": float(v) for k, v in final.items()}
        metrics["train_loss"] = curve["train_loss"][-1]
    return {
        "metrics": metrics,
        "curve": curve,
        "diverged": diverged,
        "diverged_step": diverged_step,
        "steps": steps,
        "planned_steps": len(batches),
        "init": scheme,
        "timing": {"wall_s": time.perf_counter() - started, "train_s": train_s, "eval_s": eval_s},
    }
