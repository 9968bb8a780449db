"""A case: a base model's arms, the budget per profile, its metrics and claims."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Optional

from bench.errors import SpecError
from bench.spec.checks import _where, check_types
from bench.spec.claims import Claim
from bench.spec.gradients import GRAD_METRICS, check_grad_metrics
from bench.spec.inference import Inference
from bench.spec.layers import LAYER_TYPES, Dense, Dropout, Layer
from bench.spec.schedules import Schedule
from bench.spec.shapes import layer_shapes
from bench.spec.throughput import Throughput
from bench.spec.training import (L1, L2, Data, EarlyStopping, Loss, Metric, Optimizer, check_lr_schedule,
                                 check_momentum_schedule)

MODES = ("as_written", "matched")


@dataclass(frozen=True)
class Arm:
    name: str
    layers: tuple[Layer, ...]
    l2: Optional[L2] = None
    l1: Optional[L1] = None
    standardize: Optional[bool] = None
    early_stopping: Optional[EarlyStopping] = None  # None: the case's ``Data.standardize``; else this arm's own
    inference: Optional[Inference] = None   # how its Dropout trains and predicts (bench.spec.inference); None: inverted
    # Per-epoch schedules (``bench.spec.schedules``); None: the constant rate / the optimizer's lr.
    # ``dropout_schedule`` *replaces* the rate of every ``Dropout`` layer (not the other
    # noise layers) at each epoch, so every such layer must be declared at its epoch-0
    # value (``start``). ``lr_schedule`` replaces the optimizer's learning rate (per epoch or per
    # step), ``momentum_schedule`` SGD's momentum (per epoch); either replaces the case's own
    # (``Optimizer.lr_schedule`` / ``Optimizer.momentum_schedule``) for this arm.
    dropout_schedule: Optional[Schedule] = None
    lr_schedule: Optional[Schedule] = None
    momentum_schedule: Optional[Schedule] = None

    def standardizes(self, data: "Data") -> bool:
        return data.standardize if self.standardize is None else self.standardize

    def validate(self) -> None:
        if not self.name.isidentifier():
            raise SpecError(f"arm name {self.name!r} must be a plain identifier.")
        if not self.layers or not isinstance(self.layers[-1], Dense):
            raise SpecError(f"arm {self.name!r} must end in a Dense output layer.")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, LAYER_TYPES):
                names = ", ".join(kind.__name__ for kind in LAYER_TYPES)
                raise SpecError(f"arm {self.name!r}, layer {i}: {layer!r} is not a layer type; choose from {names}.")
            with _where(f"layer {i} ({type(layer).__name__})"):
                layer.validate()
        if self.l2 is not None:
            with _where("l2"):
                self.l2.validate()
        if self.l1 is not None:
            with _where("l1"):
                self.l1.validate()
        if self.early_stopping is not None:
            with _where("early_stopping"):
                self.early_stopping.validate()
        if self.inference is not None:
            with _where("inference"):
                self.inference.validate()
                self.inference.check_layers(self.layers)
        if self.dropout_schedule is not None:
            with _where("dropout_schedule"):
                self.dropout_schedule.validate(0.0, 1.0, what="dropout rate")
                if self.dropout_schedule.per != "epoch":
                    raise SpecError(f"a dropout schedule runs per epoch; got per={self.dropout_schedule.per!r}.")
                rates = [layer.rate for layer in self.layers if type(layer) is Dropout]
                if not rates or any(r != self.dropout_schedule.start for r in rates):
                    raise SpecError(f"arm {self.name!r} needs Dropout layers declared at the schedule's start "
                                    f"rate {self.dropout_schedule.start}; its Dropout rates are {rates}.")
        if self.lr_schedule is not None:
            with _where("lr_schedule"):
                check_lr_schedule(self.lr_schedule)
        if self.momentum_schedule is not None:
            with _where("momentum_schedule"):
                check_momentum_schedule(self.momentum_schedule, "sgd")
        if self.dropout_schedule is not None and self.inference is not None and self.inference.mode != "inverted":
            raise SpecError(f"arm {self.name!r}: a dropout schedule drives inverted Dropout layers; "
                            f"it cannot be combined with inference mode {self.inference.mode!r}.")

    def schedules(self, optimizer: Optional[Optimizer] = None) -> dict:
        """``{"dropout_rate" | "lr" | "momentum": Schedule}``: this arm's schedules, an arm's own
        replacing the case's ``optimizer``'s."""
        case_lr = optimizer.lr_schedule if optimizer is not None else None
        case_momentum = optimizer.momentum_schedule if optimizer is not None else None
        found = {"dropout_rate": self.dropout_schedule, "lr": self.lr_schedule or case_lr,
                 "momentum": self.momentum_schedule or case_momentum}
        return {key: s for key, s in found.items() if s is not None}

    def schedule_at(self, epoch: int, epochs: int, optimizer: Optional[Optimizer] = None,
                    steps_per_epoch: int = 1) -> dict:
        """This arm's scheduled values for epoch ``epoch`` of ``epochs`` (``dropout_rate``, ``lr``,
        ``momentum``), only those it schedules; empty without a schedule. A per-step learning
        rate gives ``lr`` (the epoch's first step's) and ``lr_steps``, one value per step."""
        out = {}
        for key, schedule in self.schedules(optimizer).items():
            if schedule.per == "step":
                ticks = epochs * steps_per_epoch
                steps = [schedule.value(t, ticks) for t in range(epoch * steps_per_epoch, (epoch + 1) * steps_per_epoch)]
                out[key], out[f"{key}_steps"] = steps[0], steps
            else:
                out[key] = schedule.value(epoch, epochs)
        return out




@dataclass(frozen=True)
class Profile:
    """A budget. ``None`` keeps the case's own value; ``notes`` says what was cut.
    ``arms``: the arms this profile runs (None: every arm of the case); like ``seeds`` it
    says which seed-runs to make, not what one of them trains, so it is no part of a
    record's spec hash (``bench.records.identity``).

    ``width`` scales the net: every ``Dense`` layer of every arm but its last (the output)
    gets ``max(1, round(units * width))`` units, half up (``Case.arm_at``), so a CPU profile
    can train a smaller copy of a wide net; None keeps the declared widths."""
    seeds: int
    epochs: Optional[int] = None
    train_subsample: Optional[int] = None
    test_subsample: Optional[int] = None
    notes: str = ""
    arms: Optional[tuple[str, ...]] = None
    width: Optional[float] = None

    def resized(self, layers: tuple) -> tuple:
        """``layers`` with this profile's ``width`` applied (the output ``Dense`` kept)."""
        if self.width is None:
            return layers
        last = len(layers) - 1
        return tuple(replace(layer, units=max(1, int(layer.units * self.width + 0.5)))
                     if type(layer) is Dense and k != last else layer for k, layer in enumerate(layers))


