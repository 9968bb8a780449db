"""The framework-neutral description of a case: frozen data, no framework imports.

A ``Case`` holds a base model, the named ``Arm`` variations of it, the training
budget per ``Profile`` and the ``Claim`` s to test. Backends read these objects
and nothing else.

Where TensorFlow/Keras and PyTorch defaults differ, a field left as ``None``
means "the framework's own default" and the backends resolve it (see
``FRAMEWORK_DEFAULTS``). The differences that matter for the claims:

================  ==========================  ===========================
setting           Keras (TF)                  PyTorch
================  ==========================  ===========================
Dense init        glorot_uniform, bias 0      kaiming_uniform(a=sqrt 5),
                                              bias U(+-1/sqrt(fan_in))
Conv2D init       glorot_uniform over         kaiming_uniform(a=sqrt 5),
                  receptive field, bias 0     bias U(+-1/sqrt(fan_in)),
                                              fan_in = kh*kw*cin
Conv layout       channels-last (NHWC)        channels-first (NCHW); the
                                              spec is NHWC, Flatten maps it
Dropout RNG       stateless, seeded per       default generator, seeded
                  layer (SeedGenerator)       per trainer (``bench.backends``)
Subnormals (CPU)  flushed to zero             kept; the suite flushes them
                                              (``bench.backends.torch``)
Adam eps          1e-7, added to sqrt(v)      1e-8, added to sqrt(v_hat)
                  before bias correction      after bias correction
SGD lr            0.01                        none (must be set)
BN momentum       0.99 (weight on old mean)   0.1 (weight on new batch)
BN eps            1e-3                        1e-5
BN moving var     biased batch variance       unbiased batch variance
L2                explicit loss term          ``weight_decay=lam`` adds
                                              lam*w to the gradient, i.e.
                                              lam * sum(w^2)/2 in the loss
AdamW decay       0.004                       0.01
================  ==========================  ===========================

``mode="matched"`` (see ``MODES``) makes the PyTorch backend use the Keras
column for init, Adam eps and BN momentum/eps, and Keras's eps placement too
(torch's eps is set to ``eps / sqrt(1 - beta2**t)`` at step t, which makes the
two updates equal); the BN moving-variance estimator stays each framework's own.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import typing
from dataclasses import dataclass, field, replace
from typing import Literal, Optional, Union

from bench.errors import SpecError

MODES = ("as_written", "matched")
ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "linear")

# What "None" resolves to in each backend, kept here so it is stated once.
FRAMEWORK_DEFAULTS = {
    "tf": {"init": "glorot_uniform", "adam_lr": 1e-3, "adam_eps": 1e-7, "sgd_lr": 0.01,
           "beta1": 0.9, "beta2": 0.999, "bn_momentum": 0.99, "bn_eps": 1e-3, "adamw_decay": 0.004},
    "torch": {"init": "kaiming_uniform", "adam_lr": 1e-3, "adam_eps": 1e-8, "sgd_lr": None,
              "beta1": 0.9, "beta2": 0.999, "bn_momentum": 0.99, "bn_eps": 1e-5, "adamw_decay": 0.01},
}
# PyTorch's BN momentum is 1 - Keras's; stored here in the Keras convention.
FRAMEWORK_DEFAULTS["torch"]["bn_momentum"] = 1.0 - 0.1


# --- layers -----------------------------------------------------------------

@dataclass(frozen=True)
class Dense:
    units: int
    activation: str = "linear"
    use_bias: bool = True

    def validate(self) -> None:
        if self.units < 1:
            raise SpecError(f"Dense units must be >= 1, got {self.units}.")
        if self.activation not in ACTIVATIONS:
            raise SpecError(f"unknown activation {self.activation!r}; choose from {ACTIVATIONS}.")


@dataclass(frozen=True)
class Dropout:
    """Inverted dropout: ``rate`` is the probability of *dropping* a unit."""
    rate: float

    def validate(self) -> None:
        if not (0.0 <= self.rate < 1.0) or math.isnan(self.rate):
            raise SpecError(f"Dropout rate (field 'rate') must lie in [0, 1), got {self.rate}.")


@dataclass(frozen=True)
class BatchNorm:
    """Batch normalization. ``momentum`` uses the Keras convention (weight on the
    old moving average); ``None`` means the framework's default."""
    momentum: Optional[float] = None
    eps: Optional[float] = None

    def validate(self) -> None:
        if self.momentum is not None and not (0.0 <= self.momentum < 1.0):
            raise SpecError(f"BatchNorm momentum must lie in [0, 1), got {self.momentum}.")
        if self.eps is not None and not self.eps > 0:
            raise SpecError(f"BatchNorm eps must be > 0, got {self.eps}.")


