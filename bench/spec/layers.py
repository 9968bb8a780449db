"""The layer vocabulary of an arm: frozen data, checked by ``validate()``."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Union

from bench.errors import SpecError

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "linear")


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

