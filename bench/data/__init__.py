"""Datasets: find or download a verified copy, then turn it into the arrays a trainer gets.

``load(name)`` (``catalog``) picks the dataset's loader: ``mnist``,
``fashion_mnist`` or ``tabular``; each finds its files through ``sources``
(search order, download, verify before rename) and reads them with ``formats``
(npz, IDX) or, for CSV tables, itself. ``preparation`` subsamples, scales,
resplits and standardizes; ``inventory`` is ``bench data``.

Only the names the rest of ``bench`` uses are re-exported here. Settings such
as ``mnist.MNIST_URL`` are not: patch them on their own module.
"""
from bench.data.catalog import FEATURES, LOADERS, load
from bench.data.dataset import Dataset
from bench.data.formats import read_idx, read_idx_pair
from bench.data.preparation import arrays_for, holdout, prepare, standardize

__all__ = ["FEATURES", "LOADERS", "load", "Dataset", "read_idx", "read_idx_pair", "arrays_for", "holdout", "prepare",
           "standardize"]
