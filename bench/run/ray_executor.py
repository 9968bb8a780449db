"""Groups as Ray tasks: ``bench run --executor ray [--address ADDR]``.

A drop-in for the worker pool (``bench.run.workers.Pool``): ``RayPool.map`` runs the
runner's ``_group_in_worker`` over the same payloads, one Ray task per group,
each asking for ``task_cpus`` CPUs and ``task_gpus`` GPUs, and yields
``(index, ok, value)`` as each finishes. Only the records travel back: this
process stays the one that owns the results directory, so resuming, the
store's lock and each record's provenance work as with local workers.

A task whose worker process dies (killed for memory, a node lost, a crash in
native code) is retried by Ray up to ``max_retries`` times; only when every
try died are its seeds recorded as failed, as for a dead local worker. A task
that raises is not retried (``_group_in_worker`` records a seed's error as a
failed record itself, so little can raise).

What a task trains on: the GPU Ray assigned it (Ray sets its
``CUDA_VISIBLE_DEVICES``, and by default starts a fresh worker process for each
GPU task, so a framework never keeps a GPU of an earlier task), else the CPU,
with ``task_cpus`` threads
(``BENCH_THREADS``), so a record's bits match a local worker's with that many
cores. Every node needs this package at the same commit and the datasets (at
``--data-dir`` or in its ``BENCH_DATA_DIR`` / caches); a record made by other
code is refused, since it could not be traced to this checkout.

A cluster that cannot be reached or goes away is one sentence, not a hang:
before connecting, ``--address HOST:PORT`` must accept a TCP connection within
``CONNECT_TIMEOUT_S`` (Ray itself retries for minutes); while tasks run, a
head (GCS) that has not answered for ``BENCH_RAY_LOST_AFTER_S`` seconds
(default ``LOST_AFTER_S``) is a ``ClusterLost``, which ``bench run`` reports
with the records kept (Ray's own limit before it ends the process, 60 s, is
raised past ours). Ray's log lines and its workers' output reach the terminal
only with ``-v``.

Token authentication: a head started by ``ray start`` uses it whenever a token
exists (``~/.ray/auth_token``, ``RAY_AUTH_TOKEN`` or ``RAY_AUTH_TOKEN_PATH``),
but Ray's driver sends that token to an explicit ``--address`` only with
``RAY_AUTH_MODE=token``. Where the mode is unset and a token exists, the
driver sends it (a head without authentication accepts it too); an explicit
``RAY_AUTH_MODE`` is left as it is.
"""
from __future__ import annotations

import math
import os
import socket
import sys
import time
from typing import Callable, Iterable, Iterator, Optional

from bench.backends import quiet
from bench.host import devices, environment
from bench.errors import BenchError
from bench.run.workers import TaskError, WorkerDied

DEFAULT_RETRIES = 3
CONNECT_TIMEOUT_S = 5.0
LOST_AFTER_S = 15.0
LOST_ENV = "BENCH_RAY_LOST_AFTER_S"
_POLL_S = 1.0
AUTH_MODE_ENV = "RAY_AUTH_MODE"
# Ray ends a driver whose GCS stays away this long; ours must decide first.
_RAY_RECONNECT = {"RAY_gcs_rpc_server_reconnect_timeout_s": "600"}


class RayError(BenchError):
    """Ray missing, unreachable, or running other code than this checkout."""


class ClusterLost(RayError):
    """The cluster's head stopped answering while tasks ran."""


def _host_port(address: str) -> Optional[tuple[str, int]]:
    """``(host, port)`` of a plain ``HOST:PORT`` address; None for ``auto``, ``ray://...`` and the like."""
    host, colon, port = address.rpartition(":")
    if not colon or "/" in address or not port.isdigit():
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


