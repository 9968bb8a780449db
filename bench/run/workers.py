"""Worker processes: groups of seeds trained side by side, each process on its own cores.

On a CPU the serial parts of a training step (dropout's per-seed random draws,
the optimizer, the framework's per-op overhead) hold one core while the other
waits, so two single-threaded processes, each training its own group, get more
done than one process with two threads (see docs/speed.md). A worker is a
spawned process pinned to its share of the CPUs before it imports a framework;
PyTorch and TensorFlow size their thread pools from that affinity. Most records
are the same bits at any thread count (``tests/test_workers.py`` checks C1 in
both frameworks); PyTorch's BatchNorm is the exception, as it splits its batch
statistics across threads, so a worker's share of the cores is fixed by the
worker count asked for, not by how many workers a run happens to need. On a
machine with GPUs each worker is also pinned to one GPU, dealt round-robin
(``bench.host.devices``).

A worker that dies (killed for memory, a crash in native code) fails only the
task it held: ``map`` yields ``WorkerDied`` for it and starts a fresh worker on
the same cores. A task that raises yields ``TaskError``. Closing the pool, or
leaving its ``with`` block by an exception (ctrl-c), ends every worker. A worker
also ends when its parent dies without closing the pool (SIGKILL, a crash): on
Linux the kernel kills it (``PR_SET_PDEATHSIG``), and everywhere a watchdog
thread exits it once its parent process is gone, so no worker outlives its run.
"""
from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import time
import traceback
from collections import deque
from typing import Callable, Iterable, Iterator, Optional

from bench.host import allocator, devices
from bench.errors import BenchError

WORKER_BYTES = 3 << 30   # host memory a worker needs beyond its groups: the frameworks and a dataset
_POLL_S = 1.0


class WorkerDied(BenchError):
    """The worker process running a task ended without answering."""


class TaskError(BenchError):
    """A task raised in its worker: the error's one line, and its traceback there."""

    def __init__(self, message: str, traceback: str = ""):
        super().__init__(message, traceback)
        self.traceback = traceback

    def __str__(self) -> str:
        return self.args[0]


def usable_cores() -> list[int]:
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))


