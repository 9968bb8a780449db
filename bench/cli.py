"""The command line: ``bench list | data | plan | run | speed | gpu-check | report | baseline | check |
publish | compare``.
Thin: parse, call, print.

Every user-facing problem is a ``BenchError`` and is printed as one sentence
with exit status 2; an interrupted run says where its records are kept.
``bench run`` checks its arguments and data before any framework is imported,
holds a lock on its results directory, and keeps framework logging off the
terminal unless ``-v`` is given (``bench.backends.quiet``).
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import signal
import sys
import threading
import warnings
from pathlib import Path

from bench import backends
from bench.errors import BenchError, SpecError
from bench.run import cpu_isa
from bench.spec import MODES, PROFILES


def _csv(value: str) -> list[str]:
    return [v for v in value.split(",") if v]


ENVIRONMENT = """\
environment variables:
  BENCH_RESULTS_DIR   default --results-dir (else ./runs, git-ignored)
  BENCH_DATA_DIR      directory searched first for the datasets (as --data-dir)
  BENCH_CACHE_DIR     where downloaded datasets are kept (else ~/.cache/bench)
  BENCH_CPU_ISA       default --cpu-isa of bench run and plan (native or avx2)
  CI                  "true": the browser test of REPORT.html fails instead of skipping without Chromium
  BENCH_CHROMIUM, BENCH_CHROMEDRIVER   the browser and driver that test uses (/usr/bin/chromium, /usr/bin/chromedriver)
"""



COMPARE_EXIT = """\
exit status (the last line says the same):
  0  REPRODUCED  at least one verdict was tested, every case of the run was judged, nothing differs
  1  DIFFERS     a verdict, an arm mean or a same-environment bit comparison differs from the published one
  2  bad input   no fresh or no published records of the profile, or bad arguments
  3  NOT JUDGED  nothing differs, but a case has no published table or too few fresh seeds
                 (the output names, per case, how many fresh seeds would judge it), or no verdict was tested
arm means: 0/1 rates by exact Clopper-Pearson intervals; other metrics need at least 5 fresh seeds.
per-seed bits: every seed-run both sides hold is compared, on any machine; identical bits match.
"""


class _Version(argparse.Action):
    """``--version``: the package version and git commit, computed only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from bench.host import environment

        print(f"bench {environment.code_version()}")
        parser.exit()


