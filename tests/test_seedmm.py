"""``bench.backends.torch.seedmm``: a seed's slice of a batched matmul is the same bits at
any place in its group, also on a BLAS code path whose kernels depend on pointer alignment.

MKL's SSE4.2 path (``MKL_ENABLE_INSTRUCTIONS=SSE4_2``, chosen before torch loads, so in a
subprocess) adds a ``(1, n) @ (n, k)`` slice up in an order that depends on whether its
output starts on a 16-byte boundary; the subprocess first checks that plain ``torch.bmm``
does show it there, so the test cannot pass because the path was never taken.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bench.backends.torch import seedmm  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SENSITIVE = {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}

_PROBE = r"""
import json, torch
from bench.backends.torch import seedmm
gen = torch.Generator().manual_seed(0)

def same_slices(t):
    return all(torch.equal(t[i], t[0]) for i in range(1, t.shape[0]))

def products(mm, s=3):
    # each seed gets the same numbers, so any difference between slices is the place's
    out = {}
    for n, k in ((128, 10), (44, 10), (80, 1)):
        g = torch.randn(n, k, generator=gen).expand(s, n, k).contiguous()
        x = torch.randn(n, 32, generator=gen).expand(s, n, 32).contiguous()
        w = torch.randn(32, k, generator=gen).expand(s, 32, k).contiguous().requires_grad_(True)
        ones = g.new_ones(1, 1, n).expand(s, 1, n)
        y = mm(x, w)
        (y * g).sum().backward()
        out[f"{n}x{k}"] = [same_slices(mm(ones, g)), same_slices(y.detach()), same_slices(w.grad),
                           same_slices(mm(g.transpose(1, 2).reshape(s, 1, n * k), g.reshape(s, n * k, 1)))]
    return out

raw = [products(torch.bmm) for _ in range(5)]
fixed = [products(seedmm.bmm) for _ in range(5)]
print(json.dumps({"raw_all_same": all(all(v) for r in raw for v in r.values()),
                  "fixed": [v for r in fixed for v in r.values()]}))
"""


def _probe(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, **env, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_seed_slice_is_the_same_bits_at_every_place_on_an_alignment_sensitive_path():
    if "mkl" not in torch.__config__.show().lower():
        pytest.skip("this torch build has no MKL, whose SSE4.2 path the test takes")
    got = _probe(SENSITIVE)
    if got["raw_all_same"]:
        pytest.skip("plain torch.bmm showed no alignment dependence here: the sensitive path was not taken")
    assert all(all(v) for v in got["fixed"]), got


def test_seedmm_is_torch_bmm_where_the_slices_are_aligned_and_close_elsewhere():
    rng = np.random.default_rng(0)
    for s, n, m, k in ((3, 128, 64, 32), (3, 44, 32, 10), (2, 1, 128, 1)):
        a = torch.as_tensor(rng.standard_normal((s, n, m), dtype=np.float32), dtype=torch.float32)
        b = torch.as_tensor(rng.standard_normal((s, m, k), dtype=np.float32), dtype=torch.float32)
        got, want = seedmm.bmm(a, b), torch.bmm(a, b)
        if (n * k) % seedmm.ALIGN == 0 and (n * m) % seedmm.ALIGN == 0 and (m * k) % seedmm.ALIGN == 0:
            assert torch.equal(got, want)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
        # gradients: those of autograd's bmm, up to rounding
        a1, b1 = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
        a2, b2 = a.clone().requires_grad_(True), b.clone().requires_grad_(True)
        g = torch.randn(s, n, k)
        (seedmm.bmm(a1, b1) * g).sum().backward()
        (torch.bmm(a2, b2) * g).sum().backward()
        torch.testing.assert_close(a1.grad, a2.grad, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(b1.grad, b2.grad, rtol=1e-5, atol=1e-5)


def test_seedmm_pads_only_a_misaligned_seed_stride():
    s, m, k = 3, 1, 10
    out = seedmm.empty(s, m, k, like=torch.empty(0))
    assert out.shape == (s, m, k) and out.stride() == (16, 10, 1)
    assert all(out[i].data_ptr() % 64 == out.data_ptr() % 64 for i in range(s))
