"""A speed measurement: a case whose seed-runs time its arms' training steps against each other.

A claim about speed ("adding dropout makes training faster", C5h) is judged on
training-step throughput. Each seed is one repetition: every arm of the case is
built from that seed's weights and trained, in one process, in interleaved timed
blocks (ABBA order, so drift in the machine's speed falls on every arm alike).
An arm's ``steps_per_second`` for the repetition is its block size over the median
block time; the claim's paired test runs over repetitions (``bench.run.throughput``).
"""
from __future__ import annotations

from dataclasses import dataclass

from bench.errors import SpecError

# Metrics that time the machine rather than compute a model: they move with its load and
# its other work, so the regression gate reports them but never fails on them.
TIMED_METRICS = frozenset({"steps_per_second"})


@dataclass(frozen=True)
class Throughput:
    rounds: int = 10    # timed blocks per arm and repetition, in ABBA order
    steps: int = 50     # training steps per timed block
    warmup: int = 20    # untimed steps per arm first: graph tracing, allocation, caches

    def validate(self) -> None:
        for name, low in (("rounds", 2), ("steps", 1), ("warmup", 0)):
            value = getattr(self, name)
            if not isinstance(value, int) or value < low:
                raise SpecError(f"Throughput {name} must be an int >= {low}, got {value!r}.")

    @property
    def seed_steps(self) -> int:
        """The training steps one arm takes in one repetition."""
        return self.warmup + self.rounds * self.steps
