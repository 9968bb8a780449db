"""Fashion-MNIST: the four original IDX ``.gz`` files, found, downloaded and verified as one set.

They are found first in the data dir, then in Debian's
``/usr/share/datasets/fashion-mnist`` (package ``dataset-fashion-mnist``), then
in the Keras cache and the project cache; parsed with numpy (``formats``) and
verified by the sha256 of each file's decompressed content. A folder holding
only some of the four files is an error, never skipped.
"""
from __future__ import annotations

import os
import urllib.error
from pathlib import Path
from typing import Callable, Optional

from bench.data import sources
from bench.data.dataset import Dataset
from bench.data.formats import BadFile, PathLike, parse_idx, read_idx
from bench.errors import DataError

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


def fashion_dirs(data_dir: Optional[PathLike] = None) -> list[Path]:
    """Where ``load`` looks, in order: the data dir (its ``fashion-mnist/``
    subfolder, then the dir itself), Debian's folder, then ``fashion-mnist/`` in
    the Keras cache and in the project cache."""
    dirs = sources.search_dirs(data_dir)
    given = data_dir is not None or bool(os.environ.get("BENCH_DATA_DIR"))
    head = [dirs[0] / FASHION_DIR, dirs[0]] if given else []
    rest = [FASHION_DEBIAN_DIR] + [d / FASHION_DIR for d in (dirs[1:] if given else dirs)]
    return head + rest


def _read_fashion(directory: Path, parse: Callable = parse_idx) -> dict:
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


def load(data_dir: Optional[PathLike], download: bool) -> Dataset:
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
    dest = sources.project_cache() / FASHION_DIR
    tmps: dict[str, Path] = {}
    try:
        for name in names:
            try:
                tmps[name] = sources.download_to(FASHION_URL + name, dest / name)
            except (OSError, urllib.error.URLError, ValueError) as exc:
                raise DataError(f"Fashion-MNIST was not found in {searched} and the download of "
                                f"{FASHION_URL + name} failed ({exc}); {how}.") from exc
        for key, (name, shape, sha256) in FASHION_FILES.items():
            try:
                parse_idx(tmps[name], len(shape), sha256)
            except BadFile as exc:
                raise DataError(f"the {name} downloaded from {FASHION_URL} failed verification ({exc}) "
                                f"and was deleted; {how}.") from exc
        for name, tmp in tmps.items():
            os.replace(tmp, dest / name)
    finally:
        for tmp in tmps.values():
            tmp.unlink(missing_ok=True)  # a no-op once renamed
    return _fashion_from(dest)
