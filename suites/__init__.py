"""The cases: one module per claim family, each exporting ``CASES``.

``DATASETS`` is the catalogue the registry checks each case's dataset against. The data
package reads the spec, so the spec cannot import it; the suites, which use both, hand it over.
"""
from bench.data import LOADERS as DATASETS

__all__ = ["DATASETS"]
