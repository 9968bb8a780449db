"""The LSTM layer (``bench.spec.LSTM``, C5i): its spec rules, its initial values per scheme,
and TF <-> PyTorch parity of the two backends' LSTMs with Keras's dropout semantics.

Keras runs its own ``keras.layers.LSTM``; PyTorch runs ``KerasLSTM``, written out because
``nn.LSTM`` has no recurrent dropout. From the same neutral weights the two agree in inference,
in the loss and in one Adam step; with dropout masks forced to the same values in both they
agree in a training pass and its gradients too (which checks that the torch cell applies its
masks where Keras does: per gate, on x and on h, the same at every step). The masks each
framework draws differ, so they are checked in distribution: the count Keras draws, the rate,
the 1 / (1 - rate) scaling.
"""
import math

import numpy as np
import pytest

from bench import backends
from bench.errors import SpecError
from bench.run import grouping
from bench.run.seeds import initial_params
from bench.spec import LSTM, Arm, Dense, Dropout, Job, arm_input_shape, layer_shapes, registry
from bench.spec.initializers import lstm_init

UNITS, T, F = 50, 28, 28


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(11)
    return rng.random((64, T * F), dtype=np.float32), rng.integers(0, 10, 64).astype(np.int64)


# --- the spec ------------------------------------------------------------------------

def test_an_lstm_arm_reads_the_input_as_steps_by_features():
    layers = (LSTM(UNITS), Dense(10))
    assert arm_input_shape(layers, (T, F)) == (T, F)
    assert layer_shapes(layers, (T, F)) == [(UNITS,), (10,)]
    assert layer_shapes((Dropout(0.1), LSTM(8, return_sequences=True), LSTM(4), Dense(1)), (5, 3)) == \
        [(5, 3), (5, 8), (4,), (1,)]
    assert arm_input_shape((Dense(4), Dense(1)), (T, F)) == (T * F,)   # a non-recurrent arm stays flat


def test_bad_lstm_inputs_are_one_sentence():
    with pytest.raises(SpecError, match="input_shape \\(steps, features\\)"):
        arm_input_shape((LSTM(4), Dense(1)), (784,))
    with pytest.raises(SpecError, match="needs a \\(steps, features\\) sequence"):
        layer_shapes((Dense(4), LSTM(4), Dense(1)), (T, F))
    with pytest.raises(SpecError, match="needs a flat input but gets the sequence"):
        layer_shapes((LSTM(4, return_sequences=True), Dense(1)), (T, F))
    for bad in (LSTM(0), LSTM(4, dropout=1.0), LSTM(4, recurrent_dropout=-0.1), LSTM(4, dropout=float("nan"))):
        with pytest.raises(SpecError, match="LSTM"):
            Arm("a", (bad, Dense(1))).validate()


def test_an_lstm_case_trains_per_seed():
    case = registry.get("c5i")
    assert grouping.trains_per_seed(case, grouping.GroupSize.AUTO)
    assert not grouping.trains_per_seed(registry.get("c5e"), grouping.GroupSize.AUTO)
    assert grouping.parameter_count(case.arm("none").layers, case.input_shape) == \
        F * 4 * UNITS + UNITS * 4 * UNITS + 4 * UNITS + UNITS * 10 + 10


# --- initial values ----------------------------------------------------------------------

def test_keras_init_glorot_kernel_orthogonal_recurrent_forget_bias_one():
    kernel, recurrent, bias = lstm_init(F, UNITS, "glorot_uniform", np.random.default_rng(0))
    assert kernel.shape == (F, 4 * UNITS) and recurrent.shape == (UNITS, 4 * UNITS) and bias.shape == (4 * UNITS,)
    limit = math.sqrt(6 / (F + 4 * UNITS))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.95 * limit
    assert kernel.var() == pytest.approx(limit ** 2 / 3, rel=0.05)
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(UNITS), atol=1e-5)   # orthonormal rows
    np.testing.assert_array_equal(bias, np.r_[np.zeros(UNITS), np.ones(UNITS), np.zeros(2 * UNITS)])


def test_torch_init_uniform_over_sqrt_units_and_two_biases():
    kernel, recurrent, bias = lstm_init(F, UNITS, "kaiming_uniform", np.random.default_rng(0))
    bound = 1 / math.sqrt(UNITS)
    for w in (kernel, recurrent):
        assert np.abs(w).max() <= bound and w.var() == pytest.approx(bound ** 2 / 3, rel=0.05)
    # b_ih + b_hh: a triangular sum of two U(+-bound), so it reaches past one bound, variance doubled
    assert np.abs(bias).max() <= 2 * bound and np.abs(bias).max() > bound
    assert bias.var() == pytest.approx(2 * bound ** 2 / 3, rel=0.25)


