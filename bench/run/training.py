"""A group of seeds of one arm, start to finish: the training loop every backend shares.

The loop is neutral; a backend supplies only the trainer's steps, either the
per-seed reference ``Trainer`` (a group of one) or the vectorized
``GroupTrainer`` that trains several seeds as one wide model. It draws each
seed's initial weights and batch order (``bench.run.seeds``), trains epoch by
epoch, evaluates at the end of each epoch (the learning-curve checkpoints) and
stops following a seed once its loss is non-finite: a NaN is an outcome
(``diverged=True`` with the step), never an exception, and it is the seed's own.
"""
from __future__ import annotations

import math
import os
import time

import numpy as np

from bench.errors import SpecError
from bench.spec import EarlyStopping, Job
from bench.data import holdout, standardize
from bench.run.seeds import batch_order, initial_params, initializer_for
from bench.run.stopping import Stopper
from bench.spec.gradients import GRAD_NORM_FIRST, GRAD_RATIO, wants_grad_norms


def _finite(values) -> bool:
    return all(math.isfinite(float(v)) for v in values)


class _OneSeed:
    """The per-seed reference ``Trainer`` seen through the group interface (a group of one)."""

    def __init__(self, backend, job: Job, params: list[list[dict]], seeds: list[int]):
        self.trainer = backend.Trainer(job, params[0], seeds[0])

    def set_data(self, x, y) -> None:
        self.trainer.set_data(x, y)

    def fit_epoch(self, batches: list[list[np.ndarray]]) -> np.ndarray:
        return np.asarray(self.trainer.fit_epoch(batches[0]), dtype=np.float64)[None, :]

    def evaluate(self, x, y) -> list[dict]:
        return [self.trainer.evaluate(x, y)]

    def set_schedule(self, **values) -> None:
        self.trainer.set_schedule(**values)

    def params(self) -> list[list[dict]]:
        return [self.trainer.params()]

    def grad_norms(self) -> np.ndarray:
        return self.trainer.grad_norms()[None]


SPARSE_BELOW = 1e-3  # C5f (seed 004): a weight counts as zero below this magnitude


def weight_sparsity(params: list[dict]) -> float:
    """The fraction of kernel entries (Dense and Conv2D weight matrices; not
    biases or BN vectors) with ``|w| < SPARSE_BELOW``, over the whole net."""
    kernels = [np.abs(np.asarray(p["kernel"])) for p in params if "kernel" in p]
    total = sum(k.size for k in kernels)
    return float(sum(int((k < SPARSE_BELOW).sum()) for k in kernels) / total) if total else float("nan")


def grad_metrics(sums: np.ndarray, steps: int) -> dict:
    """The gradient metrics (``bench.spec.gradients``) from the per-kernel-layer sums of the
    norms over ``steps`` training steps: the first layer's mean norm, and log10 of the first
    layer's mean over the last's."""
    means = np.asarray(sums, np.float64) / steps
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(np.log10(means[0] / means[-1])) if len(means) > 1 else float("nan")
    return {GRAD_NORM_FIRST: float(means[0]), GRAD_RATIO: ratio}


def train_seed(job: Job, backend, arrays: tuple, seed: int, on_steps=None) -> dict:
    """Train ``job.arm`` for one seed on the per-seed reference path (``backend.Trainer``)."""
    return train_group(job, backend, arrays, [seed], vectorized=False, on_steps=on_steps)[0]


