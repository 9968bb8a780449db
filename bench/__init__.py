"""bench: a reproducibility suite for deep-learning regularization claims.

Importing this package loads neither TensorFlow nor PyTorch; backends are
imported lazily from ``bench.backends.BACKENDS``. ``bench.load_records(dir)``
returns the run records as a pandas DataFrame (``bench.records.frame``), imported on
first use so that ``import bench`` stays light.
"""

__version__ = "0.1.0"


def __getattr__(name):
    if name in ("load_records", "curves"):
        from bench.records import frame

        return getattr(frame, name)
    raise AttributeError(f"module 'bench' has no attribute {name!r}")
