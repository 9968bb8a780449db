"""TF <-> PyTorch parity on the C1 MLP with copied weights: forward, loss with L2, one Adam step.

Both trainers get the same glorot weights and the same batch; PyTorch runs in
``matched`` mode (Keras's Adam eps and its placement). Arms without dropout
keep the comparison deterministic.
"""
import numpy as np
import pytest

from bench.spec import registry
from bench.backends import load
from bench.spec import Job
from bench.run.seeds import initial_params

pytest.importorskip("tensorflow")
pytest.importorskip("torch")
C1 = registry.get("c1")


def _pair(arm_name, seed=0):
    arm = C1.arm(arm_name)
    params = initial_params(arm.layers, 784, seed, "glorot_uniform")
    budget = C1.budget("smoke")
    tf_t = load("tf").Trainer(Job(C1, arm, "tf", "as_written", "smoke", budget), params, seed)
    pt_t = load("torch").Trainer(Job(C1, arm, "torch", "matched", "smoke", budget), params, seed)
    return tf_t, pt_t


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(7)
    x = rng.random((128, 784), dtype=np.float32)
    x[x < 0.8] = 0.0  # sparse like MNIST, so many first-layer gradients are exactly zero
    return x, rng.integers(0, 10, 128).astype(np.int64)


@pytest.mark.parametrize("arm", ["none", "dropout"])
def test_forward_output_in_inference_mode(arm, batch):
    tf_t, pt_t = _pair(arm)
    np.testing.assert_allclose(tf_t.predict(batch[0]), pt_t.predict(batch[0]), rtol=1e-5, atol=1e-5)


def test_loss_including_the_l2_term(batch):
    tf_t, pt_t = _pair("l2")
    a, b = tf_t.loss(*batch), pt_t.loss(*batch)
    assert a == pytest.approx(b, rel=1e-5)
    none_tf, _ = _pair("none")
    l2 = 1e-4 * sum((p ** 2).sum() / 2 for layer in tf_t.params() for p in layer.values())
    assert a - none_tf.loss(*batch) == pytest.approx(l2, rel=1e-4)


def test_one_adam_step(batch):
    tf_t, pt_t = _pair("l2")
    before = tf_t.params()
    la, lb = tf_t.step(*batch), pt_t.step(*batch)
    assert la == pytest.approx(lb, rel=1e-5)
    moved = 0
    for pa, pb, p0 in zip(tf_t.params(), pt_t.params(), before):
        for name in pa:
            # All within 1e-4 (a wrong step moves weights by ~lr = 0.01) and nearly all within
            # 2e-6: Adam divides by sqrt(v), so an entry whose gradient is ~0 up to rounding
            # can step differently on another CPU's kernels (1 of 2048 entries, 3.3e-6, seen).
            np.testing.assert_allclose(pa[name], pb[name], rtol=0, atol=1e-4, err_msg=name)
            assert np.isclose(pa[name], pb[name], rtol=0, atol=2e-6).mean() >= 0.999, name
            moved += int((np.abs(pa[name] - p0[name]) > 1e-3).sum())
    assert moved > 1000  # the step really moved the weights (lr 0.01)
