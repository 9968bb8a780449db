"""Inference modes of an arm's Dropout (``bench.spec.inference``): inverted, weight scaling
(classic non-inverted dropout) and MC averaging over k masks.

TF <-> PyTorch parity as ``tests/test_parity.py`` does it (copied glorot weights, PyTorch in
``matched`` mode). The frameworks draw different masks, so what is compared across them is
deterministic (the weight-scaled forward and loss); what depends on masks is checked within
a framework against an identity that holds for the same masks: a weight-scaled net is the
inverted net whose layer after Dropout has its kernel multiplied by keep, in training (the
same masks, unscaled) and at test. The vectorized trainers against the per-seed path as
``tests/test_group.py`` does it.
"""
import dataclasses

import numpy as np
import pytest

from bench import backends, data
from bench.errors import SpecError
from bench.run.seeds import batch_order, initial_params, initializer_for
from bench.run.training import train_group
from bench.spec import (Arm, BatchNorm, Dense, Dropout, GaussianDropout, Inference, Job, Loss, Metric, registry)
from bench.spec.inference import MC_ROWS, mc_seed, mc_stream

FRAMEWORKS = ["torch", "tf"]
KEEP = 0.5


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(7)
    x = rng.random((300, 784), dtype=np.float32)   # 300 rows: two MC chunks (MC_ROWS = 256)
    x[x < 0.8] = 0.0
    return x, rng.integers(0, 10, 300).astype(np.int64)


def _case():
    return registry.get("c5g")


def _trainer(framework, arm, params, seed=0, case=None):
    pytest.importorskip({"tf": "tensorflow", "torch": "torch"}[framework])
    case = case or _case()
    mode = "matched" if framework == "torch" else "as_written"
    return backends.load(framework).Trainer(Job(case, arm, framework, mode, "smoke", case.budget("smoke")),
                                            params, seed)


def _folded(params):
    """The weights under which the inverted net computes what the weight-scaled net computes
    with ``params``: the kernel after the Dropout times keep."""
    out = [dict(p) for p in params]
    out[1]["kernel"] = (params[1]["kernel"] * np.float32(KEEP)).astype(np.float32)
    return out


def _params(seed=0):
    return initial_params(_case().arm("inverted").layers, (784,), seed, "glorot_uniform")


# --- the spec -------------------------------------------------------------------------------

def test_bad_inference_specs_are_one_sentence():
    net = (Dense(8, "relu"), Dropout(0.5), Dense(2))
    for inference, match in ((Inference("mc"), "samples .* >= 1"), (Inference("weight_scaling", 5), "leave it 0"),
                             (Inference("bayes"), "unknown inference mode")):
        with pytest.raises(SpecError, match=match):
            Arm("a", net, inference=inference).validate()
    with pytest.raises(SpecError, match=r"layer 1 \(GaussianDropout\), which allows only \('inverted',\)"):
        Arm("a", (Dense(8), GaussianDropout(0.5), Dense(2)), inference=Inference("weight_scaling")).validate()
    with pytest.raises(SpecError, match=r"'mc' does not apply to layer 1 \(BatchNorm\)"):
        Arm("a", (Dense(8), BatchNorm(), Dropout(0.5), Dense(2)), inference=Inference("mc", 3)).validate()
    with pytest.raises(SpecError, match="this arm has none"):
        Arm("a", (Dense(8), Dense(2)), inference=Inference("mc", 3)).validate()
    Arm("a", (Dense(8), BatchNorm(), Dropout(0.5), Dense(2)), inference=Inference("weight_scaling")).validate()


def test_an_arm_without_inference_keeps_its_spec_hash():
    from bench.records.identity import spec_hash
    case = _case()
    plain = dataclasses.replace(case, arms=(case.arm("inverted"),))
    same = dataclasses.replace(case, arms=(dataclasses.replace(case.arm("inverted"), inference=None),))
    other = dataclasses.replace(case, arms=(case.arm("weight_scaling"),))
    assert spec_hash(plain, "smoke") == spec_hash(same, "smoke") != spec_hash(other, "smoke")


# --- weight scaling: the math on fixed weights, and TF <-> PyTorch ----------------------------

