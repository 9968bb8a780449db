"""The run-record format: one JSON object per line in ``<results>/<profile>/records.jsonl``.

Each record is a versioned envelope (``schema``) that carries the case, arm,
framework, mode, seed and profile, the outcome of ``bench.run.training`` (or the
error of a failed seed) and the versions of the code, Python, the frameworks
and the device. Records are appended and flushed to disk as soon as a seed
finishes, so a killed run keeps everything it finished. When a key appears
more than once the last record wins, which is how a failed seed is retried.

What survives a fault: each record is one ``write`` of one whole line, then
fsync'ed. A line torn by a crash or a full disk is found when the file is next
opened for appending and moved to ``records.jsonl.torn`` (kept, never dropped)
before anything is appended after it. A write that fails (full disk) is cut
back off the file and becomes one ``StoreError`` naming the directory and the
bytes needed, so every earlier record stays intact. The reader checks each
record's shape and names the line and key that are wrong.
"""
from __future__ import annotations

import errno
import json
import math
import numbers
import os
import warnings
from pathlib import Path
from typing import Iterable, Iterator

from bench.errors import StoreError

SCHEMA = 1
KEY_FIELDS = ("case", "arm", "framework", "mode", "seed")
# A record's identity: its key and the spec hash it was trained under (``bench.records.identity``), so a
# record of another spec never hides, nor is hidden by, one of the current spec.
IDENTITY_FIELDS = (*KEY_FIELDS, "spec_hash")


def key(record: dict) -> tuple:
    return tuple(record[f] for f in KEY_FIELDS)


def identity(record: dict) -> tuple:
    return tuple(record.get(f) for f in IDENTITY_FIELDS)


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
    """The record as written: the ``nonfinite`` paths back to floats;
    records that store the strings "nan"/"inf"/"-inf" instead read the same."""
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


TORN_SUFFIX = ".torn"


