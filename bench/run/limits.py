"""What this machine can hold: the worker count capped, the memory a plan needs, and plans too big to start unasked.

* ``cap_workers``: ``--workers N`` above the usable cores, or above what the
  free memory holds at ``WORKER_BYTES`` per worker, is cut to fit, with one
  warning line (more single-threaded processes than cores only queue for them).
* ``memory``: the plan's peak host memory: each busy worker's
  ``WORKER_BYTES`` (the frameworks and a dataset) plus its widest group
  (``bench.run.grouping.seed_bytes`` per seed); printed beside the plan's time.
* ``refusal``: a plan over ``MAX_HOURS`` of estimated wall time, or whose
  groups alone need more than the machine's memory, starts only with
  ``--yes``, or when a person at a terminal answers yes; otherwise it is one
  sentence and nothing trains.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Optional

from bench.run import grouping
from bench.run.workers import WORKER_BYTES

MAX_HOURS = 24.0
GIB = 1 << 30


def total_bytes() -> Optional[int]:
    """MemTotal from /proc/meminfo, else the physical pages; None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / GIB:.1f} GiB" if n >= GIB / 10 else f"{n / (1 << 20):.0f} MiB"


def cap_workers(requested: int, cores: int, free: Optional[int]) -> tuple[int, str]:
    """``--workers requested`` cut to the cores and to what ``free`` bytes hold; and the warning, or ""."""
    by_memory = max(1, free // WORKER_BYTES) if free is not None else requested
    allowed = max(1, min(cores, by_memory))
    if requested <= allowed:
        return requested, ""
    why = [f"{cores} usable core{'s' if cores != 1 else ''}"]
    if free is not None:
        why.append(f"{_gib(free)} free at about {_gib(WORKER_BYTES)} per worker")
    return allowed, (f"bench: warning: --workers {requested} is more than this machine holds "
                     f"({', '.join(why)}); using {allowed}.")


@dataclass(frozen=True)
class Memory:
    workers: int        # workers busy at once
    per_worker: int     # WORKER_BYTES
    group: int          # the widest group's bytes
    total: Optional[int]
    free: Optional[int]

    @property
    def peak(self) -> int:
        return self.workers * (self.per_worker + self.group)

    def line(self) -> str:
        have = (f"; this machine has {_gib(self.total)}" + (f", {_gib(self.free)} free" if self.free else "")
                if self.total else "")
        return (f"  memory: about {_gib(self.peak)} at peak ({self.workers} worker{'s' if self.workers != 1 else ''}"
                f" x ({_gib(self.per_worker)} for the frameworks and data + {_gib(self.group)} for the widest "
                f"group)){have}")


def memory(options, plan) -> Memory:
    """The peak host memory of ``plan`` (a ``bench.run.plan.Plan`` of ``options``)."""
    from bench.run import runner

    widest, groups = 0, 0
    sizes = {c.case: c for c in plan.cases}
    for case in options.cases:
        cp = sizes.get(case.id)
        if cp is None or not cp.todo:
            continue
        groups += cp.groups
        budget = case.budget(options.profile)
        jobs = runner.jobs_for(case, options.profile, options.frameworks, options.modes, options.arm_names)
        per_seed = max((grouping.seed_bytes(case, job.arm, budget.batch_size) for job in jobs), default=0)
        widest = max(widest, per_seed * cp.group_size)
    busy = max(1, min(options.workers, groups)) if groups else 0
    return Memory(busy, WORKER_BYTES, widest, total_bytes(), grouping.host_free_bytes())


def refusal(seconds: float, mem: Optional[Memory]) -> str:
    """Why this plan must not start unasked (a sentence without its remedy), or ""."""
    if math.isfinite(seconds) and seconds > MAX_HOURS * 3600:
        return f"the plan needs an estimated {seconds / 3600:,.1f} h, over the {MAX_HOURS:g} h a run may take unasked"
    if mem is not None and mem.total and mem.workers * mem.group > mem.total:
        return (f"the plan's groups need about {_gib(mem.workers * mem.group)}, more than this machine's "
                f"{_gib(mem.total)}")
    return ""


def confirm(reason: str, yes: bool, ask=None) -> Optional[str]:
    """None when the run may start: nothing to refuse, ``--yes``, or a yes typed at a terminal
    (``ask``, default ``input`` when stdin is a terminal); else the sentence that refuses it."""
    if not reason or yes:
        return None
    if ask is None:
        import sys

        ask = input if sys.stdin is not None and sys.stdin.isatty() else None
    if ask is not None:
        try:
            if ask(f"bench: {reason}; start it anyway? [y/N] ").strip().lower() in ("y", "yes"):
                return None
        except EOFError:
            pass
    return (f"{reason}; nothing was started: pass --yes to start it anyway, or run fewer seeds, cases or "
            f"epochs (`bench plan` shows the estimate).")
