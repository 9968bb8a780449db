"""Command-line values turned into run options: counts, seed ranges and group sizes.

The parsers of ``bench run``'s flags whose values are more than a word
(``--seeds``, ``--group-size``, ``--workers``); each says a bad value in one
sentence (a ``SpecError``) that names its flag. ``bench.cli`` calls them
before it builds ``bench.run.options.RunOptions``.
"""
from __future__ import annotations

from typing import Optional

from bench.errors import SpecError
from bench.run.grouping import GroupSize


def auto_count(value: str, option: str) -> Optional[int]:
    """A command-line count: "auto" -> None, else an int >= 1; ``option`` names it in the error."""
    if value == "auto":
        return None
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise SpecError(f"{option} must be 'auto' or an integer >= 1, got {value!r}.")
    return count


def group_size(value: str) -> GroupSize:
    """``--group-size``: "auto", 1 (the per-seed reference path) or a width N."""
    count = auto_count(value, "--group-size")
    return GroupSize.AUTO if count is None else GroupSize.fixed(count)


def worker_count(value: str) -> Optional[int]:
    """``--workers``: "auto" -> None (``bench.run.workers.default_count`` decides), else an int >= 1."""
    return auto_count(value, "--workers")


def seeds(text: str) -> "int | range":
    """``--seeds``: a count ``N`` (seeds 0..N-1) or a half-open range ``A:B`` (seeds A..B-1),
    so one machine can run seeds 10-19 while another runs 0-9 (merged by ``bench publish``)."""
    start, colon, stop = str(text).partition(":")
    try:
        if not colon:
            return int(text)
        return range(int(start), int(stop))
    except ValueError:
        raise SpecError(f"--seeds takes a count N or a range A:B (seeds A..B-1), got {text!r}.") from None