def train_group(job: Job, backend, arrays: tuple, seeds: list[int], vectorized: bool = True,
                on_steps=None) -> list[dict]:
    """Train ``job.arm`` for every seed of ``seeds`` and return one outcome per seed, in order.

    ``vectorized`` trains the seeds as one wide model (``backend.GroupTrainer``);
    otherwise ``seeds`` must hold one seed, trained by ``backend.Trainer``.
    Each seed keeps its own initial weights, batch order and divergence: a seed
    whose loss turns non-finite is marked diverged at its own step and the others
    go on. ``arrays`` is ``(x_train, y_train, x_test, y_test)`` from ``bench.data.prepare``.
    An outcome holds ``metrics`` (final, inference mode; NaN when diverged),
    ``curve`` (one point per epoch), ``diverged``, ``diverged_step``, ``steps``,
    ``group`` (its size and seeds) and the timings, where ``wall_s`` is the
    group's wall time divided by its size: the cost of one seed-run.
    An arm with a schedule (``Arm.schedules``: its own or the case optimizer's) has the
    trainer's ``set_schedule(dropout_rate=..., lr=..., momentum=..., lr_steps=...)`` called
    before each epoch with that epoch's values (``lr_steps``: a per-step learning rate's
    values for each of the epoch's steps), which its curve keeps (``dropout_rate``, ``lr``,
    ``momentum``; a per-step ``lr`` as its epoch's first step's).
    ``Data.select`` judges each seed at the epoch with the best value of a validation metric:
    the neutral early-stopping rule with a patience longer than the run (it never stops),
    restoring that epoch, unless the arm has its own ``early_stopping``; the outcome's
    ``selected_epoch`` names it. A case declaring an ``*_error`` metric gets ``error`` =
    1 - accuracy beside each evaluation's accuracy.
    Regression cases add ``regression_outcomes``; a case asking for a gradient metric
    (``bench.spec.gradients``) has the trainers' ``grad_norms()`` read after each epoch
    (curves ``grad_norm_<j>``, metrics from ``grad_metrics``). ``on_steps(n)``, when given, is
    called with the seed-steps trained, about every ``report_seconds()`` and at least once per
    epoch (for a progress bar; ``_fit_reporting``).
    """
    seeds = [int(s) for s in seeds]
    if not seeds or (not vectorized and len(seeds) != 1):
        raise ValueError(f"the per-seed path trains exactly one seed; got {seeds}.")
    val = None
    if job.data.validation_split:   # held out before standardizing: its rows must not shape the scaling
        arrays, val = holdout(arrays, job.data.validation_split)
    if job.arm.standardizes(job.data):
        if val is not None:
            val = standardize((*arrays[:2], *val))[2:]
        arrays = standardize(arrays)
    x_train, y_train, x_test, y_test = arrays
    started = time.perf_counter()
    scheme = initializer_for(job.framework, job.mode)
    params = [initial_params(job.arm.layers, job.case.input_shape, s, scheme) for s in seeds]
    trainer = backend.GroupTrainer(job, params, seeds) if vectorized else _OneSeed(backend, job, params, seeds)
    trainer.set_data(x_train, y_train)
    orders = [batch_order(len(x_train), job.data.batch_size, job.data.epochs, s, job.data.shuffle) for s in seeds]
    per_epoch = math.ceil(len(x_train) / job.data.batch_size)

    runs = [_Run() for _ in seeds]
    rule = job.arm.early_stopping
    selecting = rule is None and job.data.select is not None
    if selecting:   # a patience the run cannot reach: the rule only remembers the best epoch
        rule = EarlyStopping(job.data.epochs + 1, job.data.select, restore_best_weights=True)
    errors = _wants_error(job, rule)
    stoppers = [Stopper(rule) for _ in seeds] if rule is not None else None
    wants_sparsity = any(m.name == "weight_sparsity" for m in job.case.metrics)
    wants_norms = wants_grad_norms(job.case)   # the trainers record the kernel gradient norms
    best_params = [None] * len(seeds)   # with restore_best_weights and weight_sparsity: the best epoch's
    train_s = eval_s = 0.0
    pace = _Pace()
    for epoch in range(job.data.epochs):
        # A seed that stopped early is still stepped by a group (no op mixes seeds), but not followed.
        live = [i for i, run in enumerate(runs) if not run.diverged and not (stoppers and stoppers[i].stopped)]
        if not live:
            break
        chunks = [order[epoch * per_epoch:(epoch + 1) * per_epoch] for order in orders]
        # this epoch's dropout rate / lr / momentum, if scheduled
        scheduled = job.arm.schedule_at(epoch, job.data.epochs, job.case.optimizer, per_epoch)
        if scheduled:
            trainer.set_schedule(**scheduled)
        scheduled = {k: v for k, v in scheduled.items() if not k.endswith("_steps")}
        t0 = time.perf_counter()
        if on_steps is None:
            losses = np.asarray(trainer.fit_epoch(chunks), dtype=np.float64)
            norms = trainer.grad_norms() if wants_norms else None   # (seeds, steps, kernel layers)
        else:
            losses, norms = _fit_reporting(trainer, chunks, wants_norms, pace, lambda k: on_steps(len(live) * k))
        train_s += time.perf_counter() - t0
        for i in live:
            runs[i].after_epoch(losses[i])
            if norms is not None:
                runs[i].after_norms(norms[i])
            if not runs[i].diverged:   # the curve carries the values each epoch trained with
                for key, value in scheduled.items():
                    runs[i].curve.setdefault(key, []).append(value)
        t0 = time.perf_counter()
        finals = trainer.evaluate(x_test, y_test)
        vals = trainer.evaluate(*val) if val is not None else [{}] * len(seeds)
        if errors:
            finals, vals = _with_error(finals), _with_error(vals)
        eval_s += time.perf_counter() - t0
        for i in live:
            runs[i].after_eval(finals[i], vals[i])
        if stoppers:
            _watch(rule, stoppers, runs, live, epoch, finals, vals, trainer if wants_sparsity else None, best_params)

    sparsity = None
    if wants_sparsity:   # only where a case asks: one copy of the weights
        sparsity = [weight_sparsity(b if b is not None else p) for b, p in zip(best_params, trainer.params())]

    outcomes = []
    n = len(seeds)
    for i, run in enumerate(runs):
        train_mae = None
        if job.case.loss.name in ("mae", "mse") and job.data.eval_train and not run.diverged:
            t0 = time.perf_counter()
            train_mae = float(trainer.evaluate(x_train, y_train)[i]["mae"])
            eval_s += time.perf_counter() - t0
        outcomes.append(run.outcome(job, train_mae, y_train, y_test if val is None else val[1]))
        if sparsity is not None and not outcomes[-1]["diverged"]:
            outcomes[-1]["metrics"]["weight_sparsity"] = sparsity[i]
        if wants_norms and not outcomes[-1]["diverged"]:
            outcomes[-1]["metrics"].update(grad_metrics(run.norm_sums, run.steps))
        if selecting:
            outcomes[-1]["selected_epoch"] = stoppers[i].best_epoch
        elif stoppers:
            outcomes[-1]["early_stopping"] = {"stopped_epoch": stoppers[i].stopped_epoch,
                                              "best_epoch": stoppers[i].best_epoch}
    wall = time.perf_counter() - started
    for out in outcomes:
        out.update(planned_steps=len(orders[0]), init=scheme,
                   group={"size": n, "seeds": seeds, "path": "vectorized" if vectorized else "per_seed"},
                   timing={"wall_s": wall / n, "train_s": train_s / n, "eval_s": eval_s / n,
                           "group_wall_s": wall})
    return outcomes


