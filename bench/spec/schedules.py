"""A value that changes from epoch to epoch: the dropout rate or learning rate of an arm.

A ``Schedule`` is per *epoch*, not per step: the neutral loop
(``bench.run.training``) computes epoch e's value here, in Python floats, and
hands it to the trainer before the epoch (``set_schedule``), so both frameworks
and both paths see the same numbers and a compiled epoch graph holds one value
(TF retraces only when the value changes). The clock is the epoch index e of
the run's ``E`` epochs (after the profile's budget), so one schedule fits every
profile:

* ``constant``: ``start`` at every epoch.
* ``linear``: from ``start`` at epoch 0 to ``end`` at epoch
  ``k = max(1, round(at * (E - 1)))``, in equal steps, then ``end``
  (``at=1``: ``end`` at the last epoch).
* ``step``: ``start`` for epochs ``e < k = max(1, round(at * E))``, ``end`` from ``k`` on.

``round`` is half-up. How an arm uses one is ``Arm.dropout_schedule`` /
``Arm.lr_schedule``'s docstring.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Optional

from bench.errors import SpecError

SCHEDULE_KINDS = ("constant", "linear", "step")


def _half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


@dataclass(frozen=True)
class Schedule:
    """``kind`` (``SCHEDULE_KINDS``), the value ``start`` at epoch 0, ``end`` where it
    goes (``linear``, ``step``; None for ``constant``) and ``at``, the fraction of the
    run by which it gets there (see the module docstring)."""
    kind: Literal["constant", "linear", "step"]
    start: float
    end: Optional[float] = None
    at: float = 1.0

    def validate(self, low: float = 0.0, high: float = math.inf, closed_high: bool = False,
                 what: str = "value") -> None:
        if self.kind not in SCHEDULE_KINDS:
            raise SpecError(f"unknown schedule kind {self.kind!r}; choose from {SCHEDULE_KINDS}.")
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

    def value(self, epoch: int, epochs: int) -> float:
        """The value at epoch ``epoch`` (0-based) of a run of ``epochs`` epochs."""
        if self.kind == "constant":
            return float(self.start)
        if self.kind == "linear":
            k = max(1, _half_up(self.at * (epochs - 1)))
            if epoch >= k:
                return float(self.end)
            return float(self.start + (self.end - self.start) * epoch / k)
        return float(self.start if epoch < max(1, _half_up(self.at * epochs)) else self.end)

    def values(self, epochs: int) -> list[float]:
        """Every epoch's value, in order."""
        return [self.value(e, epochs) for e in range(epochs)]
