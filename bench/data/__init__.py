"""Dataset loaders: find a local copy, or download and verify one, then shape it.

``load(name)`` searches, in order: ``data_dir`` (else ``$BENCH_DATA_DIR``), the
Keras cache ``~/.keras/datasets``, and the project cache (``$BENCH_CACHE_DIR``
else ``~/.cache/bench``); only if no copy exists anywhere does it download into
the project cache. The first copy found is the one used: if it fails
verification that is an error, never a silent fall-back to another copy, so a
run cannot quietly train on different data from the one its record names.

Fashion-MNIST is the four original IDX ``.gz`` files, found first in the data
dir, then in Debian's ``/usr/share/datasets/fashion-mnist`` (package
``dataset-fashion-mnist``), then in the Keras cache; it is parsed here with
numpy and verified by the sha256 of each file's decompressed content.

MNIST is verified by what the file holds, not by its bytes: the canonical
Keras ``mnist.npz`` and a copy re-saved by another numpy/zlib differ byte for
byte but hold the same arrays, so we hash each array's C-order ``tobytes()``.
"""
from __future__ import annotations

import gzip
import hashlib
import math
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Union

import numpy as np

from bench.errors import DataError, SpecError
from bench.spec import Data

PathLike = Union[str, os.PathLike]

DOWNLOAD_TIMEOUT_S = 60
HOW_TO_PROVIDE = "put {file} in a directory and pass --data-dir DIR or set BENCH_DATA_DIR=DIR"

MNIST_FILE = "mnist.npz"
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
# key -> (shape, dtype, sha256 of the C-contiguous tobytes()); see shared/data/README.md.
MNIST_ARRAYS = {
    "x_train": ((60000, 28, 28), "uint8", "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757"),
    "y_train": ((60000,), "uint8", "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13"),
    "x_test": ((10000, 28, 28), "uint8", "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"),
    "y_test": ((10000,), "uint8", "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"),
}

# Everything np.load and zipfile raise on a file that is not a sound npz.
_READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)


@dataclass(frozen=True, eq=False)  # eq on arrays is ambiguous; compare fields by hand
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str  # the path it was loaded from
    full: Optional[tuple] = None  # tabular: (x, y) of every row in file order, for Data.resplit


class _BadFile(Exception):
    """A file that exists but does not hold the expected data; the text says why."""


# --- where to look ------------------------------------------------------------

def project_cache() -> Path:
    """Where downloads go: ``$BENCH_CACHE_DIR``, else ``~/.cache/bench``."""
    return Path(os.environ.get("BENCH_CACHE_DIR") or Path.home() / ".cache" / "bench")


def search_dirs(data_dir: Optional[PathLike] = None) -> list[Path]:
    """The directories ``load`` searches, in order, without duplicates."""
    first = data_dir if data_dir is not None else os.environ.get("BENCH_DATA_DIR") or None
    dirs = [Path(first)] if first is not None else []
    dirs += [Path.home() / ".keras" / "datasets", project_cache()]
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def _fetch(filename: str, url: str, data_dir: Optional[PathLike], download: bool,
           read: Callable[[Path], dict]) -> tuple[dict, Path]:
    """Read the first copy of ``filename`` found, or download one; return (arrays, path)."""
    places = [d / filename for d in search_dirs(data_dir)]
    for path in places:
        if path.exists():
            try:
                return read(path), path
            except _BadFile as exc:
                raise DataError(f"{path} is not a valid {filename}: {exc}; "
                                f"replace it with a good copy or delete it.") from exc
    searched = ", ".join(str(p) for p in places)
    how = HOW_TO_PROVIDE.format(file=filename)
    if not download:
        raise DataError(f"{filename} was not found in {searched} and downloading is disabled; {how}.")
    dest = project_cache() / filename
    try:
        tmp = download_file(url, dest)
    except (OSError, urllib.error.URLError, ValueError) as exc:
        raise DataError(f"{filename} was not found in {searched} and the download from {url} "
                        f"failed ({exc}); {how}.") from exc
    try:
        arrays = read(tmp)
        os.replace(tmp, dest)  # atomic: dest is either absent or a verified copy
    except _BadFile as exc:
        raise DataError(f"the {filename} downloaded from {url} failed verification ({exc}) "
                        f"and was deleted; {how}.") from exc
    finally:
        tmp.unlink(missing_ok=True)  # a no-op once renamed
    return arrays, dest


