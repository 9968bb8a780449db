"""One run's options as one frozen value: what ``bench run`` and ``bench plan`` were asked for.

The command line builds a ``RunOptions`` once (``bench.cli``); ``bench.run.runner.run``,
``bench.run.plan.make`` and ``bench.run.adaptive.run`` read it, so an option is a field
here and the code that uses it, not one more positional argument passed down every call.
``AdaptiveOptions`` holds the settings of ``--adaptive`` (None: a run of fixed seeds).
A variation of a run is ``dataclasses.replace(options, seeds=...)``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Optional

from bench.run.grouping import GroupSize


def _default_frameworks() -> tuple:
    from bench.run import runner   # its default list; imported late, runner loads the frameworks' registry

    return tuple(runner.DEFAULT_FRAMEWORKS)


@dataclass(frozen=True)
class AdaptiveOptions:
    """``bench run --adaptive``: seeds added ``batch`` at a time up to ``max_seeds``
    (``bench.run.adaptive``), at overall level ``alpha`` with the ``spending`` function."""
    max_seeds: int = 20
    batch: int = 5
    alpha: float = 0.05
    spending: str = "obrien_fleming"


@dataclass(frozen=True)
class RunOptions:
    """Every option of one run.

    ``seeds``: a count N (seeds 0..N-1), a ``range`` of seeds, or None for the profile's
    count. ``arm_names`` None: every arm. ``executor``: a factory of a ``Pool`` look-alike
    (``bench.run.ray_executor.RayPool``), or None for local worker processes. ``workers``:
    processes training groups side by side (1: all in this process).
    """
    cases: tuple
    profile: str
    frameworks: tuple = field(default_factory=_default_frameworks)
    modes: tuple = ("as_written",)
    arm_names: Optional[tuple] = None
    seeds: "Optional[int | range]" = None
    results_dir: "str | os.PathLike" = "results"
    data_dir: "Optional[str | os.PathLike]" = None
    group_size: GroupSize = GroupSize.AUTO
    workers: int = 1
    executor: Optional[Callable] = None
    progress: bool = True
    adaptive: Optional[AdaptiveOptions] = None
    # The plan's seconds per seed-step by (case id, framework): the progress bar's weights (bench.run.progress).
    step_seconds: Optional[dict] = field(default=None, compare=False, hash=False)

    def __post_init__(self):
        # Sequences are kept as tuples so that the value stays frozen and hashable-minded.
        for name in ("cases", "frameworks", "modes"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.arm_names is not None:
            object.__setattr__(self, "arm_names", tuple(self.arm_names) or None)
        if not isinstance(self.group_size, GroupSize):
            raise TypeError(f"group_size must be a GroupSize, got {self.group_size!r}.")
