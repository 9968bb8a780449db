"""A value that changes over a run: the dropout rate, learning rate or momentum of an arm.

The neutral loop (``bench.run.training``) computes every value here, in Python
floats, and hands it to the trainer (``set_schedule``), so both frameworks and
both paths see the same numbers. A schedule's clock is ``per="epoch"`` (the
default: one value per epoch, set before it; a compiled epoch graph holds one
value) or ``per="step"`` (one value per training step, the learning rate only:
the trainer takes the epoch's values as a list and sets each before its step).
The clock runs over the run's ``N`` ticks after the profile's budget (``E``
epochs, or ``E x`` steps per epoch), so one schedule fits every profile. With
``k = max(1, round(at * (N - 1)))`` the tick by which it arrives:

* ``constant``: ``start`` at every tick.
* ``linear``: from ``start`` at tick 0 to ``end`` at tick ``k`` in equal steps, then ``end``
  (``at=1``: ``end`` at the last tick).
* ``exponential``: ``start * (end / start) ** (t / k)`` up to tick ``k``, then ``end``: a
  constant factor per tick, ``(end / start) ** (1 / k)`` (a paper's "x 0.998 per epoch" over
  ``k`` epochs is ``end = start * 0.998 ** k``).
* ``cosine``: ``end + (start - end) * (1 + cos(pi * t / k)) / 2`` up to tick ``k``, then ``end``.
* ``step``: ``start`` for ticks ``t < k = max(1, round(at * N))``, ``end`` from ``k`` on.

``round`` is half-up. A schedule is declared once per case on the ``Optimizer``
(``lr_schedule``, ``momentum_schedule``) or per arm (``Arm.lr_schedule``,
``Arm.momentum_schedule``, ``Arm.dropout_schedule``), an arm's own replacing the case's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Optional

from bench.errors import SpecError

SCHEDULE_KINDS = ("constant", "linear", "exponential", "cosine", "step")
CLOCKS = ("epoch", "step")


def _half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


@dataclass(frozen=True)
class Schedule:
    """``kind`` (``SCHEDULE_KINDS``), the value ``start`` at tick 0, ``end`` where it
    goes (every kind but ``constant``), ``at``, the fraction of the run by which it gets
    there, and ``per``, its clock (``"epoch"`` or ``"step"``; see the module docstring)."""
    kind: Literal["constant", "linear", "exponential", "cosine", "step"]
    start: float
    end: Optional[float] = None
    at: float = 1.0
    per: Literal["epoch", "step"] = "epoch"

    def validate(self, low: float = 0.0, high: float = math.inf, closed_high: bool = False,
                 what: str = "value") -> None:
        if self.kind not in SCHEDULE_KINDS:
            raise SpecError(f"unknown schedule kind {self.kind!r}; choose from {SCHEDULE_KINDS}.")
        if self.per not in CLOCKS:
            raise SpecError(f"a schedule runs per 'epoch' or per 'step'; got per={self.per!r}.")
        if (self.end is None) != (self.kind == "constant"):
            raise SpecError(f"a {self.kind!r} schedule {'takes no' if self.kind == 'constant' else 'needs an'} "
                            f"end value; got end={self.end!r}.")
        if not (0.0 < self.at <= 1.0) or (self.kind == "step" and self.at == 1.0):
            raise SpecError(f"schedule 'at' is the fraction of the run where it arrives, in (0, 1] "
                            f"(a step's in (0, 1)); got {self.at}.")
        for value in (self.start, self.end):
            if value is not None and not (low <= value and (value <= high if closed_high else value < high)
                                          and math.isfinite(value)):
                raise SpecError(f"a {what} schedule's values must lie in [{low}, {high}{']' if closed_high else ')'}; "
                                f"got {value}.")
        if self.kind == "exponential" and not (self.start > 0 and self.end > 0):
            raise SpecError(f"an exponential schedule's start and end must be > 0; got {self.start}, {self.end}.")

    def value(self, tick: int, ticks: int) -> float:
        """The value at tick ``tick`` (0-based) of a run of ``ticks`` ticks (epochs or steps, ``per``)."""
        if self.kind == "constant":
            return float(self.start)
        if self.kind == "step":
            return float(self.start if tick < max(1, _half_up(self.at * ticks)) else self.end)
        k = max(1, _half_up(self.at * (ticks - 1)))
        if tick >= k:
            return float(self.end)
        if self.kind == "linear":
            return float(self.start + (self.end - self.start) * tick / k)
        if self.kind == "exponential":
            return float(self.start * (self.end / self.start) ** (tick / k))
        return float(self.end + (self.start - self.end) * (1.0 + math.cos(math.pi * tick / k)) / 2.0)

    def values(self, ticks: int) -> list[float]:
        """Every tick's value, in order."""
        return [self.value(t, ticks) for t in range(ticks)]
