"""All-or-nothing updates of a folder: a report or a publication lands whole, or not at all.

``stage(directory)`` yields an empty folder named like ``directory``, inside a
hidden folder beside it (same filesystem, ``bench.records.scratch`` naming).
Everything is written there first (records, tables, plots, pages); only when
the block ends cleanly is each staged file renamed over its namesake in
``directory``. Until then ``directory`` is untouched, so an interrupt, a
crash or a full disk while writing leaves it exactly as it was, and the staged
folder is removed (or, after SIGKILL, by the next writer's sweep).

The renames are the only step that changes ``directory``; they take
microseconds, and SIGINT and SIGTERM are held back while they run, so an
interrupt lands before them (nothing changed) or after them (everything in
place, raised as ``Committed``), never between two files.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Iterator

from bench.errors import StoreError
from bench.records import scratch

_HELD = (signal.SIGINT, signal.SIGTERM)


class Committed(KeyboardInterrupt):
    """An interrupt that arrived while the staged files were being put in place: they all were."""


@contextlib.contextmanager
def _signals_held() -> Iterator[list]:
    """SIGINT and SIGTERM noted instead of acted on (main thread only; elsewhere a no-op)."""
    caught: list = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    previous = {s: signal.signal(s, lambda signum, frame: caught.append(signum)) for s in _HELD}
    try:
        yield caught
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):   # the renames survive a power cut only with this
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def stage(directory: str | os.PathLike) -> Iterator[Path]:
    """Yield a folder to write ``directory``'s new files into; on a clean exit they replace their
    namesakes in ``directory`` (files not written keep their old version); on any error or
    interrupt nothing in ``directory`` changes."""
    directory = Path(directory)
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        scratch.sweep(directory.parent)
        scratch.sweep(directory)
        root = Path(tempfile.mkdtemp(prefix=scratch.prefix(directory.name), suffix=".staging",
                                     dir=directory.parent))
    except OSError as exc:
        raise StoreError(f"cannot write in {directory.parent}: {exc.strerror or exc}; make it writable or "
                         f"write the results elsewhere.") from exc
    staged = root / directory.name
    try:
        staged.mkdir()
        yield staged
        try:
            names = sorted(p.name for p in staged.iterdir())
            directory.mkdir(parents=True, exist_ok=True)
            with _signals_held() as caught:
                for name in names:
                    os.replace(staged / name, directory / name)
        except OSError as exc:
            raise StoreError(f"cannot write {directory}: {exc.strerror or exc}; make it writable or write "
                             f"the results elsewhere.") from exc
        _fsync_dir(directory)
        if caught:
            raise Committed(f"signal {caught[0]} after the new files of {directory} were in place")
    finally:
        shutil.rmtree(root, ignore_errors=True)
