"""Which profiles a results directory holds: ``<dir>/<profile>/records.jsonl``.

``bench report`` and ``bench check`` use it to work out the profile when none
is given: a directory holding exactly one profile needs no ``--profile``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from bench.errors import StoreError
from bench.spec import PROFILES


def present(results_dir: str | os.PathLike) -> list[str]:
    """The profiles with a non-empty records file under ``results_dir``, in ``PROFILES`` order."""
    root = Path(results_dir)
    return [p for p in PROFILES if (root / p / "records.jsonl").is_file()
            and (root / p / "records.jsonl").stat().st_size > 0]


def infer(results_dir: str | os.PathLike, given: Optional[str]) -> str:
    """``given`` when set; else the one profile ``results_dir`` holds; else a one-sentence error."""
    if given:
        return given
    found = present(results_dir)
    if len(found) == 1:
        return found[0]
    if not found:
        raise StoreError(f"{results_dir} holds no records (no <profile>/records.jsonl); "
                         f"run `bench run` first or pass --results-dir.")
    raise StoreError(f"{results_dir} holds records of several profiles ({', '.join(found)}); "
                     f"pick one with --profile.")
