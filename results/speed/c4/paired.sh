#!/bin/bash
# Old and new code timed at the same moment: one process each, one thread each, each on its own core,
# the cores swapped every round, so a swing in the machine's speed falls on both alike.
# Usage: BASE=<checkout of the old commit> HEAD_TREE=<checkout of the new one> paired.sh ARM ROUNDS
arm=$1; rounds=$2; here=$(cd "$(dirname "$0")" && pwd); py=${PY:-python}
for r in $(seq 1 "$rounds"); do
  if [ $((r % 2)) = 1 ]; then cb=0; ch=1; else cb=1; ch=0; fi
  b=$(mktemp); h=$(mktemp)
  PYTHONPATH=$BASE taskset -c $cb "$py" "$here/step_probe.py" 1 "$arm" > "$b" 2>&1 &
  PYTHONPATH=$HEAD_TREE taskset -c $ch "$py" "$here/step_probe.py" 1 "$arm" > "$h" 2>&1 &
  wait
  echo "$arm round $r base $(head -1 "$b" | awk '{print $2}') head $(head -1 "$h" | awk '{print $2}')"
  rm -f "$b" "$h"
done
