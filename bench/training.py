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
from bench.data import standardize
from bench.seeds import batch_order, initial_params, initializer_for


def _finite(values) -> bool:
    return all(math.isfinite(float(v)) for v in values)


def train_seed(job: Job, backend, arrays: tuple, seed: int) -> dict:
    """Train ``job.arm`` for one seed and return its outcome.

    ``arrays`` is ``(x_train, y_train, x_test, y_test)`` from ``bench.data.prepare``.
    The outcome holds ``metrics`` (final, inference mode; NaN when diverged),
    ``curve`` (one point per epoch), ``diverged``, ``diverged_step``, ``steps``
    and the timings. Regression cases add ``regression_outcomes``.
    """
    if job.arm.standardizes(job.data):
        arrays = standardize(arrays)
    x_train, y_train, x_test, y_test = arrays
    started = time.perf_counter()
    scheme = initializer_for(job.framework, job.mode)
    params = initial_params(job.arm.layers, job.case.input_shape, seed, scheme)
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
    if job.case.loss.name in ("mae", "mse"):
        train_mae = None
        if job.data.eval_train and not diverged:
            t0 = time.perf_counter()
            train_mae = float(trainer.evaluate(x_train, y_train)["mae"])
            eval_s += time.perf_counter() - t0
            if not math.isfinite(train_mae):
                diverged, diverged_step = True, steps
                metrics = {m.name: float("nan") for m in job.case.metrics}
        metrics.update(regression_outcomes(curve.get("test_mae", []), diverged, train_mae, y_train, y_test))
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


def regression_outcomes(val_mae, diverged: bool, train_mae, y_train, y_test) -> dict:
    """The per-seed outcomes of the tabular cases (C2, C3), from the validation
    MAE curve (one value per epoch end) and, if measured, the inference-mode
    training MAE at the end.

    ``min_val_mae``/``final_val_mae``: the best and the last point of the curve
    (NaN when diverged: a run that blew up has no final model to judge).
    ``gap_mae`` (only when ``train_mae`` is given): final validation MAE minus
    training MAE, the overfitting gap.
    ``baseline_val_mae``: the validation MAE of predicting the training median,
    the best constant under MAE. ``fit_failed``: 1 when the run diverged or
    its ``min_val_mae`` is no better than that constant, else 0.
    ``diverged``: the flag as 0/1, so tables can average it.
    """
    baseline = float(np.mean(np.abs(np.asarray(y_test, np.float64) - np.median(y_train))))
    nan = float("nan")
    best = nan if diverged or not len(val_mae) else float(np.min(val_mae))
    last = nan if diverged or not len(val_mae) else float(val_mae[-1])
    out = {"min_val_mae": best, "final_val_mae": last, "baseline_val_mae": baseline,
           "fit_failed": float(diverged or not best < baseline), "diverged": float(diverged)}
    if train_mae is not None:  # measured only when the case asks (Data.eval_train)
        out["gap_mae"] = nan if diverged else last - train_mae
    return out
