"""The pinned-mode reference records (``results/reproduce/pinned-intel``): C1 and C2 at ``smoke``,
seeds 0-1, both frameworks, made with ``bench run --cpu-isa avx2`` on an Intel CPU (its COMMAND.txt
says which and how), for a run on another CPU type to compare bit for bit.

Always: the set is what COMMAND.txt says it is. With ``BENCH_PINNED_FRESH=DIR`` (the
``--results-dir`` of the same command run here), the test also prints, per framework, how
many seed-runs are the same bits as the reference, and whether this CPU's fingerprint
differs from the reference's. It reports and does not assert: whether pinned bits
transfer across CPU types is the measurement, not a property the suite promises.
Run it with ``-s`` to see the report.
"""
import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

from bench.records import store
from bench.host import environment

REFERENCE = Path(__file__).resolve().parents[1] / "results" / "reproduce" / "pinned-intel"
FRESH_ENV = "BENCH_PINNED_FRESH"


def _records(results_dir) -> list[dict]:
    return list(store.latest(store.load(results_dir, "smoke")).values())


def test_the_reference_is_the_pinned_smoke_run_its_command_names():
    records = _records(REFERENCE)
    assert (REFERENCE / "COMMAND.txt").read_text().count("--cpu-isa avx2") >= 1
    assert sorted({(r["case"], r["framework"], r["seed"]) for r in records}) == sorted(
        (c, fw, s) for c in ("c1", "c2") for fw in ("tf", "torch") for s in (0, 1))
    assert all(r["status"] == "ok" for r in records)
    envs = [r["env"] for r in records]
    assert {e["cpu_isa"] for e in envs} == {"avx2"}
    assert {e["dirty"] for e in envs} == {False} and len({e["commit"] for e in envs}) == 1
    assert {e["cpu_model"] for e in envs} == {next(iter(envs))["cpu_model"]} and "Intel" in envs[0]["cpu_model"]


def same_bits(a: dict, b: dict) -> bool:
    """Metrics and curve equal to the bit; as JSON text, so that a diverged seed's NaN equals NaN."""
    return all(json.dumps(a[k], sort_keys=True) == json.dumps(b[k], sort_keys=True) for k in ("metrics", "curve"))


def bits_report(reference: list[dict], fresh: list[dict]) -> list[str]:
    """Per framework, how many shared seed-runs are the same bits, with the machines and modes."""
    old = {store.key(r): r for r in reference if r.get("status") == "ok"}
    counts = defaultdict(lambda: [0, 0])
    for r in fresh:
        if r.get("status") == "ok" and store.key(r) in old:
            counts[r["framework"]][0] += same_bits(old[store.key(r)], r)
            counts[r["framework"]][1] += 1
    ref_env, new_env = reference[0]["env"], (fresh[0]["env"] if fresh else {})
    lines = [f"reference: {ref_env.get('cpu')}, cpu_isa {ref_env.get('cpu_isa')}, commit {ref_env.get('commit', '')[:10]}",
             f"fresh:     {new_env.get('cpu')}, cpu_isa {new_env.get('cpu_isa')}, commit {new_env.get('commit', '')[:10]}",
             "CPU fingerprint: " + ("the same" if ref_env.get("cpu") == new_env.get("cpu") else "differs")]
    lines += [f"{fw}: {same} of {n} seed-runs bit-identical" for fw, (same, n) in sorted(counts.items())]
    return lines


def test_the_report_counts_identical_and_moved_seed_runs():
    reference = _records(REFERENCE)
    torch_runs = sum(r["framework"] == "torch" for r in reference)
    moved = [dict(r, curve={**r["curve"], "moved": [1.0]}) if r["framework"] == "torch" and r["seed"] == 0 else r
             for r in reference]
    lines = bits_report(reference, moved)
    assert f"tf: {len(reference) - torch_runs} of {len(reference) - torch_runs} seed-runs bit-identical" in lines
    assert f"torch: {torch_runs // 2} of {torch_runs} seed-runs bit-identical" in lines
    assert "CPU fingerprint: the same" in lines


def test_a_fresh_pinned_run_here_against_the_reference(capsys):
    fresh_dir = os.environ.get(FRESH_ENV)
    if not fresh_dir:
        pytest.skip(f"set {FRESH_ENV}=DIR, the --results-dir of COMMAND.txt's run on this machine")
    fresh = _records(fresh_dir)
    assert fresh, f"no smoke records in {fresh_dir}"
    lines = bits_report(_records(REFERENCE), fresh)
    lines.append(f"this machine: {environment.cpu_fingerprint()}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
