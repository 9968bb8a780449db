"""Arms x seeds x frameworks -> run records, appended as each group of seeds finishes.

Work is ordered seed-block-major (every arm and framework of seeds 0..g-1,
then the next block), so a run stopped early still holds balanced, paired
samples. A block is one vectorized group (``bench.run.grouping``): its seeds train
as one wide model and their records are written together when it finishes.
Records already on disk are skipped, which makes every run resumable; a seed
that raises is recorded as ``status="failed"`` with its error and the run goes
on (``_fail`` writes it, for a seed that raised and for the seeds of a group
whose worker died). TensorFlow is the reference for Keras defaults, so
``mode="matched"`` is run for PyTorch only. With ``workers`` > 1 the groups train side by side in
worker processes (``bench.run.workers``), started in the same order; this process
writes each group's records as it finishes, so an interrupted run keeps them.
"""
from __future__ import annotations

import math
import sys
import traceback
from dataclasses import dataclass, field
from typing import Optional

from bench import backends, data
from bench.host import devices
from bench.run import grouping, progress, stamp, throughput, workers as pool
from bench.run.grouping import GroupSize
from bench.records import identity, store
from bench.spec import Job
from bench.errors import SpecError
from bench.spec import MODES, Case
from bench.run.training import train_group, train_seed

DEFAULT_FRAMEWORKS = tuple(backends.names())


@dataclass
class Summary:
    ok: int = 0
    failed: int = 0
    diverged: int = 0
    skipped: int = 0
    stale: int = 0        # records of a planned run made under another spec, ignored (retrained)
    failures: list = field(default_factory=list)
    messages: list = field(default_factory=list)   # a worker's notes, printed by the parent


def jobs_for(case: Case, profile: str, frameworks, modes, arm_names=None) -> list[Job]:
    """The (arm, framework, mode) jobs of one case, validated."""
    budget = case.budget(profile)
    for fw in frameworks:
        if fw not in backends.BACKENDS:
            raise SpecError(f"unknown framework {fw!r}; choose from {sorted(backends.BACKENDS)}.")
    for mode in modes:
        if mode not in MODES:
            raise SpecError(f"unknown mode {mode!r}; choose from {MODES}.")
    # --arm names any arm of the case; without it, the arms the profile runs (Profile.arms),
    # each as the profile trains it (``Profile.width``); the case itself stays as declared
    arms = [case.arm_at(a, profile) for a in (arm_names or [arm.name for arm in case.profile_arms(profile)])]
    return [Job(case, arm, fw, mode, profile, budget)
            for fw in frameworks for mode in modes if backends.plans(fw, mode)
            for arm in arms]


def seed_list(case: Case, profile: str, seeds: "Optional[int | range]") -> list[int]:
    if isinstance(seeds, range):
        if seeds.start < 0 or len(seeds) < 1:
            raise SpecError(f"--seeds A:B needs 0 <= A < B, got {seeds.start}:{seeds.stop}.")
        return list(seeds)
    n = case.profile(profile).seeds if seeds is None else seeds
    if n < 1:
        raise SpecError(f"--seeds must be >= 1, got {n}.")
    return list(range(n))


def _budget(job: Job) -> dict:
    """The budget the record was trained under, as run (the profile applied to the case)."""
    d = job.data
    return {"epochs": d.epochs, "batch_size": d.batch_size, "train_subsample": d.train_subsample,
            "test_subsample": d.test_subsample}


def _record(job: Job, seed: int, **fields) -> dict:
    if job.case.overrides:   # a `bench run --set` variation: say so; its spec hash below is the changed spec's
        fields = {"overrides": dict(job.case.overrides), **fields}
    return {"case": job.case.id, "arm": job.arm.name, "framework": job.framework, "mode": job.mode,
            "seed": seed, "profile": job.profile, "spec_hash": identity.spec_hash(job.case, job.profile),
            "budget": _budget(job), **fields}


