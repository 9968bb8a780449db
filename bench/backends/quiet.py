"""Framework start-up logging kept off the terminal unless ``bench -v`` asks for it.

TensorFlow prints about ten lines when it is imported (oneDNN, CUDA stubs, a
``failed call to cuInit`` error on CPU-only machines), and every worker process
would repeat them. Its C++ log level is read from the environment when it is
imported, so ``configure`` sets it before any framework import; because the
variables are inherited, spawned workers get the same setting. The lines TF
writes before its logging is initialised ignore that level, so the import
itself runs with file descriptor 2 pointed at /dev/null (``framework_import``);
an import that fails still raises, with its message, as a Python exception.

``bench run -q`` passes what the run writes to stderr through ``ImportantLines``.
A logging handler created meanwhile (absl's, when TensorFlow is imported in
this process) keeps that stream and closes it when Python shuts down, so it
behaves as a stream there too: closing it flushes and leaves the real stderr open.
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


class ImportantLines:
    """A stderr stand-in that keeps only lines about errors, warnings, failures and interrupts
    (``bench run -q``); whole lines only (print writes a line's text and its newline separately)."""

    WORDS = ("error", "warning", "failed", "interrupted")

    def __init__(self, stream):
        self.stream, self.pending = stream, ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            if any(word in line.lower() for word in self.WORDS):
                self.stream.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def close(self) -> None:
        """Flush only: the stream underneath is the process's stderr, not this object's to close."""
        self.flush()

    def isatty(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return False

    @property
    def encoding(self) -> str:
        return getattr(self.stream, "encoding", "utf-8")
