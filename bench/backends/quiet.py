"""Framework start-up logging kept off the terminal unless ``bench -v`` asks for it.

TensorFlow prints about ten lines when it is imported (oneDNN, CUDA stubs, a
``failed call to cuInit`` error on CPU-only machines), and every worker process
would repeat them. Its C++ log level is read from the environment when it is
imported, so ``configure`` sets it before any framework import; because the
variables are inherited, spawned workers get the same setting. The lines TF
writes before its logging is initialised ignore that level, so the import
itself runs with file descriptor 2 pointed at /dev/null (``framework_import``);
an import that fails still raises, with its message, as a Python exception.
"""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator

MODE_ENV = "BENCH_FRAMEWORK_LOGS"   # "quiet" (set by the CLI) or "verbose"; unset: leave as is
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "GRPC_VERBOSITY": "ERROR", "GLOG_minloglevel": "3",
             "ABSL_MIN_LOG_LEVEL": "3"}


def configure(verbose: bool) -> None:
    """Set the framework log levels for this process and the workers it spawns."""
    os.environ[MODE_ENV] = "verbose" if verbose else "quiet"
    if not verbose:
        for name, value in QUIET_ENV.items():
            os.environ.setdefault(name, value)   # a level the user set explicitly wins


def quiet() -> bool:
    return os.environ.get(MODE_ENV) == "quiet"


@contextlib.contextmanager
def framework_import() -> Iterator[None]:
    """Run a framework's first import with its stderr chatter discarded (quiet mode only)."""
    if not quiet():
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        yield
        return
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
