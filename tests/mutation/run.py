"""Mutation score: plant each curated mutation (``tests/mutation/mutations.py``) alone in a scratch
copy of the tree, run the test files it lists, and record whether they catch it.

    python tests/mutation/run.py [--only ID ...] [--timeout S] [--out DIR] [--no-clean-check]

The working tree is never touched: the tracked and untracked-but-not-ignored files are copied
to a temporary directory once, and each mutation is applied to that copy and reverted after.
Before the mutations, each distinct set of test files runs once on the unmutated copy; a
mutation whose tests already fail there is "not judged" (a failure would not be its doing).
Outcomes: "killed" (the tests fail or time out), "survived" (they pass), "not applied" (the
original snippet is missing or occurs more than once: the code moved on), "not judged".
Writes ``mutation.json`` and ``mutation.md`` (a table with each mutation's runtime) under
``--out`` (default results/mutation) and exits 0; the score is killed / (killed + survived).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from mutation.mutations import MUTATIONS  # noqa: E402


def copy_tree(dest: Path) -> None:
    """Tracked and untracked-but-not-ignored files of the working tree, as they are now: the published
    results too (about 25 MB), which the compare and first-run tests read."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)


def run_tests(tree: Path, tests: list[str], timeout: float) -> tuple[str, float, str]:
    """("pass" | "fail" | "timeout", seconds, last lines of output) of pytest on ``tests`` in ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    # the copy is not next to ../shared/data, so point it at the data this checkout would use
    shared = ROOT.parent / "shared" / "data"
    if not env.get("BENCH_DATA_DIR") and shared.is_dir():
        env["BENCH_DATA_DIR"] = str(shared)
    missing = [t for t in tests if not (tree / t).exists()]
    if missing:
        return "fail", 0.0, f"test files not found: {missing}"
    started = time.perf_counter()
    try:
        out = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                             cwd=tree, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - started, ""
    tail = "\n".join((out.stdout + out.stderr).strip().splitlines()[-3:])
    return ("pass" if out.returncode == 0 else "fail"), time.perf_counter() - started, tail


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="mutation ids to run (default: all)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per test run (a timeout kills)")
    parser.add_argument("--out", default=str(ROOT / "results" / "mutation"))
    parser.add_argument("--no-clean-check", action="store_true",
                        help="skip running each test set on the unmutated tree first")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS if not args.only or m["id"] in args.only]
    unknown = set(args.only or ()) - {m["id"] for m in MUTATIONS}
    if unknown:
        parser.error(f"unknown mutation ids {sorted(unknown)}")

    results, clean = [], {}
    commit = _commit()   # the tree as it is now is what gets copied and mutated
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        tree = Path(tmp)
        copy_tree(tree)
        for m in chosen:
            target = tree / m["file"]
            text = target.read_text(encoding="utf-8") if target.exists() else ""
            count = text.count(m["original"])
            row = {"id": m["id"], "file": m["file"], "note": m["note"], "tests": m["tests"]}
            if count != 1:
                row.update(outcome="not applied", seconds=0.0,
                           detail="file missing" if not target.exists() else
                           f"original snippet found {count} times (expected once)")
                results.append(row)
                print(f"{m['id']:32s} not applied ({row['detail']})", flush=True)
                continue
            key = tuple(m["tests"])
            if not args.no_clean_check and key not in clean:
                clean[key] = run_tests(tree, m["tests"], args.timeout)
                print(f"{'(clean run)':32s} {clean[key][0]} in {clean[key][1]:.0f} s: {' '.join(key)}", flush=True)
            if not args.no_clean_check and clean[key][0] != "pass":
                row.update(outcome="not judged", seconds=0.0,
                           detail=f"its tests {clean[key][0]} on the unmutated tree: {clean[key][2]}")
                results.append(row)
                print(f"{m['id']:32s} not judged (tests fail unmutated)", flush=True)
                continue
            target.write_text(text.replace(m["original"], m["replacement"]), encoding="utf-8")
            try:
                status, seconds, tail = run_tests(tree, m["tests"], args.timeout)
            finally:
                target.write_text(text, encoding="utf-8")
            row.update(outcome="survived" if status == "pass" else "killed", seconds=round(seconds, 1),
                       detail={"pass": "the listed tests pass with the mutation",
                                "timeout": f"timed out after {args.timeout:g} s"}.get(status, tail))
            results.append(row)
            print(f"{m['id']:32s} {row['outcome']} in {seconds:.0f} s", flush=True)

    judged = [r for r in results if r["outcome"] in ("killed", "survived")]
    killed = sum(r["outcome"] == "killed" for r in judged)
    summary = {"generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "commit": commit, "mutations": len(results), "killed": killed,
               "survived": len(judged) - killed,
               "not_applied": sum(r["outcome"] == "not applied" for r in results),
               "not_judged": sum(r["outcome"] == "not judged" for r in results),
               "score": round(killed / len(judged), 4) if judged else None,
               "wall_seconds": round(time.perf_counter() - started, 1),
               "command": "python tests/mutation/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
               "results": results}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "mutation.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    (out / "mutation.md").write_text(_markdown(summary), encoding="utf-8")
    print(f"{killed} of {len(judged)} judged mutations killed"
          + (f" ({100 * summary['score']:.0f} %)" if judged else "") + f"; written to {out}", flush=True)
    return 0


def _commit() -> str:
    """HEAD, with "+modified" when the working tree (what gets copied) differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+modified" if dirty else "")


def _markdown(s: dict) -> str:
    score = "n/a" if s["score"] is None else f"{100 * s['score']:.1f} %"
    lines = [f"# Mutation score: {score}", "",
             f"{s['killed']} killed, {s['survived']} survived, {s['not_applied']} not applied, "
             f"{s['not_judged']} not judged (their tests fail unmutated), of {s['mutations']} mutations; "
             f"commit `{s['commit'][:12]}`, {s['generated']}, {s['wall_seconds']:.0f} s in all "
             f"(`{s['command'].strip()}`).", "",
             "| mutation | file | outcome | seconds | tests | what it plants |", "|---|---|---|---|---|---|"]
    for r in s["results"]:
        tests = ", ".join(t.removeprefix("tests/") for t in r["tests"])
        lines.append(f"| {r['id']} | {r['file']} | {r['outcome']} | {r['seconds']:.0f} | {tests} | {r['note']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
