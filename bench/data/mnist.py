"""MNIST: the Keras ``mnist.npz``, found or downloaded by ``sources`` and verified by what it holds.

It is verified by its arrays, not its bytes: the canonical Keras ``mnist.npz``
and a copy re-saved by another numpy/zlib differ byte for byte but hold the
same arrays, so each array's C-order ``tobytes()`` is hashed.
"""
from __future__ import annotations

from typing import Optional

from bench.data import sources
from bench.data.dataset import Dataset
from bench.data.formats import PathLike, verified_npz

MNIST_FILE = "mnist.npz"
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
# key -> (shape, dtype, sha256 of the C-contiguous tobytes()); see shared/data/README.md.
MNIST_ARRAYS = {
    "x_train": ((60000, 28, 28), "uint8", "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757"),
    "y_train": ((60000,), "uint8", "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13"),
    "x_test": ((10000, 28, 28), "uint8", "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"),
    "y_test": ((10000,), "uint8", "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"),
}


def load(data_dir: Optional[PathLike], download: bool) -> Dataset:
    arrays, path = sources.fetch(MNIST_FILE, MNIST_URL, data_dir, download, verified_npz(MNIST_ARRAYS))
    return Dataset("mnist", arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], str(path))