PROFILES = ("smoke", "quick", "mid", "full")   # mid: a case's documented stand-in for full on a CPU


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    source: str
    input_shape: tuple[int, ...]
    data: Data
    loss: Loss
    optimizer: Optimizer
    arms: tuple[Arm, ...]
    metrics: tuple[Metric, ...]
    claims: tuple[Claim, ...]
    profiles: dict = field(default_factory=dict)  # name -> Profile
    notes: str = ""
    overrides: tuple = ()   # ((dotted field, value), ...) set by ``bench run --set`` (bench.spec.overrides)
    # A speed case: each seed is a repetition that times every arm's training steps
    # (bench.spec.throughput); None: seeds train the arms and evaluate them.
    throughput: Optional[Throughput] = None

    def arm(self, name: str) -> Arm:
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise SpecError(f"case {self.id!r} has no arm {name!r}; it has {[a.name for a in self.arms]}.")

    def metric(self, name: str) -> Metric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise SpecError(f"case {self.id!r} has no metric {name!r}; its metrics are "
                        f"{', '.join(m.name for m in self.metrics) or 'none'}.")

    def arm_at(self, name: str, profile: str) -> Arm:
        """Arm ``name`` as ``profile`` trains it: its layers resized by ``Profile.width``."""
        arm = self.arm(name)
        layers = self.profile(profile).resized(arm.layers)
        return arm if layers == arm.layers else replace(arm, layers=layers)

    def profile(self, name: str) -> Profile:
        if name not in self.profiles:
            raise SpecError(f"case {self.id!r} has no profile {name!r}; it has {sorted(self.profiles)}.")
        return self.profiles[name]

    def profile_arms(self, profile: str) -> tuple[Arm, ...]:
        """The arms ``profile`` runs: its ``arms`` when it names them, else every arm."""
        names = self.profile(profile).arms
        return self.arms if names is None else tuple(self.arm(n) for n in names)

    def budget(self, profile: str) -> Data:
        """The data/batching settings after applying ``profile``'s reductions."""
        p = self.profile(profile)
        return replace(
            self.data,
            epochs=p.epochs or self.data.epochs,
            train_subsample=p.train_subsample or self.data.train_subsample,
            test_subsample=p.test_subsample or self.data.test_subsample,
        )

    def validate(self) -> "Case":
        """Check every field's type, then every value, naming where a problem is:
        ``case 'c2', arm 'bn', layer 3 (Dropout), field 'rate': ...``."""
        where = f"case {self.id!r}" if isinstance(self.id, str) else "case"
        check_types(self, where)
        for arm in self.arms:
            check_types(arm, f"{where}, arm {arm.name!r}")
            for i, layer in enumerate(arm.layers):
                check_types(layer, f"{where}, arm {arm.name!r}, layer {i} ({type(layer).__name__})")
        for i, metric in enumerate(self.metrics):
            check_types(metric, f"{where}, metric {i}")
        for claim in self.claims:
            claim.check_reported(self.id)   # before the type check: its sentence says what a value must be
            check_types(claim, f"{where}, claim {claim.id!r}")
        for name, prof in self.profiles.items():
            if not isinstance(prof, Profile):
                raise SpecError(f"{where}, profile {name!r}: must be a Profile, got {type(prof).__name__}.")
            check_types(prof, f"{where}, profile {name!r}")
        with _where(f"case {self.id!r}"):
            self._validate()
        return self

    def _validate(self) -> None:
        from bench.stats import kinds   # here, not at import: the spec stays free of the statistics
        if not self.id.isidentifier() or self.id != self.id.lower():
            raise SpecError(f"case id {self.id!r} must be a lower-case identifier.")
        with _where("data"):
            self.data.validate()
        with _where("loss"):
            self.loss.validate()
        with _where("optimizer"):
            self.optimizer.validate()
        names = [a.name for a in self.arms]
        if len(set(names)) != len(names):
            raise SpecError(f"case {self.id!r} has duplicate arm names {names}.")
        for arm in self.arms:
            with _where(f"arm {arm.name!r}"):
                arm.validate()
                layer_shapes(arm.layers, self.input_shape)
                if arm.momentum_schedule is not None:
                    check_momentum_schedule(arm.momentum_schedule, self.optimizer.name)
        if self.throughput is not None:
            with _where("throughput"):
                self.throughput.validate()
            for arm in self.arms:
                if arm.schedules(self.optimizer):
                    raise SpecError(f"arm {arm.name!r} has a per-epoch schedule, which a speed case (timed steps, "
                                    f"no epochs) would not apply; leave schedules out of speed cases.")
        check_metrics(self)
        for claim in self.claims:
            if claim.metric not in [m.name for m in self.metrics]:
                raise SpecError(f"claim {claim.id!r} tests metric {claim.metric!r}, which case {self.id!r} does "
                                f"not declare; its metrics are {', '.join(m.name for m in self.metrics) or 'none'}.")
            for arm_name in claim.arms:
                self.arm(arm_name)
            for arm_name, _ in claim.reported:
                self.arm(arm_name)
            if claim.direction not in ("greater", "less"):
                raise SpecError(f"claim {claim.id!r} direction must be 'greater' or 'less'.")
            if claim.kind not in kinds.names():
                raise SpecError(f"claim {claim.id!r} has unknown kind {claim.kind!r}; choose from {kinds.names()}.")
            kinds.get(claim.kind).validate(claim)   # the kind's own checks: arms, weights, margin
        for name, prof in self.profiles.items():
            if name not in PROFILES:
                raise SpecError(f"case {self.id!r} defines unknown profile {name!r}; use {PROFILES}.")
            if prof.seeds < 1:
                raise SpecError(f"profile {name!r} of case {self.id!r} needs >= 1 seed.")
            if prof.arms is not None:
                unknown = [a for a in prof.arms if a not in names]
                if unknown or not prof.arms or len(set(prof.arms)) != len(prof.arms):
                    raise SpecError(f"profile {name!r} of case {self.id!r} runs arms {list(prof.arms)}; each must "
                                    f"be one of the case's arms {names}, named once, and at least one is needed.")
            if prof.width is not None and not (0 < prof.width < math.inf):
                raise SpecError(f"profile {name!r} of case {self.id!r}: width scales Dense units, a number > 0; "
                                f"got {prof.width}.")
            with _where(f"profile {name!r}"):
                self.budget(name).validate()
                for arm in self.arms:
                    layer_shapes(self.arm_at(arm.name, name).layers, self.input_shape)



