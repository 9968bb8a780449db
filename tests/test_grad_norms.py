"""The gradient-norm metrics (``bench.spec.gradients``, C5c): per-step L2 norms of each kernel
layer's kernel gradient, recorded by all four trainers only when a case asks.

TF <-> PyTorch parity as ``tests/test_parity.py`` does it (copied glorot weights, the same batch,
no dropout); the vectorized trainers against the per-seed path as ``tests/test_group.py`` does
it (the same masks, one epoch of two steps); a reference from autograd on the neutral weights,
which tells the kernel's gradient from the bias's and from the one after the update.
"""
import dataclasses

import numpy as np
import pytest

from bench import backends, data
from bench.errors import SpecError
from bench.run.seeds import batch_order, initial_params, initializer_for
from bench.run.training import train_group
from bench.spec import L1, Arm, Dense, Dropout, Job, Metric, Optimizer, registry
from bench.spec.gradients import GRAD_METRICS, kernel_layers

FRAMEWORKS = ["torch", "tf"]
C5C = registry.get("c5c")


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(7)
    x = rng.random((128, 784), dtype=np.float32)
    x[x < 0.8] = 0.0   # sparse like MNIST
    return x, rng.integers(0, 10, 128).astype(np.int64)


def _job(framework, arm, case=C5C, mode="as_written"):
    pytest.importorskip({"tf": "tensorflow", "torch": "torch"}[framework])
    arm = case.arm(arm) if isinstance(arm, str) else arm
    return Job(case, arm, framework, mode, "smoke", case.budget("smoke"))


def _params(job, seed=0, scheme="glorot_uniform"):
    return initial_params(job.arm.layers, job.case.input_shape, seed, scheme)


# --- TF <-> PyTorch ---------------------------------------------------------------------------

@pytest.mark.parametrize("arm", ["sigmoid", "tanh"])
def test_tf_and_torch_give_the_same_norms_from_the_same_weights(arm, batch):
    tf_job, pt_job = _job("tf", arm), _job("torch", arm, mode="matched")
    params = _params(tf_job)
    tf_t = backends.load("tf").Trainer(tf_job, params, 0)
    pt_t = backends.load("torch").Trainer(pt_job, params, 0)
    assert tf_t.step(*batch) == pytest.approx(pt_t.step(*batch), rel=1e-5)
    a, b = tf_t.grad_norms(), pt_t.grad_norms()
    assert a.shape == b.shape == (1, 9)   # one step, 8 hidden Dense + the output Dense
    np.testing.assert_allclose(a, b, rtol=1e-4)
    if arm == "sigmoid":   # the net the claim is about vanishes: the first kernel's is the smallest
        assert a[0, 0] < a[0, -1] / 10


# --- the right tensor at the right time ----------------------------------------------------------

def _reference(params, x, y, acts):
    """Kernel and bias gradient norms by autograd on the neutral weights (Dense layers only)."""
    import torch
    leaves = [{k: torch.tensor(v, requires_grad=True) for k, v in p.items()} for p in params]
    h = torch.as_tensor(x)
    for p, act in zip(leaves, acts):
        h = h @ p["kernel"] + p["bias"]
        h = {"sigmoid": torch.sigmoid, "linear": lambda t: t}[act](h)
    torch.nn.functional.cross_entropy(h, torch.as_tensor(y)).backward()
    return ([float(p["kernel"].grad.norm()) for p in leaves], [float(p["bias"].grad.norm()) for p in leaves],
            [p["kernel"].grad.numpy() for p in leaves], [p["bias"].grad.numpy() for p in leaves])


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_norm_is_the_kernel_gradient_before_the_update(framework, batch):
    """A large lr makes the gradient after the update differ clearly; the bias's norm differs anyway."""
    case = dataclasses.replace(C5C, optimizer=Optimizer("sgd", lr=2.0))
    arm = Arm("small", (Dense(32, "sigmoid"), Dense(32, "sigmoid"), Dense(10)))
    job = _job(framework, arm, case, mode="matched" if framework == "torch" else "as_written")
    params = _params(job)
    trainer = backends.load(framework).Trainer(job, params, 0)
    x, y = batch
    trainer.step(x, y)
    got = trainer.grad_norms()[0]
    kernel, bias, kg, bg = _reference(params, x, y, ("sigmoid", "sigmoid", "linear"))
    np.testing.assert_allclose(got, kernel, rtol=1e-4)
    assert not np.allclose(got, bias, rtol=1e-2)
    after = [{"kernel": p["kernel"] - 2.0 * g, "bias": p["bias"] - 2.0 * b} for p, g, b in zip(params, kg, bg)]
    np.testing.assert_allclose([p["kernel"] for p in trainer.params()][0], after[0]["kernel"], atol=1e-5)
    assert not np.allclose(got, _reference(after, x, y, ("sigmoid", "sigmoid", "linear"))[0], rtol=1e-2)


