"""Discover cases: every module in ``suites/`` that exports ``CASES``.

Adding a case means adding one file to ``suites/``; nothing else changes.
A suite file that cannot be imported, or a case in it that fails validation
(including an unknown dataset), is set aside as broken with its error, which
names the file: the other cases still list and run, and only asking for a
broken case is an error.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Collection, Optional

from bench.errors import SpecError
from bench.spec import Case


@dataclass(frozen=True)
class Broken:
    """A suite file or case that could not be loaded, and why (one sentence)."""
    file: str
    case_id: Optional[str]
    error: str


def _check_dataset(case: Case, known) -> None:
    if case.data.dataset not in known:
        raise SpecError(f"case {case.id!r}, data, field 'dataset': unknown dataset {case.data.dataset!r}; "
                        f"known datasets are {sorted(known)}.")


def _datasets(package) -> Collection[str]:
    """The dataset catalogue the suites package hands over (``suites.DATASETS``): the data package
    reads the spec, so the spec cannot import it."""
    known = getattr(package, "DATASETS", None)
    if known is None:
        raise SpecError(f"{package.__name__} names no DATASETS; its __init__.py must import the catalogue "
                        f"(from bench.data import LOADERS as DATASETS).")
    return known


def scan() -> tuple[dict[str, Case], list[Broken]]:
    """The valid cases by id, and the broken files and cases."""
    import suites

    known = _datasets(suites)
    cases: dict[str, Case] = {}
    broken: list[Broken] = []
    for info in sorted(pkgutil.iter_modules(suites.__path__), key=lambda m: m.name):
        where = f"suites/{info.name}.py"
        try:
            module = importlib.import_module(f"suites.{info.name}")
            found = list(getattr(module, "CASES", ()))
        except Exception as exc:   # a syntax error, a bad constructor call: this file only
            broken.append(Broken(where, None, f"{where} cannot be loaded: {type(exc).__name__}: {exc}"))
            continue
        for case in found:
            case_id = getattr(case, "id", None)
            try:
                if not isinstance(case, Case):
                    raise SpecError(f"CASES holds a {type(case).__name__}, not a Case.")
                if case_id in cases:
                    raise SpecError(f"case id {case_id!r} is defined twice (second time here).")
                case.validate()
                _check_dataset(case, known)
            except SpecError as exc:
                broken.append(Broken(where, case_id, f"{where}: {exc}"))
                continue
            except Exception as exc:   # validation tripped on a value it did not expect
                broken.append(Broken(where, case_id, f"{where}: case {case_id!r}: {type(exc).__name__}: {exc}"))
                continue
            cases[case.id] = case
    return cases, broken


def discover() -> dict[str, Case]:
    """All valid cases by id (broken ones are in ``broken()``)."""
    return scan()[0]


def broken() -> list[Broken]:
    return scan()[1]


def get(case_id: str) -> Case:
    cases, bad = scan()
    if case_id in cases:
        return cases[case_id]
    for b in bad:
        if b.case_id == case_id:
            raise SpecError(f"case {case_id!r} is broken: {b.error}")
    files = "".join(f" ({b.error})" for b in bad if b.case_id is None)
    raise SpecError(f"unknown case {case_id!r}; known cases: {', '.join(sorted(cases)) or 'none'}{files}.")


def select(case_ids: list[str] | None) -> list[Case]:
    """The named cases (all valid ones when ``case_ids`` is empty), in id order."""
    if not case_ids:
        return [c for _, c in sorted(discover().items())]
    return [get(c) for c in case_ids]