REPORT_SECONDS = 2.0   # the longest a progress bar should wait to hear from a training loop
REPORT_ENV = "BENCH_PROGRESS_SECONDS"   # overrides it; read per group, so worker processes see it too


def report_seconds() -> float:
    """Seconds of training between progress reports: ``REPORT_SECONDS`` unless ``$BENCH_PROGRESS_SECONDS``
    says otherwise (0 reports every step)."""
    text = os.environ.get(REPORT_ENV, "").strip()
    if not text:
        return REPORT_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise SpecError(f"{REPORT_ENV} must be a number of seconds >= 0, got {text!r}.")
    return value


class _Pace:
    """Seconds per step of the last slice a trainer trained (None before the first)."""

    def __init__(self):
        self.seconds = None
        self.every = report_seconds()

    def next_slice(self, left: int) -> int:
        """Steps for the next slice: about ``every`` seconds of training, at least one."""
        if self.seconds is None:
            return min(left, 1)   # the first slice also builds and traces: one step, then the true pace
        return max(1, min(left, int(self.every / max(self.seconds, 1e-9))))


def _fit_reporting(trainer, chunks, wants_norms: bool, pace: _Pace, report) -> tuple:
    """One epoch trained as consecutive slices of its steps, ``report(k)`` after each slice of
    ``k`` steps, so a progress bar moves within an epoch. A trainer's ``fit_epoch`` carries its
    state (weights, optimizer, dropout streams) from one call to the next, so the slices train
    exactly the steps one call would; the losses (and norms) are joined back together."""
    steps, done = len(chunks[0]), 0
    losses, norms = [], []
    while done < steps:
        k = pace.next_slice(steps - done)
        t0 = time.perf_counter()
        losses.append(np.asarray(trainer.fit_epoch([c[done:done + k] for c in chunks]), dtype=np.float64))
        if wants_norms:
            norms.append(np.asarray(trainer.grad_norms()))
        pace.seconds = (time.perf_counter() - t0) / k
        done += k
        report(k)
    if not losses:
        return np.asarray(trainer.fit_epoch(chunks), dtype=np.float64), trainer.grad_norms() if wants_norms else None
    return np.concatenate(losses, axis=1), (np.concatenate(norms, axis=1) if wants_norms else None)


def _wants_error(job: Job, rule) -> bool:
    """Whether the case asks for an ``*_error`` metric (declared, watched or selected on)."""
    names = [m.name for m in job.case.metrics] + ([rule.monitor] if rule is not None else [])
    return job.case.loss.name == "softmax_cross_entropy" and any(n.endswith("_error") for n in names)


