"""The command line: ``bench list | run | report | baseline | check``. Thin: parse, call, print.

Every user-facing problem is a ``BenchError`` and is printed as one sentence
with exit status 2; an interrupted run says where its records are kept.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from bench.errors import BenchError, SpecError
from bench.spec import MODES, PROFILES


def _csv(value: str) -> list[str]:
    return [v for v in value.split(",") if v]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bench", description="Reproduce regularization claims in TF and PyTorch.")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list cases, arms, claims and profiles")

    run = sub.add_parser("run", help="train arms x seeds x frameworks; resumable")
    run.add_argument("--case", type=_csv, default=[], help="comma-separated case ids (default: all)")
    run.add_argument("--profile", default="quick", choices=(*PROFILES, "auto"),
                     help="auto = full when a GPU is visible, else quick")
    run.add_argument("--framework", type=_csv, default=["tf", "torch"], help="tf,torch")
    run.add_argument("--mode", type=_csv, default=["as_written"], help=f"any of {','.join(MODES)}")
    run.add_argument("--arm", type=_csv, default=[], help="only these arms (default: all)")
    run.add_argument("--seeds", type=int, default=None, help="number of seeds (default: the profile's)")
    run.add_argument("--group-size", default="auto",
                     help="seeds trained together as one vectorized model: auto (as many as memory allows, "
                          "up to 64) or N; 1 = the per-seed reference path")
    run.add_argument("--workers", default="auto",
                     help="processes training groups side by side: auto (one per CPU core as memory allows; "
                          "one per GPU where GPUs train) or N")
    run.add_argument("--device", default="auto",
                     help="auto (a GPU if one is visible), cpu, cuda or cuda:N; CUDA_VISIBLE_DEVICES limits the GPUs")
    run.add_argument("--executor", default="local", choices=("local", "ray"),
                     help="local: worker processes on this machine; ray: groups as Ray tasks (see README)")
    run.add_argument("--address", default=None, help="ray: the cluster's address (default: a local Ray instance)")
    run.add_argument("--task-cpus", type=float, default=1, help="ray: CPUs (and threads) per task")
    run.add_argument("--task-gpus", type=float, default=None,
                     help="ray: GPUs per task (default: 1 where the cluster has GPUs, else 0)")
    run.add_argument("--report", action="store_true", help="write the report afterwards")
    run.add_argument("--adaptive", action="store_true",
                     help="add seeds in batches until every claim is decided (alpha spending; see bench/adaptive.py)")
    run.add_argument("--max-seeds", type=int, default=20, help="adaptive: the seed budget")
    run.add_argument("--batch", type=int, default=5, help="adaptive: seeds added per look (>= 2)")
    _common(run)

    spd = sub.add_parser("speed", help="seconds per C1 seed-run: the backends beside reference loops")
    spd.add_argument("--epochs", type=int, default=10, help="10 = the post's full budget")
    spd.add_argument("--loops", type=_csv, default=["tf", "torch", "plain_torch", "post_tf"],
                     help="tf,torch (this suite), plain_torch (DataLoader loop), post_tf (the post's eager loop)")
    spd.add_argument("--group-sizes", type=_csv, default=["1", "4", "16", "64"],
                     help="seeds per vectorized group for the suite's rows (1 = the per-seed path)")
    spd.add_argument("--workers", type=_csv, default=["1"],
                     help="worker processes for the suite's rows, e.g. 1,2: each worker trains its own group "
                          "of S seeds at the same time ('auto' = as bench run picks)")
    spd.add_argument("--data-dir", default=None)

    rep = sub.add_parser("report", help="statistics, verdicts, tables and plots from the records")
    rep.add_argument("--profile", default="quick", choices=PROFILES)
    _common(rep)

    base = sub.add_parser("baseline", help="freeze a run's records as the regression baseline")
    chk = sub.add_parser("check", help="compare a run with the baseline; exit 1 on a regression")
    for sp in (base, chk):
        sp.add_argument("--profile", default="smoke", choices=PROFILES)
        sp.add_argument("--baseline", default=None, help="default: results/baselines/<profile>.json")
        _common(sp)
    chk.add_argument("--method", default="auto", choices=("auto", "tolerance", "test"),
                     help="metric test: auto = tolerance on CPU (deterministic), paired t-test elsewhere")
    chk.add_argument("--json", action="store_true", help="print JSON instead of the table")
    chk.add_argument("--all", action="store_true", help="list unchanged comparisons too")
    return p


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--results-dir", default=os.environ.get("BENCH_RESULTS_DIR", "results"))
    p.add_argument("--data-dir", default=None, help="directory holding the datasets (or BENCH_DATA_DIR)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _list() -> None:
    from bench import registry

    for case in registry.discover().values():
        print(f"{case.id}: {case.title}  [{case.source}]")
        print(f"  arms: {', '.join(a.name for a in case.arms)}")
        for name, prof in case.profiles.items():
            print(f"  profile {name}: {prof.seeds} seeds; {prof.notes}")
        for claim in case.claims:
            print(f"  {claim.id}: {claim.statement}")


def _run(args) -> int:
    from bench import devices, environment, grouping, registry, runner, workers

    device = devices.select(args.device)   # before any framework loads, here or in a worker
    profile = args.profile
    if profile == "auto":
        profile = "full" if device != "cpu" and environment.gpu_visible() else "quick"
        print(f"bench: profile auto -> {profile} ({'GPU visible' if profile == 'full' else 'no GPU visible'})")
    cases = registry.select(args.case)
    group_size = grouping.parse_size(args.group_size)
    count = workers.parse_count(args.workers)
    if count is None:
        gpus = len(devices.gpus_for(device)) if device != "cpu" and environment.gpu_visible() else 0
        count = workers.default_count(gpus, grouping.host_free_bytes())
    executor = _executor(args, device)
    if args.adaptive:
        return _adaptive(args, cases, profile, group_size, count)
    try:
        summary = runner.run(cases, profile, args.framework, args.mode, args.arm or None, args.seeds,
                             args.results_dir, args.data_dir, group_size=group_size, progress=not args.no_progress,
                             workers=count, executor=executor)
    except KeyboardInterrupt:
        print(f"\nbench: interrupted; finished records are kept in {args.results_dir}/{profile}/records.jsonl; "
              f"rerun the same command to resume.", file=sys.stderr)
        return 130
    print(f"bench: {summary.ok} runs finished ({summary.diverged} diverged), {summary.failed} failed, "
          f"{summary.skipped} already done; records in {args.results_dir}/{profile}/records.jsonl")
    for line in summary.failures:
        print(f"  failed: {line}", file=sys.stderr)
    if args.report:
        _report(args.results_dir, profile)
    return 1 if summary.failed else 0


def _executor(args, device: str):
    """None for local workers; for ``--executor ray`` the pool that runs groups as Ray tasks."""
    if args.executor != "ray":
        return None
    if args.adaptive:
        raise SpecError("--adaptive runs with the local executor only; drop --executor ray.")
    import functools

    from bench import ray_executor

    ray_executor.require()   # a missing Ray is said before any data loads
    return functools.partial(ray_executor.RayPool, address=args.address, task_cpus=args.task_cpus,
                             task_gpus=args.task_gpus, device=device)


def _adaptive(args, cases, profile: str, group_size, count: int) -> int:
    from bench import adaptive

    try:
        out = adaptive.run(cases, profile, args.max_seeds, args.batch, args.framework, args.mode,
                           args.arm or None, args.results_dir, args.data_dir, progress=not args.no_progress,
                           group_size=group_size, workers=count)
    except KeyboardInterrupt:
        print("\nbench: interrupted; rerun the same command to resume the adaptive run.", file=sys.stderr)
        return 130
    print(f"bench: adaptive run: {len(out.decided)} decided, {len(out.undecided)} undecided after "
          f"{out.looks[-1]['seeds'] if out.looks else 0} seeds; see {args.results_dir}/{profile}/adaptive.json")
    if args.report:
        _report(args.results_dir, profile)
    return 0


def _report(results_dir: str, profile: str) -> None:
    from bench import report

    path = report.write(results_dir, profile)
    print(f"bench: wrote {path}")


def _speed(args) -> int:
    from tabulate import tabulate

    from bench import environment, grouping, speed, workers

    if args.epochs < 1:
        raise SpecError(f"--epochs must be >= 1, got {args.epochs}.")
    unknown = set(args.loops) - set(speed.SUITE) - set(speed.REFERENCES)
    if unknown:
        raise SpecError(f"unknown loop(s) {sorted(unknown)}; choose from tf, torch, plain_torch, post_tf.")
    sizes = [grouping.parse_size(s) for s in args.group_sizes]
    if None in sizes:
        raise SpecError("--group-sizes takes integers >= 1, not 'auto'.")
    counts = [workers.parse_count(c) for c in args.workers]
    counts = [workers.default_count(environment.gpu_visible(), grouping.host_free_bytes()) if c is None else c
              for c in counts]
    rows, peak = speed.measure(args.loops, args.epochs, sizes, data_dir=args.data_dir, worker_counts=counts)
    print(f"peak fp32 matmul ({speed.PEAK_N}x{speed.PEAK_N}, torch, same threads): {peak / 1e9:.1f} GFLOP/s")
    print(tabulate(rows, headers="keys", tablefmt="github", floatfmt=".4g"))
    return 0


def _baseline(args) -> int:
    from bench import baseline

    print(f"bench: wrote {baseline.write(args.results_dir, args.profile, args.baseline)}")
    return 0


def _check(args) -> int:
    from bench import check

    rows = check.run(args.results_dir, args.profile, args.baseline, args.method)
    print(check.to_json(rows, args.profile) if args.json else check.render(rows, args.all))
    return 1 if any(r.failed for r in rows) else 0


def _terminate(signum, frame):
    raise KeyboardInterrupt  # a killed run ends like ctrl-c: finished records stay, rerun resumes


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        if args.command == "list":
            _list()
            return 0
        if args.command == "run":
            return _run(args)
        if args.command == "speed":
            return _speed(args)
        if args.command == "report":
            _report(args.results_dir, args.profile)
            return 0
        if args.command == "baseline":
            return _baseline(args)
        if args.command == "check":
            return _check(args)
        raise SpecError(f"unknown command {args.command!r}.")
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
