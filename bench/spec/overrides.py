"""One-off variations of a case from the command line: ``bench run --set data.epochs=60``.

An override is ``SECTION.FIELD=VALUE`` where SECTION is ``data``, ``optimizer``
or ``loss`` (the case's own spec) or ``profile`` (the budget of the profile
being run: ``profile.seeds``, ``profile.epochs``, ...). VALUE is read as JSON
(``60``, ``0.01``, ``true``, ``null``) and else taken as a string. A ``data``
override wins over the profile's reduction of the same field, so
``data.epochs=60`` trains 60 epochs under any profile. The changed case keeps
its overrides in ``Case.overrides``; its records carry them and the changed
spec hash, and the report names them. An override is checked as a suite's case
is: a ``data.dataset`` must be known and have the features the input shape takes.
"""
from __future__ import annotations

import dataclasses
import json

from bench.errors import SpecError
from bench.spec import Case

SECTIONS = ("data", "optimizer", "loss", "profile")
# Profile fields that reduce a Data field of the same name (Case.budget).
_PROFILE_REDUCES = ("epochs", "train_subsample", "test_subsample")


def parse(items: list[str]) -> list[tuple[str, str, object]]:
    """``["data.epochs=60"]`` -> ``[("data", "epochs", 60)]``; a malformed item is a SpecError."""
    out = []
    for item in items:
        path, sep, raw = item.partition("=")
        section, dot, name = path.strip().partition(".")
        if not sep or not dot or not name or section not in SECTIONS:
            raise SpecError(f"--set {item!r} must look like SECTION.FIELD=VALUE with SECTION one of "
                            f"{', '.join(SECTIONS)} (e.g. --set data.epochs=60).")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.append((section, name, value))
    return out


def _replace(obj, name: str, value, where: str):
    names = [f.name for f in dataclasses.fields(obj)]
    if name not in names:
        raise SpecError(f"--set {where}.{name}: {where} has no field {name!r}; it has {', '.join(names)}.")
    current = getattr(obj, name)
    # "60" parses as an int; a float field (lr) takes it as 60.0, an int field keeps 60.0 as 60.
    if isinstance(current, float) and type(value) is int:
        value = float(value)
    elif type(current) is int and isinstance(value, float) and value.is_integer():
        value = int(value)
    return dataclasses.replace(obj, **{name: value})


def apply(case: Case, profile: str, parsed: list[tuple[str, str, object]]) -> Case:
    """``case`` with ``parsed`` overrides applied to it and to its ``profile``, validated."""
    if not parsed:
        return case
    for section, name, value in parsed:
        if section == "profile":
            profiles = dict(case.profiles)
            profiles[profile] = _replace(case.profile(profile), name, value, "profile")
            case = dataclasses.replace(case, profiles=profiles)
            continue
        case = dataclasses.replace(case, **{section: _replace(getattr(case, section), name, value, section)})
        if section == "data" and name in _PROFILE_REDUCES:
            case = dataclasses.replace(case, profiles={k: dataclasses.replace(p, **{name: None})
                                                       for k, p in case.profiles.items()})
    done = tuple(sorted({f"{s}.{n}": v for s, n, v in parsed}.items()))
    case = dataclasses.replace(case, overrides=done)
    try:
        case = case.validate()
    except (TypeError, ValueError) as exc:
        raise SpecError(f"--set made case {case.id!r} invalid: {exc}.") from exc
    if any(section == "data" for section, *_ in parsed):
        from bench.spec import registry

        registry.check_dataset(case, "--set data.dataset")   # a known dataset of the case's input shape
    return case
