"""Arms x seeds x frameworks -> run records, appended as each seed finishes.

Work is ordered seed-block-major (every arm and framework of seeds 0..g-1,
then the next block), so a run stopped early still holds balanced, paired
samples. Records already on disk are skipped, which makes every run
resumable; a seed that raises is recorded as ``status="failed"`` with its
error and the run goes on. TensorFlow is the reference for Keras defaults, so
``mode="matched"`` is run for PyTorch only.
"""
from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field
from typing import Iterator, Optional

from bench import backends, data, environment, store
from bench.backends import Job
from bench.errors import SpecError
from bench.spec import MODES, Case
from bench.training import train_seed

DEFAULT_FRAMEWORKS = ("tf", "torch")


@dataclass
class Summary:
    ok: int = 0
    failed: int = 0
    diverged: int = 0
    skipped: int = 0
    failures: list = field(default_factory=list)


def jobs_for(case: Case, profile: str, frameworks, modes, arm_names=None) -> list[Job]:
    """The (arm, framework, mode) jobs of one case, validated."""
    budget = case.budget(profile)
    for fw in frameworks:
        if fw not in backends.BACKENDS:
            raise SpecError(f"unknown framework {fw!r}; choose from {sorted(backends.BACKENDS)}.")
    for mode in modes:
        if mode not in MODES:
            raise SpecError(f"unknown mode {mode!r}; choose from {MODES}.")
    arms = [case.arm(a) for a in arm_names] if arm_names else list(case.arms)
    return [Job(case, arm, fw, mode, profile, budget)
            for fw in frameworks for mode in modes if not (fw == "tf" and mode == "matched")
            for arm in arms]


def seed_list(case: Case, profile: str, seeds: Optional[int]) -> list[int]:
    n = case.profile(profile).seeds if seeds is None else seeds
    if n < 1:
        raise SpecError(f"--seeds must be >= 1, got {n}.")
    return list(range(n))


def _blocks(seeds: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(seeds), size):
        yield seeds[i:i + size]


def _record(job: Job, seed: int, **fields) -> dict:
    return {"case": job.case.id, "arm": job.arm.name, "framework": job.framework, "mode": job.mode,
            "seed": seed, "profile": job.profile, **fields}


def run(cases: list[Case], profile: str, frameworks=DEFAULT_FRAMEWORKS, modes=("as_written",),
        arm_names=None, seeds: Optional[int] = None, results_dir: str | os.PathLike = "results",
        data_dir=None, block: int = 1, progress: bool = True) -> Summary:
    """Run every pending (case, arm, framework, mode, seed) of ``profile``."""
    plans = [(case, jobs_for(case, profile, frameworks, modes, arm_names), seed_list(case, profile, seeds))
             for case in cases]
    path = store.records_path(results_dir, profile)
    done = {store.key(r) for r in store.latest(store.iter_records(path)).values() if r.get("status") == "ok"}
    pending = [(case, job, s) for case, jobs, seed_ids in plans for s in seed_ids for job in jobs
               if (case.id, job.arm.name, job.framework, job.mode, s) not in done]
    summary = Summary(skipped=sum(len(j) * len(s) for _, j, s in plans) - len(pending))
    if not pending:
        return summary

    bar = _progress(len(pending), progress)
    with store.RecordWriter(path) as writer:
        for case, jobs, seed_ids in plans:
            todo = {(job.arm.name, job.framework, job.mode, s) for c, job, s in pending if c is case}
            if not todo:
                continue
            arrays = data.arrays_for(data.load(case.data.dataset, data_dir), case.budget(profile))
            for seed_block in _blocks(seed_ids, block):
                for job in jobs:
                    block_todo = [s for s in seed_block if (job.arm.name, job.framework, job.mode, s) in todo]
                    if block_todo:
                        _run_group(job, arrays, block_todo, writer, summary, bar)
    bar.close()
    return summary


def _run_group(job: Job, arrays, seed_ids, writer, summary: Summary, bar) -> None:
    backend = backends.load(job.framework)
    env = environment.describe(backend.versions())
    for seed in seed_ids:
        bar.set_postfix_str(f"{job.case.id}/{job.arm.name}/{job.framework}/{job.mode} seed {seed}")
        try:
            outcome = train_seed(job, backend, arrays(seed), seed)
        except Exception as exc:  # one seed's crash must not stop the others
            writer.append(_record(job, seed, status="failed", error=f"{type(exc).__name__}: {exc}",
                                  traceback=traceback.format_exc(limit=8), env=env))
            summary.failed += 1
            summary.failures.append(f"{job.case.id}/{job.arm.name}/{job.framework}/{job.mode} "
                                    f"seed {seed}: {type(exc).__name__}: {exc}")
        else:
            writer.append(_record(job, seed, status="ok", **outcome, env=env))
            summary.ok += 1
            summary.diverged += bool(outcome["diverged"])
        bar.update(1)


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="run", disable=not enabled, dynamic_ncols=True,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<{remaining}] {postfix}")
