"""What a ``bench run`` will do and how long it should take, before it starts.

``make`` counts, per case, arms x seeds x frameworks x modes, what is already
done, the groups the seeds train in and the training steps of one seed-run;
the time comes from rates measured on this machine: the median seconds per
seed-step (a record's ``timing.wall_s`` over its ``steps``) of each case,
framework and profile in the records of the results directory and of the
repository's ``results/``. A rate measured under the same profile already
holds each group's fixed cost (building, tracing, evaluating) in its share; a
rate borrowed from another profile, framework or case gets
``GROUP_OVERHEAD_S`` added per group, since a short run is mostly that cost. A
rate borrowed from other cases is scaled by the work of a step: the framework's
median seconds per multiply-add and row over those cases (``step_work``: the
kernels' multiply-adds per example, times the batch), times this case's work,
which varies far less between cases than raw seconds per step do (CHANGELOG.md
has the measured spread).
With no record at all the rate is ``DEFAULT_SECONDS_PER_STEP``; the plan says
which source each rate came from. Groups are laid on the workers in run order
(each next group to the first free worker), as ``bench run`` does, after
``STARTUP_S`` of start-up (the workers importing the frameworks and the data).
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import bench
from bench import backends
from bench.run import grouping
from bench.run.options import RunOptions
from bench.records import identity, profiles, store
from bench.spec import Case

# A CPU's order of magnitude for C1's MLP (results/full: 0.004-0.005 s per seed-step on 2 cores);
# used only when no record of any case has been measured here.
DEFAULT_SECONDS_PER_STEP = 0.005
# Measured here (2 shared cores, 2 workers, `bench run --profile smoke --case c1,c3`): groups of 2 seeds
# that trained 15-16 steps took 7-40 s (tf) and 1-15 s (torch); the first group began about 45 s in.
GROUP_OVERHEAD_S = {name: backends.info(name).GROUP_OVERHEAD_S for name in backends.names()}
STARTUP_S = 45.0
# The repository's published results, beside the package (found from the package, so moving this module keeps it).
ROOT_RESULTS = Path(bench.__file__).resolve().parents[1] / "results"
# Training rows of each dataset (the post's 70 % of the tabular sets), used when the file is not at hand.
TRAIN_ROWS = {"mnist": 60000, "fashion_mnist": 60000, "concrete": 721, "red_wine": 1119}


@dataclass
class CasePlan:
    case: str
    arms: int
    seeds: int
    frameworks: list
    runs: int
    todo: int
    steps: int           # training steps of one seed-run
    groups: int
    group_size: int
    rate: float          # seconds per seed-step
    rate_source: str
    group_seconds: list = field(default_factory=list)
    rates: dict = field(default_factory=dict)   # seconds per seed-step by framework

    @property
    def seed_steps(self) -> int:
        return self.todo * self.steps


@dataclass
class Plan:
    profile: str
    workers: int
    cases: list
    seconds: float

    @property
    def todo(self) -> int:
        return sum(c.todo for c in self.cases)

    @property
    def seed_steps(self) -> int:
        return sum(c.seed_steps for c in self.cases)

    def step_seconds(self) -> dict:
        """``{(case id, framework): seconds per seed-step}``: the run's progress weights."""
        return {(c.case, fw): rate for c in self.cases for fw, rate in c.rates.items()}

    def lines(self) -> list[str]:
        out = [f"bench plan: profile {self.profile}, {self.workers} worker{'s' if self.workers > 1 else ''}"]
        for c in self.cases:
            fws = ", ".join(c.frameworks)
            done = f", {c.runs - c.todo} already done" if c.todo < c.runs else ""
            out.append(f"  {c.case}: {c.arms} arms x {c.seeds} seeds x {len(c.frameworks)} framework/mode ({fws}) "
                       f"= {c.runs} seed-runs{done}; {c.steps} steps each; {c.groups} groups of up to "
                       f"{c.group_size}; {c.rate * 1000:.2g} ms per seed-step ({c.rate_source}) -> "
                       f"{duration(sum(c.group_seconds))} of training")
        out.append(f"  total: {self.todo} seed-runs to do, {self.seed_steps:,} seed-steps; estimated "
                   f"{duration(self.seconds)} with {self.workers} worker{'s' if self.workers > 1 else ''} "
                   f"(from measured rates, with {STARTUP_S:.0f} s of start-up; a guide, not a promise)")
        few = [c.case for c in self.cases if c.seeds <= 5]
        if few:   # the smallest exact sign-flip or rank p with n seeds is 2 / 2**n >= 0.0625
            out.append(f"  note: {', '.join(few)} with 5 seeds or fewer: a claim whose contrast is the same on "
                       f"every seed, or that has a diverged seed, is not decidable at this n")
        return out


def duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "unknown"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def measured_rates(dirs) -> dict:
    """``{(case, framework, profile): [seconds per seed-step, ...]}`` from every record under ``dirs``."""
    rates: dict = {}
    seen = set()
    for d in dirs:
        d = Path(d)
        if not d.is_dir() or d.resolve() in seen:
            continue
        seen.add(d.resolve())
        for profile in profiles.present(d):
            for r in store.load(d, profile):
                wall, steps = (r.get("timing") or {}).get("wall_s"), r.get("steps")
                if r.get("status") == "ok" and steps and wall and math.isfinite(wall):
                    rates.setdefault((r["case"], r["framework"], profile), []).append(wall / steps)
    return rates


def step_work(case: Case, profile: str) -> float:
    """Multiply-adds of one training step's forward pass, averaged over the arms: per example,
    each layer's kernel entries times the positions it is applied at (1 for a flat layer,
    H x W of its output for a map), times the batch."""
    from bench.spec import layer_inputs, layer_shapes

    shape = tuple(case.input_shape)
    per_arm = []
    for arm in (case.arm_at(a.name, profile) for a in case.profile_arms(profile)):
        total = 0
        for layer, seen, out in zip(arm.layers, layer_inputs(arm.layers, shape), layer_shapes(arm.layers, shape)):
            kernel = layer.param_shapes(seen).get("kernel")
            if kernel:
                total += math.prod(kernel) * (math.prod(out[:-1]) if len(out) == 3 else 1)
        per_arm.append(total)
    return statistics.mean(per_arm) * case.budget(profile).batch_size if per_arm else 0.0


def _work(case_id: str, profile: str) -> float:
    from bench.spec import registry

    try:
        return step_work(registry.get(case_id), profile)
    except Exception:   # a case no suite defines any more, or a bad profile: its records scale nothing
        return 0.0


def _rate(rates: dict, case: str, framework: str, profile: str) -> tuple[float, str, bool]:
    """(seconds per seed-step, where it came from, borrowed?): measured for this case,
    framework and profile; else for another profile; else the case's other frameworks;
    else the framework's other cases, scaled by the work of a step (``step_work``);
    else the default."""
    def pick(test):
        return [v for key, vals in rates.items() if test(*key) for v in vals]

    tries = ((lambda c, f, p: (c, f, p) == (case, framework, profile), "measured, {n} records", False),
             (lambda c, f, p: (c, f) == (case, framework), "measured in other profiles, {n} records", True),
             (lambda c, f, p: c == case, f"{framework} not measured: {case}'s other frameworks", True))
    for test, text, borrowed in tries:
        found = pick(test)
        if found:
            return statistics.median(found), text.format(n=len(found)), borrowed
    work = _work(case, profile)
    per_work = [v / w for (c, f, p), vals in rates.items() if f == framework and (w := _work(c, p)) > 0
                for v in vals]
    if work > 0 and per_work:
        return (statistics.median(per_work) * work,
                f"not measured for {case}: {framework}'s median per multiply-add over other cases, "
                f"scaled to this case's step", True)
    found = pick(lambda c, f, p: f == framework)
    if found:
        return statistics.median(found), f"not measured for {case}: {framework}'s median over other cases", True
    return DEFAULT_SECONDS_PER_STEP, f"no records here: the default {DEFAULT_SECONDS_PER_STEP:g} s", True


