"""One run at a time per results directory: an exclusive lock on ``<results>/<profile>/.lock``.

Two ``bench run`` on one directory would both train every pending seed and
write each record twice. The lock is ``fcntl.flock`` on a file that holds the
holder's pid, host and command; the kernel drops it when the holder exits,
however it exits (SIGKILL included), so a stale file never blocks a new run.
A second run is refused with one sentence naming the holder.
"""
from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Iterator

from bench.errors import StoreError

try:
    import fcntl
except ImportError:   # not POSIX: no lock, as before
    fcntl = None

LOCK_NAME = ".lock"


class LockedError(StoreError):
    """Another process holds the results directory."""


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return (f"pid {info['pid']} on {info['host']} (`{info['command']}`, since "
                f"{time.strftime('%H:%M:%S', time.localtime(info['since']))})")
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextlib.contextmanager
def hold(directory: str | os.PathLike) -> Iterator[Path]:
    """Hold the lock on ``directory`` for the ``with`` block, or raise ``LockedError``."""
    directory = Path(directory)
    path = directory / LOCK_NAME
    if fcntl is None:
        yield path
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot write results to {directory}: {exc.strerror}; "
                         f"pass a writable --results-dir.") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(f"{directory} is in use by {_holder(path)}; wait for that run to finish, "
                              f"or pass another --results-dir.") from None
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(["bench", *sys.argv[1:]]),
                "since": time.time()}
        with contextlib.suppress(OSError):   # who holds it is a courtesy; the flock is the lock
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
        yield path
    finally:
        os.close(fd)   # releases the flock