@dataclass(frozen=True)
class Activation:
    name: str

    def validate(self) -> None:
        if self.name not in ACTIVATIONS:
            raise SpecError(f"unknown activation {self.name!r}; choose from {ACTIVATIONS}.")


def _pair(value, what: str) -> tuple[int, int]:
    """An int ``k`` or a pair ``(kh, kw)`` as a pair of ints >= 1."""
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v >= 1 for v in pair):
        raise SpecError(f"{what} must be an int >= 1 or a pair of them, got {value!r}.")
    return pair


PADDINGS = ("valid", "same")


@dataclass(frozen=True)
class Conv2D:
    """A 2-D convolution, stride 1, over a channels-last (H, W, C) map."""
    filters: int
    kernel_size: Union[int, tuple[int, int]]
    activation: str = "linear"
    padding: str = "valid"
    use_bias: bool = True

    @property
    def kernel(self) -> tuple[int, int]:
        return _pair(self.kernel_size, "Conv2D kernel_size")

    def validate(self) -> None:
        if not isinstance(self.filters, int) or self.filters < 1:
            raise SpecError(f"Conv2D filters must be an int >= 1, got {self.filters!r}.")
        self.kernel
        if self.activation not in ACTIVATIONS:
            raise SpecError(f"unknown activation {self.activation!r}; choose from {ACTIVATIONS}.")
        if self.padding not in PADDINGS:
            raise SpecError(f"Conv2D padding must be one of {PADDINGS}, got {self.padding!r}.")


@dataclass(frozen=True)
class MaxPool2D:
    """Max pooling with stride = pool size and no padding (the Keras default)."""
    pool_size: Union[int, tuple[int, int]] = 2

    @property
    def pool(self) -> tuple[int, int]:
        return _pair(self.pool_size, "MaxPool2D pool_size")

    def validate(self) -> None:
        self.pool


@dataclass(frozen=True)
class Flatten:
    """(H, W, C) -> (H*W*C,) in channels-last order in every backend, so a
    Dense after it gets the same weights everywhere."""

    def validate(self) -> None:
        pass


@dataclass(frozen=True)
class SpatialDropout2D:
    """Tompson et al. 2015: drops whole feature maps (channels) with
    probability ``rate``; survivors scale by 1 / (1 - rate)."""
    rate: float

    def validate(self) -> None:
        if not (0.0 <= self.rate < 1.0) or math.isnan(self.rate):
            raise SpecError(f"SpatialDropout2D rate (field 'rate') must lie in [0, 1), got {self.rate}.")


@dataclass(frozen=True)
class DropBlock:
    """Ghiasi et al. 2018: drops contiguous ``block_size`` x ``block_size``
    squares of each feature map so that about ``1 - keep_prob`` of it is
    dropped, then rescales by count; the identity at inference."""
    keep_prob: float
    block_size: int

    def validate(self) -> None:
        if not (0.0 < self.keep_prob <= 1.0) or math.isnan(self.keep_prob):
            raise SpecError(f"DropBlock keep_prob must lie in (0, 1], got {self.keep_prob}.")
        if not isinstance(self.block_size, int) or self.block_size < 1:
            raise SpecError(f"DropBlock block_size must be an int >= 1, got {self.block_size!r}.")


@dataclass(frozen=True)
class GaussianDropout:
    """Multiplicative N(1, rate / (1 - rate)) noise (Srivastava et al. 2014, sec. 10)."""
    rate: float

    def validate(self) -> None:
        if not (0.0 <= self.rate < 1.0) or math.isnan(self.rate):
            raise SpecError(f"GaussianDropout rate (field 'rate') must lie in [0, 1), got {self.rate}.")


@dataclass(frozen=True)
class UniformDropout:
    """Continuous dropout with uniform noise (Shen et al. 2017, "Continuous
    Dropout"; seed 002): in training each unit is multiplied by its own draw of
    U(1 - half_width, 1 + half_width), mean 1 (inverted: nothing to rescale at
    inference, where the layer is the identity), variance half_width**2 / 3.
    ``half_width`` lies in [0, 1], so no multiplier is negative. Shen et al.'s
    uniform mask m ~ U(0, 1), rescaled by its mean, is ``half_width=1``;
    variance 1/3 equals that of Bernoulli ``Dropout(0.25)`` and
    ``GaussianDropout(0.25)`` (rate / (1 - rate)), which makes the three comparable."""
    half_width: float

    def validate(self) -> None:
        if not (0.0 <= self.half_width <= 1.0) or math.isnan(self.half_width):
            raise SpecError(f"UniformDropout half_width (field 'half_width') must lie in [0, 1], got {self.half_width}.")