def _answers(host: str, port: int, timeout: float) -> Optional[str]:
    """None when ``host:port`` accepts a TCP connection within ``timeout``, else why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.timeout:
        return f"nothing answered within {timeout:g} s"
    except OSError as exc:
        return exc.strerror or str(exc)


def reachable(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """A ``RayError`` naming ``address`` and what to check when nothing listens there."""
    parts = _host_port(address)
    if parts is None:
        return
    why = _answers(*parts, timeout)
    if why:
        raise RayError(f"cannot reach a Ray cluster at {address} ({why}); check that `ray start --head` is "
                       f"running there, that the host and port (the head's --port, 6379 by default) are right, "
                       f"and that no firewall blocks the port.")


def _token_exists() -> bool:
    """Whether Ray would find an authentication token for this user (see the module's docstring)."""
    if os.environ.get("RAY_AUTH_TOKEN", "").strip():
        return True
    path = os.environ.get("RAY_AUTH_TOKEN_PATH") or os.path.join(os.path.expanduser("~"), ".ray", "auth_token")
    try:
        with open(path) as handle:
            return bool(handle.read().strip())
    except OSError:
        return False


def send_token_if_any() -> None:
    """Set ``RAY_AUTH_MODE=token`` for a driver connecting to an address, unless the mode is set or no token exists."""
    if AUTH_MODE_ENV not in os.environ and _token_exists():
        os.environ[AUTH_MODE_ENV] = "token"


def require(address: Optional[str] = None):
    """Ray, imported; with ``address``, told first to send a token if one exists (Ray reads the
    authentication mode once, when its configuration loads)."""
    if address:
        send_token_if_any()
    try:
        import ray
    except ImportError as exc:
        raise RayError(f"--executor ray needs Ray, which failed to import ({exc}); install it with "
                       f"`pip install -e .[ray]`.") from exc
    return ray


def _task(fn: Callable, args: tuple, env: dict):
    """One group in a Ray worker. The environment comes first: the frameworks read it
    when they load, which happens inside ``fn``."""
    os.environ.update(env)
    return fn(*args)


class RayPool:
    """``bench.run.workers.Pool``'s interface over a Ray cluster. ``count`` and ``shares``
    are accepted for that interface; Ray decides how many tasks run at once from
    each node's CPUs and GPUs and what a task asks for."""

    def __init__(self, count: int = 1, shares: Optional[int] = None, *, address: Optional[str] = None,
                 task_cpus: float = 1, task_gpus: Optional[float] = None, max_retries: int = DEFAULT_RETRIES,
                 device: Optional[str] = None, log=None):
        if task_cpus <= 0:
            raise RayError(f"--task-cpus must be > 0, got {task_cpus}.")
        if task_gpus is not None and task_gpus < 0:
            raise RayError(f"--task-gpus must be >= 0, got {task_gpus}.")
        self._ray = ray = require(address)
        self._owned = not ray.is_initialized()
        self.address = address or "a local Ray instance"
        if self._owned:
            if address:
                reachable(address)
            for name, value in _RAY_RECONNECT.items():
                os.environ.setdefault(name, value)
            try:
                local = {} if address else {"include_dashboard": False}   # a cluster keeps its own settings
                ray.init(address=address, logging_level="ERROR" if quiet.quiet() else "WARNING",
                         log_to_driver=not quiet.quiet(), **local)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise RayError(f"cannot reach a Ray cluster at {address or 'a new local instance'}: {exc}") from exc
        self._gcs = _host_port(ray.get_runtime_context().gcs_address or "")
        self._lost_after = float(os.environ.get(LOST_ENV) or LOST_AFTER_S)
        self._silent_since: Optional[float] = None
        self.lost = False
        device = devices.requested() if device is None else devices.parse(device)
        gpus = ray.cluster_resources().get("GPU", 0)
        if task_gpus is None:   # auto: one GPU per group where the cluster has GPUs, unless told cpu
            task_gpus = 1 if gpus and device != "cpu" else 0
        if task_gpus > gpus:
            if not address:   # a local instance cannot grow; a cluster may scale up to the request
                self.close(wait=True)
                raise RayError(f"each task asks for {task_gpus:g} GPU(s), but the local Ray instance has {gpus:g}.")
            print(f"bench: the Ray cluster has {gpus:g} GPUs now; tasks asking for {task_gpus:g} wait for more.",
                  file=sys.stderr)
        self.task_cpus, self.task_gpus, self.max_retries = task_cpus, task_gpus, max_retries
        # Where Ray gave a task a GPU it is the only one the task sees; without one it must
        # not take a GPU it did not ask for.
        self._env = {devices.ENV: "cuda" if task_gpus else "cpu",
                     devices.THREADS_ENV: str(max(1, math.floor(task_cpus)))}
        self._refs: dict = {}
        (log or (lambda line: print(line, file=sys.stderr)))(
            f"bench: training groups as Ray tasks on {address or 'a local Ray instance'} "
            f"({ray.cluster_resources().get('CPU', 0):g} CPUs, {gpus:g} GPUs; each task {task_cpus:g} CPU, "
            f"{task_gpus:g} GPU, retried up to {max_retries} times if its worker dies)")

    def map(self, fn: Callable, payloads: Iterable[tuple], on_progress=None) -> Iterator[tuple[int, bool, object]]:
        """Yield ``(index, ok, value)`` per payload as each task finishes: ``fn(*payload)``'s
        result, or a ``TaskError`` / ``WorkerDied``. Tasks are submitted in order."""
        ray = self._ray
        # Resources given to ray.remote itself, not .options(): only then does Ray start a
        # fresh worker for each GPU task (max_calls=1), which .options() cannot ask for.
        remote = ray.remote(num_cpus=self.task_cpus, num_gpus=self.task_gpus, max_retries=self.max_retries,
                            retry_exceptions=False)(_task)
        self._refs = {remote.remote(fn, tuple(args), self._env): index for index, args in enumerate(payloads)}
        while self._refs:
            done, _ = ray.wait(list(self._refs), num_returns=1, timeout=_POLL_S)
            if not done:
                self._check_head()
                continue
            self._silent_since = None
            for ref in done:
                index = self._refs.pop(ref)
                try:
                    value = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:   # fn raised: its own error, not retried
                    cause = exc.cause if getattr(exc, "cause", None) is not None else exc
                    yield index, False, TaskError(f"{type(cause).__name__}: {cause}", str(exc))
                    continue
                except ray.exceptions.RayError as exc:   # the worker died on every try
                    yield index, False, WorkerDied(f"its Ray worker died on each of {self.max_retries + 1} "
                                                   f"tries ({type(exc).__name__}: {str(exc).splitlines()[0]}).")
                    continue
                _same_code(value)
                yield index, True, value

    def _check_head(self) -> None:
        """Raise ``ClusterLost`` once the head (GCS) has refused connections for ``self._lost_after`` s."""
        if self._gcs is None or _answers(*self._gcs, timeout=1.0) is None:
            self._silent_since = None
            return
        now = time.monotonic()
        self._silent_since = self._silent_since or now
        if now - self._silent_since >= self._lost_after:
            self.lost = True
            raise ClusterLost(f"lost the Ray cluster at {self.address}: its head has not answered for "
                              f"{self._lost_after:g} s")

    def close(self, wait: bool = True) -> None:
        ray = self._ray
        if self.lost:   # nothing left to cancel; leave the driver without waiting on the dead head
            self._refs = {}
            return
        if not wait:
            for ref in list(self._refs):
                try:
                    ray.cancel(ref, force=True)
                except Exception:   # already finished or gone: nothing to stop
                    pass
        self._refs = {}
        if self._owned and ray.is_initialized():
            ray.shutdown()

    def __enter__(self) -> "RayPool":
        return self

    def __exit__(self, kind, exc, tb) -> None:
        self.close(wait=exc is None)


def _same_code(value) -> None:
    """Refuse records trained by other code than this checkout's (another commit on a node)."""
    records = value[0] if isinstance(value, tuple) and value and isinstance(value[0], list) else []
    here = environment.code_version()
    for record in records:
        there = record.get("env", {}).get("bench") if isinstance(record, dict) else None
        if there is not None and there != here:
            raise RayError(f"a Ray worker runs bench {there}, this checkout is {here}; install the same "
                           f"commit on every node (its records were not written).")
