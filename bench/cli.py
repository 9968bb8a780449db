"""The command line: ``bench list | run | report | baseline | check``. Thin: parse, call, print.

Every user-facing problem is a ``BenchError`` and is printed as one sentence
with exit status 2; an interrupted run says where its records are kept.
``bench run`` checks its arguments and data before any framework is imported,
holds a lock on its results directory, and keeps framework logging off the
terminal unless ``-v`` is given (``bench.quiet``).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import warnings
from pathlib import Path

from bench.errors import BenchError, SpecError
from bench.spec import MODES, PROFILES


def _csv(value: str) -> list[str]:
    return [v for v in value.split(",") if v]


class _Version(argparse.Action):
    """``--version``: the package version and git commit, computed only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest, nargs=0, default=default, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from bench import environment

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
    p = argparse.ArgumentParser(prog="bench", description="Reproduce regularization claims in TF and PyTorch.")
    p.add_argument("--version", action=_Version, help="print the version (and git commit) and exit")
    _verbosity(p, top=True)
    sub = p.add_subparsers(dest="command", required=True)
    _verbosity(sub.add_parser("list", help="list cases, arms, claims and profiles"), top=False)

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
                          "1 with a GPU) or N")
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
    _verbosity(spd, top=False)

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
    _verbosity(p, top=False)


def _list() -> None:
    from bench import registry

    cases, broken = registry.scan()
    for case in cases.values():
        print(f"{case.id}: {case.title}  [{case.source}]")
        print(f"  arms: {', '.join(a.name for a in case.arms)}")
        for name, prof in case.profiles.items():
            print(f"  profile {name}: {prof.seeds} seeds; {prof.notes}")
        for claim in case.claims:
            print(f"  {claim.id}: {claim.statement}")
    for b in broken:
        print(f"{b.case_id or b.file}: BROKEN: {b.error}")


def _check_run_arguments(args, cases, profile: str) -> None:
    """Every argument and dataset of ``bench run`` checked before a framework is imported:
    a typo costs a second, not a framework start-up."""
    from bench import adaptive, backends, data, runner

    for fw in args.framework:
        if fw not in backends.BACKENDS:
            raise SpecError(f"unknown framework {fw!r}; choose from {sorted(backends.BACKENDS)}.")
    for mode in args.mode:
        if mode not in MODES:
            raise SpecError(f"unknown mode {mode!r}; choose from {MODES}.")
    if args.seeds is not None and args.seeds < 1:
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

    class _Important:
        """Whole lines only (print writes a line's text and its newline separately)."""

        def __init__(self, stream):
            self.stream, self.pending = stream, ""

        def write(self, text: str) -> int:
            *lines, self.pending = (self.pending + text).split("\n")
            for line in lines:
                if any(word in line.lower() for word in ("error", "warning", "failed", "interrupted")):
                    self.stream.write(line + "\n")
            return len(text)

        def flush(self) -> None:
            self.stream.flush()

    return contextlib.redirect_stderr(_Important(sys.stderr))


def _run(args) -> int:
    from bench import environment, grouping, lock, quiet, registry, workers

    cases = registry.select(args.case)
    if not args.case and not args.quiet:
        for b in registry.broken():
            print(f"bench: warning: skipping a broken suite: {b.error}", file=sys.stderr)
    group_size = grouping.parse_size(args.group_size)
    count = workers.parse_count(args.workers)
    _check_run_arguments(args, cases, args.profile)
    profile = args.profile
    if profile == "auto":
        with quiet.framework_import():
            profile = "full" if environment.gpu_visible() else "quick"
        if not args.quiet:
            print(f"bench: profile auto -> {profile} ({'GPU visible' if profile == 'full' else 'no GPU visible'})")
        _check_run_arguments(args, cases, profile)
    if count is None:
        with quiet.framework_import():
            gpu = environment.gpu_visible()
        count = workers.default_count(gpu, grouping.host_free_bytes())
    with lock.hold(Path(args.results_dir) / profile), _notes(args.quiet):
        if args.adaptive:
            return _adaptive(args, cases, profile, group_size, count)
        return _run_locked(args, cases, profile, group_size, count)


def _run_locked(args, cases, profile: str, group_size, count: int) -> int:
    from bench import runner

    try:
        summary = runner.run(cases, profile, args.framework, args.mode, args.arm or None, args.seeds,
                             args.results_dir, args.data_dir, group_size=group_size,
                             progress=not (args.no_progress or args.quiet), workers=count)
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


def _adaptive(args, cases, profile: str, group_size, count: int) -> int:
    from bench import adaptive

    try:
        out = adaptive.run(cases, profile, args.max_seeds, args.batch, args.framework, args.mode,
                           args.arm or None, args.results_dir, args.data_dir,
                           progress=not (args.no_progress or args.quiet),
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


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"bench: warning: {message}\n"


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    from bench import quiet

    quiet.configure(args.verbose)   # before any framework import, here and in every worker
    if not args.verbose:
        warnings.formatwarning = _one_line_warning
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
