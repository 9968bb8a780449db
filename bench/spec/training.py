"""How an arm is trained: optimizer, L1/L2 penalties, loss, data and its budget,
metrics and early stopping."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Optional

from bench.errors import SpecError
from bench.spec.schedules import Schedule


@dataclass(frozen=True)
class Optimizer:
    """``None`` hyperparameters mean the framework's own default.

    ``"adamw"`` is Adam with *decoupled* weight decay (Loshchilov & Hutter 2019),
    as Keras's ``AdamW`` and PyTorch's ``AdamW`` do it: before each Adam update
    every trainable tensor (biases included) becomes ``p - lr * weight_decay * p``.
    It is not ``L2``, whose gradient passes through Adam's scaling.

    ``lr_schedule`` and ``momentum_schedule`` (``bench.spec.schedules``) are the case's
    schedules, declared once for every arm; an arm's own ``Arm.lr_schedule`` /
    ``Arm.momentum_schedule`` replaces them for that arm. A momentum schedule is SGD's,
    per epoch. Under a changing learning rate with momentum the frameworks' SGD differ:
    Keras folds each step's lr into its velocity (``v = m v - lr g``), PyTorch scales its
    buffer by the current lr (``b = m b + g; p -= lr b``); with a constant lr they agree."""
    name: Literal["adam", "sgd", "adamw"]
    lr: Optional[float] = None
    beta1: Optional[float] = None
    beta2: Optional[float] = None
    eps: Optional[float] = None
    momentum: float = 0.0
    weight_decay: Optional[float] = None   # adamw only
    lr_schedule: Optional[Schedule] = None
    momentum_schedule: Optional[Schedule] = None

    def validate(self) -> None:
        if self.name not in ("adam", "sgd", "adamw"):
            raise SpecError(f"unknown optimizer {self.name!r}; choose 'adam', 'adamw' or 'sgd'.")
        if self.lr is not None and not self.lr > 0:
            raise SpecError(f"learning rate must be > 0, got {self.lr}.")
        if self.weight_decay is not None and (self.name != "adamw" or not 0 <= self.weight_decay < math.inf):
            raise SpecError(f"weight_decay is AdamW's decoupled decay, a finite number >= 0 with "
                            f"Optimizer('adamw'); got {self.weight_decay} with {self.name!r} (for L2 use Arm.l2).")
        check_lr_schedule(self.lr_schedule)
        check_momentum_schedule(self.momentum_schedule, self.name)


def check_lr_schedule(schedule: Optional[Schedule]) -> None:
    """A learning rate schedule's values are > 0, on either clock."""
    if schedule is None:
        return
    schedule.validate(what="learning rate")
    if min(v for v in (schedule.start, schedule.end) if v is not None) <= 0:
        raise SpecError(f"a learning rate schedule's values must be > 0; got {schedule}.")


def check_momentum_schedule(schedule: Optional[Schedule], optimizer: str) -> None:
    """A momentum schedule is SGD's, per epoch, its values in [0, 1)."""
    if schedule is None:
        return
    if optimizer != "sgd":
        raise SpecError(f"a momentum schedule drives SGD's momentum; this case's optimizer is {optimizer!r}.")
    schedule.validate(0.0, 1.0, what="momentum")
    if schedule.per != "epoch":
        raise SpecError(f"a momentum schedule runs per epoch; got per={schedule.per!r}.")


@dataclass(frozen=True)
class L2:
    """An explicit penalty ``coef * sum(p**2) / 2`` added to the loss.

    This is ``coef * tf.nn.l2_loss(p)`` summed over parameters, and equals
    PyTorch's ``weight_decay=coef`` for plain SGD/Adam (not AdamW).
    ``include_bias`` puts biases (and BN scale/offset) in the sum, as the C1
    post does by summing over all trainable variables.
    """
    coef: float
    include_bias: bool = True

    def validate(self) -> None:
        if not self.coef >= 0 or math.isinf(self.coef):
            raise SpecError(f"L2 coefficient must be a finite number >= 0, got {self.coef}.")


@dataclass(frozen=True)
class L1:
    """An explicit penalty ``coef * sum(|p|)`` added to the loss (no halving,
    unlike ``L2``); its (sub)gradient is ``coef * sign(p)``, 0 at p = 0, in both
    frameworks. ``include_bias`` as for ``L2`` (seed 004 sums over
    ``model.parameters()``, biases included)."""
    coef: float
    include_bias: bool = True

    def validate(self) -> None:
        if not self.coef >= 0 or math.isinf(self.coef):
            raise SpecError(f"L1 coefficient must be a finite number >= 0, got {self.coef}.")


