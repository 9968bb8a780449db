"""Where a spec is wrong: a ``SpecError`` prefixed with its place, and field type checks."""
from __future__ import annotations

import dataclasses
import functools
import typing
from typing import Literal, Union

from bench.errors import SpecError


class _where:
    """Prefix a ``SpecError`` raised inside the block with where it arose."""

    def __init__(self, place: str):
        self.place = place

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, SpecError):
            raise SpecError(f"{self.place}, {exc}" if str(exc).startswith(("arm ", "layer ", "field ", "l2", "data",
                                                                             "loss", "optimizer", "profile "))
                            else f"{self.place}: {exc}") from None
        return False


def _type_name(hint) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union:
        return " or ".join(_type_name(a) for a in args)
    if origin is Literal:
        return " or ".join(repr(a) for a in args)
    if origin is tuple:
        return "a tuple"
    if hint is type(None):
        return "None"
    return getattr(hint, "__name__", str(hint))


def _matches(value, hint) -> bool:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Union:
        return any(_matches(value, a) for a in args)
    if origin is Literal:   # which value is allowed is each validate()'s sentence; here only the type
        return any(isinstance(value, type(a)) for a in args)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_matches(v, args[0]) for v in value)
        return len(args) == len(value) and all(_matches(v, a) for v, a in zip(value, args))
    if origin is dict:
        return isinstance(value, dict)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


_hints = functools.lru_cache(maxsize=None)(typing.get_type_hints)   # resolved once per class


def check_types(obj, where: str) -> None:
    """Every field of the spec dataclass ``obj``, recursively, has its declared type;
    else one ``SpecError`` naming the place and field (e.g. ``Dropout("0.5")``)."""
    hints = _hints(type(obj))
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if not _matches(value, hints[f.name]):
            raise SpecError(f"{where}, field {f.name!r}: must be {_type_name(hints[f.name])}, "
                            f"got {value!r} ({type(value).__name__}).")
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            check_types(value, f"{where}, {f.name}")