def download_file(url: str, dest: Path) -> Path:
    """Stream ``url`` to a temp file beside ``dest`` and return its path; the
    caller renames it onto ``dest`` only once it verifies, so readers never see
    a partial or unverified file under the real name."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as src:
            shutil.copyfileobj(src, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _verified_npz(expected: dict) -> Callable[[Path], dict]:
    """A reader that returns the arrays of an npz whose contents match ``expected``."""
    def read(path: Path) -> dict:
        if not zipfile.is_zipfile(path):  # np.load would blame "pickled data" instead
            raise _BadFile("it is not an npz (zip) archive (perhaps truncated, or another format)")
        try:
            npz = np.load(path, allow_pickle=False)
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise _BadFile("it holds a single array, not an npz archive")
            with npz:
                missing = [k for k in expected if k not in npz.files]
                if missing:
                    raise _BadFile(f"it lacks the array(s) {missing} (it has {npz.files})")
                arrays = {k: npz[k] for k in expected}
        except _READ_ERRORS as exc:
            raise _BadFile(f"it cannot be read as an npz archive ({type(exc).__name__}: {exc})") from exc
        for key, (shape, dtype, sha256) in expected.items():
            a = arrays[key]
            if a.shape != tuple(shape) or a.dtype != np.dtype(dtype):
                raise _BadFile(f"array {key!r} is {a.dtype}{list(a.shape)}, expected {dtype}{list(shape)}")
            if hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest() != sha256:
                raise _BadFile(f"array {key!r} does not match its published sha256 (corrupt or a different dataset)")
            a.setflags(write=False)
        return arrays
    return read


# --- loaders ------------------------------------------------------------------

def _load_mnist(data_dir: Optional[PathLike], download: bool) -> Dataset:
    arrays, path = _fetch(MNIST_FILE, MNIST_URL, data_dir, download, _verified_npz(MNIST_ARRAYS))
    return Dataset("mnist", arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], str(path))


def _tabular(name: str) -> Callable[[Optional[PathLike], bool], Dataset]:
    def load_table(data_dir: Optional[PathLike], download: bool) -> Dataset:
        from bench.data import tabular  # it imports this module

        return tabular.load(name, data_dir, download)
    return load_table


# --- Fashion-MNIST: the original IDX files, parsed here with numpy -----------

FASHION_DIR = "fashion-mnist"
FASHION_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian package dataset-fashion-mnist
FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"  # zalandoresearch's README
# key -> (file, shape, sha256 of the *decompressed* IDX bytes). Computed with
# `zcat FILE | sha256sum` from Debian's dataset-fashion-mnist 0.0~git20200523.55506a9-1.
# We hash the content, not the .gz: Debian re-gzipped the files (their .gz md5s
# differ from upstream's published ones), so only the content is the same in
# every copy (Debian, the Keras cache, a fresh download).
FASHION_FILES = {
    "x_train": ("train-images-idx3-ubyte.gz", (60000, 28, 28),
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"),
    "y_train": ("train-labels-idx1-ubyte.gz", (60000,),
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"),
    "x_test": ("t10k-images-idx3-ubyte.gz", (10000, 28, 28),
               "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"),
    "y_test": ("t10k-labels-idx1-ubyte.gz", (10000,),
               "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
}
IDX_UBYTE = 0x08  # the IDX type code of unsigned bytes, the only one these sets use


def _parse_idx(path: Path, ndim: int, sha256: Optional[str] = None) -> np.ndarray:
    """The uint8 array in a gzipped IDX file of ``ndim`` dimensions. The header
    is magic 0x0000 0x08 ndim, then ndim big-endian uint32 sizes; the payload
    must hold exactly their product of bytes."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise _BadFile(f"it cannot be decompressed as gzip ({type(exc).__name__}: {exc})") from exc
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    expected = (IDX_UBYTE << 8) | ndim
    if magic != expected:
        got = "a file shorter than 4 bytes" if magic is None else f"0x{magic:08x}"
        raise _BadFile(f"its magic number is {got}, expected 0x{expected:08x} (IDX, uint8, {ndim}-d)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise _BadFile(f"its header is truncated ({len(raw)} bytes, the {ndim} sizes need {header})")
    dims = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    want, have = math.prod(dims), len(raw) - header
    if have != want:
        kind = "truncated" if have < want else "too long"
        raise _BadFile(f"its payload is {kind}: {have} bytes where the header's sizes {list(dims)} need {want}")
    if sha256 is not None and hashlib.sha256(raw).hexdigest() != sha256:
        raise _BadFile("its content does not match its published sha256 (corrupt or a different dataset)")
    array = np.frombuffer(raw, np.uint8, offset=header).reshape(dims)
    array.setflags(write=False)
    return array


def read_idx(path: PathLike, ndim: int, sha256: Optional[str] = None) -> np.ndarray:
    """``_parse_idx`` with a ``DataError`` that names the file."""
    try:
        return _parse_idx(Path(path), ndim, sha256)
    except _BadFile as exc:
        raise DataError(f"{path} is not a valid IDX file: {exc}; replace it with a good copy or delete it.") from exc


def read_idx_pair(images: PathLike, labels: PathLike, sha256: tuple = (None, None)) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, rows, cols) and labels (n,) from two IDX files whose counts must agree."""
    x, y = read_idx(images, 3, sha256[0]), read_idx(labels, 1, sha256[1])
    if len(x) != len(y):
        raise DataError(f"{images} holds {len(x)} images but {labels} holds {len(y)} labels; "
                        f"they must be the two halves of one split.")
    return x, y


def fashion_dirs(data_dir: Optional[PathLike] = None) -> list[Path]:
    """Where ``fashion_mnist`` looks, in order: the data dir (its ``fashion-mnist/``
    subfolder, then the dir itself), Debian's folder, then ``fashion-mnist/`` in
    the Keras cache and in the project cache."""
    dirs = search_dirs(data_dir)
    given = data_dir is not None or bool(os.environ.get("BENCH_DATA_DIR"))
    head = [dirs[0] / FASHION_DIR, dirs[0]] if given else []
    rest = [FASHION_DEBIAN_DIR] + [d / FASHION_DIR for d in (dirs[1:] if given else dirs)]
    return head + rest


def _read_fashion(directory: Path, parse: Callable = _parse_idx) -> dict:
    arrays = {}
    for key, (name, shape, sha256) in FASHION_FILES.items():
        a = parse(directory / name, len(shape), sha256)
        if a.shape != shape:
            raise DataError(f"{directory / name} holds an array of shape {a.shape}, expected {shape}.")
        arrays[key] = a
    return arrays


def _fashion_from(d: Path) -> Dataset:
    arrays = _read_fashion(d, read_idx)
    return Dataset("fashion_mnist", arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"], str(d))


def _load_fashion_mnist(data_dir: Optional[PathLike], download: bool) -> Dataset:
    names = [name for name, _, _ in FASHION_FILES.values()]
    for d in fashion_dirs(data_dir):
        present = [n for n in names if (d / n).exists()]
        if not present:
            continue
        if len(present) < len(names):  # a partial copy is an error, never a silent fall-back
            missing = sorted(set(names) - set(present))
            raise DataError(f"{d} holds part of Fashion-MNIST but lacks {missing}; add them or remove the rest.")
        return _fashion_from(d)
    searched = ", ".join(str(d) for d in fashion_dirs(data_dir))
    how = ("install the Debian package dataset-fashion-mnist, or put its four IDX .gz files in a directory and "
           "pass --data-dir DIR or set BENCH_DATA_DIR=DIR")
    if not download:
        raise DataError(f"Fashion-MNIST was not found in {searched} and downloading is disabled; {how}.")
    dest = project_cache() / FASHION_DIR
    tmps: dict[str, Path] = {}
    try:
        for name in names:
            try:
                tmps[name] = download_file(FASHION_URL + name, dest / name)
            except (OSError, urllib.error.URLError, ValueError) as exc:
                raise DataError(f"Fashion-MNIST was not found in {searched} and the download of "
                                f"{FASHION_URL + name} failed ({exc}); {how}.") from exc
        for key, (name, shape, sha256) in FASHION_FILES.items():
            try:
                _parse_idx(tmps[name], len(shape), sha256)
            except _BadFile as exc:
                raise DataError(f"the {name} downloaded from {FASHION_URL} failed verification ({exc}) "
                                f"and was deleted; {how}.") from exc
        for name, tmp in tmps.items():
            os.replace(tmp, dest / name)
    finally:
        for tmp in tmps.values():
            tmp.unlink(missing_ok=True)  # a no-op once renamed
    return _fashion_from(dest)


LOADERS: dict[str, Callable[[Optional[PathLike], bool], Dataset]] = {
    "mnist": _load_mnist,
    "fashion_mnist": _load_fashion_mnist,
    "concrete": _tabular("concrete"),
    "red_wine": _tabular("red_wine"),
}


def load(name: str, data_dir: Optional[PathLike] = None, download: bool = True) -> Dataset:
    """Load dataset ``name``, verified; raises ``DataError`` if no good copy can be had."""
    if name not in LOADERS:
        raise SpecError(f"unknown dataset {name!r}; known datasets are {sorted(LOADERS)}.")
    return LOADERS[name](data_dir, download)


def prepare(ds: Dataset, data: Data, seed: Optional[int] = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Apply ``data``: first-n subsamples, features flattened to (n, d) float32 and
    multiplied by ``data.scale``; integer labels as int64 (others as float32).
    With ``data.resplit`` the 70/30 split of a tabular set is drawn for ``seed``
    (stream ``[seed, 3]``; ``bench.run.seeds`` uses 0-2) instead of the post's."""
    if data.dataset != ds.name:
        raise SpecError(f"the spec asks for dataset {data.dataset!r} but {ds.name!r} was given.")
    x_train, y_train, x_test, y_test = ds.x_train, ds.y_train, ds.x_test, ds.y_test
    if data.resplit:
        if ds.full is None or seed is None:
            raise SpecError(f"resplit needs a tabular dataset and a seed; got {ds.name!r}, seed {seed}.")
        from bench.data import tabular

        state = int(np.random.SeedSequence([seed, 3]).generate_state(1)[0])
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
