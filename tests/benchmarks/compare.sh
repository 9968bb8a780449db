#!/usr/bin/env bash
# The speed gate: time bench_speed.py on the base commit and on the working tree, on this
# machine and in this job, then fail any benchmark whose median got slower than THRESHOLD.
# Timings stored from another day or machine are not comparable, so the base is re-measured
# every time. Usage: compare.sh [BASE_REF]   (default HEAD: your uncommitted changes;
# in CI pass the merge base, e.g. origin/main). SPEED_THRESHOLD overrides the threshold.
# Both runs are pinned to one CPU (SPEED_CPUS, a taskset list; empty = no pinning): with every core
# in use, torch's thread pool oversubscribes and a step swings over 10x (see README), while a single
# pinned thread measures the code, which is what a regression gate needs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
base_ref=${1:-HEAD}
threshold=${SPEED_THRESHOLD:-median:35%}
py="$root/.venv/bin/python"
cpus=${SPEED_CPUS-0}
pin=(); [ -n "$cpus" ] && pin=(taskset -c "$cpus")
opts=(-q -p no:cacheprovider -W ignore "--benchmark-storage=file://$root/.benchmarks"
      --benchmark-columns=min,median,max,rounds --benchmark-sort=name)
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
git -C "$root" worktree add --detach --quiet "$work/base" "$base_ref"
# The base commit's code timed by this tree's benchmarks: `python -m` puts the working
# directory first on sys.path, so `import bench` finds the base commit's package.
echo "== base: $base_ref ($(git -C "$root" rev-parse --short "$base_ref"))"
(cd "$work/base" && "${pin[@]}" "$py" -m pytest "$root/tests/benchmarks/bench_speed.py" "${opts[@]}" --benchmark-save=base)
echo "== working tree, compared with the base (fail: $threshold)"
cd "$root" && "${pin[@]}" "$py" -m pytest tests/benchmarks/bench_speed.py "${opts[@]}" --benchmark-save=head \
  --benchmark-compare --benchmark-compare-fail="$threshold"