def test_keras_and_numpy_orthogonal_agree_in_distribution():
    keras = pytest.importorskip("keras")
    ours = lstm_init(F, UNITS, "glorot_uniform", np.random.default_rng(1))[1]
    theirs = np.asarray(keras.initializers.Orthogonal(seed=1)((UNITS, 4 * UNITS)))
    for w in (ours, theirs):
        np.testing.assert_allclose(w @ w.T, np.eye(UNITS), atol=1e-5)
        assert w.std() == pytest.approx(theirs.std(), rel=0.02)


def test_the_lstm_draws_from_its_own_stream():
    layers = (LSTM(8), Dense(3))
    params = initial_params(layers, (5, 4), seed=2, scheme="glorot_uniform")
    want = lstm_init(4, 8, "glorot_uniform", np.random.default_rng([2, 5, 0]))
    for got, expected in zip((params[0]["kernel"], params[0]["recurrent_kernel"], params[0]["bias"]), want):
        np.testing.assert_array_equal(got, expected)
    # the Dense after it keeps the Dense stream's first draw
    alone = initial_params((Dense(3),), (8,), seed=2, scheme="glorot_uniform")
    np.testing.assert_array_equal(params[1]["kernel"], alone[0]["kernel"])


# --- TF <-> PyTorch parity ---------------------------------------------------------------

def _pair(arm_name, scheme="glorot_uniform", seed=0):
    pytest.importorskip("tensorflow")
    pytest.importorskip("torch")
    case = registry.get("c5i")
    arm = case.arm(arm_name) if isinstance(arm_name, str) else arm_name
    params = initial_params(arm.layers, case.input_shape, seed, scheme)
    budget = case.budget("smoke")
    return (backends.load("tf").Trainer(Job(case, arm, "tf", "as_written", "smoke", budget), params, seed),
            backends.load("torch").Trainer(Job(case, arm, "torch", "matched", "smoke", budget), params, seed))


@pytest.mark.parametrize("arm", ["none", "both"])
@pytest.mark.parametrize("scheme", ["glorot_uniform", "kaiming_uniform"])
def test_forward_in_inference_mode(arm, scheme, batch):
    tf_t, pt_t = _pair(arm, scheme)
    np.testing.assert_allclose(tf_t.predict(batch[0]), pt_t.predict(batch[0]), rtol=1e-5, atol=1e-5)
    assert tf_t.loss(*batch) == pytest.approx(pt_t.loss(*batch), rel=1e-5)


def test_return_sequences_forward():
    arm = Arm("seq", (LSTM(6, return_sequences=True), LSTM(5), Dense(10)))
    tf_t, pt_t = _pair(arm)
    x = np.random.default_rng(3).random((16, T * F), dtype=np.float32)
    np.testing.assert_allclose(tf_t.predict(x), pt_t.predict(x), rtol=1e-5, atol=1e-5)


def test_one_adam_step(batch):
    tf_t, pt_t = _pair("none")
    before = tf_t.params()
    assert tf_t.step(*batch) == pytest.approx(pt_t.step(*batch), rel=1e-6)
    for pa, pb, p0 in zip(tf_t.params(), pt_t.params(), before):
        for name in pa:
            assert np.abs(pa[name] - p0[name]).max() > 1e-4, name   # the step moved it (lr 1e-3)
            np.testing.assert_allclose(pa[name], pb[name], rtol=0, atol=1e-6, err_msg=name)


def _forced(dropout, recurrent_dropout, n=32, seed=5):
    """A Keras LSTM and a ``KerasLSTM`` with the same weights and the same forced masks."""
    keras = pytest.importorskip("keras")
    torch = pytest.importorskip("torch")
    from bench.backends.torch.layers import KerasLSTM
    rng = np.random.default_rng(seed)
    kernel, recurrent, bias = lstm_init(F, UNITS, "kaiming_uniform", rng)
    gates = 4 if recurrent_dropout else 1
    def masks(count, width, rate):
        return [((rng.random((n, width)) >= rate) / (1 - rate)).astype(np.float32) for _ in range(count)] \
            if rate else []
    in_masks, rec_masks = masks(gates, F, dropout), masks(4, UNITS, recurrent_dropout)
    ker = keras.layers.LSTM(UNITS, dropout=dropout, recurrent_dropout=recurrent_dropout, seed=1)
    ker.build((None, T, F))
    for var, value in zip((ker.cell.kernel, ker.cell.recurrent_kernel, ker.cell.bias), (kernel, recurrent, bias)):
        var.assign(value)
    pt = KerasLSTM(T, F, UNITS, dropout, recurrent_dropout)
    with torch.no_grad():
        for name, value in (("kernel", kernel), ("recurrent_kernel", recurrent), ("bias", bias)):
            getattr(pt, name).copy_(torch.as_tensor(value))
    pt.draw_masks = lambda rows, like: ([torch.as_tensor(m) for m in in_masks],
                                        [torch.as_tensor(m) for m in rec_masks])
    def keras_call(x):
        # RNN.call keeps a mask the cell already holds (it only draws where it holds none)
        if in_masks:
            ker.cell._dropout_mask = [keras.ops.convert_to_tensor(m) for m in in_masks] if gates == 4 \
                else keras.ops.convert_to_tensor(in_masks[0])
        if rec_masks:
            ker.cell._recurrent_dropout_mask = [keras.ops.convert_to_tensor(m) for m in rec_masks]
        return ker(x, training=True)
    return keras_call, ker, pt


