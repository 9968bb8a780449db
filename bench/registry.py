"""Discover cases: every module in ``suites/`` that exports ``CASES``.

Adding a case means adding one file to ``suites/``; nothing else changes.
"""
from __future__ import annotations

import importlib
import pkgutil

from bench.errors import SpecError
from bench.spec import Case


def discover() -> dict[str, Case]:
    """All cases by id, each validated."""
    import suites

    cases: dict[str, Case] = {}
    for info in sorted(pkgutil.iter_modules(suites.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"suites.{info.name}")
        for case in getattr(module, "CASES", ()):
            if case.id in cases:
                raise SpecError(f"case id {case.id!r} is defined twice (second time in suites/{info.name}.py).")
            cases[case.id] = case.validate()
    return cases


def get(case_id: str) -> Case:
    cases = discover()
    if case_id not in cases:
        raise SpecError(f"unknown case {case_id!r}; known cases: {', '.join(sorted(cases)) or 'none'}.")
    return cases[case_id]


def select(case_ids: list[str] | None) -> list[Case]:
    """The named cases (all when ``case_ids`` is empty), in id order."""
    if not case_ids:
        return [c for _, c in sorted(discover().items())]
    return [get(c) for c in case_ids]
