"""Where a dataset file is found, and how a missing one is downloaded and verified.

``search_dirs`` lists the places every loader searches, in order: ``data_dir``
(else ``$BENCH_DATA_DIR``), the Keras cache ``~/.keras/datasets``, and the
project cache (``$BENCH_CACHE_DIR`` else ``~/.cache/bench``); only if no copy
exists anywhere is one downloaded into the project cache. A data dir that was
named but is not a readable directory is an error before any search, so a
typo never falls through to the caches or a download. The first copy found
is the one used: if it fails verification that is an error, never a silent
fall-back to another copy, so a run cannot quietly train on different data
from the one its record names. A download lands under its real name only once
it verifies.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Optional

from bench.data.formats import BadFile, PathLike
from bench.errors import DataError

DOWNLOAD_TIMEOUT_S = 60
HOW_TO_PROVIDE = "put {file} in a directory and pass --data-dir DIR or set BENCH_DATA_DIR=DIR"


def project_cache() -> Path:
    """Where downloads go: ``$BENCH_CACHE_DIR``, else ``~/.cache/bench``."""
    return Path(os.environ.get("BENCH_CACHE_DIR") or Path.home() / ".cache" / "bench")


def given_dir(data_dir: Optional[PathLike] = None) -> Optional[Path]:
    """The directory the user named (``data_dir``, else ``$BENCH_DATA_DIR``), checked: one that
    is not a readable directory is a ``DataError``, never skipped for the caches or a download."""
    if data_dir is not None:
        first, how = Path(data_dir), "--data-dir"
    elif os.environ.get("BENCH_DATA_DIR"):
        first, how = Path(os.environ["BENCH_DATA_DIR"]), "BENCH_DATA_DIR"
    else:
        return None
    if not first.exists():
        problem = "does not exist"
    elif not first.is_dir():
        problem = "is a file, not a directory"
    elif not os.access(first, os.R_OK | os.X_OK):
        problem = "is not readable"
    else:
        return first
    raise DataError(f"{how} {first} {problem}; point it at the directory holding the datasets "
                    f"(or leave it out to use the caches).")


def search_dirs(data_dir: Optional[PathLike] = None) -> list[Path]:
    """The directories ``load`` searches, in order, without duplicates."""
    first = given_dir(data_dir)
    dirs = [first] if first is not None else []
    dirs += [Path.home() / ".keras" / "datasets", project_cache()]
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def fetch(filename: str, url: str, data_dir: Optional[PathLike], download: bool,
          read: Callable[[Path], dict]) -> tuple[dict, Path]:
    """Read the first copy of ``filename`` found, or download one; return (arrays, path).
    ``read`` verifies as it reads and raises ``BadFile`` on a copy that does not match."""
    places = [d / filename for d in search_dirs(data_dir)]
    for path in places:
        if path.exists():
            try:
                return read(path), path
            except BadFile as exc:
                raise DataError(f"{path} is not a valid {filename}: {exc}; "
                                f"replace it with a good copy or delete it.") from exc
    searched = ", ".join(str(p) for p in places)
    how = HOW_TO_PROVIDE.format(file=filename)
    if not download:
        raise DataError(f"{filename} was not found in {searched} and downloading is disabled; {how}.")
    dest = project_cache() / filename
    try:
        tmp = download_to(url, dest)
    except (OSError, urllib.error.URLError, ValueError) as exc:
        raise DataError(f"{filename} was not found in {searched} and the download from {url} "
                        f"failed ({exc}); {how}.") from exc
    try:
        arrays = read(tmp)
        os.replace(tmp, dest)  # atomic: dest is either absent or a verified copy
    except BadFile as exc:
        raise DataError(f"the {filename} downloaded from {url} failed verification ({exc}) "
                        f"and was deleted; {how}.") from exc
    finally:
        tmp.unlink(missing_ok=True)  # a no-op once renamed
    return arrays, dest


def download_to(url: str, dest: Path) -> Path:
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