Layer = Union[Dense, Dropout, BatchNorm, Activation, Conv2D, MaxPool2D, Flatten, SpatialDropout2D,
              DropBlock, GaussianDropout, UniformDropout]
# Layers that need a (H, W, C) map; an arm holding one sees its input as an image.
SPATIAL_LAYERS = (Conv2D, MaxPool2D, Flatten, SpatialDropout2D, DropBlock)


def arm_input_shape(layers: tuple, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape (batch omitted) an arm's first layer sees. Channels-last is
    decided here, once: a conv arm reads ``(H, W)`` as ``(H, W, 1)`` and
    ``(H, W, C)`` as is; any other arm sees the input flattened."""
    if not any(isinstance(layer, SPATIAL_LAYERS) for layer in layers):
        return (math.prod(input_shape),)
    if len(input_shape) == 2:
        return (*input_shape, 1)
    if len(input_shape) == 3:
        return tuple(input_shape)
    raise SpecError(f"an arm with conv layers needs an input_shape (H, W) or (H, W, C), got {input_shape}.")


def layer_shapes(layers: tuple, input_shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The output shape of each layer (batch omitted), walking from
    ``arm_input_shape``; a layer that cannot take its input is a SpecError
    before any training starts."""
    shape, out = arm_input_shape(layers, input_shape), []
    for i, layer in enumerate(layers):
        where = f"layer {i} ({type(layer).__name__})"
        image = len(shape) == 3
        if isinstance(layer, SPATIAL_LAYERS) and not image:
            raise SpecError(f"{where} needs an (H, W, C) feature map but gets shape {shape}.")
        if isinstance(layer, (Dense, BatchNorm)) and image:
            raise SpecError(f"{where} needs a flat input but gets the feature map {shape}; add Flatten().")
        if isinstance(layer, Dense):
            shape = (layer.units,)
        elif isinstance(layer, Conv2D):
            (kh, kw), (h, w, _) = layer.kernel, shape
            if layer.padding == "valid":
                h, w = h - kh + 1, w - kw + 1
            if h < 1 or w < 1:
                raise SpecError(f"{where}: a {kh}x{kw} kernel does not fit the {shape[0]}x{shape[1]} map.")
            shape = (h, w, layer.filters)
        elif isinstance(layer, MaxPool2D):
            (ph, pw), (h, w, c) = layer.pool, shape
            if h < ph or w < pw:
                raise SpecError(f"{where}: a {ph}x{pw} pool does not fit the {h}x{w} map.")
            shape = (h // ph, w // pw, c)
        elif isinstance(layer, Flatten):
            shape = (math.prod(shape),)
        elif isinstance(layer, DropBlock) and layer.block_size > min(shape[:2]):
            raise SpecError(f"{where}: DropBlock block_size {layer.block_size} is larger than "
                            f"the {shape[0]}x{shape[1]} feature map it gets.")
        out.append(shape)
    return out


# --- training ---------------------------------------------------------------

@dataclass(frozen=True)
class Optimizer:
    """``None`` hyperparameters mean the framework's own default.

    ``"adamw"`` is Adam with *decoupled* weight decay (Loshchilov & Hutter 2019),
    as Keras's ``AdamW`` and PyTorch's ``AdamW`` do it: before each Adam update
    every trainable tensor (biases included) becomes ``p - lr * weight_decay * p``.
    It is not ``L2``, whose gradient passes through Adam's scaling."""
    name: Literal["adam", "sgd", "adamw"]
    lr: Optional[float] = None
    beta1: Optional[float] = None
    beta2: Optional[float] = None
    eps: Optional[float] = None
    momentum: float = 0.0
    weight_decay: Optional[float] = None   # adamw only

    def validate(self) -> None:
        if self.name not in ("adam", "sgd", "adamw"):
            raise SpecError(f"unknown optimizer {self.name!r}; choose 'adam', 'adamw' or 'sgd'.")
        if self.lr is not None and not self.lr > 0:
            raise SpecError(f"learning rate must be > 0, got {self.lr}.")
        if self.weight_decay is not None and (self.name != "adamw" or not 0 <= self.weight_decay < math.inf):
            raise SpecError(f"weight_decay is AdamW's decoupled decay, a finite number >= 0 with "
                            f"Optimizer('adamw'); got {self.weight_decay} with {self.name!r} (for L2 use Arm.l2).")


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
    validation_split: float = 0.0

    def validate(self) -> None:
        if self.batch_size < 1 or self.epochs < 1:
            raise SpecError(f"batch_size and epochs must be >= 1, got {self.batch_size}, {self.epochs}.")
        if not (0.0 <= self.validation_split < 1.0):
            raise SpecError(f"validation_split must lie in [0, 1), got {self.validation_split}.")
        for n in (self.train_subsample, self.test_subsample):
            if n is not None and n < 1:
                raise SpecError(f"subsample sizes must be >= 1, got {n}.")


@dataclass(frozen=True)
class Metric:
    """An evaluation metric and the direction in which it is better."""
    name: str
    higher_is_better: bool


# Epoch-end metrics early stopping can watch, and whether lower is better.
STOP_MONITORS = {"val_loss": True, "val_mae": True, "val_accuracy": False,
                 "test_loss": True, "test_mae": True, "test_accuracy": False}


@dataclass(frozen=True)
class EarlyStopping:
    """Keras's ``EarlyStopping(monitor, patience, restore_best_weights)`` with
    ``min_delta=0``, run by the neutral loop (``bench.stopping``), so the rule is
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


# --- arms, claims, profiles, cases ------------------------------------------

@dataclass(frozen=True)
class Arm:
    name: str
    layers: tuple[Layer, ...]
    l2: Optional[L2] = None
    l1: Optional[L1] = None
    standardize: Optional[bool] = None
    early_stopping: Optional[EarlyStopping] = None  # None: the case's ``Data.standardize``; else this arm's own

    def standardizes(self, data: "Data") -> bool:
        return data.standardize if self.standardize is None else self.standardize

    def validate(self) -> None:
        if not self.name.isidentifier():
            raise SpecError(f"arm name {self.name!r} must be a plain identifier.")
        if not self.layers or not isinstance(self.layers[-1], Dense):
            raise SpecError(f"arm {self.name!r} must end in a Dense output layer.")
        for i, layer in enumerate(self.layers):
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


CLAIM_KINDS = ("two_arm", "interaction", "binary", "equivalence", "noninferiority", "trend")


@dataclass(frozen=True)
class Claim:
    """A testable statement: the per-seed contrast ``sum(w * metric[arm])`` has
    the claimed sign. A two-arm claim "A beats B" is ``{A: +1, B: -1}`` with
    ``direction="greater"`` on a higher-is-better metric; a 2x2 interaction is a
    four-arm contrast. ``kind="binary"`` compares the rate of a 0/1 outcome
    (metric ``"diverged"``) between two arms. ``reported`` holds the post's own
    numbers, per arm."""
    id: str
    statement: str
    metric: str
    contrast: tuple[tuple[str, float], ...]
    direction: Literal["greater", "less"]
    reported: tuple[tuple[str, str], ...] = ()
    kind: Literal["two_arm", "interaction", "binary", "equivalence", "noninferiority", "trend"] = "two_arm"
    margin: Optional[float] = None            # equivalence / non-inferiority margin, in metric units
    agreement_margin: Optional[float] = None  # TF<->PyTorch TOST margin; None = report default
    # Smallest effect that matters, in metric units on the claimed side; None = a fixed
    # fraction of the post's own effect where ``reported`` gives one (bench.verdict).
    min_effect: Optional[float] = None

    @property
    def arms(self) -> tuple[str, ...]:
        return tuple(a for a, _ in self.contrast)


@dataclass(frozen=True)
class Profile:
    """A budget. ``None`` keeps the case's own value; ``notes`` says what was cut."""
    seeds: int
    epochs: Optional[int] = None
    train_subsample: Optional[int] = None
    test_subsample: Optional[int] = None
    notes: str = ""


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
    overrides: tuple = ()   # ((dotted field, value), ...) set by ``bench run --set`` (bench.overrides)

    def arm(self, name: str) -> Arm:
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise SpecError(f"case {self.id!r} has no arm {name!r}; it has {[a.name for a in self.arms]}.")

    def metric(self, name: str) -> Metric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise SpecError(f"case {self.id!r} has no metric {name!r}.")

    def profile(self, name: str) -> Profile:
        if name not in self.profiles:
            raise SpecError(f"case {self.id!r} has no profile {name!r}; it has {sorted(self.profiles)}.")
        return self.profiles[name]

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
        check_types(self, f"case {self.id!r}" if isinstance(self.id, str) else "case")
        with _where(f"case {self.id!r}"):
            self._validate()
        return self

    def _validate(self) -> None:
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
        check_metrics(self)
        for claim in self.claims:
            self.metric(claim.metric)
            for arm_name in claim.arms:
                self.arm(arm_name)
            if claim.direction not in ("greater", "less"):
                raise SpecError(f"claim {claim.id!r} direction must be 'greater' or 'less'.")
            if claim.kind not in CLAIM_KINDS:
                raise SpecError(f"claim {claim.id!r} has unknown kind {claim.kind!r}; choose from {CLAIM_KINDS}.")
            if claim.kind in ("equivalence", "noninferiority") and not (claim.margin or 0) > 0:
                raise SpecError(f"{claim.kind} claim {claim.id!r} needs a margin > 0.")
        for name, prof in self.profiles.items():
            if name not in PROFILES:
                raise SpecError(f"case {self.id!r} defines unknown profile {name!r}; use {PROFILES}.")
            if prof.seeds < 1:
                raise SpecError(f"profile {name!r} of case {self.id!r} needs >= 1 seed.")
            with _where(f"profile {name!r}"):
                self.budget(name).validate()


# --- where a spec is wrong ----------------------------------------------------

class _where:
    """Prefix a ``SpecError`` raised inside the block with where it arose."""

    def __init__(self, place: str):
        self.place = place

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, SpecError):
            raise SpecError(f"{self.place}, {exc}" if str(exc).startswith(("arm ", "layer ", "field ", "l2", "data",
                                                                             "loss", "optimizer", "profile "))
                            else f"{self.place}: {exc}") from None
        return False


def _type_name(hint) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union:
        return " or ".join(_type_name(a) for a in args)
    if origin is Literal:
        return " or ".join(repr(a) for a in args)
    if origin is tuple:
        return "a tuple"
    if hint is type(None):
        return "None"
    return getattr(hint, "__name__", str(hint))


def _matches(value, hint) -> bool:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union:
        return any(_matches(value, a) for a in args)
    if origin is Literal:   # which value is allowed is each validate()'s sentence; here only the type
        return any(isinstance(value, type(a)) for a in args)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_matches(v, args[0]) for v in value)
        return len(args) == len(value) and all(_matches(v, a) for v, a in zip(value, args))
    if origin is dict:
        return isinstance(value, dict)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


