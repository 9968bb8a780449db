"""Discover cases: every module in ``suites/`` that exports ``CASES``.

Adding a case means adding one file to ``suites/``; nothing else changes.
A suite file that cannot be imported (a syntax error, an exception or a
``sys.exit``, such as argparse's, at import), or a case in it that fails
validation (including an unknown dataset), is set aside as broken with its
error, which names the file and line: the other cases still list and run, and
only asking for a broken case is an error. A suite's own output at import is
held back, and shown only when its import succeeds. An id that two files
define is ambiguous: neither definition is used, and every command that needs
the case names both files (records and reports are keyed by the id).
"""
from __future__ import annotations

import contextlib
import importlib
import io
import pkgutil
import sys
import traceback
from dataclasses import dataclass
from typing import Optional

from bench.errors import SpecError
from bench.spec import Case


@dataclass(frozen=True)
class Broken:
    """A suite file or case that could not be loaded, and why (one sentence)."""
    file: str
    case_id: Optional[str]
    error: str


def check_dataset(case: Case, where: str = "data, field 'dataset'", catalogue=None) -> None:
    """The case's dataset is one the catalogue knows (its ``LOADERS``), with as many features per
    example as the case's input shape holds (its ``FEATURES``). The catalogue is ``suites.DATASETS``
    unless given: the data package reads the spec, so the spec cannot import it."""
    import math

    if catalogue is None:
        import suites

        catalogue = _datasets(suites)
    name = case.data.dataset
    if name not in catalogue.LOADERS:
        raise SpecError(f"case {case.id!r}, {where}: unknown dataset {name!r}; "
                        f"known datasets are {sorted(catalogue.LOADERS)}.")
    features = catalogue.FEATURES.get(name)
    if features is not None and math.prod(case.input_shape) != features:
        raise SpecError(f"case {case.id!r}, {where}: {name!r} has {features} features per example, but the "
                        f"case's input shape {tuple(case.input_shape)} takes {math.prod(case.input_shape)}.")


def _datasets(package):
    """The dataset catalogue the suites package hands over (``suites.DATASETS``, the module
    ``bench.data.catalog``, with its ``LOADERS`` and ``FEATURES``)."""
    known = getattr(package, "DATASETS", None)
    if known is None:
        raise SpecError(f"{package.__name__} names no DATASETS; its __init__.py must import the catalogue "
                        f"(from bench.data import catalog as DATASETS).")
    return known


def _import(module: str, where: str):
    """Import one suite file; its output is held back unless the import succeeds. Any failure,
    ``sys.exit`` included, becomes one sentence that names the file and the line."""
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            loaded = importlib.import_module(module)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:   # SystemExit too: a suite must never end the command
        sys.modules.pop(module, None)
        line = _line(exc, where)
        if isinstance(exc, SystemExit):
            said = next((t for t in reversed(err.getvalue().splitlines()) if t.strip()), "")
            what = f"it exits at import (sys.exit({exc.code!r})" + (f": {said.strip()!r}" if said else "") + ")"
        else:
            what = f"{type(exc).__name__}: {exc}"
        raise _BrokenFile(f"{where}{line} cannot be loaded: {what}") from None
    sys.stdout.write(out.getvalue())
    sys.stderr.write(err.getvalue())
    return loaded


class _BrokenFile(Exception):
    pass


def _line(exc: BaseException, where: str) -> str:
    """``:N``, the line of the suite file where ``exc`` was raised (or found, for a syntax error)."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return ""   # its message already carries the line
    name = where.rsplit("/", 1)[-1]
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(name)]
    return f":{lines[-1]}" if lines else ""


def scan() -> tuple[dict[str, Case], list[Broken]]:
    """The valid cases by id, and the broken files and cases."""
    import suites

    known = _datasets(suites)
    cases: dict[str, Case] = {}
    files: dict[str, list[str]] = {}   # case id -> the files defining it
    broken: list[Broken] = []
    for info in sorted(pkgutil.iter_modules(suites.__path__), key=lambda m: m.name):
        where = f"suites/{info.name}.py"
        try:
            module = _import(f"suites.{info.name}", where)
            found = list(getattr(module, "CASES", ()))
        except _BrokenFile as exc:   # a syntax error, a bad constructor call, an exit: this file only
            broken.append(Broken(where, None, str(exc)))
            continue
        except Exception as exc:   # CASES that is not a sequence
            broken.append(Broken(where, None, f"{where}: CASES cannot be read: {type(exc).__name__}: {exc}"))
            continue
        for case in found:
            case_id = getattr(case, "id", None)
            if isinstance(case, Case):
                files.setdefault(case_id, []).append(where)
            try:
                if not isinstance(case, Case):
                    raise SpecError(f"CASES holds a {type(case).__name__}, not a Case.")
                case.validate()
                check_dataset(case, catalogue=known)
            except SpecError as exc:
                broken.append(Broken(where, case_id, f"{where}: {exc}"))
                continue
            except Exception as exc:   # validation tripped on a value it did not expect
                broken.append(Broken(where, case_id, f"{where}: case {case_id!r}: {type(exc).__name__}: {exc}"))
                continue
            cases.setdefault(case.id, case)
    for case_id, where in files.items():
        if len(where) > 1:
            cases.pop(case_id, None)
            broken.append(Broken(where[-1], case_id,
                                 f"case id {case_id!r} is defined in {len(where)} files ({', '.join(where)}); "
                                 f"neither is used until one of them takes another id."))
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


def for_records(case_ids) -> list[Case]:
    """The cases of records with these ids, in id order: a broken or ambiguous one is a
    ``SpecError`` (a report must not silently drop it); one no suite defines is left out."""
    cases, bad = scan()
    for b in bad:
        if b.case_id in case_ids and b.case_id not in cases:
            raise SpecError(f"the records hold case {b.case_id!r}, which is broken: {b.error}")
    return [cases[c] for c in sorted(case_ids) if c in cases]


def select(case_ids: list[str] | None, profile: str | None = None) -> list[Case]:
    """The named cases, or when ``case_ids`` is empty every valid case that defines ``profile``
    (every valid case when ``profile`` is None), in id order: what ``bench run --profile P``
    without ``--case`` runs. A named case lacking ``profile`` is the runner's error to report."""
    if not case_ids:
        return [c for _, c in sorted(discover().items()) if profile is None or profile in c.profiles]
    return [get(c) for c in case_ids]