def _train_rows(case: Case, budget, data_dir) -> int:
    if budget.train_subsample:
        return budget.train_subsample
    try:
        from bench import data

        return len(data.load(case.data.dataset, data_dir, download=False).x_train)
    except Exception:   # no local copy yet: the known size of the published set
        return TRAIN_ROWS.get(case.data.dataset, 1000)


def make(options: RunOptions, rate_dirs=None) -> Plan:
    """The plan of ``bench run`` with these options (see the module docstring); rates are
    read from the records under ``rate_dirs`` (default: the results directory and ``results/``)."""
    from bench.run import runner

    profile, results_dir, data_dir, workers = options.profile, options.results_dir, options.data_dir, options.workers
    rates = measured_rates(rate_dirs if rate_dirs is not None else [results_dir, ROOT_RESULTS])
    path = store.records_path(results_dir, profile)
    # Done as the runner counts it: an ok record of the case's current spec (with this run's --set
    # overrides applied); a record of another spec is stale and its seed retrains.
    on_disk = list(store.latest(store.iter_records(path)).values())
    hashes = {case.id: identity.spec_hash(case, profile) for case in options.cases}
    done = {store.key(r) for r in identity.split(on_disk, profile, hashes).records if r.get("status") == "ok"}
    free = grouping.host_free_bytes()
    plans, jobs_seconds, serial = [], [], []
    for case in options.cases:
        jobs = runner.jobs_for(case, profile, options.frameworks, options.modes, options.arm_names)
        seed_ids = runner.seed_list(case, profile, options.seeds)
        budget = case.budget(profile)
        steps = budget.epochs * math.ceil(_train_rows(case, budget, data_dir) / budget.batch_size)
        if case.throughput is not None:   # a speed case: timed steps, one repetition at a time (bench.run.throughput)
            steps, size = case.throughput.seed_steps, 1
        elif grouping.trains_per_seed(case, options.group_size):
            size = 1
        else:
            per_seed = max(grouping.seed_bytes(case, job.arm, budget.batch_size) for job in jobs)
            size, _ = grouping.plan(len(seed_ids), options.group_size.requested, per_seed,
                                    free // workers if free else None)
        variants = sorted({f"{j.framework}" + ("" if j.mode == "as_written" else f"/{j.mode}") for j in jobs})
        cp = CasePlan(case.id, len({j.arm.name for j in jobs}), len(seed_ids), variants,
                      len(jobs) * len(seed_ids), 0, steps, 0, size, 0.0, "")
        sources = {}
        for block in grouping.split(seed_ids, size):
            for job in jobs:
                todo = [s for s in block if (case.id, job.arm.name, job.framework, job.mode, s) not in done]
                if not todo:
                    continue
                rate, source, borrowed = _rate(rates, case.id, job.framework, profile)
                sources[job.framework] = (rate, source + (" + per-group overhead" if borrowed else ""))
                cp.todo += len(todo)
                cp.groups += 1
                seconds = rate * steps * len(todo) + (GROUP_OVERHEAD_S.get(job.framework, 5.0) if borrowed else 0.0)
                cp.group_seconds.append(seconds)
                (serial if case.throughput is not None else jobs_seconds).append(seconds)
        if sources:
            cp.rates = {fw: r for fw, (r, _) in sources.items()}
            cp.rate = statistics.mean(r for r, _ in sources.values())
            cp.rate_source = "; ".join(f"{fw}: {s}" for fw, (_, s) in sorted(sources.items()))
        else:
            cp.rate_source = "nothing to do"
        plans.append(cp)
    busy = _makespan(jobs_seconds, min(workers, max(1, len(jobs_seconds)))) + sum(serial)
    return Plan(profile, workers, plans, busy + STARTUP_S if jobs_seconds or serial else 0.0)


def _makespan(seconds: list, workers: int) -> float:
    """Wall time of ``seconds``-long groups started in order on ``workers`` workers."""
    free = [0.0] * workers
    for s in seconds:
        i = free.index(min(free))
        free[i] += s
    return max(free) if free else 0.0