def test_weight_scaled_forward_is_the_inverted_forward_with_the_next_kernel_times_keep(batch):
    case, x = _case(), batch[0]
    p = _params()
    outs = {}
    for fw in FRAMEWORKS:
        ws = _trainer(fw, case.arm("weight_scaling"), p)
        inv = _trainer(fw, case.arm("inverted"), _folded(p))
        outs[fw] = ws.predict(x)
        np.testing.assert_allclose(outs[fw], inv.predict(x), rtol=1e-5, atol=1e-6)
        # and it is not the plain inverted forward on the same weights (the keep factor is applied)
        assert np.abs(outs[fw] - _trainer(fw, case.arm("inverted"), p).predict(x)).max() > 1e-2
        # numpy: relu(x W1 + b1) * keep W2 + b2
        h = np.maximum(x @ p[0]["kernel"] + p[0]["bias"], 0) * KEEP
        np.testing.assert_allclose(outs[fw], h @ p[1]["kernel"] + p[1]["bias"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(outs["tf"], outs["torch"], rtol=1e-5, atol=1e-5)
    tf_t, pt_t = (_trainer(fw, case.arm("weight_scaling"), p) for fw in ("tf", "torch"))
    assert tf_t.evaluate(*batch)["loss"] == pytest.approx(pt_t.evaluate(*batch)["loss"], rel=1e-5)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_training_masks_are_the_inverted_ones_unscaled(framework, batch):
    """The same seed draws the same masks in both forms; unscaled, they make the weight-scaled
    net's training loss (and first step's loss) the inverted net's under the folded weights."""
    case, p = _case(), _params()
    ws = _trainer(framework, case.arm("weight_scaling"), p, seed=4)
    inv = _trainer(framework, case.arm("inverted"), _folded(p), seed=4)
    plain = _trainer(framework, case.arm("inverted"), p, seed=4)
    a, b = ws.loss(*batch, training=True), inv.loss(*batch, training=True)
    assert a == pytest.approx(b, rel=1e-5)
    assert abs(a - plain.loss(*batch, training=True)) > 1e-3   # unscaled: not the inverted loss itself
    assert ws.step(*batch) == pytest.approx(inv.step(*batch), rel=1e-5)   # the next draw agrees too
    # training mode is noisy, and in training a kept unit passes unscaled: out = h * m W2 + b2
    out = ws.predict(batch[0], training=True)
    assert np.abs(out - ws.predict(batch[0])).max() > 1e-3


# --- MC averaging -------------------------------------------------------------------------------

def _mc_arm(k):
    return dataclasses.replace(_case().arm("mc"), inference=Inference("mc", k))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_mc_with_one_sample_is_one_training_mode_forward_with_the_documented_stream(framework, batch):
    x, p, seed = batch[0], _params(2), 2
    mc = _trainer(framework, _mc_arm(1), p, seed=seed).predict(x)
    if framework == "torch":
        import torch
        inv = _trainer(framework, _case().arm("inverted"), p, seed=seed)
        inv._rng_state = torch.Generator().manual_seed(mc_seed(seed)).get_state()   # the MC generator
        want = torch.log_softmax(torch.as_tensor(inv.predict(x, training=True)), -1).numpy()
    else:
        import keras
        import tensorflow as tf
        # Keras's Dropout(seed=stream) draws its c-th mask with the stateless seed (stream, c):
        # the MC stream of the Dropout at position 1, chunk c, sample 0
        drop = keras.layers.Dropout(0.5, seed=mc_stream(seed, 1))
        h = np.maximum(x @ p[0]["kernel"] + p[0]["bias"], 0).astype(np.float32)
        dropped = np.concatenate([drop(h[i:i + MC_ROWS], training=True).numpy() for i in range(0, len(x), MC_ROWS)])
        want = tf.nn.log_softmax(dropped @ p[1]["kernel"] + p[1]["bias"]).numpy()
    np.testing.assert_allclose(mc, want, rtol=1e-4, atol=1e-5)
    assert np.abs(mc - _trainer(framework, _case().arm("inverted"), p).predict(x)).max() > 1e-2   # it sampled


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_mc_mean_approaches_the_weight_scaled_output_as_k_grows(framework, batch):
    """A regression net with Dropout right before its output layer: the output is linear in the
    mask, so its MC mean is unbiased for the deterministic (weight-scaled) output, with variance
    falling as 1/k. Row errors are independent (each row has its own masks)."""
    net = (Dense(64, "relu"), Dropout(0.5), Dense(1))
    case = dataclasses.replace(_case(), loss=Loss("mse"), metrics=(Metric("test_mae", False),), claims=(),
                               arms=(Arm("det", net), Arm("mc", net, inference=Inference("mc", 4))))
    p = initial_params(net, (784,), 0, "glorot_uniform")
    x = batch[0]
    det = _trainer(framework, case.arm("det"), p, case=case).predict(x)[:, 0]
    err = {}
    for k in (4, 400):
        arm = dataclasses.replace(case.arm("mc"), inference=Inference("mc", k))
        err[k] = _trainer(framework, arm, p, case=case).predict(x)[:, 0] - det
    mse = {k: float(np.mean(e ** 2)) for k, e in err.items()}
    assert mse[4] > 0
    assert mse[400] < mse[4] / 30            # 1/100 expected; 1/30 leaves room for the noise of the estimate
    n = len(x)
    assert abs(err[400].mean()) < 5 * np.sqrt(mse[400] / n)   # no bias: the mean error is within 5 SE of 0
    assert abs(err[4].mean()) < 5 * np.sqrt(mse[4] / n)


def test_mc_evaluation_is_the_mean_probability(batch):
    """test_loss is the NLL of the mean probability and test_accuracy its argmax: from predict()."""
    pytest.importorskip("torch")
    t = _trainer("torch", _mc_arm(7), _params(1), seed=1)
    logp = t.predict(batch[0])
    np.testing.assert_allclose(np.exp(logp).sum(1), 1.0, rtol=1e-5)
    got = t.evaluate(*batch)
    assert got["accuracy"] == pytest.approx(float((logp.argmax(1) == batch[1]).mean()))
    assert got["loss"] == pytest.approx(float(-logp[np.arange(len(logp)), batch[1]].mean()), rel=1e-5)
    assert t.evaluate(*batch) == got   # the MC stream restarts: an evaluation is a function of the weights


# --- vectorized seeds against the per-seed path ----------------------------------------------------

def _setup(arm, framework):
    pytest.importorskip({"tf": "tensorflow", "torch": "torch"}[framework])
    case = _case()
    budget = case.budget("smoke")
    arrays = data.prepare(data.load(case.data.dataset), budget)
    return Job(case, case.arm(arm), framework, "as_written", "smoke", budget), backends.load(framework), arrays


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("arm", ["weight_scaling", "mc"])
def test_group_steps_and_evaluates_each_seed_as_the_per_seed_path(framework, arm):
    job, backend, (x, y, xt, yt) = _setup(arm, framework)
    seeds = [0, 3]
    scheme = initializer_for(framework, "as_written")
    params = [initial_params(job.arm.layers, job.case.input_shape, s, scheme) for s in seeds]
    group = backend.GroupTrainer(job, params, seeds)
    group.set_data(x, y)
    batches = [batch_order(len(x), job.data.batch_size, 1, s)[:3] for s in seeds]
    group_losses = group.fit_epoch(batches)
    evals = group.evaluate(xt[:600], yt[:600])
    for i, seed in enumerate(seeds):
        single = backend.Trainer(job, params[i], seed)
        single.set_data(x, y)
        np.testing.assert_allclose(group_losses[i], single.fit_epoch(batches[i]), rtol=1e-5)
        want = single.evaluate(xt[:600], yt[:600])
        assert evals[i]["accuracy"] == pytest.approx(want["accuracy"], abs=1 / 600 + 1e-9)
        assert evals[i]["loss"] == pytest.approx(want["loss"], rel=1e-4)
        for got, ref in zip(group.params()[i], single.params()):
            for name in ref:
                close = np.isclose(got[name], ref[name], rtol=1e-4, atol=2e-6)
                assert close.mean() >= 0.999, (name, close.mean())


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("arm", ["weight_scaling", "mc"])
def test_a_seed_record_does_not_depend_on_its_group(framework, arm):
    job, backend, arrays = _setup(arm, framework)
    alone = train_group(job, backend, arrays, [2])[0]
    out = train_group(job, backend, arrays, [0, 2, 5])[1]
    assert out["metrics"] == alone["metrics"] and out["curve"] == alone["curve"]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_mc_trains_exactly_as_inverted_and_differs_only_at_test(framework):
    job, backend, arrays = _setup("mc", framework)
    inverted = dataclasses.replace(job, arm=job.case.arm("inverted"))
    for vectorized in (False, True):
        mc = train_group(job, backend, arrays, [1], vectorized=vectorized)[0]
        inv = train_group(inverted, backend, arrays, [1], vectorized=vectorized)[0]
        assert mc["curve"]["train_loss"] == inv["curve"]["train_loss"]
        assert mc["metrics"]["test_loss"] != inv["metrics"]["test_loss"]
