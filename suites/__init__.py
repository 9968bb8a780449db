"""The cases: one module per claim family, each exporting ``CASES``.

``DATASETS`` is the dataset catalogue (its ``LOADERS`` and ``FEATURES``) the registry checks each
case's dataset against. The data package reads the spec, so the spec cannot import it; the
suites, which use both, hand it over.
"""
from bench.data import catalog as DATASETS

__all__ = ["DATASETS"]
