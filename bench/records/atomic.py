"""Atomic file writes: a report, plot, table or baseline is either the old file or the whole new one.

The content goes to a temporary file in the target's own directory (so the
rename stays on one filesystem), is fsync'ed, and then replaces the target with
``os.replace``. A crash or a full disk mid-write leaves the old file as it was
and no stray temporary file; a read-only or full target is one ``StoreError``.
The temporary name carries its writer (``bench.records.scratch``), and each
write first removes the temporary files that dead writers left in its directory.
"""
from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from bench.errors import StoreError
from bench.records import scratch


def _error(path: Path, exc: OSError) -> StoreError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreError(f"cannot write {path}: the disk holding {path.parent} is full ({exc.strerror}); "
                          f"the previous {path.name}, if any, is unchanged; free some space and rerun.")
    return StoreError(f"cannot write {path}: {exc.strerror or exc}; the previous {path.name}, if any, is "
                      f"unchanged; make {path.parent} writable or write the results elsewhere.")


@contextlib.contextmanager
def target(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write into; on a clean exit it is
    fsync'ed and renamed over ``path``, on any error it is removed."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch.sweep(path.parent)
        fd, name = tempfile.mkstemp(prefix=scratch.prefix(path.name), suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)   # mkstemp's 0600 would make the published files private
        os.replace(tmp, path)
        tmp = None
        with contextlib.suppress(OSError):   # the rename itself survives a power cut only with this
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except OSError as exc:
        raise _error(path, exc) from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tmp.unlink()


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return ``path``."""
    with target(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
    return Path(path)


def write_with(path: str | os.PathLike, save: Callable[[Path], None]) -> Path:
    """``save(tmp)`` writes the file (a plot, a CSV); it lands at ``path`` atomically."""
    with target(path) as tmp:
        save(tmp)
    return Path(path)