def run(options) -> Summary:
    """Run every pending (case, arm, framework, mode, seed) of ``options.profile``.

    ``options`` is a ``bench.run.options.RunOptions`` (not imported here, since it
    takes its default frameworks from this module).

    ``options.group_size`` (a ``GroupSize``) says how the seeds of each job train:
    in vectorized groups as wide as memory allows or as asked (``bench.run.grouping``),
    or one by one on the per-seed reference path. ``options.workers`` processes train
    groups side by side (1: all in this process), each with its share of memory.
    ``options.executor`` replaces the worker pool (``bench.run.ray_executor.RayPool``:
    groups as Ray tasks).
    """
    cases, profile, results_dir, data_dir = options.cases, options.profile, options.results_dir, options.data_dir
    workers, executor = options.workers, options.executor
    plans = [(case, jobs_for(case, profile, options.frameworks, options.modes, options.arm_names),
              seed_list(case, profile, options.seeds)) for case in cases]
    path = store.records_path(results_dir, profile)
    # Only a record of the case's current spec counts as done: one made under another
    # spec (another budget, a changed hyperparameter) is stale and its seed retrains.
    on_disk = list(store.latest(store.iter_records(path)).values())
    hashes = {case.id: identity.spec_hash(case, profile) for case in cases}
    done = {store.key(r) for r in identity.split(on_disk, profile, hashes).records if r.get("status") == "ok"}
    pending = [(case, job, s) for case, jobs, seed_ids in plans for s in seed_ids for job in jobs
               if (case.id, job.arm.name, job.framework, job.mode, s) not in done]
    stale = {store.key(r) for r in on_disk if r["case"] in hashes and r.get("spec_hash") != hashes[r["case"]]}
    summary = Summary(skipped=sum(len(j) * len(s) for _, j, s in plans) - len(pending),
                      stale=sum((c.id, j.arm.name, j.framework, j.mode, s) in stale for c, j, s in pending))
    if not pending:
        return summary

    # Seed-steps weighted by the plan's seconds per seed-step (bench.run.progress); the total is known once the groups are
    bar = progress.Progress(_progress(0, options.progress), options.step_seconds)
    groups = []   # (job, arrays, seeds, vectorized) in seed-block-major order
    for case, jobs, seed_ids in plans:
        todo = {(job.arm.name, job.framework, job.mode, s) for c, job, s in pending if c is case}
        if not todo or case.throughput is not None:   # a speed case is timed below, not trained in groups
            continue
        arrays = data.arrays_for(data.load(case.data.dataset, data_dir), case.budget(profile))
        # Vectorized unless on the per-seed path: a group that memory cuts to one
        # seed stays on the vectorized path, so a seed's record never depends on it.
        vectorized = not grouping.trains_per_seed(case, options.group_size)
        size = _group_size(case, jobs, len(seed_ids), options.group_size, bar, workers) if vectorized else 1
        for block in grouping.split(seed_ids, size):   # seed-block-major: every job of a block, then the next
            for job in jobs:
                block_todo = [s for s in block if (job.arm.name, job.framework, job.mode, s) in todo]
                if block_todo:
                    groups.append((job, arrays, block_todo, vectorized))
    speed = speed_units(plans, pending)
    for job, arrays, seed_ids, _ in groups:
        bar.add(job, group_steps(job, arrays, seed_ids))
    for case, jobs, _ in speed:
        bar.add(jobs[0], len(jobs) * case.throughput.seed_steps)
    with store.RecordWriter(path) as writer:
        if groups and (workers > 1 or executor is not None):   # even for one group: its threads, so its bits, follow the count
            _run_in_workers(groups, workers, data_dir, writer, summary, bar, executor)
        else:
            for job, arrays, seed_ids, vectorized in groups:
                _run_group(job, arrays, seed_ids, writer.append, summary, bar.for_job(job), vectorized)
        if speed:
            bar.write(f"bench: timing {len(speed)} repetition{'s' if len(speed) > 1 else ''} of "
                      f"{', '.join(dict.fromkeys(c.id for c, _, _ in speed))} one at a time in this process, "
                      f"with nothing else training", file=sys.stderr)
            loaded: dict = {}
            for case, jobs, seed in speed:
                if case.id not in loaded:
                    loaded[case.id] = data.arrays_for(data.load(case.data.dataset, data_dir), case.budget(profile))
                _run_speed(jobs, loaded[case.id], seed, writer.append, summary, bar.for_job(jobs[0]))
    bar.close()
    return summary


