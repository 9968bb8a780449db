"""The PyTorch backend on a CUDA device: what ``bench gpu-check`` runs first. Skipped
without a GPU; imports no TensorFlow, so it runs where only PyTorch is installed."""
import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")]

from bench import backends, data  # noqa: E402
from bench.run.training import train_group, train_seed  # noqa: E402
from bench.spec import Job, registry  # noqa: E402


def _job(case_id, arm, rows):
    case = registry.get(case_id)
    budget = dataclasses.replace(case.budget("smoke"), epochs=1, train_subsample=rows, test_subsample=500)
    return Job(case, case.arm(arm), "torch", "as_written", "smoke", budget), \
        data.prepare(data.load(case.data.dataset), budget)


def test_the_torch_backend_trains_on_the_gpu():
    assert backends.load("torch").versions()["device"] != "cpu"


@pytest.mark.parametrize("case_id, arm", [("c1", "both"), ("c4", "conv_fc")])
def test_a_seed_repeats_bit_for_bit_on_the_gpu(case_id, arm):
    job, arrays = _job(case_id, arm, 512)
    backend = backends.load("torch")
    one, two = (train_seed(job, backend, arrays, 3) for _ in range(2))
    assert one["metrics"] == two["metrics"] and one["curve"] == two["curve"]
    assert not one["diverged"] and one["steps"] == 4


@pytest.mark.parametrize("case_id, arm", [("c1", "both"), ("c4", "conv_fc")])
def test_a_group_on_the_gpu_tracks_the_per_seed_path(case_id, arm):
    """Rounding differs between grouped and single kernels (and cuDNN may use TF32), so the
    two paths' losses after 4 steps agree to 2 %, not to the bit; a wrong mask or weight
    would move them by far more."""
    job, arrays = _job(case_id, arm, 512)
    backend = backends.load("torch")
    group = train_group(job, backend, arrays, [0, 1])
    single = [train_seed(job, backend, arrays, s) for s in (0, 1)]
    for g, s in zip(group, single):
        np.testing.assert_allclose(g["curve"]["train_loss"], s["curve"]["train_loss"], rtol=0.02)
