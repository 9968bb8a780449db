"""The layer vocabulary of an arm: frozen data, checked by ``validate()``.

Each layer type also states, framework-free, everything the engine outside
the backends needs to know about it (``LayerRules``): what input it takes,
its output shape, the parameters it owns in the neutral layout and their
initial values. A new layer type is one class here plus one entry in each
backend's layers module.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, Optional, Union

import numpy as np

from bench.errors import SpecError
from bench.spec.inference import INFERENCE_MODES
from bench.spec.initializers import conv_init, dense_init, lstm_init

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "linear")


class LayerRules:
    """The framework-free rules of a layer type; the defaults suit a parameter-free
    layer that keeps its input's shape and takes a flat input or a feature map."""
    needs: ClassVar[Optional[str]] = None         # "map": an (H, W, C) feature map; "flat": (features,);
    #                                               "sequence": (steps, features)
    owns_params: ClassVar[bool] = False           # whether it has weights (trained or running statistics)
    init_stream: ClassVar[Optional[str]] = None   # its random initial values' stream (``bench.spec.streams``)
    vectorized: ClassVar[bool] = True             # False: no backend trains it on the group path, so a case
    #                                               holding it trains seed by seed (``bench.run.grouping``)
    stochastic: ClassVar[bool] = False            # draws noise in training
    # a matmul over a "kernel" parameter: its forward is 2 x (output positions) x (kernel entries)
    # FLOPs per example (``bench.speed.flops``)
    kernel_matmul: ClassVar[bool] = False
    # its vectorized group trains slower per seed than the per-seed path on a CPU (a convolution's
    # group is a grouped convolution), so ``--group-size auto`` trains it per seed there
    cpu_group_slower: ClassVar[bool] = False
    # the arm inference modes it allows (``bench.spec.inference``): a layer that draws nothing is the
    # same under each; a noise layer allows only "inverted" unless its kits implement the others
    inference_modes: ClassVar[tuple] = INFERENCE_MODES

    def output_shape(self, shape: tuple, where: str) -> tuple:
        """The shape (batch omitted) it returns for ``shape``; ``where`` names it in errors."""
        return shape

    def initial(self, shape: tuple, scheme: str, rng: Optional[np.random.Generator]) -> dict:
        """Its initial parameters in the neutral layout for input ``shape`` under the
        initializer ``scheme``, drawing from ``rng`` (its ``init_stream``; None without one)."""
        return {}

    def param_shapes(self, shape: tuple) -> dict:
        """Its parameters' shapes, by neutral name, for input ``shape``."""
        return {}


MAX_NORM_EPS = 1e-7   # Keras's backend epsilon, in MaxNorm's denominator


@dataclass(frozen=True)
class Dense(LayerRules):
    """``{"kernel": (fan_in, units), "bias": (units,)}`` (no bias when ``use_bias`` is false).

    ``max_norm=c`` constrains each unit's incoming weights after every optimizer update
    (Srivastava et al. 2014's max-norm; never at initialization, never the bias): with
    ``n_j`` the L2 norm of unit j's incoming weights, they become ``w_j * min(n_j, c) /
    (1e-7 + n_j)``, Keras's ``MaxNorm(c, axis=0)`` formula. The axis differs by framework:
    a Keras (and the neutral) kernel is ``(in, out)``, so unit j's weights are column j and
    the norm runs over axis 0; a PyTorch ``nn.Linear.weight`` is ``(out, in)``, so they are
    row j and the norm runs over dim 1. None: no constraint."""
    kernel_matmul: ClassVar[bool] = True
    units: int
    activation: str = "linear"
    use_bias: bool = True
    max_norm: Optional[float] = None

    needs: ClassVar[Optional[str]] = "flat"
    owns_params: ClassVar[bool] = True
    init_stream: ClassVar[Optional[str]] = "dense_init"

    def output_shape(self, shape: tuple, where: str) -> tuple:
        return (self.units,)

    def param_shapes(self, shape: tuple) -> dict:
        return {"kernel": (shape[-1], self.units), **({"bias": (self.units,)} if self.use_bias else {})}

    def initial(self, shape: tuple, scheme: str, rng) -> dict:
        kernel, bias = dense_init(shape[-1], self.units, scheme, rng)
        return {"kernel": kernel, "bias": bias} if self.use_bias else {"kernel": kernel}

    def validate(self) -> None:
        if self.units < 1:
            raise SpecError(f"Dense units must be >= 1, got {self.units}.")
        if self.activation not in ACTIVATIONS:
            raise SpecError(f"unknown activation {self.activation!r}; choose from {ACTIVATIONS}.")
        if self.max_norm is not None and not (0 < self.max_norm < math.inf):
            raise SpecError(f"Dense max_norm bounds each unit's incoming weight norm, a number > 0; "
                            f"got {self.max_norm}.")