@dataclass(frozen=True)
class Loss:
    name: Literal["softmax_cross_entropy", "mae", "mse"]

    def validate(self) -> None:
        if self.name not in ("softmax_cross_entropy", "mae", "mse"):
            raise SpecError(f"unknown loss {self.name!r}.")


@dataclass(frozen=True)
class Data:
    """Which dataset and how it is fed. ``epochs`` of reshuffled passes in
    batches of ``batch_size``; the last batch of an epoch may be short."""
    dataset: str
    batch_size: int
    epochs: int
    shuffle: bool = True
    scale: float = 1.0          # features are multiplied by this (x/255 -> 1/255)
    train_subsample: Optional[int] = None   # first n training examples; None = all
    test_subsample: Optional[int] = None
    # Tabular regression (C2/C3). ``standardize``: z-score each feature with the
    # mean and population sd (ddof=0, as sklearn's StandardScaler) of the
    # *training* split only. ``resplit``: seed i draws its own 70/30 split
    # instead of the post's ``sample(frac=0.7, random_state=0)`` (extra
    # variance; off when as written). ``eval_train``: also evaluate the training
    # set in inference mode at the end, for the overfitting gap.
    standardize: bool = False
    resplit: bool = False
    eval_train: bool = False
    # Keras's ``fit(validation_split=f)``: the *last* f of the (subsampled) training
    # rows, taken before any shuffling, are held out and never trained on; the
    # model is evaluated on them after each epoch (metrics ``val_accuracy``,
    # ``val_loss``; ``val_mae`` for regression). 0 = no held-out set.
    # With it a case has three disjoint sets: the rows it trains on, the validation rows
    # (``val_*``, and a regression case's ``min_val_mae``/``final_val_mae``/``gap_mae``) and the
    # test rows (``test_*``: the dataset's test split, or a tabular set's 30 %), which nothing
    # selects on. ``select`` ("val_loss", "val_accuracy", "val_error", "val_mae") picks, per seed,
    # the epoch whose model is judged: the one with the best value of that validation metric
    # (training still runs every epoch), so every metric but ``train_loss`` is that epoch's.
    # None: the last epoch's.
    validation_split: float = 0.0
    select: Optional[str] = None

    def validate(self) -> None:
        if self.batch_size < 1 or self.epochs < 1:
            raise SpecError(f"batch_size and epochs must be >= 1, got {self.batch_size}, {self.epochs}.")
        if not (0.0 <= self.validation_split < 1.0):
            raise SpecError(f"validation_split must lie in [0, 1), got {self.validation_split}.")
        if self.select is not None:
            if self.select not in SELECT_MONITORS:
                raise SpecError(f"select picks an epoch by a validation metric, one of {sorted(SELECT_MONITORS)}; "
                                f"got {self.select!r}.")
            if not self.validation_split:
                raise SpecError(f"select={self.select!r} needs validation rows: set validation_split > 0.")
        for n in (self.train_subsample, self.test_subsample):
            if n is not None and n < 1:
                raise SpecError(f"subsample sizes must be >= 1, got {n}.")


@dataclass(frozen=True)
class Metric:
    """An evaluation metric and the direction in which it is better."""
    name: str
    higher_is_better: bool


# Epoch-end metrics early stopping can watch, and whether lower is better.
STOP_MONITORS = {"val_loss": True, "val_mae": True, "val_accuracy": False, "val_error": True,
                 "test_loss": True, "test_mae": True, "test_accuracy": False, "test_error": True}
# The validation metrics ``Data.select`` can pick an epoch by.
SELECT_MONITORS = {k: v for k, v in STOP_MONITORS.items() if k.startswith("val_")}


@dataclass(frozen=True)
class EarlyStopping:
    """Keras's ``EarlyStopping(monitor, patience, restore_best_weights)`` with
    ``min_delta=0``, run by the neutral loop (``bench.run.stopping``), so the rule is
    the same in every framework: after each epoch a counter grows by one and
    resets on a strict improvement of ``monitor``; training stops at the end of
    an epoch > 0 where the counter reached ``patience``. With
    ``restore_best_weights`` the final model is the one of the best epoch (as
    Keras restores at the end of training, stopped or not), so every metric but
    ``train_loss`` (the last trained epoch's) is that epoch's evaluation."""
    patience: int
    monitor: str = "val_loss"
    restore_best_weights: bool = True

    def validate(self) -> None:
        if not isinstance(self.patience, int) or self.patience < 0:
            raise SpecError(f"EarlyStopping patience must be an int >= 0, got {self.patience!r}.")
        if self.monitor not in STOP_MONITORS:
            raise SpecError(f"EarlyStopping monitor must be one of {sorted(STOP_MONITORS)}, got {self.monitor!r}.")


