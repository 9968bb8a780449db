"""Tabular regression datasets of seed post 003: concrete and red wine, as CSV.

``load`` searches the same places as every loader (``bench.data.search_dirs``)
and uses the first copy found; a bad copy is an error, never skipped. Columns
are selected by name, so their order in the file does not matter; a missing or
unexpected column, a cell that is not a finite number, an empty file or a
wrong checksum is a ``DataError`` that names the file and the problem.

Checksums: a file whose bytes match the sha256 published in
``shared/data/README.md`` passes at once. Any other file (columns reordered,
``;`` as separator, a download converted from UCI's format) must hold the same
values: the sha256 of its float64 table, canonical column order, file row
order (row order matters, the split picks rows by position).

The post's split is ``df.sample(frac=0.7, random_state=0)`` for training and
the remaining rows, in file order, for validation (``split_indices``).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import pandas as pd

from bench import data
from bench.errors import DataError

TRAIN_FRAC = 0.7  # the post: df.sample(frac=0.7, random_state=0)
POST_RANDOM_STATE = 0


class BadTable(Exception):
    """A file that exists but does not hold the expected table; the text says why."""


@dataclass(frozen=True)
class Table:
    file: str
    columns: tuple[str, ...]  # canonical order: the published file's; the target is last
    rows: int
    file_sha256: str
    content_sha256: str
    url: str
    convert: Optional[Callable[[Path], pd.DataFrame]] = None  # canonical source -> table; None: it is a CSV

    @property
    def target(self) -> str:
        return self.columns[-1]


def _from_uci_xls(path: Path) -> pd.DataFrame:
    """UCI ships concrete as ``Concrete_Data.xls`` with long headers and
    unrounded strengths; the published CSV has short names and 2 decimals."""
    try:
        frame = pd.read_excel(path, engine="xlrd")
    except ImportError as exc:
        raise BadTable("reading UCI's Concrete_Data.xls needs the xlrd package (pip install xlrd)") from exc
    except Exception as exc:  # noqa: BLE001 - any reader failure means "not the xls we expect"
        raise BadTable(f"it cannot be read as UCI's Concrete_Data.xls ({type(exc).__name__}: {exc})") from exc
    short = {"cement": "cement", "blast furnace slag": "slag", "fly ash": "ash", "water": "water",
             "superplasticizer": "superplastic", "coarse aggregate": "coarseagg",
             "fine aggregate": "fineagg", "age": "age", "concrete compressive strength": "strength"}
    frame.columns = [short.get(str(c).split("(")[0].strip().lower(), str(c)) for c in frame.columns]
    return _numeric(frame, TABLES["concrete"]).round(2)


TABLES = {
    "concrete": Table(
        "concrete.csv",
        ("cement", "slag", "ash", "water", "superplastic", "coarseagg", "fineagg", "age", "strength"), 1030,
        "d7d8bd087f832935e902bcb2687667238cac3fe06799677a93ca2f46dce8db02",
        "d0e2d2f0f50277624d7d00b98c4e8b66465e8d5f2f51738500552b8b10a4689b",
        "https://archive.ics.uci.edu/ml/machine-learning-databases/concrete/compressive/Concrete_Data.xls",
        _from_uci_xls),
    "red_wine": Table(
        "red-wine.csv",
        ("fixed acidity", "volatile acidity", "citric acid", "residual sugar", "chlorides",
         "free sulfur dioxide", "total sulfur dioxide", "density", "pH", "sulphates", "alcohol", "quality"), 1599,
        "f94ba76eea91f038d0491bc9483460cbbd4247e4d661ebfa7ccf1f1f97f1a303",
        "d4f6a6d672e0ee31d41fdd93b4b58985b45a31f2f971499c18137c42229278ac",
        # UCI's file has the same values, ';'-separated; read_csv_table accepts both.
        "https://archive.ics.uci.edu/ml/machine-learning-databases/wine-quality/winequality-red.csv"),
}


# --- reading and verifying -------------------------------------------------------

def _numeric(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """The table's columns, by name, as float64; raises ``BadTable`` on any other shape."""
    cols = [str(c).strip() for c in frame.columns]
    missing = [c for c in table.columns if c not in cols]
    if missing:
        raise BadTable(f"it lacks the column(s) {missing} (its header is {cols})")
    extra = [c for c in cols if c not in table.columns]
    if extra or len(cols) != len(set(cols)):
        raise BadTable(f"it has unexpected or repeated column(s) {extra or cols}; "
                       f"expected exactly {list(table.columns)}, in any order")
    frame = frame.set_axis(cols, axis=1)
    if frame.empty:
        raise BadTable("it has a header but no data rows")
    out = {}
    for col in table.columns:
        raw = frame[col]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = int(bad[0])
            raise BadTable(f"column {col!r} has {str(raw.iloc[i]).strip()!r} at data row {i + 1} "
                           f"(line {i + 2}), which is not a finite number")
        out[col] = values
    return pd.DataFrame(out, columns=list(table.columns))


