"""Readers for the file formats the datasets come in: npz archives and gzipped IDX files.

Each reader checks what the file holds (array names, shapes, dtypes, and the
sha256 of the content rather than of the bytes, since the same data is saved
differently by different tools) and raises ``BadFile`` with the reason when it
does not match. CSV tables are read by ``tabular``, which knows their columns.
"""
from __future__ import annotations

import gzip
import hashlib
import math
import os
import zipfile
import zlib
from pathlib import Path
from typing import Callable, Optional, Union

import numpy as np

from bench.errors import DataError

PathLike = Union[str, os.PathLike]

# Everything np.load and zipfile raise on a file that is not a sound npz.
READ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)
IDX_UBYTE = 0x08  # the IDX type code of unsigned bytes, the only one these sets use


class BadFile(Exception):
    """A file that exists but does not hold the expected data; the text says why."""


def verified_npz(expected: dict) -> Callable[[Path], dict]:
    """A reader that returns the arrays of an npz whose contents match ``expected``
    (key -> (shape, dtype, sha256 of the C-contiguous ``tobytes()``))."""
    def read(path: Path) -> dict:
        if not zipfile.is_zipfile(path):  # np.load would blame "pickled data" instead
            raise BadFile("it is not an npz (zip) archive (perhaps truncated, or another format)")
        try:
            npz = np.load(path, allow_pickle=False)
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise BadFile("it holds a single array, not an npz archive")
            with npz:
                missing = [k for k in expected if k not in npz.files]
                if missing:
                    raise BadFile(f"it lacks the array(s) {missing} (it has {npz.files})")
                arrays = {k: npz[k] for k in expected}
        except READ_ERRORS as exc:
            raise BadFile(f"it cannot be read as an npz archive ({type(exc).__name__}: {exc})") from exc
        for key, (shape, dtype, sha256) in expected.items():
            a = arrays[key]
            if a.shape != tuple(shape) or a.dtype != np.dtype(dtype):
                raise BadFile(f"array {key!r} is {a.dtype}{list(a.shape)}, expected {dtype}{list(shape)}")
            if hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest() != sha256:
                raise BadFile(f"array {key!r} does not match its published sha256 (corrupt or a different dataset)")
            a.setflags(write=False)
        return arrays
    return read


def parse_idx(path: Path, ndim: int, sha256: Optional[str] = None) -> np.ndarray:
    """The uint8 array in a gzipped IDX file of ``ndim`` dimensions. The header
    is magic 0x0000 0x08 ndim, then ndim big-endian uint32 sizes; the payload
    must hold exactly their product of bytes."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise BadFile(f"it cannot be decompressed as gzip ({type(exc).__name__}: {exc})") from exc
    magic = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
    expected = (IDX_UBYTE << 8) | ndim
    if magic != expected:
        got = "a file shorter than 4 bytes" if magic is None else f"0x{magic:08x}"
        raise BadFile(f"its magic number is {got}, expected 0x{expected:08x} (IDX, uint8, {ndim}-d)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise BadFile(f"its header is truncated ({len(raw)} bytes, the {ndim} sizes need {header})")
    dims = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    want, have = math.prod(dims), len(raw) - header
    if have != want:
        kind = "truncated" if have < want else "too long"
        raise BadFile(f"its payload is {kind}: {have} bytes where the header's sizes {list(dims)} need {want}")
    if sha256 is not None and hashlib.sha256(raw).hexdigest() != sha256:
        raise BadFile("its content does not match its published sha256 (corrupt or a different dataset)")
    array = np.frombuffer(raw, np.uint8, offset=header).reshape(dims)
    array.setflags(write=False)
    return array


def read_idx(path: PathLike, ndim: int, sha256: Optional[str] = None) -> np.ndarray:
    """``parse_idx`` with a ``DataError`` that names the file."""
    try:
        return parse_idx(Path(path), ndim, sha256)
    except BadFile as exc:
        raise DataError(f"{path} is not a valid IDX file: {exc}; replace it with a good copy or delete it.") from exc


def read_idx_pair(images: PathLike, labels: PathLike, sha256: tuple = (None, None)) -> tuple[np.ndarray, np.ndarray]:
    """Images (n, rows, cols) and labels (n,) from two IDX files whose counts must agree."""
    x, y = read_idx(images, 3, sha256[0]), read_idx(labels, 1, sha256[1])
    if len(x) != len(y):
        raise DataError(f"{images} holds {len(x)} images but {labels} holds {len(y)} labels; "
                        f"they must be the two halves of one split.")
    return x, y