def speed_units(plans, pending) -> list[tuple[Case, list[Job], int]]:
    """The repetitions of speed cases to time, seed-major: (case, the jobs of one framework
    and mode, seed) wherever any of those jobs is pending. Its arms are timed against each
    other, so all of them are timed again and a repetition's records share one session."""
    want = {(c.id, j.framework, j.mode, s) for c, j, s in pending if c.throughput is not None}
    units = []
    for case, jobs, seed_ids in plans:
        if case.throughput is None:
            continue
        variants = list(dict.fromkeys((j.framework, j.mode) for j in jobs))
        for s in seed_ids:
            for fw, mode in variants:
                if (case.id, fw, mode, s) in want:
                    units.append((case, [j for j in jobs if (j.framework, j.mode) == (fw, mode)], s))
    return units


def _run_speed(jobs: list[Job], arrays, seed: int, emit, summary: Summary, bar) -> None:
    """Time one repetition of a speed case (``bench.run.throughput``) and ``emit`` a record
    per arm; one that raises fails every arm of the repetition, and the run goes on."""
    backend = backends.load(jobs[0].framework)
    env = stamp.describe(backend.versions())
    first = jobs[0]
    bar.set_postfix_str(f"{first.case.id}/{first.framework}/{first.mode} repetition {seed}")
    try:
        outcomes = throughput.measure(jobs, backend, arrays(seed), seed)
    except Exception as exc:  # one repetition's crash must not stop the others
        for job in jobs:
            _fail(job, [seed], f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=8), env, emit, summary)
    else:
        for job, outcome in zip(jobs, outcomes):
            emit(_record(job, seed, status="ok", **outcome, env=env))
            summary.ok += 1
            summary.diverged += bool(outcome["diverged"])
    bar.update(len(jobs) * first.case.throughput.seed_steps)


def _group_size(case: Case, jobs: list[Job], n_seeds: int, requested: GroupSize, bar, workers: int = 1) -> int:
    """One size for the whole case's vectorized groups (so its blocks stay balanced), fitted
    to its widest arm and to each worker's share of the free memory."""
    per_seed = max(grouping.seed_bytes(case, job.arm, job.data.batch_size) for job in jobs)
    free = [backends.load(fw).free_memory() for fw in {job.framework for job in jobs}]
    host = grouping.host_free_bytes()
    # A GPU's memory is shared only by the workers pinned to it (bench.host.devices); the host's by all.
    known = [f // devices.sharing(workers) if f is not None else host // workers
             for f in free if f is not None or host is not None]
    size, message = grouping.plan(n_seeds, requested.requested, per_seed, min(known) if known else None)
    if message:
        bar.write(f"bench: {case.id}: {message}", file=sys.stderr)
    return size


def _run_group(job: Job, arrays, seed_ids, emit, summary: Summary, bar, vectorized: bool) -> None:
    """Train ``seed_ids`` of ``job`` together and ``emit`` a record per seed. A group
    that runs out of memory is halved and retried; one that raises otherwise is
    retried seed by seed, so a seed that crashes fails alone."""
    backend = backends.load(job.framework)
    env = stamp.describe(backend.versions())
    name = f"{job.case.id}/{job.arm.name}/{job.framework}/{job.mode}"
    bar.set_postfix_str(f"{name} seeds {seed_ids[0]}-{seed_ids[-1]}" if len(seed_ids) > 1 else f"{name} seed {seed_ids[0]}")
    done = [0]

    def advanced(n: int) -> None:
        done[0] += n
        bar.update(n)

    try:
        outcomes = train_group(job, backend, _shared(arrays, seed_ids), seed_ids, vectorized=vectorized,
                               on_steps=advanced) \
            if vectorized else [train_seed(job, backend, arrays(seed_ids[0]), seed_ids[0], on_steps=advanced)]
    except Exception as exc:  # one seed's crash must not stop the others
        bar.retrain(done[0])   # those steps are trained again
        if len(seed_ids) == 1:
            _fail(job, seed_ids, f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=8), env, emit, summary)
            bar.update(group_steps(job, arrays, seed_ids))
            return
        halves = grouping.split(seed_ids, math.ceil(len(seed_ids) / 2)) if grouping.is_out_of_memory(exc) \
            else [[s] for s in seed_ids]
        bar.write(f"bench: {name}: a group of {len(seed_ids)} seeds raised {type(exc).__name__}; "
                  f"retrying as groups of {len(halves[0])}.", file=sys.stderr)
        for part in halves:
            _run_group(job, arrays, part, emit, summary, bar, vectorized)
        return
    for seed, outcome in zip(seed_ids, outcomes):
        emit(_record(job, seed, status="ok", **outcome, env=env))
        summary.ok += 1
        summary.diverged += bool(outcome["diverged"])
    bar.update(max(0, group_steps(job, arrays, seed_ids) - done[0]))   # diverged seeds stop early