def producible_metrics(case: "Case") -> tuple[str, ...]:
    """Every metric the engine computes for ``case`` (``bench.run.training``): a case
    may only declare these. ``diverged`` is each record's flag (0/1). A speed case
    (``Case.throughput``) times training steps and evaluates nothing."""
    if case.throughput is not None:   # bench.run.throughput
        return ("diverged", "train_loss", "steps_per_second")
    names = ["diverged", "train_loss", "test_loss", "weight_sparsity", *GRAD_METRICS]   # bench.spec.gradients
    classify = case.loss.name == "softmax_cross_entropy"
    names += ["test_accuracy", "test_error"] if classify else ["test_mae"]
    if case.data.validation_split:
        names += ["val_loss", *(("val_accuracy", "val_error") if classify else ("val_mae",))]
    if not classify:   # bench.run.training.regression_outcomes
        names += ["min_val_mae", "final_val_mae", "baseline_val_mae", "fit_failed"]
        if case.data.eval_train:
            names.append("gap_mae")
    return tuple(names)


def check_metrics(case: "Case") -> None:
    """A metric the engine cannot compute for ``case`` is an error now, not a
    column of NaN after the run."""
    known = producible_metrics(case)
    for arm in case.arms:
        if arm.early_stopping is not None and arm.early_stopping.monitor not in known:
            raise SpecError(f"arm {arm.name!r} stops early on {arm.early_stopping.monitor!r}, "
                            f"which the engine does not compute for it (val_* needs Data.validation_split).")
    if case.data.select is not None and case.data.select not in known:
        raise SpecError(f"data selects on {case.data.select!r}, which the engine does not compute for this case; "
                        f"it computes {', '.join(known)}.")
    for metric in case.metrics:
        if metric.name not in known:
            raise SpecError(f"metric {metric.name!r} is not one this case can produce; the engine computes "
                            f"{', '.join(known)} for it.")
    check_grad_metrics(case)