def max_norm_numpy(kernel: np.ndarray, c: float) -> np.ndarray:
    """The max-norm constraint on a neutral ``(in, out)`` kernel, in float64 (for tests and
    readers): each column scaled to ``min(n, c) / (1e-7 + n)`` of itself."""
    k = np.asarray(kernel, np.float64)
    norms = np.sqrt((k * k).sum(axis=0, keepdims=True))
    return k * (np.minimum(norms, c) / (MAX_NORM_EPS + norms))


@dataclass(frozen=True)
class Dropout(LayerRules):
    """Inverted dropout: ``rate`` is the probability of *dropping* a unit. The arm's
    ``Inference`` can make it classic (weight scaling) or average sampled masks at test."""
    rate: float

    stochastic: ClassVar[bool] = True

    def validate(self) -> None:
        if not (0.0 <= self.rate < 1.0) or math.isnan(self.rate):
            raise SpecError(f"Dropout rate (field 'rate') must lie in [0, 1), got {self.rate}.")


@dataclass(frozen=True)
class BatchNorm(LayerRules):
    """Batch normalization. ``momentum`` uses the Keras convention (weight on the
    old moving average); ``None`` means the framework's default. Parameters
    ``gamma`` (ones), ``beta`` (zeros) and the running ``mean`` (zeros) and ``var`` (ones)."""
    momentum: Optional[float] = None
    eps: Optional[float] = None

    needs: ClassVar[Optional[str]] = "flat"
    owns_params: ClassVar[bool] = True
    # not "mc": MC averaging runs every layer but Dropout as at inference, which its batch statistics are not
    inference_modes: ClassVar[tuple] = ("inverted", "weight_scaling")

    def param_shapes(self, shape: tuple) -> dict:
        return {name: (shape[-1],) for name in ("gamma", "beta", "mean", "var")}

    def initial(self, shape: tuple, scheme: str, rng) -> dict:
        width = shape[-1]
        return {"gamma": np.ones(width, np.float32), "beta": np.zeros(width, np.float32),
                "mean": np.zeros(width, np.float32), "var": np.ones(width, np.float32)}

    def validate(self) -> None:
        if self.momentum is not None and not (0.0 <= self.momentum < 1.0):
            raise SpecError(f"BatchNorm momentum must lie in [0, 1), got {self.momentum}.")
        if self.eps is not None and not self.eps > 0:
            raise SpecError(f"BatchNorm eps must be > 0, got {self.eps}.")