def _with_error(evaluations: list) -> list:
    """Each evaluation with ``error`` = 1 - ``accuracy`` beside its accuracy."""
    return [{**e, "error": 1.0 - e["accuracy"]} if "accuracy" in e else e for e in evaluations]


def _watch(rule, stoppers, runs, live, epoch, finals, vals, trainer, best_params) -> None:
    """Feed each live seed's monitored value to its ``Stopper``; with
    ``restore_best_weights`` keep the best epoch's evaluation (and weights, when
    ``trainer`` is given) as the seed's final model."""
    prefix, key = rule.monitor.split("_", 1)
    snapshot = None
    for i in live:
        if runs[i].diverged:
            continue
        value = (vals if prefix == "val" else finals)[i][key]
        if stoppers[i].update(epoch, float(value)) and rule.restore_best_weights:
            runs[i].best = (runs[i].final, runs[i].final_val)
            if trainer is not None:
                snapshot = trainer.params() if snapshot is None else snapshot
                best_params[i] = snapshot[i]


class _Run:
    """One seed's progress through the epochs: its curve, steps and divergence."""

    def __init__(self):
        self.curve = {"step": [], "train_loss": []}
        self.steps, self.diverged, self.diverged_step, self.final, self.final_val = 0, False, None, {}, {}
        self.best = None   # (final, final_val) of the epoch early stopping restores
        self.norm_sums = None   # per kernel layer, the sum of its gradient norms over the steps trained

    def after_epoch(self, losses: np.ndarray) -> None:
        bad = np.flatnonzero(~np.isfinite(losses))
        if bad.size:
            self.diverged, self.diverged_step = True, self.steps + int(bad[0]) + 1
            self.steps = self.diverged_step
            return
        self.steps += len(losses)
        self.curve["step"].append(self.steps)
        self.curve["train_loss"].append(float(losses.mean()))

    def after_norms(self, norms: np.ndarray) -> None:
        """An epoch's kernel gradient norms, (steps, kernel layers): its mean per layer joins
        the curves ``grad_norm_0`` (first kernel layer), ``grad_norm_1``, ..."""
        if self.diverged:
            return
        sums = norms.sum(axis=0)
        self.norm_sums = sums if self.norm_sums is None else self.norm_sums + sums
        for j, value in enumerate(norms.mean(axis=0)):
            self.curve.setdefault(f"grad_norm_{j}", []).append(float(value))

    def after_eval(self, final: dict, val: dict) -> None:
        if self.diverged:
            return
        self.final, self.final_val = final, val
        for prefix, values in (("test", final), ("val", val)):
            for key, value in values.items():
                self.curve.setdefault(f"{prefix}_{key}", []).append(float(value))
        if not _finite([*final.values(), *val.values()]):
            self.diverged, self.diverged_step = True, self.steps

    def outcome(self, job: Job, train_mae, y_train, y_held_out) -> dict:
        """``y_held_out``: the targets of the rows ``*_val_mae`` are on (validation rows, where
        the case holds some out; else the test rows)."""
        y_test = y_held_out
        diverged = self.diverged
        if diverged:
            metrics = {m.name: float("nan") for m in job.case.metrics}
        else:
            final, final_val = self.best if self.best is not None else (self.final, self.final_val)
            metrics = {f"test_{k}": float(v) for k, v in final.items()}
            metrics.update({f"val_{k}": float(v) for k, v in final_val.items()})
            metrics["train_loss"] = self.curve["train_loss"][-1]
        if job.case.loss.name in ("mae", "mse"):
            if train_mae is not None and not math.isfinite(train_mae):
                diverged, self.diverged_step = True, self.steps
                metrics = {m.name: float("nan") for m in job.case.metrics}
            held_out = self.curve.get("val_mae", self.curve.get("test_mae", []))   # validation rows, where any
            metrics.update(regression_outcomes(held_out, diverged, train_mae, y_train, y_test))
        return {"metrics": metrics, "curve": self.curve, "diverged": diverged,
                "diverged_step": self.diverged_step, "steps": self.steps}


def regression_outcomes(val_mae, diverged: bool, train_mae, y_train, y_test) -> dict:
    """The per-seed outcomes of the tabular cases (C2, C3), from the held-out
    MAE curve (one value per epoch end) and, if measured, the inference-mode
    training MAE at the end. The held-out rows are the validation rows where the
    case has some (``Data.validation_split``), else the test rows, the posts' one
    held-out set (``y_test`` is then those rows' targets); the curve's last point
    is ``test_mae`` there.

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