def _verbosity(p: argparse.ArgumentParser, top: bool) -> None:
    # On the top parser and on every subcommand, so both `bench -q run` and `bench run -q` work.
    default = {} if top else {"default": argparse.SUPPRESS}
    p.add_argument("-v", "--verbose", action="store_true", **default,
                   help="show the frameworks' own start-up logging")
    p.add_argument("-q", "--quiet", action="store_true", **default,
                   help="no progress bar or notes: only errors and the final line")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench", description="Reproduce regularization claims in TF and PyTorch.",
                                epilog=ENVIRONMENT, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action=_Version, help="print the version (and git commit) and exit")
    _verbosity(p, top=True)
    sub = p.add_subparsers(dest="command", required=True)
    _verbosity(sub.add_parser("list", help="list cases, arms, claims and profiles"), top=False)
    dat = sub.add_parser("data", help="each dataset: where it was found and whether it verifies")
    dat.add_argument("--fetch", action="store_true", help="download and verify the missing ones")
    dat.add_argument("--data-dir", default=None, help="directory holding the datasets (or BENCH_DATA_DIR)")
    _verbosity(dat, top=False)

    run = sub.add_parser("run", help="train arms x seeds x frameworks; resumable")
    run.add_argument("--case", type=_csv, default=[], help="comma-separated case ids (default: all)")
    run.add_argument("--profile", default="quick", choices=(*PROFILES, "auto"),
                     help="auto = full when a GPU is visible, else quick")
    run.add_argument("--framework", type=_csv, default=backends.names(), help=",".join(backends.names()))
    run.add_argument("--mode", type=_csv, default=["as_written"], help=f"any of {','.join(MODES)}")
    run.add_argument("--arm", type=_csv, default=[], help="only these arms (default: all)")
    run.add_argument("--seeds", default=None,
                     help="a count N (seeds 0..N-1) or a range A:B (seeds A..B-1; default: the profile's count)")
    run.add_argument("--group-size", default="auto",
                     help="seeds trained together as one vectorized model: auto (as many as memory allows, "
                          "up to 64) or N; 1 = the per-seed reference path")
    run.add_argument("--workers", default="auto",
                     help="processes training groups side by side: auto (one per CPU core as memory allows; "
                          "one per GPU where GPUs train) or N")
    run.add_argument("--device", default="auto",
                     help="auto (a GPU if one is visible), cpu, cuda or cuda:N; CUDA_VISIBLE_DEVICES limits the GPUs")
    run.add_argument("--executor", default="local", choices=("local", "ray"),
                     help="local: worker processes on this machine; ray: groups as Ray tasks (see docs/running.md)")
    run.add_argument("--address", default=None, help="ray: the cluster's address (default: a local Ray instance)")
    run.add_argument("--task-cpus", type=float, default=1, help="ray: CPUs (and threads) per task")
    run.add_argument("--task-gpus", type=float, default=None,
                     help="ray: GPUs per task (default: 1 where the cluster has GPUs, else 0)")
    run.add_argument("--cpu-isa", default=None, choices=cpu_isa.MODES,
                     help="native (default, or BENCH_CPU_ISA): each library picks its CPU kernels; avx2: pin "
                          "PyTorch's, MKL's and oneDNN's to paths every AVX2 CPU runs alike (records say which)")
    run.add_argument("--report", action="store_true", help="write the report afterwards")
    run.add_argument("--adaptive", action="store_true",
                     help="add seeds in batches until every claim is decided (alpha spending; see bench/run/adaptive.py)")
    run.add_argument("--max-seeds", type=int, default=20, help="adaptive: the seed budget")
    run.add_argument("--batch", type=int, default=5, help="adaptive: seeds added per look (>= 2)")
    run.add_argument("--yes", action="store_true",
                     help="start a plan over the limits (more than 24 h estimated, or groups needing more memory "
                          "than the machine has) without asking; see bench/run/limits.py")
    run.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE", dest="overrides",
                     help="a one-off change to the case spec or profile, e.g. data.epochs=60, optimizer.lr=0.01, "
                          "profile.seeds=3 (repeatable); records carry it and the changed spec hash")
    _common(run)
    plan = sub.add_parser("plan", help="what `bench run` with these arguments would do, and how long it should take")
    for action in run._actions[1:]:   # the same arguments as run
        plan._add_action(action)

    spd = sub.add_parser("speed", help="seconds per C1 seed-run (or C4 seed-step): the backends beside reference loops")
    spd.add_argument("--case", choices=("c1", "c4"), default="c1",
                     help="c1: the MLP, seconds per seed-run; c4: the CNN (fc arm), seconds per seed-step and "
                          "%% of the measured peak by work done (bench/speed/conv.py)")
    spd.add_argument("--epochs", type=int, default=10, help="c1: 10 = the post's full budget")
    spd.add_argument("--steps", type=int, default=40, help="c4: batches of the long run (the short one: a quarter)")
    spd.add_argument("--repeats", type=int, default=3, help="c4: interleaved repetitions of every loop")
    spd.add_argument("--loops", type=_csv, default=None,
                     help="tf,torch (this suite); c1: plain_torch (DataLoader loop), post_tf (the post's eager "
                          "loop); c4: plain_torch_conv (DataLoader loop), keras_fit (model.fit). Default: all")
    spd.add_argument("--group-sizes", type=_csv, default=None,
                     help="seeds per vectorized group for the suite's rows (1 = the per-seed path); "
                          "default c1: 1,4,16,64; c4: 1,4")
    spd.add_argument("--workers", type=_csv, default=["1"],
                     help="worker processes for the suite's rows, e.g. 1,2: each worker trains its own group "
                          "of S seeds at the same time ('auto' = as bench run picks)")
    spd.add_argument("--data-dir", default=None)
    _verbosity(spd, top=False)

    gpu = sub.add_parser("gpu-check", help="on an NVIDIA GPU: CUDA tests, PyTorch C1 full and C4 full (one arm) "
                                           "timed, compared with the published CPU records; exit 3: no GPU")
    gpu.add_argument("--tiny", action="store_true",
                     help="the same steps at the smoke budget with 2 seeds, on any device (tests the check itself)")
    gpu.add_argument("--no-tests", action="store_true", help="skip the CUDA tests")
    gpu.add_argument("--published", default=None, help="the published results directory (default: results/)")
    gpu.add_argument("--results-dir", default=None, help="keep the fresh records here (default: a temporary one)")
    gpu.add_argument("--data-dir", default=None, help="directory holding the datasets (or BENCH_DATA_DIR)")
    _verbosity(gpu, top=False)

    rep = sub.add_parser("report", help="statistics, verdicts, tables and plots from the records")
    rep.add_argument("--profile", default=None, choices=PROFILES,
                     help="default: the one profile the results directory holds")
    rep.add_argument("--html", action="store_true", help="also write REPORT.html, one self-contained page")
    _common(rep)

    ver = sub.add_parser("verdicts", help="the verdict matrix of every published profile (claim x framework)")
    ver.add_argument("--write", metavar="README", default=None,
                     help="put it between the verdicts markers of this file instead of printing it")
    ver.add_argument("--results-dir", default="results", help="the published results (default: results)")
    ver.add_argument("--pairs", action="store_true",
                     help="instead, each claim beside the claims it pairs with (Claim.pairs_with), both verdicts")
    _verbosity(ver, top=False)

    base = sub.add_parser("baseline", help="freeze a run's records as the regression baseline")
    chk = sub.add_parser("check", help="compare a run with the baseline; exit 1 on a regression")
    for sp in (base, chk):
        sp.add_argument("--profile", default=None, choices=PROFILES,
                        help="default: the one profile the results directory holds")
        sp.add_argument("--baseline", default=None, help="default: results/baselines/<profile>.json")
        _common(sp)
    chk.add_argument("--method", default="auto", choices=("auto", "tolerance", "test"),
                     help="metric test: auto = tolerance on CPU (deterministic), paired t-test elsewhere")
    chk.add_argument("--json", action="store_true", help="print JSON instead of the table")
    chk.add_argument("--all", action="store_true", help="list unchanged comparisons too")
    chk.add_argument("--case", type=_csv, default=[], help="compare only these cases (default: all)")

    pub = sub.add_parser("publish", help="copy run records of a profile into results/<profile>/ (clean tree, "
                                         "one commit and spec per case) and regenerate its report")
    pub.add_argument("--profile", required=True, choices=PROFILES)
    pub.add_argument("--from", dest="sources", type=_csv, required=True,
                     help="comma-separated results directories to publish or merge (e.g. runs,/mnt/other/runs)")
    pub.add_argument("--case", type=_csv, default=[], help="only these cases (default: every case found)")
    pub.add_argument("--to", dest="dest", default="results", help="the published results directory")
    pub.add_argument("--replace", action="store_true",
                     help="let a case's new records replace published ones of another commit or spec")
    pub.add_argument("--no-report", action="store_true", help="do not regenerate the report")

    cmp_ = sub.add_parser("compare", help="judge a fresh run against the published records of its profile",
                          epilog=COMPARE_EXIT, formatter_class=argparse.RawDescriptionHelpFormatter)
    cmp_.add_argument("--profile", default="quick", choices=(*PROFILES, "auto"))
    cmp_.add_argument("--published", default="results", help="the published results directory")
    cmp_.add_argument("--all", action="store_true", help="list every arm comparison, not only the notable ones")
    _common(cmp_)
    return p