@dataclass(frozen=True)
class Activation(LayerRules):
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
class Conv2D(LayerRules):
    """A 2-D convolution, stride 1, over a channels-last (H, W, C) map:
    ``{"kernel": (kh, kw, cin, filters), "bias": (filters,)}``."""
    kernel_matmul: ClassVar[bool] = True
    cpu_group_slower: ClassVar[bool] = True
    filters: int
    kernel_size: Union[int, tuple[int, int]]
    activation: str = "linear"
    padding: str = "valid"
    use_bias: bool = True

    needs: ClassVar[Optional[str]] = "map"
    owns_params: ClassVar[bool] = True
    init_stream: ClassVar[Optional[str]] = "conv_init"

    def output_shape(self, shape: tuple, where: str) -> tuple:
        (kh, kw), (h, w, _) = self.kernel, shape
        if self.padding == "valid":
            h, w = h - kh + 1, w - kw + 1
        if h < 1 or w < 1:
            raise SpecError(f"{where}: a {kh}x{kw} kernel does not fit the {shape[0]}x{shape[1]} map.")
        return (h, w, self.filters)

    def param_shapes(self, shape: tuple) -> dict:
        return {"kernel": (*self.kernel, shape[-1], self.filters),
                **({"bias": (self.filters,)} if self.use_bias else {})}

    def initial(self, shape: tuple, scheme: str, rng) -> dict:
        kernel, bias = conv_init(*self.kernel, shape[-1], self.filters, scheme, rng)
        return {"kernel": kernel, "bias": bias} if self.use_bias else {"kernel": kernel}

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
class MaxPool2D(LayerRules):
    """Max pooling with stride = pool size and no padding (the Keras default)."""
    pool_size: Union[int, tuple[int, int]] = 2

    needs: ClassVar[Optional[str]] = "map"

    def output_shape(self, shape: tuple, where: str) -> tuple:
        (ph, pw), (h, w, c) = self.pool, shape
        if h < ph or w < pw:
            raise SpecError(f"{where}: a {ph}x{pw} pool does not fit the {h}x{w} map.")
        return (h // ph, w // pw, c)

    @property
    def pool(self) -> tuple[int, int]:
        return _pair(self.pool_size, "MaxPool2D pool_size")

    def validate(self) -> None:
        self.pool


@dataclass(frozen=True)
class Flatten(LayerRules):
    """(H, W, C) -> (H*W*C,) in channels-last order in every backend, so a
    Dense after it gets the same weights everywhere."""

    needs: ClassVar[Optional[str]] = "map"

    def output_shape(self, shape: tuple, where: str) -> tuple:
        return (math.prod(shape),)

    def validate(self) -> None:
        pass


@dataclass(frozen=True)
class SpatialDropout2D(LayerRules):
    """Tompson et al. 2015: drops whole feature maps (channels) with
    probability ``rate``; survivors scale by 1 / (1 - rate)."""
    rate: float

    stochastic: ClassVar[bool] = True
    inference_modes: ClassVar[tuple] = ("inverted",)

    needs: ClassVar[Optional[str]] = "map"

    def validate(self) -> None:
        if not (0.0 <= self.rate < 1.0) or math.isnan(self.rate):
            raise SpecError(f"SpatialDropout2D rate (field 'rate') must lie in [0, 1), got {self.rate}.")


@dataclass(frozen=True)
class DropBlock(LayerRules):
    """Ghiasi et al. 2018: drops contiguous ``block_size`` x ``block_size``
    squares of each feature map so that about ``1 - keep_prob`` of it is
    dropped, then rescales by count; the identity at inference."""
    keep_prob: float
    block_size: int

    stochastic: ClassVar[bool] = True
    inference_modes: ClassVar[tuple] = ("inverted",)

    needs: ClassVar[Optional[str]] = "map"

    def output_shape(self, shape: tuple, where: str) -> tuple:
        if self.block_size > min(shape[:2]):
            raise SpecError(f"{where}: DropBlock block_size {self.block_size} is larger than "
                            f"the {shape[0]}x{shape[1]} feature map it gets.")
        return shape

    def validate(self) -> None:
        if not (0.0 < self.keep_prob <= 1.0) or math.isnan(self.keep_prob):
            raise SpecError(f"DropBlock keep_prob must lie in (0, 1], got {self.keep_prob}.")
        if not isinstance(self.block_size, int) or self.block_size < 1:
            raise SpecError(f"DropBlock block_size must be an int >= 1, got {self.block_size!r}.")


@dataclass(frozen=True)
class GaussianDropout(LayerRules):
    """Multiplicative N(1, rate / (1 - rate)) noise (Srivastava et al. 2014, sec. 10)."""
    rate: float

    stochastic: ClassVar[bool] = True
    inference_modes: ClassVar[tuple] = ("inverted",)

    def validate(self) -> None:
        if not (0.0 <= self.rate < 1.0) or math.isnan(self.rate):
            raise SpecError(f"GaussianDropout rate (field 'rate') must lie in [0, 1), got {self.rate}.")


@dataclass(frozen=True)
class UniformDropout(LayerRules):
    """Continuous dropout with uniform noise (Shen et al. 2017, "Continuous
    Dropout"; seed 002): in training each unit is multiplied by its own draw of
    U(1 - half_width, 1 + half_width), mean 1 (inverted: nothing to rescale at
    inference, where the layer is the identity), variance half_width**2 / 3.
    ``half_width`` lies in [0, 1], so no multiplier is negative. Shen et al.'s
    uniform mask m ~ U(0, 1), rescaled by its mean, is ``half_width=1``;
    variance 1/3 equals that of Bernoulli ``Dropout(0.25)`` and
    ``GaussianDropout(0.25)`` (rate / (1 - rate)), which makes the three comparable."""
    half_width: float

    stochastic: ClassVar[bool] = True
    inference_modes: ClassVar[tuple] = ("inverted",)

    def validate(self) -> None:
        if not (0.0 <= self.half_width <= 1.0) or math.isnan(self.half_width):
            raise SpecError(f"UniformDropout half_width (field 'half_width') must lie in [0, 1], got {self.half_width}.")


@dataclass(frozen=True)
class LSTM(LayerRules):
    """A long short-term memory layer over a (steps, features) sequence, with Keras's
    dropout semantics (Gal & Ghahramani 2016, as ``keras.layers.LSTM``): ``dropout`` drops
    the inputs, ``recurrent_dropout`` the previous output h; each is one inverted mask per
    sequence (scaled by 1 / (1 - rate)), fixed over the time steps. With
    ``recurrent_dropout > 0`` Keras computes each gate apart (its implementation 1) and
    draws four masks of each kind, one per gate; with only ``dropout`` one input mask
    serves all four gates. Activation tanh, recurrent activation sigmoid, zero initial
    state. Output: the last step's h, (units,), or every step's, (steps, units), with
    ``return_sequences``.

    Parameters in Keras's layout, gates in the order i, f, c, o:
    ``{"kernel": (features, 4u), "recurrent_kernel": (u, 4u), "bias": (4u,)}``.
    Initial values by scheme (``bench.spec.initializers.lstm_init``): Keras
    (``glorot_uniform``): glorot-uniform kernel, orthogonal recurrent kernel, zero bias
    but 1 on the forget gate (``unit_forget_bias``). PyTorch (``kaiming_uniform``, its
    ``nn.LSTM``): every weight U(+-1/sqrt(u)), and two biases, b_ih and b_hh, each
    U(+-1/sqrt(u)); the neutral bias is their sum, which is what the cell adds.
    PyTorch's ``nn.LSTM`` has no recurrent dropout (and its ``dropout`` acts between
    stacked layers), so the torch backend runs its own cell with Keras's semantics.
    """
    units: int
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    return_sequences: bool = False

    needs: ClassVar[Optional[str]] = "sequence"
    owns_params: ClassVar[bool] = True
    init_stream: ClassVar[Optional[str]] = "lstm_init"
    vectorized: ClassVar[bool] = False
    stochastic: ClassVar[bool] = True              # its input and recurrent dropout
    inference_modes: ClassVar[tuple] = ("inverted",)   # Keras's recurrent dropout is inverted; no other form here

    def output_shape(self, shape: tuple, where: str) -> tuple:
        return (shape[0], self.units) if self.return_sequences else (self.units,)

    def param_shapes(self, shape: tuple) -> dict:
        return {"kernel": (shape[-1], 4 * self.units), "recurrent_kernel": (self.units, 4 * self.units),
                "bias": (4 * self.units,)}

    def initial(self, shape: tuple, scheme: str, rng) -> dict:
        kernel, recurrent, bias = lstm_init(shape[-1], self.units, scheme, rng)
        return {"kernel": kernel, "recurrent_kernel": recurrent, "bias": bias}

    def validate(self) -> None:
        if not isinstance(self.units, int) or self.units < 1:
            raise SpecError(f"LSTM units must be an int >= 1, got {self.units!r}.")
        for name in ("dropout", "recurrent_dropout"):
            rate = getattr(self, name)
            if not (0.0 <= rate < 1.0) or math.isnan(rate):
                raise SpecError(f"LSTM {name} (field {name!r}) must lie in [0, 1), got {rate}.")


Layer = Union[Dense, Dropout, BatchNorm, Activation, Conv2D, MaxPool2D, Flatten, SpatialDropout2D,
              DropBlock, GaussianDropout, UniformDropout, LSTM]
LAYER_TYPES = Layer.__args__
# Layers that need a (H, W, C) map; an arm holding one sees its input as an image.
SPATIAL_LAYERS = tuple(kind for kind in LAYER_TYPES if kind.needs == "map")