def read_csv_table(path: Path, table: Table) -> pd.DataFrame:
    """Parse ``path`` as ``table``: comma- or semicolon-separated, any column order."""
    try:
        with open(path, encoding="utf-8") as f:
            header = f.readline()
        sep = ";" if header.count(";") > header.count(",") else ","
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError as exc:
        raise BadTable("it is empty") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise BadTable(f"it cannot be parsed as CSV ({type(exc).__name__}: {exc})") from exc
    return _numeric(frame, table)


def content_sha256(frame: pd.DataFrame) -> str:
    return hashlib.sha256(np.ascontiguousarray(frame.to_numpy(np.float64)).tobytes()).hexdigest()


def _verify(frame: pd.DataFrame, table: Table, path: Optional[Path] = None) -> pd.DataFrame:
    if path is not None and hashlib.sha256(path.read_bytes()).hexdigest() == table.file_sha256:
        return frame
    if len(frame) != table.rows:
        raise BadTable(f"it has {len(frame)} data rows, expected {table.rows}")
    if content_sha256(frame) != table.content_sha256:
        raise BadTable(f"neither its bytes nor its values match the published sha256 {table.file_sha256[:12]}... "
                       f"(a different or edited copy; row order matters)")
    return frame


# --- finding a copy --------------------------------------------------------------

def _find(table: Table, data_dir, download: bool) -> tuple[pd.DataFrame, Path]:
    places = [d / table.file for d in data.search_dirs(data_dir)]
    for path in places:
        if path.exists():
            try:
                return _verify(read_csv_table(path, table), table, path), path
            except BadTable as exc:
                raise DataError(f"{path} is not a valid {table.file}: {exc}; "
                                f"replace it with a good copy or delete it.") from exc
    searched = ", ".join(str(p) for p in places)
    how = data.HOW_TO_PROVIDE.format(file=table.file)
    if not download:
        raise DataError(f"{table.file} was not found in {searched} and downloading is disabled; {how}.")
    dest = data.project_cache() / table.file
    try:
        raw = data.download_file(table.url, dest)
    except (OSError, urllib.error.URLError, ValueError) as exc:
        raise DataError(f"{table.file} was not found in {searched} and the download from {table.url} "
                        f"failed ({exc}); {how}.") from exc
    try:
        frame = _verify((table.convert or (lambda p: read_csv_table(p, table)))(raw), table)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            frame.to_csv(out, index=False)  # canonical form; verified by content on later loads
        os.replace(tmp, dest)
    except BadTable as exc:
        raise DataError(f"the {table.file} downloaded from {table.url} failed verification ({exc}) "
                        f"and was deleted; {how}.") from exc
    finally:
        raw.unlink(missing_ok=True)
    return frame, dest


def split_indices(n: int, random_state: int = POST_RANDOM_STATE) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) row positions: ``sample(frac=0.7, random_state)``
    in its sampled order, then the remaining rows in file order."""
    train = pd.RangeIndex(n).to_series().sample(frac=TRAIN_FRAC, random_state=random_state).to_numpy()
    return train, np.setdiff1d(np.arange(n), train)


def load(name: str, data_dir=None, download: bool = True) -> data.Dataset:
    """The verified table as a ``Dataset`` holding the post's split and, in
    ``full``, every row in file order (for a seeded resplit)."""
    table = TABLES[name]
    frame, path = _find(table, data_dir, download)
    x = frame[list(table.columns[:-1])].to_numpy(np.float64)
    y = frame[table.target].to_numpy(np.float64)
    for a in (x, y):
        a.setflags(write=False)
    train, valid = split_indices(len(frame))
    return data.Dataset(name, x[train], y[train], x[valid], y[valid], str(path), full=(x, y))
