"""The ``Dataset`` record every loader returns: the four split arrays and where they were read from.

It is a module of its own so that the loaders (``mnist``, ``fashion_mnist``,
``tabular``) and ``preparation`` can all use it without importing each other.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np


@dataclass(frozen=True, eq=False)  # eq on arrays is ambiguous; compare fields by hand
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # the path it was loaded from
    full: Optional[tuple] = None  # tabular: (x, y) of every row in file order, for Data.resplit
