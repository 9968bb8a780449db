"""A claim: the contrast of arm metrics the post asserts, its direction and kind."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional


def __getattr__(name: str):
    # ``CLAIM_KINDS`` is the kind registry's list (``bench.stats.kinds``: one module per
    # kind), asked for only when used so that importing the spec does not import the statistics.
    if name == "CLAIM_KINDS":
        from bench.stats import kinds
        return kinds.names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    kind: str = "two_arm"                     # one of CLAIM_KINDS (bench.stats.kinds)
    margin: Optional[float] = None            # equivalence / non-inferiority margin, in metric units
    agreement_margin: Optional[float] = None  # TF<->PyTorch TOST margin; None = report default
    # Smallest effect that matters, in metric units on the claimed side; None = a fixed
    # fraction of the post's own effect where ``reported`` gives one (bench.analysis.verdict).
    min_effect: Optional[float] = None

    @property
    def arms(self) -> tuple[str, ...]:
        return tuple(a for a, _ in self.contrast)

