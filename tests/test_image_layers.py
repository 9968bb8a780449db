"""DropBlock, SpatialDropout2D and GaussianDropout in both backends, and
TF <-> PyTorch parity of a tiny conv net with copied weights (forward, loss,
one Adam step; PyTorch in ``matched`` mode, as tests/test_parity.py)."""
import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from bench.backends import load
from bench.spec import Job
from bench.run.seeds import initial_params
from bench.spec import (L2, Arm, Case, Conv2D, Data, Dense, DropBlock, Flatten, Loss, MaxPool2D, Metric,
                        Optimizer, SpatialDropout2D)

tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")
from bench.backends.tf import layers as tf_layers
from bench.backends.torch import layers as torch_layers  # noqa: E402
from bench.backends.tf.defaults import KERAS  # noqa: E402
from bench.backends.tf.layers import keras_layer  # noqa: E402

N, C, H = 16, 8, 32  # 128 maps of 32x32: big enough that edge effects are small and SEs tight


def _expected_drop(keep, b, h):
    """The exact expected dropped fraction: a unit covered by n possible block
    corners survives with (1 - gamma)**n. Below 1 - keep because blocks overlap."""
    gamma = torch_layers.dropblock_gamma(keep, b, h, h)
    cover = sliding_window_view(np.pad(np.ones((h - b + 1,) * 2), b - 1), (b, b)).sum((-1, -2))
    return float((1 - (1 - gamma) ** cover).mean())


def _dropblock(framework, keep, b, x_nhwc, training=True, seed=0):
    """The layer's output on an NHWC float array, as NHWC numpy."""
    if framework == "tf":
        layer = tf_layers.DropBlock(keep, b, seed=seed)
        return np.asarray(layer(tf.constant(x_nhwc), training=training))
    torch.manual_seed(seed)
    module = torch_layers.DropBlock2d(keep, b).train(training)
    out = module(torch.as_tensor(x_nhwc).permute(0, 3, 1, 2))
    return out.permute(0, 2, 3, 1).numpy()


def _is_union_of_blocks(dropped, b):
    """Every dropped unit lies in some fully dropped b x b square inside the map."""
    full = sliding_window_view(dropped, (b, b)).all((-1, -2))  # corners of all-dropped squares
    covered = sliding_window_view(np.pad(full, b - 1), (b, b)).any((-1, -2))
    return np.array_equal(covered, dropped)


@pytest.mark.parametrize("framework", ["tf", "torch"])
@pytest.mark.parametrize("keep, b", [(0.9, 3), (0.8, 5)])
def test_dropblock_fraction_blocks_and_rescaling(framework, keep, b):
    ones = np.ones((N, H, H, C), np.float32)
    out = _dropblock(framework, keep, b, ones)
    dropped = out == 0
    per_map = dropped.mean((1, 2)).ravel()  # maps are independent; units within one are not
    se = per_map.std(ddof=1) / np.sqrt(per_map.size)
    expected = _expected_drop(keep, b, H)
    assert abs(per_map.mean() - expected) < 5 * se
    # The paper's gamma ignores overlap, so the realised rate falls a little short
    # of 1 - keep: by 5 % of it at (0.9, 3) and 10 % at (0.8, 5) on this map.
    assert 0.85 * (1 - keep) < per_map.mean() <= 1 - keep
    for n in range(2):
        for c in range(C):
            assert _is_union_of_blocks(dropped[n, :, :, c], b)
    kept = out[~dropped]  # rescaled by count: numel / sum(mask), so the mean of ones stays 1
    np.testing.assert_allclose(kept, ones.size / (~dropped).sum(), rtol=1e-6)
    assert out.mean() == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("framework", ["tf", "torch"])
def test_dropblock_is_the_identity_at_inference_and_at_keep_1(framework):
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(_dropblock(framework, 0.5, 3, x, training=False), x)
    np.testing.assert_array_equal(_dropblock(framework, 1.0, 3, x, training=True), x)


def test_the_block_structure_check_can_fail():
    lone = np.zeros((6, 6), bool)
    lone[2, 2] = True
    assert not _is_union_of_blocks(lone, 3)
    lone[1:4, 1:4] = True
    assert _is_union_of_blocks(lone, 3)