def _run_in_workers(groups, count: int, data_dir, writer, summary: Summary, bar, executor=None) -> None:
    """``groups`` in up to ``count`` worker processes, each on a ``count``-th of the
    cores (or in ``executor``, a ``Pool`` look-alike); each group's records are written
    here as it finishes. A worker that dies fails the seeds of the group it held."""
    started = min(count, len(groups))
    if executor is None:
        bar.write(f"bench: training groups in {started} worker process{'es' if started > 1 else ''}", file=sys.stderr)
    payloads = [(job, seed_ids, vectorized, data_dir) for job, _, seed_ids, vectorized in groups]
    done: dict = {}

    def advanced(index: int, n: int) -> None:
        done[index] = done.get(index, 0) + n
        bar.advance(groups[index][0], n)

    with (executor or pool.Pool)(started, shares=count) as workers:
        for index, ok, value in workers.map(_group_in_worker, payloads, on_progress=advanced):
            job, arrays, seed_ids, _ = groups[index]
            rest = max(0, group_steps(job, arrays, seed_ids) - done.get(index, 0))
            if ok:
                records, part = value
                for record in records:
                    writer.append(record)
                summary.ok += part.ok
                summary.failed += part.failed
                summary.diverged += part.diverged
                summary.failures += part.failures
                for line in part.messages:
                    bar.write(line, file=sys.stderr)
                bar.advance(job, rest)
                continue
            env = stamp.describe(backends.load(job.framework).versions())
            _fail(job, seed_ids, f"{type(value).__name__}: {value}", getattr(value, "traceback", ""), env,
                  writer.append, summary)
            bar.advance(job, rest)


def _fail(job: Job, seed_ids, error: str, trace: str, env: dict, emit, summary: Summary) -> None:
    """``emit`` a failed record for each of ``seed_ids`` and count it: a seed that raised here
    (or in a worker), or the seeds of a group whose worker process died (local or Ray)."""
    name = f"{job.case.id}/{job.arm.name}/{job.framework}/{job.mode}"
    for seed in seed_ids:
        emit(_record(job, seed, status="failed", error=error, traceback=trace, env=env))
        summary.failures.append(f"{name} seed {seed}: {error}")
    summary.failed += len(seed_ids)


class _Lines:
    """A worker's stand-in for the progress bar: keeps its messages for the parent."""

    def __init__(self, messages: list):
        self.messages = messages

    def write(self, line: str, file=None) -> None:
        self.messages.append(line)

    def set_postfix_str(self, text: str) -> None:
        pass

    def update(self, n: int) -> None:
        pool.note_progress(n)   # to the parent's bar, as the group trains

    def retrain(self, n: int) -> None:
        pass   # the parent counts a worker's group up to its planned steps (``_run_in_workers``)


_ARRAYS: dict = {}   # a worker's datasets, loaded once per (dataset, profile budget)


def _group_in_worker(job: Job, seed_ids, vectorized: bool, data_dir) -> tuple[list[dict], Summary]:
    """One group in a worker process: its records and counts (``_run_group``'s)."""
    key = (job.case.data.dataset, job.case.id, job.profile, str(data_dir))
    if key not in _ARRAYS:
        _ARRAYS.clear()
        _ARRAYS[key] = data.arrays_for(data.load(job.case.data.dataset, data_dir), job.data)
    records, summary = [], Summary()
    _run_group(job, _ARRAYS[key], seed_ids, records.append, summary, _Lines(summary.messages), vectorized)
    return records, summary


def group_steps(job: Job, arrays, seed_ids) -> int:
    """The training steps a group will take: seeds x epochs x batches per epoch."""
    rows = len(arrays(seed_ids[0])[0])
    return len(seed_ids) * job.data.epochs * math.ceil(rows / job.data.batch_size)


def _shared(arrays, seed_ids):
    """The group's data: every seed of a group trains on the same arrays (no resplit)."""
    return arrays(seed_ids[0])


def _progress(total: int, enabled: bool):
    return progress.bar(enabled)