def _space_error(directory: Path, needed: int, exc: OSError) -> StoreError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreError(f"the disk holding {directory} is full ({exc.strerror}): writing the next record "
                          f"needs at least {needed} bytes more; every earlier record is intact, so free some "
                          f"space and rerun the same command to resume.")
    return StoreError(f"cannot write results to {directory}: {exc.strerror}; every earlier record is intact; "
                      f"pass a writable --results-dir.")


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
    """Appends records to one JSONL file, each in one write of a whole line, fsync'ed one by one."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.torn: Path | None = None   # where a torn tail found on opening was moved
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot write results to {self.path.parent}: {exc.strerror}; "
                             f"pass a writable --results-dir.") from exc
        try:
            self._set_aside_torn_tail()
        except OSError as exc:
            os.close(self._fd)
            raise _space_error(self.path.parent, 0, exc) from exc

    def _set_aside_torn_tail(self) -> None:
        """A file that does not end in a newline ends in a torn write: appending to it
        would join the next record to the fragment, and lose both. Move the fragment to
        the side file (so nothing is silently dropped) and cut it off."""
        size = os.fstat(self._fd).st_size
        if size == 0:
            return
        tail, start = b"", size
        while start > 0:
            step = min(65536, start)
            chunk = os.pread(self._fd, step, start - step)
            if start == size and chunk.endswith(b"\n"):
                return
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                tail = chunk[cut + 1:] + tail
                start = start - step + cut + 1
                break
            tail, start = chunk + tail, start - step
        self.torn = self.path.with_name(self.path.name + TORN_SUFFIX)
        side = os.open(self.torn, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            _write_all(side, tail + b"\n")
            os.fsync(side)
        finally:
            os.close(side)
        os.ftruncate(self._fd, start)
        os.fsync(self._fd)
        warnings.warn(f"{self.path} ended in a torn record ({len(tail)} bytes, from a crash or a full disk); "
                      f"moved it to {self.torn} before appending.", stacklevel=2)

    def append(self, record: dict) -> None:
        line = json.dumps(_clean({"schema": SCHEMA, **record}), sort_keys=True, allow_nan=False)
        data = (line + "\n").encode("utf-8")
        size = os.fstat(self._fd).st_size
        try:
            _write_all(self._fd, data)
            os.fsync(self._fd)
        except OSError as exc:
            try:   # cut the partial line back off, so the file still ends in a whole record
                os.ftruncate(self._fd, size)
            except OSError:
                pass   # the next writer moves it to the side file
            raise _space_error(self.path.parent, len(data), exc) from exc

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _write_all(fd: int, data: bytes) -> None:
    """One ``os.write`` of the whole line; a short write (only on a full disk) is an error."""
    written = os.write(fd, data)
    if written != len(data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


_KEY_TYPES = {"case": str, "arm": str, "framework": str, "mode": str, "seed": int, "status": str}


def _shape_error(record, profile: str | None) -> str | None:
    """What is wrong with the shape of a parsed record, or None."""
    if not isinstance(record, dict):
        return f"is a JSON {type(record).__name__}, not a record object"
    for name, kind in _KEY_TYPES.items():
        if name not in record:
            return f"has no {name!r} key"
        value = record[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"has {name!r} = {value!r}, which is not a{'n' if kind is int else ''} {kind.__name__}"
    if profile is not None and record.get("profile", profile) != profile:
        return (f"is a record of profile {record['profile']!r} filed under profile {profile!r}; "
                f"move it to that profile's records.jsonl")
    if record["status"] == "ok":
        if not isinstance(record.get("metrics"), dict):
            return "is an ok record without a 'metrics' object"
        for name, value in record["metrics"].items():
            if not isinstance(value, numbers.Real):
                return f"has metric {name!r} = {value!r}, which is not a number"
        if not isinstance(record.get("diverged"), bool):
            return "is an ok record without a true/false 'diverged' key"
        if "curve" in record and not isinstance(record["curve"], dict):
            return "has a 'curve' that is not an object"
    return None


def iter_records(path: str | os.PathLike, profile: str | None = None) -> Iterator[dict]:
    """Every parseable record in file order. A torn last line (a run killed
    mid-write) is skipped with a warning; a record of another schema, or of the
    wrong shape (or, with ``profile``, of another profile), is an error that names its line."""
    path = Path(path)
    if not path.exists():
        return
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.readlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"cannot read the records {path}: {exc}.") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            torn = number == len(lines) and not line.endswith("\n")
            warnings.warn(f"{path}:{number}: skipped an unreadable record " + (
                f"(the last line is torn; the next run moves it to {path.name}{TORN_SUFFIX} before appending)"
                if torn else "(torn write?)"))
            continue
        if isinstance(record, dict) and record.get("schema") != SCHEMA:
            raise StoreError(f"{path}:{number} has record schema {record.get('schema')!r} but this "
                             f"version reads schema {SCHEMA}; rerun into a fresh --results-dir.")
        record = _restore(record)
        problem = _shape_error(record, profile)
        if problem:
            raise StoreError(f"{path}:{number} {problem}; fix or delete that line (it is not a record "
                             f"this version wrote).")
        yield record


def require_complete(records: Iterable[dict], path: str | os.PathLike) -> None:
    """What a report needs beyond the reader's checks: every ok record's learning curve
    and timing (synthetic records in tests may lack them; records the runner writes never do)."""
    for r in records:
        if r.get("status") != "ok":
            continue
        where = f"the record {'/'.join(str(r.get(f)) for f in KEY_FIELDS)} in {path}"
        if not isinstance(r.get("curve"), dict):
            raise StoreError(f"{where} has no 'curve' object, so no report can be drawn from it; "
                             f"rerun that seed into a fresh --results-dir.")
        timing = r.get("timing")
        if not (isinstance(timing, dict) and isinstance(timing.get("wall_s"), numbers.Real)):
            raise StoreError(f"{where} has no 'timing.wall_s' number, so no report can be drawn from it; "
                             f"rerun that seed into a fresh --results-dir.")


def latest(records: Iterable[dict]) -> dict[tuple, dict]:
    """The last record per identity (key and spec hash)."""
    out = {}
    for record in records:
        out[identity(record)] = record
    return out


def load(results_dir: str | os.PathLike, profile: str) -> list[dict]:
    """The latest record per identity for ``profile``; ``bench.records.identity.load`` keeps the current ones."""
    return list(latest(iter_records(records_path(results_dir, profile), profile)).values())
