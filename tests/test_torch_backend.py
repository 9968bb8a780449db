"""The PyTorch backend: dropout semantics, mode resolution, determinism, L2, NaN."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bench.spec import Job  # noqa: E402
from bench.backends.torch import single as tb  # noqa: E402
from bench.errors import SpecError  # noqa: E402
from bench.run.seeds import initial_params, initializer_for  # noqa: E402
from bench.spec import (L2, Arm, BatchNorm, Case, Data, Dense, Dropout, Loss,  # noqa: E402
                        Metric, Optimizer)

IN = 6


def _trainer(layers, mode="as_written", optimizer=Optimizer("adam", lr=0.01), l2=None,
             loss="softmax_cross_entropy", seed=0, params=None):
    arm = Arm("arm", tuple(layers), l2)
    data = Data("toy", batch_size=8, epochs=1)
    case = Case("toy", "toy", "test", (IN,), data, Loss(loss), optimizer, (arm,),
                (Metric("test_accuracy", True),), ())
    job = Job(case, arm, "torch", mode, "smoke", data)
    if params is None:
        params = initial_params(arm.layers, IN, seed, initializer_for("torch", mode))
    return tb.Trainer(job, params, seed)


def _toy(n=32, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, IN)).astype(np.float32), rng.integers(0, classes, n)


def _dropout_module(rate):
    trainer = _trainer([Dropout(rate), Dense(3)])
    (module,) = [m for m in trainer.model if isinstance(m, torch.nn.Dropout)]
    return module


# --- dropout: p is the drop probability, inverted scaling -------------------------

@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_p_is_the_drop_probability_and_survivors_scale_by_inverse_keep(p):
    module = _dropout_module(p).train()
    n = 200_000
    out = module(torch.ones(n))
    dropped = (out == 0).float().mean().item()
    assert abs(dropped - p) < 5 * math.sqrt(p * (1 - p) / n)  # 5 binomial standard errors
    survivors = out[out != 0]
    assert torch.equal(survivors, torch.full_like(survivors, 1 / (1 - p)))


def test_dropout_is_the_identity_in_eval_mode():
    module = _dropout_module(0.5).eval()
    x = torch.randn(1000)
    assert torch.equal(module(x), x)


def test_dropout_zero_is_the_identity_in_training():
    module = _dropout_module(0.0).train()
    x = torch.randn(1000)
    assert torch.equal(module(x), x)


def test_dropout_099_scales_survivors_by_100():
    module = _dropout_module(0.99).train()
    out = module(torch.ones(100_000))
    survivors = out[out != 0]
    assert len(survivors) > 0
    assert torch.allclose(survivors, torch.full_like(survivors, 100.0))


def test_dropout_rate_one_is_rejected_by_the_spec():
    with pytest.raises(SpecError):
        Dropout(1.0).validate()


# --- modes --------------------------------------------------------------------------

@pytest.mark.parametrize("mode, adam_eps, bn_momentum, bn_eps", [
    ("as_written", 1e-8, 0.1, 1e-5),
    ("matched", 1e-7, 0.01, 1e-3),
])
def test_modes_resolve_adam_eps_and_batchnorm_defaults(mode, adam_eps, bn_momentum, bn_eps):
    trainer = _trainer([Dense(4, "relu"), BatchNorm(), Dense(3)], mode=mode)
    group = trainer.optimizer.param_groups[0]
    assert group["eps"] == adam_eps and group["betas"] == (0.9, 0.999) and group["lr"] == 0.01
    (bn,) = [m for m in trainer.model if isinstance(m, torch.nn.BatchNorm1d)]
    assert bn.momentum == pytest.approx(bn_momentum) and bn.eps == bn_eps


def test_explicit_batchnorm_momentum_is_read_in_the_keras_convention():
    trainer = _trainer([Dense(4), BatchNorm(momentum=0.9, eps=1e-4), Dense(3)])
    (bn,) = [m for m in trainer.model if isinstance(m, torch.nn.BatchNorm1d)]
    assert bn.momentum == pytest.approx(0.1) and bn.eps == 1e-4


def test_sgd_without_lr_is_an_error_as_written_and_keras_default_when_matched():
    with pytest.raises(SpecError, match="learning rate"):
        _trainer([Dense(3)], optimizer=Optimizer("sgd"))
    trainer = _trainer([Dense(3)], optimizer=Optimizer("sgd"), mode="matched")
    assert trainer.optimizer.param_groups[0]["lr"] == 0.01


def test_params_round_trip_in_the_neutral_layout():
    layers = [Dense(4, "relu"), BatchNorm(), Dense(3)]
    params = initial_params(tuple(layers), IN, 3, "glorot_uniform")
    got = _trainer(layers, params=params).params()
    for want, have in zip(params, got):
        assert want.keys() == have.keys()
        for key in want:
            np.testing.assert_array_equal(want[key], have[key])


# --- determinism --------------------------------------------------------------------

def _run(seed, weights_seed=0):
    layers = [Dense(16, "relu"), Dropout(0.5), Dense(3)]
    params = initial_params(tuple(layers), IN, weights_seed, "kaiming_uniform")
    trainer = _trainer(layers, params=params, seed=seed)
    trainer.set_data(*_toy())
    batches = [np.arange(i, i + 8) for i in range(0, 32, 8)]
    return trainer.fit_epoch(batches), trainer.params()


def test_same_seed_gives_bit_identical_losses_and_params():
    (loss_a, params_a), (loss_b, params_b) = _run(7), _run(7)
    np.testing.assert_array_equal(loss_a, loss_b)
    for a, b in zip(params_a, params_b):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
    loss_c, _ = _run(8)
    assert not np.array_equal(loss_a, loss_c)


def test_trainers_do_not_share_dropout_rng():
    torch.manual_seed(123)  # the global seed must not matter
    alone, _ = _run(7)
    _run(9)
    torch.manual_seed(456)
    again, _ = _run(7)
    np.testing.assert_array_equal(alone, again)


# --- the objective ------------------------------------------------------------------

@pytest.mark.parametrize("include_bias", [True, False])
def test_loss_adds_coef_times_half_sum_of_squares(include_bias):
    coef = 0.05
    layers = [Dense(5, "tanh"), Dense(3)]
    trainer = _trainer(layers, l2=L2(coef, include_bias=include_bias))
    x, y = _toy()
    logits = trainer.predict(x).astype(np.float64)
    logp = logits - logits.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    data_loss = -logp[np.arange(len(y)), y].mean()
    keys = ("kernel", "bias") if include_bias else ("kernel",)
    penalty = sum((p[k].astype(np.float64) ** 2).sum() / 2 for p in trainer.params() for k in keys)
    assert penalty > 0
    assert trainer.loss(x, y) == pytest.approx(data_loss + coef * penalty, rel=1e-5)
    assert trainer.evaluate(x, y)["loss"] == pytest.approx(data_loss, rel=1e-5)


def test_regression_head_is_squeezed_before_the_loss():
    trainer = _trainer([Dense(1)], loss="mae")
    x, _ = _toy()
    y = np.zeros(len(x), np.float32)
    pred = trainer.predict(x)
    assert pred.shape == (len(x), 1)
    assert trainer.loss(x, y) == pytest.approx(np.abs(pred[:, 0]).mean(), rel=1e-5)
    assert trainer.evaluate(x, y)["mae"] == pytest.approx(np.abs(pred[:, 0]).mean(), rel=1e-5)


def test_divergence_is_returned_not_raised():
    trainer = _trainer([Dense(8, "relu"), Dense(1)], loss="mse",
                       optimizer=Optimizer("sgd", lr=1e6))
    x, _ = _toy()
    trainer.set_data(x * 1e3, np.full(len(x), 1e6, np.float32))
    losses = trainer.fit_epoch([np.arange(32)] * 6)
    assert losses.shape == (6,)
    assert not np.isfinite(losses).all()
    assert not math.isfinite(trainer.evaluate(x, np.zeros(len(x)))["loss"])


def test_deterministic_mode_without_the_nan_fill_of_new_tensors():
    # the fill is a debugging aid that costs a memory pass per allocation; the
    # suite's determinism does not rest on it (its bit-for-bit tests do)
    tb._device()
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.utils.deterministic.fill_uninitialized_memory is False


# --- speed-ups that must not change a bit (bench.backends.torch.masks, layers.conv) -------

@pytest.mark.parametrize("shape, p, channels_last", [((128, 1600), 0.5, False), ((7, 32, 13, 13), 0.25, False),
                                                     ((7, 32, 13, 13), 0.25, True), ((5, 3), 0.2, False),
                                                     ((1, 625), 0.5, False)])
def test_keep_mask_dropout_draws_nn_dropouts_mask_and_leaves_its_generator_state(shape, p, channels_last):
    """The compiled mask against ``nn.Dropout``'s ``bernoulli_``: the same outputs and their
    layout, the same gradients, and the default generator in the same state after (two calls
    in a row, so the second starts mid-stream, and odd sizes that straddle a twist)."""
    from bench.backends.torch import masks
    from bench.backends.torch.layers.noise import KeepMaskDropout

    x = torch.randn(*shape)
    if channels_last:   # what a conv stack on one-channel input runs in
        x = x.to(memory_format=torch.channels_last)
        assert not x.is_contiguous()
    assert masks.keep_mask(x, 1 - p) is not None     # else the fast route is never taken here
    results = []
    for module in (torch.nn.Dropout(p), KeepMaskDropout(p)):
        torch.manual_seed(123)
        xs = [x.clone().requires_grad_(True) for _ in range(2)]
        outs = [module.train()(xi) for xi in xs]
        sum(o.sum() for o in outs).backward()
        results.append(([o.detach() for o in outs], [xi.grad for xi in xs], torch.random.get_rng_state()))
    (want_out, want_grad, want_state), (got_out, got_grad, got_state) = results
    assert all(torch.equal(a, b) and a.stride() == b.stride() for a, b in zip(want_out, got_out))
    assert all(torch.equal(a, b) for a, b in zip(want_grad, got_grad))
    assert torch.equal(want_state, got_state)


def test_keep_mask_falls_back_to_torch_where_it_cannot_be_the_same_bits():
    from bench.backends.torch import masks

    assert masks.keep_mask(torch.randn(4, 6).t(), 0.5) is None                 # neither layout
    assert masks.keep_mask(torch.randn(2, 3, 4, 5)[:, :, ::2], 0.5) is None
    assert masks.keep_mask(torch.randn(4, 6, dtype=torch.float64), 0.5) is None


def test_a_relu_before_a_max_pool_runs_after_it_with_the_same_values_and_gradients():
    """Ties, zeros and negatives: small integers, so many windows hold equal maxima."""
    from bench.backends.torch.layers.conv import PoolThenReLU, pool_before_relu

    folded = pool_before_relu([torch.nn.ReLU(), torch.nn.MaxPool2d(2)])
    assert isinstance(folded[0], torch.nn.Identity) and isinstance(folded[1], PoolThenReLU)
    x = torch.randint(-3, 4, (16, 8, 26, 26)).float()
    x[0, 0, :2, :2] = float("nan")   # NaN propagates the same way
    outs = []
    for net in (torch.nn.Sequential(torch.nn.ReLU(), torch.nn.MaxPool2d(2)), torch.nn.Sequential(*folded)):
        xi = x.clone().requires_grad_(True)
        out = net(xi)
        out.backward(torch.randn(out.shape, generator=torch.Generator().manual_seed(1)))
        outs.append((out.detach(), xi.grad))
    assert torch.equal(outs[0][0].nan_to_num(7.0), outs[1][0].nan_to_num(7.0))
    assert torch.equal(outs[0][1], outs[1][1])


def test_c4_trains_to_the_same_bits_with_and_without_the_speed_ups(monkeypatch):
    """Two steps of every C4 arm with a dropout or a pool, fast route against torch's own
    ``bernoulli_`` and ReLU-then-pool: the same losses and weights, bit for bit."""
    from dataclasses import replace

    from bench.backends.torch import layers, masks
    from bench.spec import registry

    case = registry.get("c4")
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 784), dtype=np.float32), rng.integers(0, 10, 64)
    batches = [np.arange(0, 32), np.arange(32, 64)]

    def train(arm_name):
        arm = case.arm(arm_name)
        job = Job(case, arm, "torch", "as_written", "smoke", replace(case.data, epochs=1))
        trainer = tb.Trainer(job, initial_params(arm.layers, case.input_shape, 3,
                                                 initializer_for("torch", "as_written")), 3)
        trainer.set_data(x, y)
        return trainer.fit_epoch(batches), trainer.params()

    conv_maps, keep_mask = [], masks.keep_mask

    def recording(x, keep):
        mask = keep_mask(x, keep)
        conv_maps.append(not x.is_contiguous() and mask is not None)
        return mask

    monkeypatch.setattr(masks, "keep_mask", recording)
    for arm_name in ("fc", "conv25", "conv_fc", "input", "spatial"):
        fast = train(arm_name)
        with monkeypatch.context() as m:
            m.setattr(masks, "keep_mask", lambda x, keep: None)
            m.setattr(layers, "pool_before_relu", list)
            slow = train(arm_name)
        assert np.array_equal(fast[0], slow[0]), arm_name
        for a, b in zip(fast[1], slow[1]):
            assert all(np.array_equal(a[k], b[k]) for k in a), arm_name
    assert any(conv_maps)   # the masks on channels-last conv maps took the fast route too