@pytest.mark.parametrize("rates", [(0.2, 0.0), (0.0, 0.3), (0.2, 0.2)], ids=["input", "recurrent", "both"])
def test_a_training_pass_with_the_same_masks_matches_keras(rates):
    """Keras's implementation 1 (four masks per kind, one per gate) when recurrent dropout is on,
    implementation 2 (one input mask) when it is off; the masks stay fixed over the steps."""
    tf = pytest.importorskip("tensorflow")
    torch = pytest.importorskip("torch")
    keras_call, ker, pt = _forced(*rates)
    x = np.random.default_rng(9).random((32, T, F), dtype=np.float32)
    with tf.GradientTape() as tape:
        out_k = keras_call(tf.constant(x))
        loss_k = tf.reduce_sum(tf.square(out_k))
    grads_k = tape.gradient(loss_k, [ker.cell.kernel, ker.cell.recurrent_kernel, ker.cell.bias])
    pt.train()
    out_p = pt(torch.as_tensor(x))
    out_p.square().sum().backward()
    np.testing.assert_allclose(out_k.numpy(), out_p.detach().numpy(), rtol=1e-5, atol=1e-6)
    for gk, gp in zip(grads_k, (pt.kernel.grad, pt.recurrent_kernel.grad, pt.bias.grad)):
        np.testing.assert_allclose(gk.numpy(), gp.numpy(), rtol=1e-4, atol=1e-5)
    # and the masks matter: without them the output differs
    pt.eval()
    assert np.abs(pt(torch.as_tensor(x)).detach().numpy() - out_p.detach().numpy()).max() > 1e-3


@pytest.mark.parametrize("rates,counts", [((0.2, 0.0), (1, 0)), ((0.0, 0.3), (0, 4)), ((0.25, 0.4), (4, 4)),
                                          ((0.0, 0.0), (0, 0))])
def test_torch_masks_count_rate_and_scale_as_keras(rates, counts):
    torch = pytest.importorskip("torch")
    from bench.backends.torch.layers import KerasLSTM
    torch.manual_seed(0)
    pt = KerasLSTM(T, F, UNITS, *rates).train()
    calls = []
    draw = pt.draw_masks
    pt.draw_masks = lambda n, like: calls.append(n) or draw(n, like)
    pt(torch.rand(4000, T * F))
    assert calls == [4000]   # drawn once per pass: one mask per sequence, the same at every step
    in_masks, rec_masks = pt.masks
    assert (len(in_masks), len(rec_masks)) == counts
    for masks, rate, width in ((in_masks, rates[0], F), (rec_masks, rates[1], UNITS)):
        for m in masks:
            assert m.shape == (4000, width)
            values = set(np.unique(m.numpy()).tolist())
            assert values <= {0.0, np.float32(1 / (1 - rate))}
            assert (m == 0).float().mean().item() == pytest.approx(rate, abs=0.01)
        if len(masks) > 1:
            assert not torch.equal(masks[0], masks[1])   # a mask per gate, not one shared
    pt.eval()
    pt(torch.rand(8, T * F))
    assert calls == [4000]   # nothing is drawn at inference


def test_keras_draws_masks_at_the_same_rate_and_scale():
    keras = pytest.importorskip("keras")
    ker = keras.layers.LSTM(UNITS, dropout=0.25, recurrent_dropout=0.4, seed=3)
    ker.build((None, T, F))
    inputs = ker.cell.get_dropout_mask(keras.ops.ones((4000, F)))
    recurrent = ker.cell.get_recurrent_dropout_mask(keras.ops.ones((4000, UNITS)))
    assert len(inputs) == len(recurrent) == 4
    for masks, rate in ((inputs, 0.25), (recurrent, 0.4)):
        for m in map(np.asarray, masks):
            assert set(np.unique(m).tolist()) <= {0.0, np.float32(1 / (1 - rate))}
            assert (m == 0).mean() == pytest.approx(rate, abs=0.01)


def test_the_group_path_is_refused_in_one_sentence():
    pytest.importorskip("torch")
    from bench.backends.torch.layers import kit_for
    with pytest.raises(SpecError, match="trains seed by seed"):
        kit_for(LSTM(4)).group_forward(None, LSTM(4), (T, F), None, None, True)
