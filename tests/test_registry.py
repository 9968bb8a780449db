"""The backend registry (``bench.backends``): the facts each backend package states, read
without importing a framework, and the defaults resolved from them."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import backends
from bench.errors import SpecError
from bench.spec import BatchNorm, Optimizer
from bench.spec.defaults import KEYS, batchnorm_settings, optimizer_settings

ROOT = Path(__file__).resolve().parents[1]


def test_the_registry_reads_every_backend_without_importing_a_framework():
    code = ("import sys; from bench import backends\n"
            "for n in backends.names():\n"
            "    i = backends.info(n); i.MODES, i.GROUP_OVERHEAD_S, i.LIBRARIES, backends.defaults(n, 'as_written')\n"
            "backends.speed_loops(); backends.libraries(); import bench.cli, bench.run.plan, bench.publish.compare\n"
            "print(sorted(m for m in ('tensorflow', 'torch', 'keras', 'numba') if m in sys.modules))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_every_backend_states_its_facts():
    for name in backends.names():
        info = backends.info(name)
        assert set(info.MODES) <= {"as_written", "matched"} and "as_written" in info.MODES
        assert info.GROUP_OVERHEAD_S > 0 and info.PACKAGE and info.LIBRARIES
        assert info.REFERENCE_LOOP in backends.reference_loops()
        for mode in ("as_written", "matched"):
            assert set(backends.defaults(name, mode)) == set(KEYS)
    assert sum(backends.info(name).MEASURES_PEAK for name in backends.names()) == 1
    assert backends.speed_loops()[:len(backends.names())] == backends.names()


def test_defaults_are_the_tables_of_bench_spec_defaults():
    assert backends.defaults("tf", "as_written")["init"] == "glorot_uniform"
    assert backends.defaults("torch", "as_written")["init"] == "kaiming_uniform"
    # matched: PyTorch takes the Keras column whole
    assert backends.defaults("torch", "matched") == backends.defaults("tf", "matched")
    assert not backends.plans("tf", "matched") and backends.plans("torch", "matched")
    torch_bn = batchnorm_settings(BatchNorm(), backends.defaults("torch", "as_written"))
    assert torch_bn == (1.0 - 0.1, 1e-5)
    assert batchnorm_settings(BatchNorm(momentum=0.5, eps=0.1), backends.defaults("tf", "as_written")) == (0.5, 0.1)
    adam = optimizer_settings(Optimizer("adam"), backends.defaults("torch", "as_written"))
    assert (adam["lr"], adam["eps"], adam["beta2"]) == (1e-3, 1e-8, 0.999)
    assert optimizer_settings(Optimizer("sgd", lr=None), backends.defaults("torch", "as_written"))["lr"] is None
    assert optimizer_settings(Optimizer("sgd", lr=None), backends.defaults("tf", "as_written"))["lr"] == 0.01


def test_unknown_names_are_one_sentence():
    with pytest.raises(SpecError, match="unknown framework 'jax'"):
        backends.info("jax")
    with pytest.raises(SpecError, match="unknown mode 'fair'"):
        backends.defaults("torch", "fair")
    with pytest.raises(SpecError, match="unknown reference loop"):
        backends.reference_loop("eager_jax")