def default_count(gpu, free_bytes: Optional[int]) -> int:
    """``--workers auto``: one per core on a CPU, as many as host memory holds; one per
    GPU where ``gpu`` (a count, or True for one) says GPUs train, each worker on its own."""
    if gpu:
        return int(gpu)
    count = len(usable_cores())
    if free_bytes is not None:
        count = min(count, max(1, free_bytes // WORKER_BYTES))
    return max(1, count)


def core_sets(count: int) -> list[list[int]]:
    """The usable cores dealt round-robin to ``count`` workers (a core is shared only
    when there are more workers than cores)."""
    cores = usable_cores()
    return [cores[i::count] or [cores[i % len(cores)]] for i in range(count)]


PROGRESS = -1   # the index of a progress note, which a task sends while it runs
_NOTES: dict = {}   # in a worker: where its progress notes go (the results queue, slot, task)


def note_progress(amount) -> None:
    """From inside a task: tell ``Pool.map``'s ``on_progress`` that ``amount`` more is
    done (a no-op outside a worker)."""
    if _NOTES:
        _NOTES["results"].put((_NOTES["slot"], PROGRESS, True, (_NOTES["index"], amount)))


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` dies, however it dies. Without this a worker whose
    parent was SIGKILLed waits on its task queue forever, holding its memory."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass   # the watchdog below still applies
    if os.getppid() != parent:   # it died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(_POLL_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="bench-parent-watchdog", daemon=True).start()


def _serve(slot: int, cores: list[int], tasks, results, parent: Optional[int] = None,
           gpu: Optional[str] = None) -> None:
    if parent is not None:
        die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent handles ctrl-c and ends the workers
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cores)
    devices.pin(gpu)   # like the cores: before any framework is imported here
    allocator.keep_freed_memory()
    while True:
        task = tasks.get()
        if task is None:
            return
        index, fn, args = task
        _NOTES.update(results=results, slot=slot, index=index)
        try:   # pickled here, so that a result that cannot be is this task's error, not a lost answer
            results.put((slot, index, True, pickle.dumps(fn(*args))))
        except Exception as exc:   # reported to the parent, which decides what it costs
            results.put((slot, index, False, TaskError(f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=8))))


class Pool:
    """``count`` worker processes; ``map`` runs a module-level function over payloads.
    ``shares`` (default ``count``) is how many ways the cores are dealt: fewer workers
    than shares keep the per-worker cores, and so the thread count, of ``shares``."""

    def __init__(self, count: int, shares: Optional[int] = None):
        self._ctx = multiprocessing.get_context("spawn")
        self._results = self._ctx.Queue()
        self._cores = core_sets(max(count, shares or count))[:count]
        self._gpus = devices.worker_gpus(count)   # one GPU per worker where there are several
        self._procs: list = [None] * count
        self._tasks: list = [None] * count
        for slot in range(count):
            self._start(slot)

    def __len__(self) -> int:
        return len(self._procs)

    def _start(self, slot: int) -> None:
        self._tasks[slot] = self._ctx.Queue()
        self._procs[slot] = self._ctx.Process(target=_serve, args=(slot, self._cores[slot], self._tasks[slot],
                                                                   self._results, os.getpid(), self._gpus[slot]),
                                              daemon=True)
        self._procs[slot].start()

    def map(self, fn: Callable, payloads: Iterable[tuple], on_progress=None) -> Iterator[tuple[int, bool, object]]:
        """Yield ``(index, ok, value)`` per payload as each finishes: ``fn(*payload)``'s
        result, or a ``TaskError`` / ``WorkerDied``. Payloads start in order.
        ``on_progress(index, amount)`` receives a running task's ``note_progress``."""
        pending, busy = deque(enumerate(payloads)), {}
        while pending or busy:
            for slot in range(len(self)):
                if slot not in busy and pending:
                    if not self._procs[slot].is_alive():
                        self._start(slot)
                    index, args = pending.popleft()
                    self._tasks[slot].put((index, fn, tuple(args)))
                    busy[slot] = index
            try:
                slot, index, ok, value = self._results.get(timeout=_POLL_S)
            except queue.Empty:
                for slot, index in list(busy.items()):
                    proc = self._procs[slot]
                    if not proc.is_alive():
                        del busy[slot]
                        self._start(slot)
                        yield index, False, WorkerDied(f"its worker process ended with exit code {proc.exitcode}"
                                                       f"{' (killed; out of memory?)' if proc.exitcode == -9 else ''}.")
                continue
            if index == PROGRESS:
                if on_progress is not None:
                    on_progress(*value)
                continue
            busy.pop(slot, None)
            yield index, ok, pickle.loads(value) if ok else value

    def each(self, fn: Callable, args: tuple = ()) -> list:
        """``fn(*args)`` once on every worker (e.g. to import and load before a timed
        map); the results in worker order. Raises the first failure."""
        for slot, tasks in enumerate(self._tasks):
            tasks.put((slot, fn, tuple(args)))
        out = [None] * len(self)
        for _ in range(len(self)):
            while True:
                try:
                    slot, _, ok, value = self._results.get(timeout=_POLL_S)
                    break
                except queue.Empty:
                    dead = [p for p in self._procs if not p.is_alive()]
                    if dead:
                        raise WorkerDied(f"a worker process ended with exit code {dead[0].exitcode}.")
            if not ok:
                raise value
            out[slot] = pickle.loads(value)
        return out

    def close(self, wait: bool = True) -> None:
        for proc, tasks in zip(self._procs, self._tasks):
            if proc.is_alive():
                if wait:
                    tasks.put(None)
                else:
                    proc.terminate()
        for proc in self._procs:
            proc.join(timeout=30 if wait else 5)
            if proc.is_alive():
                proc.kill()
                proc.join()

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        self.close(wait=exc is None)