def _common(p: argparse.ArgumentParser) -> None:
    # Runs go to a local, git-ignored directory: a user's run never touches the published results/.
    p.add_argument("--results-dir", default=os.environ.get("BENCH_RESULTS_DIR", "runs"))
    p.add_argument("--data-dir", default=None, help="directory holding the datasets (or BENCH_DATA_DIR)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    _verbosity(p, top=False)


def _list() -> None:
    from bench.spec import registry

    cases, broken = registry.scan()
    for case in cases.values():
        print(f"{case.id}: {case.title}  [{case.source}]")
        print(f"  arms: {', '.join(a.name for a in case.arms)}")
        for name, prof in case.profiles.items():
            arms = "" if prof.arms is None else f" of arms {', '.join(prof.arms)}"
            print(f"  profile {name}: {prof.seeds} seeds{arms}; {prof.notes}")
        for claim in case.claims:
            print(f"  {claim.id}: {claim.statement}")
    for b in broken:
        print(f"{b.case_id or b.file}: BROKEN: {b.error}")


def _check_run_arguments(args, cases, profile: str) -> None:
    """Every argument and dataset of ``bench run`` checked before a framework is imported:
    a typo costs a second, not a framework start-up."""
    from bench.run import adaptive, runner
    from bench import backends, data

    for fw in args.framework:
        if fw not in backends.BACKENDS:
            raise SpecError(f"unknown framework {fw!r}; choose from {sorted(backends.BACKENDS)}.")
    for mode in args.mode:
        if mode not in MODES:
            raise SpecError(f"unknown mode {mode!r}; choose from {MODES}.")
    if isinstance(args.seeds, int) and args.seeds < 1:
        raise SpecError(f"--seeds must be >= 1, got {args.seeds}.")
    if args.adaptive:
        adaptive.looks(args.max_seeds, args.batch)
    for case in cases:
        for arm in args.arm:
            case.arm(arm)
        if profile != "auto":
            runner.jobs_for(case, profile, args.framework, args.mode, args.arm or None)
            runner.seed_list(case, profile, args.seeds)
    for dataset in sorted({case.data.dataset for case in cases}):
        data.load(dataset, args.data_dir)   # present and verified, or one DataError sentence


def _notes(quiet: bool):
    """``-q``: keep only errors, warnings and failures of what the run writes to stderr."""
    if not quiet:
        return contextlib.nullcontext()
    from bench.backends import quiet as framework_logs

    return contextlib.redirect_stderr(framework_logs.ImportantLines(sys.stderr))


def _run(args) -> int:
    from bench import arguments
    from bench.host import devices
    from bench.run import grouping, limits, workers
    from bench.spec import overrides
    from bench.run.options import AdaptiveOptions, RunOptions
    from bench.records import lock
    from bench.backends import quiet
    from bench.spec import registry

    device = devices.select(getattr(args, "device", "auto"))   # before any framework loads, here or in a worker
    cases = registry.select(args.case, None if args.profile == "auto" else args.profile)
    if not args.case and not args.quiet:
        for b in registry.broken():
            print(f"bench: warning: skipping a broken suite: {b.error}", file=sys.stderr)
    args.seeds = None if args.seeds is None else arguments.seeds(args.seeds)
    group_size = arguments.group_size(args.group_size)
    count = arguments.worker_count(args.workers)
    parsed = overrides.parse(args.overrides)   # every override checked before any plan is printed
    profile = args.profile
    _check_run_arguments(args, cases if profile == "auto" else _varied(cases, profile, parsed), profile)
    if profile == "auto":
        with quiet.framework_import():
            profile = "full" if device != "cpu" and backends.gpu_visible() else "quick"
        if not args.quiet:
            print(f"bench: profile auto -> {profile} ({'GPU visible' if profile == 'full' else 'no GPU visible'})")
        cases = registry.select(args.case, profile)
        _check_run_arguments(args, _varied(cases, profile, parsed), profile)
    cases = _varied(cases, profile, parsed)
    if count is None:
        with quiet.framework_import():
            gpus = len(devices.gpus_for(device)) if device != "cpu" and backends.gpu_visible() else 0
        count = workers.default_count(gpus, grouping.host_free_bytes())
    elif args.executor == "local":
        count, warning = limits.cap_workers(count, len(workers.usable_cores()), grouping.host_free_bytes())
        if warning:
            print(warning, file=sys.stderr)
    # said before any training: a run of these can be checked against no published table
    from bench.publish import coverage

    unjudged = [f"bench: {line}" for line in coverage.unpublished_lines(cases, profile)]
    options = RunOptions(cases, profile, args.framework, args.mode, args.arm or None, args.seeds,
                         args.results_dir, args.data_dir, group_size, count,
                         executor=_executor(args, device) if args.command == "run" else None,
                         progress=not (args.no_progress or args.quiet),
                         adaptive=AdaptiveOptions(args.max_seeds, args.batch) if args.adaptive else None)
    if args.command == "plan" or not args.adaptive:
        from bench.run import plan

        made = plan.make(options)
        memory = limits.memory(options, made)
        lines = [*made.lines(), memory.line()]
        options = dataclasses.replace(options, step_seconds=made.step_seconds())   # the bar's ETA follows the plan
        reason = limits.refusal(made.seconds, memory if args.executor == "local" else None)
        if args.command == "plan" or not args.quiet:
            print("\n".join(lines + unjudged), file=sys.stdout if args.command == "plan" else sys.stderr, flush=True)
        if args.command == "plan":
            if reason:
                print(f"bench: note: {reason}; `bench run` starts it only with --yes.")
            return 0
        refused = limits.confirm(reason, args.yes)
        if refused:
            raise SpecError(refused)
    elif unjudged and not args.quiet:
        print("\n".join(unjudged), file=sys.stderr, flush=True)
    with lock.hold(Path(args.results_dir) / profile), _notes(args.quiet):
        if args.adaptive:
            return _adaptive(args, options)
        return _run_locked(args, options)


def _varied(cases, profile: str, parsed) -> list:
    """The cases with the ``--set`` overrides applied, each checked like a suite's case."""
    from bench.spec import overrides

    return [overrides.apply(c, profile, parsed) for c in cases] if parsed else cases


def _count_records(path: Path) -> int:
    try:
        with open(path, "rb") as fh:
            return sum(1 for line in fh if line.strip())
    except OSError:
        return 0


def _run_locked(args, options) -> int:
    from bench.run import runner
    from bench.run.ray_executor import ClusterLost
    from bench.records import store

    profile = options.profile
    path = store.records_path(args.results_dir, profile)
    before = _count_records(path)
    try:
        summary = runner.run(options)
    except KeyboardInterrupt:
        print(f"\nbench: interrupted; finished records are kept in {args.results_dir}/{profile}/records.jsonl; "
              f"rerun the same command to resume.", file=sys.stderr)
        return 130
    except ClusterLost as exc:
        kept = _count_records(path) - before
        raise BenchError(f"{exc}; the {kept} record(s) this run finished are kept in {path}; restart the "
                         f"cluster and rerun the same command to resume.") from exc
    print(f"bench: {summary.ok} runs finished ({summary.diverged} diverged), {summary.failed} failed, "
          f"{summary.skipped} already done; records in {args.results_dir}/{profile}/records.jsonl")
    if summary.stale:
        print(f"bench: retrained {summary.stale} run(s) whose records were stale (made under another spec of "
              f"their case: a changed budget or hyperparameter); the stale records are kept but never used.")
    for line in summary.failures:
        print(f"  failed: {line}", file=sys.stderr)
    if args.report:
        _report(args.results_dir, profile, html=True)
    return 1 if summary.failed else 0


def _executor(args, device: str):
    """None for local workers; for ``--executor ray`` the pool that runs groups as Ray tasks."""
    if args.executor != "ray":
        return None
    if cpu_isa.default() != "native":
        raise SpecError("--cpu-isa pins the code paths of local worker processes only; drop it with --executor ray.")
    if args.adaptive:
        raise SpecError("--adaptive runs with the local executor only; drop --executor ray.")
    import functools

    from bench.run import ray_executor

    ray_executor.require(args.address)   # a missing Ray, or nothing at --address, is said before any data loads
    if args.address:
        ray_executor.reachable(args.address)
    return functools.partial(ray_executor.RayPool, address=args.address, task_cpus=args.task_cpus,
                             task_gpus=args.task_gpus, device=device)


def _adaptive(args, options) -> int:
    from bench.run import adaptive

    profile = options.profile
    try:
        out = adaptive.run(options)
    except KeyboardInterrupt:
        print("\nbench: interrupted; rerun the same command to resume the adaptive run.", file=sys.stderr)
        return 130
    print(f"bench: adaptive run: {len(out.decided)} decided, {len(out.undecided)} undecided after "
          f"{out.looks[-1]['seeds'] if out.looks else 0} seeds; see {args.results_dir}/{profile}/adaptive.json")
    if args.report:
        _report(args.results_dir, profile, html=True)
    return 0


def _verdicts(args) -> int:
    from bench.publish import matrix, pairs

    if args.pairs:
        print(pairs.markdown(args.results_dir))
        return 0
    if args.write:
        print(f"bench: wrote the verdict matrix into {matrix.write(args.write, args.results_dir)}", file=sys.stderr)
    else:
        print(matrix.markdown(args.results_dir))
    return 0


def _report(results_dir: str, profile, html: bool = False) -> None:
    from bench.records import profiles
    from bench.publish import report

    profile = profiles.infer(results_dir, profile)
    path, board = report.publish(results_dir, profile, html)
    print(board)
    print(f"bench: wrote {path}" + (f" and {path.with_suffix('.html')}" if html else "")
          + f"; how to read it: {path.parent / report.METHOD_FILE}")


def _data(args) -> int:
    from bench.data import inventory

    entries = inventory.check(args.data_dir, fetch=args.fetch)
    print(inventory.render(entries))
    bad = [e for e in entries if e.status != "verified"]
    if bad and not args.fetch:
        print("bench: `bench data --fetch` downloads and verifies the missing ones.", file=sys.stderr)
    return 1 if bad else 0


def _speed(args) -> int:
    from tabulate import tabulate

    from bench import arguments
    from bench.run import grouping, workers
    from bench.speed import measure as speed

    conv = args.case == "c4"
    if args.epochs < 1:
        raise SpecError(f"--epochs must be >= 1, got {args.epochs}.")
    if args.steps < 4 or args.repeats < 1:
        raise SpecError(f"--steps must be >= 4 and --repeats >= 1, got {args.steps} and {args.repeats}.")
    loops = args.loops or backends.speed_loops(conv)
    known = [*speed.SUITE, *backends.reference_loops(conv)]
    unknown = set(loops) - set(known)
    if unknown:
        raise SpecError(f"unknown loop(s) {sorted(unknown)} for {args.case}; choose from {', '.join(known)}.")
    sizes = [arguments.auto_count(s, "--group-size") for s in args.group_sizes or (["1", "4"] if conv else
                                                                                     ["1", "4", "16", "64"])]
    if None in sizes:
        raise SpecError("--group-sizes takes integers >= 1, not 'auto'.")
    if conv:
        return _speed_conv(args, loops, sizes)
    counts = [arguments.worker_count(c) for c in args.workers]
    if None in counts:
        from bench.backends import quiet

        with quiet.framework_import():   # the probe imports the frameworks: no start-up logging
            auto = workers.default_count(backends.gpu_visible(), grouping.host_free_bytes())
        counts = [auto if c is None else c for c in counts]
    rows, peak = speed.measure(loops, args.epochs, sizes, data_dir=args.data_dir, worker_counts=counts)
    print(f"peak fp32 matmul ({speed.PEAK_N}x{speed.PEAK_N}, torch, same threads): {peak / 1e9:.1f} GFLOP/s")
    print(tabulate(rows, headers="keys", tablefmt="github", floatfmt=".4g"))
    return 0


def _speed_conv(args, loops, sizes) -> int:
    """``bench speed --case c4``: the table of ``bench.speed.conv``, with the machine's load
    before and after (a shared machine's figures mean little without it)."""

    from tabulate import tabulate

    from bench.speed import conv

    before = os.getloadavg()
    rows, peak, flops = conv.measure(loops, args.steps, sizes, args.repeats, data_dir=args.data_dir)
    after = os.getloadavg()
    print(f"C4 {conv.ARM} arm, {args.steps} and {max(1, args.steps // 4)} steps of {conv.BATCH} images per run, "
          f"{args.repeats} interleaved repetitions; load average (1/5/15 min) before "
          f"{'/'.join(f'{v:.2f}' for v in before)}, after {'/'.join(f'{v:.2f}' for v in after)} "
          f"on {os.cpu_count()} CPUs")
    print(f"work per step: {flops / 1e9:.3f} GFLOP (conv and dense matmuls: forward + weight and input "
          f"gradients, no input gradient for the first layer)")
    print(f"peak fp32 matmul ({conv.PEAK_N}x{conv.PEAK_N}, torch, same threads): {peak / 1e9:.1f} GFLOP/s")
    print(tabulate(rows, headers="keys", tablefmt="github", floatfmt=".4g"))
    return 0


def _gpu_check(args) -> int:
    from bench.speed import gpu_check

    code, rows = gpu_check.run(args.tiny, args.results_dir, args.data_dir, args.published, tests=not args.no_tests)
    if rows:
        print(gpu_check.render(rows))
    return code


def _baseline(args) -> int:
    from bench.publish import baseline
    from bench.records import profiles

    from bench.records import identity

    profile = profiles.infer(args.results_dir, args.profile)
    print(f"bench: wrote {baseline.write(args.results_dir, profile, args.baseline)}")
    note = identity.load(args.results_dir, profile).note()
    if note:
        print(f"bench: {note}")
    return 0


def _check(args) -> int:
    from bench.publish import check
    from bench.records import profiles

    profile = profiles.infer(args.results_dir, args.profile)
    rows = check.run(args.results_dir, profile, args.baseline, args.method, args.case or None)
    print(check.to_json(rows, profile) if args.json else check.render(rows, args.all))
    if not args.json:
        print(check.render_detectable(args.baseline, profile))
    return 1 if any(r.failed for r in rows) else 0


def _publish(args) -> int:
    from bench.publish import release as publish

    out = publish.publish(args.sources, args.profile, args.dest, args.case or None, replace=args.replace,
                          report=not args.no_report)
    print(out.render())
    return 0


def _compare(args) -> int:
    from bench.publish import compare

    profile = args.profile
    if profile == "auto":   # the same choice as `bench run --profile auto`
        profile = "full" if backends.gpu_visible() else "quick"
    result = compare.run(args.results_dir, args.published, profile)
    print(compare.render(result, args.all))
    return result.exit_code


def _terminate(signum, frame):
    raise KeyboardInterrupt  # a killed run ends like ctrl-c: finished records stay, rerun resumes


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"bench: warning: {message}\n"


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from bench.backends import quiet

    quiet.configure(args.verbose)   # before any framework import, here and in every worker
    if args.command in ("run", "plan"):   # likewise: the kernels a framework picks are fixed when it loads
        cpu_isa.apply(args.cpu_isa or cpu_isa.default())
    if not args.verbose:
        warnings.formatwarning = _one_line_warning
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        if args.command == "list":
            _list()
            return 0
        if args.command in ("run", "plan"):
            return _run(args)
        if args.command == "data":
            return _data(args)
        if args.command == "speed":
            return _speed(args)
        if args.command == "gpu-check":
            return _gpu_check(args)
        if args.command == "report":
            _report(args.results_dir, args.profile, args.html)
            return 0
        if args.command == "verdicts":
            return _verdicts(args)
        if args.command == "baseline":
            return _baseline(args)
        if args.command == "check":
            return _check(args)
        if args.command == "publish":
            return _publish(args)
        if args.command == "compare":
            return _compare(args)
        raise SpecError(f"unknown command {args.command!r}.")
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:   # ctrl-c or SIGTERM outside a run's own handling
        print(f"\nbench: interrupted; {_left_as(args, exc)}", file=sys.stderr)
        return 130


def _left_as(args, exc: KeyboardInterrupt) -> str:
    """What an interrupt left behind, in words: files are written all at once (``bench.records.staging``)."""
    from bench.records import staging

    folder = {"report": lambda: Path(args.results_dir) / (args.profile or ""),
              "publish": lambda: Path(args.dest) / args.profile}.get(args.command)
    if folder is None:
        return "nothing was left half-written."
    if isinstance(exc, staging.Committed):
        return f"the new files of {folder()} were already all in place."
    return f"{folder()} is as it was before (its files are replaced only once all are written)."


if __name__ == "__main__":
    sys.exit(main())