_hints = functools.lru_cache(maxsize=None)(typing.get_type_hints)   # resolved once per class


def check_types(obj, where: str) -> None:
    """Every field of the spec dataclass ``obj``, recursively, has its declared type;
    else one ``SpecError`` naming the place and field (e.g. ``Dropout("0.5")``)."""
    hints = _hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if not _matches(value, hints[f.name]):
            raise SpecError(f"{where}, field {f.name!r}: must be {_type_name(hints[f.name])}, "
                            f"got {value!r} ({type(value).__name__}).")
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            check_types(value, f"{where}, {f.name}")
    if isinstance(obj, Case):
        for arm in obj.arms:
            check_types(arm, f"{where}, arm {arm.name!r}")
            for i, layer in enumerate(arm.layers):
                check_types(layer, f"{where}, arm {arm.name!r}, layer {i} ({type(layer).__name__})")
        for i, metric in enumerate(obj.metrics):
            check_types(metric, f"{where}, metric {i}")
        for claim in obj.claims:
            check_types(claim, f"{where}, claim {claim.id!r}")
        for name, prof in obj.profiles.items():
            if not isinstance(prof, Profile):
                raise SpecError(f"{where}, profile {name!r}: must be a Profile, got {type(prof).__name__}.")
            check_types(prof, f"{where}, profile {name!r}")


def param_layers(layers: tuple[Layer, ...]) -> list[int]:
    """Indices of layers that own parameters, in order; the k-th of them draws
    its initial values from stream k of the seed, so arms that differ only in
    parameter-free layers (dropout) start from identical weights."""
    return [i for i, layer in enumerate(layers) if isinstance(layer, (Dense, BatchNorm, Conv2D))]


def producible_metrics(case: "Case") -> tuple[str, ...]:
    """Every metric the engine computes for ``case`` (``bench.training``): a case
    may only declare these. ``diverged`` is each record's flag (0/1)."""
    names = ["diverged", "train_loss", "test_loss", "weight_sparsity"]
    classify = case.loss.name == "softmax_cross_entropy"
    names.append("test_accuracy" if classify else "test_mae")
    if case.data.validation_split:
        names += ["val_loss", "val_accuracy" if classify else "val_mae"]
    if not classify:   # bench.training.regression_outcomes
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
    for metric in case.metrics:
        if metric.name not in known:
            raise SpecError(f"metric {metric.name!r} is not one this case can produce; the engine computes "
                            f"{', '.join(known)} for it.")
