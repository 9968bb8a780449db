"""A claim: the contrast of arm metrics the post asserts, its direction and kind."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

from bench.errors import SpecError


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
    (metric ``"diverged"``) between two arms.

    ``reported`` holds the source's own figures, per arm, as plain numbers in the units of
    ``metric`` (a 1.62 % test error is ``0.0162`` on ``test_error``; an accuracy of 95 % is
    ``0.95`` on ``test_accuracy``): the verdict's smallest-effect check reads them
    (``bench.analysis.verdict.post_effect``). Anything that is not such a number (a range,
    a count, "not reported") goes in ``reported_note``, prose shown beside them.
    ``pairs_with`` names the claims (by id, in any case) about the same thing from another
    source, e.g. a paper's claim and the post that repeats it, shown side by side by
    ``bench verdicts --pairs``. Prose and pairs stay out of every hash
    (``bench.records.identity``)."""
    id: str
    statement: str
    metric: str
    contrast: tuple[tuple[str, float], ...]
    direction: Literal["greater", "less"]
    reported: tuple[tuple[str, float], ...] = ()
    kind: str = "two_arm"                     # one of CLAIM_KINDS (bench.stats.kinds)
    margin: Optional[float] = None            # equivalence / non-inferiority margin, in metric units
    agreement_margin: Optional[float] = None  # TF<->PyTorch TOST margin; None = report default
    # Smallest effect that matters, in metric units on the claimed side; None = a fixed
    # fraction of the post's own effect where ``reported`` gives one (bench.analysis.verdict).
    min_effect: Optional[float] = None
    reported_note: str = ""
    pairs_with: tuple[str, ...] = ()

    def check_reported(self, case_id: str) -> None:
        """Each ``reported`` entry is (arm, plain number); else one sentence naming the value."""
        entries = self.reported if isinstance(self.reported, tuple) else (self.reported,)
        for entry in entries:
            value = entry[1] if isinstance(entry, tuple) and len(entry) == 2 else entry
            if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str)
                    and isinstance(value, (int, float)) and not isinstance(value, bool)):
                raise SpecError(f"case {case_id!r}, claim {self.id!r}: reported value {value!r} must be a plain "
                                f"number in the units of metric {self.metric!r}, given as (arm, number) pairs "
                                f"(e.g. 1.62 % error is 0.0162); put any other text in reported_note.")

    def reported_text(self) -> str:
        """The source's figures and note as one line (``"both 0.9496, dropout 0.9635"``), or "—"."""
        return ", ".join([f"{arm} {value}" for arm, value in self.reported]
                         + ([self.reported_note] if self.reported_note else [])) or "—"

    @property
    def arms(self) -> tuple[str, ...]:
        return tuple(a for a, _ in self.contrast)