@pytest.mark.parametrize("framework", ["tf", "torch"])
def test_spatial_dropout_drops_whole_channels(framework):
    rate, ones = 0.5, np.ones((N, 4, 4, C), np.float32)
    if framework == "tf":
        out = np.asarray(keras_layer(SpatialDropout2D(rate), 0, 0, KERAS)(tf.constant(ones), training=True))
    else:
        torch.manual_seed(0)
        module = torch_layers.image_module(SpatialDropout2D(rate), C).train()
        out = module(torch.as_tensor(ones).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    per_channel = out.reshape(N, 16, C)
    assert (per_channel == per_channel[:, :1, :]).all()  # each (example, channel) map is all-or-nothing
    assert set(np.unique(out)) == {0.0, 2.0}
    frac = (per_channel[:, 0, :] == 0).mean()
    assert abs(frac - rate) < 5 * np.sqrt(rate * (1 - rate) / (N * C))


@pytest.mark.parametrize("framework", ["tf", "torch"])
def test_gaussian_dropout_is_mean_one_noise_and_identity_at_inference(framework):
    from bench.spec import GaussianDropout
    rate, x = 0.2, np.ones((20000, 8), np.float32)
    if framework == "tf":
        layer = keras_layer(GaussianDropout(rate), 0, 0, KERAS)
        train, infer = (np.asarray(layer(tf.constant(x), training=t)) for t in (True, False))
    else:
        module = torch_layers.image_module(GaussianDropout(rate), 8)
        train, infer = module.train()(torch.as_tensor(x)).numpy(), module.eval()(torch.as_tensor(x)).numpy()
    sd = np.sqrt(rate / (1 - rate))
    assert abs(train.mean() - 1) < 5 * sd / np.sqrt(x.size) and abs(train.std() - sd) < 0.01
    np.testing.assert_array_equal(infer, x)


# --- parity of the deterministic parts ---------------------------------------------

CONV_NET = (Conv2D(4, 3, "relu", padding="same"), MaxPool2D(2), DropBlock(0.9, 2), SpatialDropout2D(0.25),
            Conv2D(5, 3, "relu"), Flatten(), Dense(3))


def _pair(l2=None, seed=0):
    arm = Arm("cnn", CONV_NET, l2)
    data = Data("toy", 8, 1)
    case = Case("toy", "t", "s", (8, 8, 2), data, Loss("softmax_cross_entropy"), Optimizer("adam", lr=0.01),
                (arm,), (Metric("test_accuracy", True),), ()).validate()
    params = initial_params(arm.layers, case.input_shape, seed, "glorot_uniform")
    return (load("tf").Trainer(Job(case, arm, "tf", "as_written", "smoke", data), params, seed),
            load("torch").Trainer(Job(case, arm, "torch", "matched", "smoke", data), params, seed), params)


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(7)
    return rng.random((32, 8 * 8 * 2), dtype=np.float32), rng.integers(0, 3, 32)


def test_weights_round_trip_through_both_layouts():
    tf_t, pt_t, params = _pair()
    for got in (tf_t.params(), pt_t.params()):
        for a, b in zip(params, got):
            for name in a:
                np.testing.assert_array_equal(a[name], b[name])


def test_conv_forward_and_loss_agree_in_inference_mode(batch):
    tf_t, pt_t, _ = _pair(L2(1e-3))
    np.testing.assert_allclose(tf_t.predict(batch[0]), pt_t.predict(batch[0]), rtol=1e-5, atol=1e-5)
    assert tf_t.loss(*batch) == pytest.approx(pt_t.loss(*batch), rel=1e-5)


def test_conv_one_adam_step_agrees():
    # Without the stochastic layers: their masks come from each framework's own RNG.
    arm_layers = tuple(l for l in CONV_NET if not isinstance(l, (DropBlock, SpatialDropout2D)))
    arm, data = Arm("cnn", arm_layers), Data("toy", 8, 1)
    case = Case("toy", "t", "s", (8, 8, 2), data, Loss("softmax_cross_entropy"), Optimizer("adam", lr=0.01),
                (arm,), (Metric("test_accuracy", True),), ()).validate()
    params = initial_params(arm.layers, case.input_shape, 0, "glorot_uniform")
    tf_t = load("tf").Trainer(Job(case, arm, "tf", "as_written", "smoke", data), params, 0)
    pt_t = load("torch").Trainer(Job(case, arm, "torch", "matched", "smoke", data), params, 0)
    rng = np.random.default_rng(7)
    x, y = rng.random((32, 128), dtype=np.float32), rng.integers(0, 3, 32)
    assert tf_t.step(x, y) == pytest.approx(pt_t.step(x, y), rel=1e-5)
    moved = 0
    for pa, pb, p0 in zip(tf_t.params(), pt_t.params(), params):
        for name in pa:
            np.testing.assert_allclose(pa[name], pb[name], rtol=0, atol=2e-6, err_msg=name)
            moved += int((np.abs(pa[name] - p0[name]) > 1e-3).sum())
    assert moved > 100  # lr 0.01 moves most of the 324 weights
