"""bench: a reproducibility suite for deep-learning regularization claims.

Importing this package loads neither TensorFlow nor PyTorch; backends are
imported lazily from ``bench.backends.BACKENDS``.
"""

__version__ = "0.1.0"
