"""The datasets a suite can name, each with its loader, and ``load(name)`` that picks one.

A loader takes ``(data_dir, download)`` and returns a verified ``Dataset`` or
raises one ``DataError`` sentence; a new dataset is one loader module plus one
line in ``LOADERS``.
"""
from __future__ import annotations

from functools import partial
from typing import Callable, Optional

from bench.data import fashion_mnist, mnist, tabular
from bench.data.dataset import Dataset
from bench.data.formats import PathLike
from bench.errors import SpecError

LOADERS: dict[str, Callable[[Optional[PathLike], bool], Dataset]] = {
    "mnist": mnist.load,
    "fashion_mnist": fashion_mnist.load,
    "concrete": partial(tabular.load, "concrete"),
    "red_wine": partial(tabular.load, "red_wine"),
}

# Features per example (the product of its input shape) of each dataset, so a case's input
# shape is checked against its dataset before anything loads.
FEATURES: dict[str, int] = {
    "mnist": 28 * 28,
    "fashion_mnist": 28 * 28,
    **{name: len(table.columns) - 1 for name, table in tabular.TABLES.items()},
}


def load(name: str, data_dir: Optional[PathLike] = None, download: bool = True) -> Dataset:
    """Load dataset ``name``, verified; raises ``DataError`` if no good copy can be had."""
    if name not in LOADERS:
        raise SpecError(f"unknown dataset {name!r}; known datasets are {sorted(LOADERS)}.")
    return LOADERS[name](data_dir, download)
