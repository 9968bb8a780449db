"""The command line: ``bench list | run | report``. Thin: parse, call, print.

Every user-facing problem is a ``BenchError`` and is printed as one sentence
with exit status 2; an interrupted run says where its records are kept.
"""
from __future__ import annotations

import argparse
import os
import sys

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
    run.add_argument("--report", action="store_true", help="write the report afterwards")
    _common(run)

    rep = sub.add_parser("report", help="statistics, verdicts, tables and plots from the records")
    rep.add_argument("--profile", default="quick", choices=PROFILES)
    _common(rep)
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
    from bench import environment, registry, runner

    profile = args.profile
    if profile == "auto":
        profile = "full" if environment.gpu_visible() else "quick"
        print(f"bench: profile auto -> {profile} ({'GPU visible' if profile == 'full' else 'no GPU visible'})")
    cases = registry.select(args.case)
    try:
        summary = runner.run(cases, profile, args.framework, args.mode, args.arm or None, args.seeds,
                             args.results_dir, args.data_dir, progress=not args.no_progress)
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


def _report(results_dir: str, profile: str) -> None:
    from bench import report

    path = report.write(results_dir, profile)
    print(f"bench: wrote {path}")


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            _list()
            return 0
        if args.command == "run":
            return _run(args)
        if args.command == "report":
            _report(args.results_dir, args.profile)
            return 0
        raise SpecError(f"unknown command {args.command!r}.")
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
