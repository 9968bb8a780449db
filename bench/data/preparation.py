"""From a loaded ``Dataset`` to the arrays a trainer gets: subsample, flatten, scale, resplit, standardize, hold out.

Everything here is a pure function of the dataset, the case's ``Data`` and the
seed, so both frameworks train on exactly the same arrays.
"""
from __future__ import annotations

import math
from typing import Callable, Optional

import numpy as np

from bench.data import tabular
from bench.data.dataset import Dataset
from bench.errors import SpecError
from bench.spec import Data, streams


def prepare(ds: Dataset, data: Data, seed: Optional[int] = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Apply ``data``: first-n subsamples, features flattened to (n, d) float32 and
    multiplied by ``data.scale``; integer labels as int64 (others as float32).
    With ``data.resplit`` the 70/30 split of a tabular set is drawn for ``seed``
    (the seed's ``resplit`` stream, ``bench.spec.streams``) instead of the post's."""
    if data.dataset != ds.name:
        raise SpecError(f"the spec asks for dataset {data.dataset!r} but {ds.name!r} was given.")
    x_train, y_train, x_test, y_test = ds.x_train, ds.y_train, ds.x_test, ds.y_test
    if data.resplit:
        if ds.full is None or seed is None:
            raise SpecError(f"resplit needs a tabular dataset and a seed; got {ds.name!r}, seed {seed}.")
        state = int(np.random.SeedSequence(streams.key(seed, "resplit")).generate_state(1)[0])
        train, test = tabular.split_indices(len(ds.full[0]), state)
        (x, y) = ds.full
        x_train, y_train, x_test, y_test = x[train], y[train], x[test], y[test]
    out = []
    for x, y, n, split in ((x_train, y_train, data.train_subsample, "train"),
                           (x_test, y_test, data.test_subsample, "test")):
        if n is not None:
            if n > len(x):
                raise SpecError(f"{split}_subsample={n} exceeds the {len(x)} {split} examples of {ds.name!r}.")
            x, y = x[:n], y[:n]
        x = x.reshape(len(x), -1).astype(np.float32) * np.float32(data.scale)
        y = y.astype(np.int64 if np.issubdtype(y.dtype, np.integer) else np.float32)
        out += [x, y]
    return tuple(out)


def arrays_for(ds: Dataset, data: Data) -> Callable[[int], tuple]:
    """``seed -> prepare(...)``, computed once unless ``data.resplit`` makes it per seed."""
    if data.resplit:
        return lambda seed: prepare(ds, data, seed)
    arrays = prepare(ds, data)
    return lambda seed: arrays


def standardize(arrays: tuple) -> tuple:
    """z-score the features of ``(x_train, y_train, x_test, y_test)`` with the mean
    and population sd (ddof=0, as sklearn's StandardScaler) of ``x_train`` only;
    a constant feature is centred, not scaled. Targets are left as they are."""
    x_train, y_train, x_test, y_test = arrays
    mean = x_train.mean(0, dtype=np.float64)
    sd = x_train.std(0, dtype=np.float64)
    sd[sd == 0] = 1.0
    return (((x_train - mean) / sd).astype(np.float32), y_train,
            ((x_test - mean) / sd).astype(np.float32), y_test)


def holdout(arrays: tuple, fraction: float) -> tuple[tuple, tuple]:
    """Keras's ``fit(validation_split=fraction)``: the last ``fraction`` of the
    training rows, in file order (Keras splits before it shuffles), become the
    validation set; the first ``floor(n * (1 - fraction))`` rows stay for
    training, as ``keras.src.trainers.data_adapters.array_slicing`` computes it.
    Returns ``((x_train, y_train, x_test, y_test), (x_val, y_val))``."""
    x_train, y_train, x_test, y_test = arrays
    split_at = int(math.floor(len(x_train) * (1.0 - fraction)))
    if not 0 < split_at < len(x_train):
        raise SpecError(f"validation_split={fraction} of {len(x_train)} training rows leaves "
                        f"{split_at} to train on and {len(x_train) - split_at} to validate on; both need >= 1.")
    return (x_train[:split_at], y_train[:split_at], x_test, y_test), (x_train[split_at:], y_train[split_at:])