# --- vectorized seeds against the per-seed path ---------------------------------------------------

@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("arm", ["sigmoid", "tanh_dropout"])
def test_the_group_gives_each_seed_the_per_seed_norms(framework, arm):
    job = _job(framework, arm)
    x, y, _, _ = data.prepare(data.load(job.data.dataset), job.data)
    seeds = [0, 3]
    scheme = initializer_for(framework, "as_written")
    params = [_params(job, s, scheme) for s in seeds]
    backend = backends.load(framework)
    group = backend.GroupTrainer(job, params, seeds)
    group.set_data(x, y)
    batches = [batch_order(len(x), job.data.batch_size, 1, s)[:2] for s in seeds]
    group.fit_epoch(batches)
    norms = group.grad_norms()
    assert norms.shape == (2, 2, 9)
    for i, seed in enumerate(seeds):
        single = backend.Trainer(job, params[i], seed)
        single.set_data(x, y)
        single.fit_epoch(batches[i])
        np.testing.assert_allclose(norms[i], single.grad_norms(), rtol=1e-4)
    assert not np.allclose(norms[0], norms[1], rtol=1e-3)   # each seed's own


# --- only where asked ---------------------------------------------------------------------------

@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_metrics_and_curves_are_recorded_only_where_a_case_asks(framework):
    job = _job(framework, "sigmoid_dropout")
    arrays = data.prepare(data.load(job.data.dataset), job.data)
    asked = train_group(job, backends.load(framework), arrays, [0, 1])
    for out in asked:
        curve, metrics = out["curve"], out["metrics"]
        assert [k for k in curve if k.startswith("grad_norm_")] == [f"grad_norm_{j}" for j in range(9)]
        # one epoch: its mean is the mean over all steps
        assert metrics["grad_norm_first"] == pytest.approx(curve["grad_norm_0"][0], rel=1e-9)
        assert metrics["grad_ratio_first_last"] == pytest.approx(
            np.log10(curve["grad_norm_0"][0] / curve["grad_norm_8"][0]), rel=1e-9)
    plain = dataclasses.replace(job.case, metrics=(Metric("test_accuracy", higher_is_better=True),), claims=())
    job = dataclasses.replace(job, case=plain)
    out = train_group(job, backends.load(framework), arrays, [0, 1])[0]
    assert not any(k.startswith("grad") for k in [*out["curve"], *out["metrics"]])
    trainer = backends.load(framework).Trainer(job, _params(job), 0)
    with pytest.raises(SpecError, match="no gradient norms"):
        trainer.grad_norms()


# --- the spec ------------------------------------------------------------------------------------

def test_c5c_declares_the_gradient_metrics_and_kernel_layers_are_counted():
    assert set(GRAD_METRICS) <= {m.name for m in C5C.metrics}
    for arm in C5C.arms:
        assert len(kernel_layers(arm.layers, C5C.input_shape)) == 9
    assert kernel_layers((Dense(4), Dropout(0.5), Dense(2)), (3,)) == [0, 2]


def test_the_ratio_on_a_net_with_one_kernel_layer_is_one_clear_sentence():
    one = Arm("one", (Dense(10),))
    with pytest.raises(SpecError, match=r"arm 'one' has 1 kernel layer\(s\), but grad_norm_first, "
                                        r"grad_ratio_first_last needs 2"):
        dataclasses.replace(C5C, arms=(one,), claims=()).validate()


def test_a_penalized_arm_is_refused():
    arm = dataclasses.replace(C5C.arm("sigmoid"), name="l1", l1=L1(1e-4))
    with pytest.raises(SpecError, match="arm 'l1' has an L1/L2 penalty"):
        dataclasses.replace(C5C, arms=(arm,), claims=()).validate()


def test_the_metrics_come_from_the_step_means_and_a_diverged_seed_records_none():
    from bench.run.training import _Run, grad_metrics
    assert grad_metrics(np.array([2.0, 1.0, 20.0]), 2) == pytest.approx(
        {"grad_norm_first": 1.0, "grad_ratio_first_last": -1.0})
    run = _Run()
    run.after_epoch(np.array([1.0, np.nan]))
    run.after_norms(np.ones((2, 3)))
    assert run.diverged and run.norm_sums is None and "grad_norm_0" not in run.curve
