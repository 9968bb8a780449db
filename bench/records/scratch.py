"""Temporary files and folders named after their writer, and the sweep that removes those of dead writers.

Every atomic write (``bench.records.atomic``) and every staged publication
(``bench.records.staging``) first writes under a hidden name beside its target,
``.<target>.<host>~<pid>.<random>.tmp`` (a folder: ``.staging``). A writer
killed outright (SIGKILL, a power cut) cannot remove its own, so the next
writer into the same directory does: ``sweep`` removes an entry whose writer
ran on this host and is no longer alive, or any entry older than ``STALE_S``
(a writer on another host sharing the directory, or a reused pid). Entries of
the older untagged form (``.<target>.<random>.tmp``) carry no writer, so only
their age counts: ``UNTAGGED_STALE_S``.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import time
from pathlib import Path

STALE_S = 24 * 3600          # a tagged entry this old is stale whoever wrote it
UNTAGGED_STALE_S = 3600      # an untagged entry this old is stale: no single write takes an hour
SUFFIXES = (".tmp", ".staging")
_TAGGED = re.compile(r"^\..+\.(?P<host>[A-Za-z0-9-]{1,32})~(?P<pid>\d+)\.[A-Za-z0-9_]+(?:\.tmp|\.staging)$")
_UNTAGGED = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")   # tempfile.mkstemp's 8 random characters


def host() -> str:
    """This host's name as it appears in a temporary name (letters, digits and dashes)."""
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32] or "host"


def prefix(name: str) -> str:
    """The start of a temporary name for target ``name`` written by this process."""
    return f".{name}.{host()}~{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:   # EPERM: it exists, owned by someone else
        return True
    return True


def stale(path: Path, now: float | None = None) -> bool:
    """Whether ``path`` is a temporary entry left by a writer that is gone (see the module docstring)."""
    name = path.name
    if not name.endswith(SUFFIXES):
        return False
    try:
        age = (time.time() if now is None else now) - path.lstat().st_mtime
    except OSError:
        return False
    tagged = _TAGGED.match(name)
    if tagged:
        if tagged["host"] == host() and int(tagged["pid"]) != os.getpid() and not _alive(int(tagged["pid"])):
            return True
        return age > STALE_S
    return bool(_UNTAGGED.match(name)) and age > UNTAGGED_STALE_S


def sweep(directory: str | os.PathLike) -> list[Path]:
    """Remove the stale temporary files and staging folders directly in ``directory``; return them.
    Never raises: a sweep that cannot remove something leaves it for the next one."""
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        path = Path(entry.path)
        if not stale(path):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed
