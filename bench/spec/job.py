"""``Job``: one resolved unit of work, an arm of a case in one framework and mode.

Spec-level data: the planner (``bench.run``) makes jobs and the backends read
them, so neither has to import the other for it.
"""
from __future__ import annotations

from dataclasses import dataclass

from bench.spec.case import Arm, Case
from bench.spec.training import Data


@dataclass(frozen=True)
class Job:
    """One arm of one case in one framework, with the profile's budget applied."""
    case: Case
    arm: Arm
    framework: str
    mode: str
    profile: str
    data: Data

    @property
    def in_features(self) -> int:
        n = 1
        for d in self.case.input_shape:
            n *= d
        return n
