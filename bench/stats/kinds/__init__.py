"""The claim kinds, found by convention: one module per kind in this package.

A kind module declares ``NAME`` (the ``Claim.kind`` it serves), ``ORDER`` (its
place in listings), ``TEST`` (one line for the report: which test, which
interval), ``MDE_UNIT`` and ``NEEDED_UNIT`` (the report's units for its power
columns), ``SIZED`` (whether its verdict checks a significant effect against the
claim's smallest effect that matters; margin kinds do not), ``MARGIN_SIDES`` (where
its margin lies, in units of the margin: ``(-1.0, 1.0)`` for +-margin, ``()`` for none;
the forest plot draws them), and provides:

* ``validate(claim)``: the spec-time checks of arms, weights and margin (``SpecError``);
* ``analyse(claim, samples, random_state, n_resamples, higher_is_better)``: samples
  ``{arm: {seed: value}}`` -> the fields of ``bench.analysis.verdict.ClaimResult``
  other than the verdict, the adjusted p-values and power;
* ``decide(result, p, alpha, label)``: verdict and reason from a defined primary p;
* ``robust_note(result, alpha)``: where a robustness check disagrees with the primary;
* ``power(result, alpha)``: the ``bench.stats.power.Power`` of its primary test;
* ``interval(result, alpha)``: the estimate and CI the verdict is decided by when the
  primary p is compared with ``alpha`` (Holm's adjusted level for that claim), as
  ``ClaimResult`` fields (``estimate``, ``ci_low``, ``ci_high``, ``ci_level``, ``ci_label``);
* ``label(result, fmt)``: the primary test as the report names it.

Adding a kind is adding a module here (and its tests). ``common`` holds what the
kinds share and declares no ``NAME``. This package imports nothing from the spec,
so ``bench.spec`` can ask it which kinds exist.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil

from bench.errors import SpecError

REQUIRED = ("NAME", "ORDER", "TEST", "MDE_UNIT", "NEEDED_UNIT", "SIZED", "MARGIN_SIDES",
            "validate", "analyse", "decide", "robust_note", "power", "label", "interval")


@functools.lru_cache(maxsize=None)
def _discover() -> dict:
    """{name: module} of every kind module in this package, in ``ORDER``."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if not hasattr(module, "NAME"):
            continue   # shared code, not a kind
        missing = [attr for attr in REQUIRED if not hasattr(module, attr)]
        if missing:
            raise SpecError(f"claim kind module {module.__name__} lacks {', '.join(missing)}.")
        found.append(module)
    found.sort(key=lambda m: (m.ORDER, m.NAME))
    names = [m.NAME for m in found]
    if len(set(names)) != len(names):
        raise SpecError(f"two claim kind modules declare the same NAME: {names}.")
    return {m.NAME: m for m in found}


def names() -> tuple[str, ...]:
    """The claim kinds, in listing order."""
    return tuple(_discover())


def get(name: str):
    """The module of claim kind ``name``."""
    kinds = _discover()
    if name not in kinds:
        raise SpecError(f"unknown claim kind {name!r}; choose from {tuple(kinds)}.")
    return kinds[name]


def tests() -> dict[str, str]:
    """{kind: its one-line test description}, in listing order (the report's table)."""
    return {name: module.TEST for name, module in _discover().items()}
