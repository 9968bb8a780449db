"""The run-record format: one JSON object per line in ``<results>/<profile>/records.jsonl``.

Each record is a versioned envelope (``schema``) that carries the case, arm,
framework, mode, seed and profile, the outcome of ``bench.training`` (or the
error of a failed seed) and the versions of the code, Python, the frameworks
and the device. Records are appended and flushed to disk as soon as a seed
finishes, so a killed run keeps everything it finished. When a key appears
more than once the last record wins, which is how a failed seed is retried.
"""
from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import Iterable, Iterator

from bench.errors import StoreError

SCHEMA = 1
KEY_FIELDS = ("case", "arm", "framework", "mode", "seed")


def key(record: dict) -> tuple:
    return tuple(record[f] for f in KEY_FIELDS)


def records_path(results_dir: str | os.PathLike, profile: str) -> Path:
    return Path(results_dir) / profile / "records.jsonl"


NONFINITE = "nonfinite"   # the record field naming each non-finite value stored as null


def _clean(value):
    """Strict JSON: a non-finite float is stored as ``null`` and its kind ("nan",
    "inf", "-inf") is kept in the record's ``nonfinite`` field under its dotted
    path (``{"metrics.min_val_mae": "nan"}``), so pandas reads float columns and
    nothing is lost."""
    found: dict = {}
    out = _strict(value, "", found)
    if found and isinstance(out, dict):
        out[NONFINITE] = found
    return out


def _strict(value, path: str, found: dict):
    if isinstance(value, float) and not math.isfinite(value):
        found[path] = str(value)
        return None
    if isinstance(value, dict):
        return {k: _strict(v, f"{path}.{k}" if path else str(k), found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v, f"{path}.{i}" if path else str(i), found) for i, v in enumerate(value)]
    return value


def _restore(value):
    """The record as written: the ``nonfinite`` paths back to floats; records of
    earlier versions, which stored the strings "nan"/"inf"/"-inf", read the same."""
    value = _legacy(value)
    if isinstance(value, dict) and isinstance(value.get(NONFINITE), dict):
        value = dict(value)
        for path, kind in value.pop(NONFINITE).items():
            _put(value, path.split("."), float(kind))
    return value


def _legacy(value):
    if value in ("nan", "inf", "-inf"):
        return float(value)
    if isinstance(value, dict):
        return {k: _legacy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_legacy(v) for v in value]
    return value


def _put(node, parts: list, number: float) -> None:
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.get(part)
        if node is None:
            return   # a path this reader cannot follow: leave the null
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = number
    elif isinstance(node, dict):
        node[last] = number


class RecordWriter:
    """Appends records to one JSONL file, fsync'ed one by one."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")
        except OSError as exc:
            raise StoreError(f"cannot write results to {self.path.parent}: {exc.strerror}; "
                             f"pass a writable --results-dir.") from exc

    def append(self, record: dict) -> None:
        line = json.dumps(_clean({"schema": SCHEMA, **record}), sort_keys=True, allow_nan=False)
        self._fh.write(line + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def iter_records(path: str | os.PathLike) -> Iterator[dict]:
    """Every parseable record in file order. A torn last line (a run killed
    mid-write) is skipped with a warning; a record of another schema is an error."""
    path = Path(path)
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        lines = fh.readlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            warnings.warn(f"{path}:{number}: skipped an unreadable record (torn write?)")
            continue
        if record.get("schema") != SCHEMA:
            raise StoreError(f"{path}:{number} has record schema {record.get('schema')!r} but this "
                             f"version reads schema {SCHEMA}; rerun into a fresh --results-dir.")
        yield _restore(record)


def latest(records: Iterable[dict]) -> dict[tuple, dict]:
    """The last record per key."""
    out = {}
    for record in records:
        out[key(record)] = record
    return out


def load(results_dir: str | os.PathLike, profile: str) -> list[dict]:
    """The latest record per key for ``profile``."""
    return list(latest(iter_records(records_path(results_dir, profile))).values())
