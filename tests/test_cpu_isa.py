"""``bench run --cpu-isa``: the code-path switches are set before any framework loads, in the
parent and in its worker processes, and every record's ``env["cpu_isa"]`` says what was in force."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.errors import SpecError
from bench.run import cpu_isa

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def clean_env(monkeypatch):
    for name in (*cpu_isa.NAMES, cpu_isa.ENV):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_current_names_the_mode_or_lists_the_switches(clean_env):
    assert cpu_isa.current() == "native"
    for name, value in cpu_isa.SWITCHES["avx2"].items():
        clean_env.setenv(name, value)
    assert cpu_isa.current() == "avx2"
    clean_env.setenv("MKL_CBWR", "AVX2")
    assert cpu_isa.current() == "custom: ATEN_CPU_CAPABILITY=avx2, MKL_CBWR=AVX2, ONEDNN_MAX_CPU_ISA=AVX2"


def test_an_unknown_mode_or_a_late_pin_is_one_sentence(clean_env):
    with pytest.raises(SpecError, match="unknown --cpu-isa 'sse'"):
        cpu_isa.apply("sse")
    pytest.importorskip("torch")   # loaded now; TensorFlow too when an earlier test imported it
    with pytest.raises(SpecError, match=r"must be set before (tensorflow or )?torch is imported"):
        cpu_isa.apply("avx2")
    cpu_isa.apply("native")   # nothing to pin: allowed at any time
    assert cpu_isa.current() == "native"


def test_the_record_env_carries_the_mode(clean_env):
    from bench.run import stamp

    assert stamp.describe({})["cpu_isa"] == "native"


_WORKER = r"""
import json, os, sys
from bench.run import cpu_isa, workers

def probe():
    import torch
    return os.environ.get("MKL_CBWR"), torch.backends.cpu.get_cpu_capability(), cpu_isa.current()

if __name__ == "__main__":
    cpu_isa.apply(sys.argv[1])
    here = probe()
    with workers.Pool(1) as pool:
        there = [result for _, ok, result in pool.map(probe, [()])]
    print(json.dumps({"parent": here, "worker": there[0]}))
"""


def test_avx2_pins_the_parent_and_its_workers_before_torch_loads(tmp_path, clean_env):
    pytest.importorskip("torch")
    script = tmp_path / "probe.py"
    script.write_text(_WORKER)
    env = {k: v for k, v in os.environ.items() if k not in (*cpu_isa.NAMES, cpu_isa.ENV)}
    out = subprocess.run([sys.executable, str(script), "avx2"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=300, env={**env, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["parent"] == got["worker"] == ["COMPATIBLE", "AVX2", "avx2"], got
