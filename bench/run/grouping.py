"""How many seeds train together: a memory-aware group size for vectorized seeds.

A group of S seeds holds S copies of the weights and of every activation, so
its memory grows linearly in S. ``seed_bytes`` estimates one seed's share from
the spec (layer shapes, the batch or the inference chunk, whichever is larger,
and the parameters with their gradient and two optimizer moments); ``plan``
splits the seeds into groups that fit a fraction of the free memory, as equal
as possible (9 seeds at S = 8 train as 5 + 4, not 8 + 1). Asking for more than
fits gives smaller groups and a message, never a silent out-of-memory kill.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Optional

from bench import backends
from bench.backends import EVAL_ROWS  # rows per inference pass in the group trainers
from bench.errors import SpecError
from bench.spec import arm_input_shape, layer_inputs, layer_shapes

BYTES_PER_FLOAT = 4
ACTIVATION_COPIES = 4   # each layer's output, the copy autograd keeps, its gradient, a mask or noise tensor
PARAM_COPIES = 4        # weights, gradient, Adam's first and second moments
MEMORY_FRACTION = 0.5   # of the free memory a group may plan to use
DEFAULT_MAX_GROUP = 64  # the widest group tried without being asked (see docs/method.md: vectorized seeds)


@dataclass(frozen=True)
class GroupSize:
    """How many seeds a run asks to train together, one of three kinds:

    * ``GroupSize.AUTO``: vectorized groups as wide as memory allows, up to ``DEFAULT_MAX_GROUP``,
      or the per-seed path where that is the faster one (``trains_per_seed``);
    * ``GroupSize.PER_SEED``: one seed at a time on the per-seed reference path (``backend.Trainer``);
    * ``GroupSize.fixed(n)``: vectorized groups of up to ``n`` seeds, cut to what memory holds.

    A group of one asked for is the reference path, so ``fixed(1)`` is ``PER_SEED``
    (``--group-size 1``). A group that memory cuts to one seed stays vectorized.
    """
    kind: str                   # "auto", "per_seed" or "fixed"
    seeds: Optional[int] = None  # the width asked for, for "fixed"

    AUTO = None       # set below the class: instances of it
    PER_SEED = None

    @classmethod
    def fixed(cls, n: int) -> "GroupSize":
        if n < 1:
            raise SpecError(f"a group holds at least one seed, got {n}.")
        return cls.PER_SEED if n == 1 else cls("fixed", int(n))

    @property
    def requested(self) -> Optional[int]:
        """The width asked for: None for auto, 1 for the per-seed path, else ``n``."""
        return {"auto": None, "per_seed": 1}.get(self.kind, self.seeds)

    def __str__(self) -> str:
        return "auto" if self.kind == "auto" else str(self.requested)


GroupSize.AUTO = GroupSize("auto")
GroupSize.PER_SEED = GroupSize("per_seed", 1)


def trains_per_seed(case, size: GroupSize, gpu: Optional[bool] = None) -> bool:
    """Whether ``case``'s seeds train one by one on the per-seed reference path: when asked
    (``GroupSize.PER_SEED``), when the case resplits its data per seed (every seed has
    its own arrays, so its seeds cannot share a group), when an arm holds a layer type
    that has no group path (its rules say ``vectorized = False``, e.g. LSTM), or, under
    ``GroupSize.AUTO`` without a GPU, when an arm holds a layer type whose groups are the
    slower path on a CPU (its rules say ``cpu_group_slower``: a convolution's group is a grouped
    convolution, 1.3-1.7x the per-seed cost for C4's net in both frameworks, results/speed/c4_rates/). ``gpu`` None asks the backends
    (``bench.backends.gpu_visible``). The one place this is decided."""
    layers = [layer for arm in case.arms for layer in arm.layers]
    if size.kind == "per_seed" or bool(case.data.resplit) or any(not layer.vectorized for layer in layers):
        return True
    if size.kind != "auto" or not any(layer.cpu_group_slower for layer in layers):
        return False
    return not (backends.gpu_visible() if gpu is None else gpu)


def parameter_count(layers, input_shape) -> int:
    """Floats in an arm's parameters (running statistics included), from each layer's ``param_shapes``."""
    return sum(math.prod(shape) for layer, inputs in zip(layers, layer_inputs(layers, input_shape))
               for shape in layer.param_shapes(inputs).values())


def seed_bytes(case, arm, batch_size: int) -> int:
    """Estimated bytes one seed adds to a group of ``arm`` (an upper-end estimate)."""
    shape = tuple(case.input_shape)
    floats = sum(math.prod(s) for s in [arm_input_shape(arm.layers, shape)] + layer_shapes(arm.layers, shape))
    rows = max(batch_size, EVAL_ROWS)
    return BYTES_PER_FLOAT * (rows * floats * ACTIVATION_COPIES + parameter_count(arm.layers, shape) * PARAM_COPIES)


def host_free_bytes() -> Optional[int]:
    """MemAvailable from /proc/meminfo, else the free physical pages; None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def plan(n_seeds: int, requested: Optional[int], per_seed: int, free: Optional[int]) -> tuple[int, str]:
    """The group size for ``n_seeds`` seeds and a message when the request was cut.

    ``requested`` is a ``GroupSize.requested``: None means "auto", up to ``DEFAULT_MAX_GROUP``.
    """
    want = min(n_seeds, DEFAULT_MAX_GROUP if requested is None else requested)
    if free is None or per_seed <= 0:
        return max(1, want), ""
    fits = max(1, int(free * MEMORY_FRACTION // per_seed))
    if want <= fits:
        return max(1, want), ""
    message = ""
    if requested is not None:
        message = (f"a group of {requested} seeds needs about {requested * per_seed / 2**30:.1f} GiB, more than "
                   f"{MEMORY_FRACTION:.0%} of the {free / 2**30:.1f} GiB free; training groups of {fits} instead.")
    return fits, message


def split(seeds: list[int], size: int) -> list[list[int]]:
    """``seeds`` in ``ceil(n / size)`` consecutive groups of near-equal length."""
    if not seeds:
        return []
    count = math.ceil(len(seeds) / max(1, size))
    base, extra = divmod(len(seeds), count)
    out, start = [], 0
    for i in range(count):
        length = base + (1 if i < extra else 0)
        out.append(seeds[start:start + length])
        start += length
    return out


def is_out_of_memory(exc: BaseException) -> bool:
    """An allocation failure of either framework (a group too wide for the device)."""
    name = type(exc).__name__
    text = str(exc).lower()
    return (name in ("OutOfMemoryError", "ResourceExhaustedError", "MemoryError")
            or "out of memory" in text or "can't allocate memory" in text or "failed to allocate" in text)
