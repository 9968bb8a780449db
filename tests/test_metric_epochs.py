"""Which epoch each recorded metric comes from, checked on the training loop itself.

``bench.run.training.train_group`` is driven here by a scripted trainer whose every epoch returns
different, known losses and evaluations, so a metric taken from the wrong epoch (the first
instead of the last, the best instead of the last, a stale evaluation) gives a wrong number,
not a plausible one. No framework is needed.
"""
import dataclasses

import numpy as np
import pytest

from bench.spec import registry
from bench.run import training
from bench.spec import Job

EPOCHS = 3


class _Scripted:
    """A ``GroupTrainer`` stand-in: epoch e's step losses are 10*e + seed + step/100 and its
    evaluation gives loss 20 + e, accuracy 0.5 + e/10 and an MAE of ``MAE[e]`` + seed on the
    test set (10 rows), ``TRAIN_MAE`` + seed on the training set (40 rows)."""
    MAE = (5.0, 2.0, 3.0)   # best at the middle epoch, so min and final differ
    TRAIN_MAE = 0.5

    def __init__(self, job, params, seeds):
        self.seeds, self.epoch, self.evals = seeds, -1, 0

    def set_data(self, x, y):
        pass

    def fit_epoch(self, batches):
        self.epoch += 1
        steps = len(batches[0])
        return np.array([[10.0 * self.epoch + s + k / 100 for k in range(steps)] for s in range(len(self.seeds))])

    def evaluate(self, x, y):
        e = self.epoch
        return [{"loss": 20.0 + e, "accuracy": 0.5 + e / 10, "mae": (self.MAE[e] if len(x) == 10 else self.TRAIN_MAE) + s} for s in range(len(self.seeds))]


class _Backend:
    GroupTrainer = _Scripted


def _job(case_id: str, arm: str) -> Job:
    case = registry.get(case_id)
    budget = dataclasses.replace(case.budget("smoke"), epochs=EPOCHS)
    return Job(case, case.arm(arm), "torch", "as_written", "smoke", budget)


def _arrays(case_id: str, n_train: int = 40, n_test: int = 10):
    case = registry.get(case_id)
    d = int(np.prod(case.input_shape))
    rng = np.random.default_rng(0)
    if case.loss.name == "softmax_cross_entropy":
        y_train, y_test = rng.integers(0, 10, n_train), rng.integers(0, 10, n_test)
    else:
        y_train, y_test = rng.normal(size=n_train).astype(np.float32), rng.normal(size=n_test).astype(np.float32)
    return (rng.normal(size=(n_train, d)).astype(np.float32), y_train,
            rng.normal(size=(n_test, d)).astype(np.float32), y_test)


def test_train_loss_is_the_last_epochs_mean_and_test_metrics_the_last_evaluation():
    job = _job("c1", "none")
    arrays = _arrays("c1")
    outcomes = training.train_group(job, _Backend, arrays, [0, 1])
    steps = int(np.ceil(40 / job.data.batch_size))
    for s, out in enumerate(outcomes):
        last = 10.0 * (EPOCHS - 1) + s + np.mean([k / 100 for k in range(steps)])
        assert out["metrics"]["train_loss"] == pytest.approx(last)
        assert out["metrics"]["test_loss"] == 20.0 + EPOCHS - 1
        assert out["metrics"]["test_accuracy"] == pytest.approx(0.5 + (EPOCHS - 1) / 10)
        # the curve holds one point per epoch, in order, and the metric is its last point
        assert len(out["curve"]["train_loss"]) == EPOCHS
        assert out["curve"]["train_loss"][0] < out["curve"]["train_loss"][-1] == out["metrics"]["train_loss"]
        assert out["curve"]["test_accuracy"] == pytest.approx([0.5, 0.6, 0.7])
        assert out["curve"]["step"] == [steps * (e + 1) for e in range(EPOCHS)]
        assert out["steps"] == steps * EPOCHS and not out["diverged"]


def test_regression_outcomes_take_the_best_and_the_last_validation_mae():
    job = _job("c2", "plain")
    outcomes = training.train_group(job, _Backend, _arrays("c2"), [0, 1])
    for s, out in enumerate(outcomes):
        assert out["metrics"]["min_val_mae"] == 2.0 + s      # the middle epoch, the best
        assert out["metrics"]["final_val_mae"] == 3.0 + s    # the last epoch
        assert out["curve"]["test_mae"] == [5.0 + s, 2.0 + s, 3.0 + s]


def test_the_gap_is_the_last_validation_mae_minus_the_training_mae():
    job = _job("c3", "post")
    assert job.data.eval_train
    outcomes = training.train_group(job, _Backend, _arrays("c3"), [0, 1])
    for s, out in enumerate(outcomes):
        assert out["metrics"]["final_val_mae"] == 3.0 + s
        assert out["metrics"]["gap_mae"] == pytest.approx((3.0 + s) - (_Scripted.TRAIN_MAE + s))


class _BlowsUp(_Scripted):
    """Seed 1's loss turns NaN at the third step (index 2) of the second epoch."""

    def fit_epoch(self, batches):
        losses = super().fit_epoch(batches)
        if self.epoch == 1:   # epochs count from 0 here
            losses[1, 2] = np.nan
        return losses


class _BlowsUpBackend:
    GroupTrainer = _BlowsUp


def test_the_divergence_step_counts_the_step_that_blew_up():
    job = _job("c1", "none")
    steps = int(np.ceil(400 / job.data.batch_size))
    assert steps >= 3
    ok, gone = training.train_group(job, _BlowsUpBackend, _arrays("c1", n_train=400), [0, 1])
    assert not ok["diverged"] and ok["diverged_step"] is None and ok["steps"] == steps * EPOCHS
    # steps are counted from 1: a whole first epoch, then the third step of the second
    assert gone["diverged"] and gone["diverged_step"] == steps + 3 == gone["steps"]
