"""Image layers in the neutral spec and their initial weights: validation,
shape inference before training, and conv streams apart from Dense ones."""
import math

import numpy as np
import pytest

from bench.errors import SpecError
from bench.run.seeds import initial_params
from bench.spec.initializers import conv_init, dense_init
from bench.spec import (Arm, Case, Conv2D, Data, Dense, DropBlock, Dropout, Flatten, GaussianDropout, Loss,
                        MaxPool2D, Metric, Optimizer, SpatialDropout2D, layer_shapes)

NET = (Conv2D(4, 3, "relu"), MaxPool2D(2), Flatten(), Dense(3))


def _case(layers, input_shape=(8, 8)):
    arm = Arm("a", tuple(layers))
    return Case("toy", "t", "s", input_shape, Data("toy", 8, 1), Loss("softmax_cross_entropy"),
                Optimizer("adam"), (arm,), (Metric("test_accuracy", True),), ())


@pytest.mark.parametrize("keep", [0.0, -0.1, 1.5, math.nan])
def test_dropblock_keep_prob_outside_0_1_is_rejected(keep):
    with pytest.raises(SpecError, match="keep_prob"):
        _case([DropBlock(keep, 3), Flatten(), Dense(3)]).validate()


def test_dropblock_larger_than_its_feature_map_is_rejected_before_training():
    # 8x8 -> conv 3x3 -> 6x6 -> pool 2 -> 3x3: a 4x4 block cannot fit, a 3x3 one can.
    with pytest.raises(SpecError, match=r"layer 2 \(DropBlock\).*block_size 4.*3x3"):
        _case([Conv2D(4, 3), MaxPool2D(2), DropBlock(0.9, 4), Flatten(), Dense(3)]).validate()
    _case([Conv2D(4, 3), MaxPool2D(2), DropBlock(0.9, 3), Flatten(), Dense(3)]).validate()
    _case([DropBlock(1.0, 8), Flatten(), Dense(3)]).validate()


@pytest.mark.parametrize("layers, match", [
    ([Conv2D(4, 3), Dense(3)], "add Flatten"),
    ([Conv2D(4, 9), Flatten(), Dense(3)], "9x9 kernel does not fit"),
    ([MaxPool2D(16), Flatten(), Dense(3)], "pool does not fit"),
    ([Conv2D(0, 3), Flatten(), Dense(3)], "filters"),
    ([Conv2D(4, 3, padding="full"), Flatten(), Dense(3)], "padding"),
    ([Conv2D(4, (3, 0)), Flatten(), Dense(3)], "kernel_size"),
    ([SpatialDropout2D(1.0), Flatten(), Dense(3)], "SpatialDropout2D rate"),
    ([Flatten(), GaussianDropout(1.0), Dense(3)], "GaussianDropout rate"),
])
def test_bad_image_layers_are_spec_errors(layers, match):
    with pytest.raises(SpecError, match=match):
        _case(layers).validate()


def test_image_layers_on_a_flat_input_are_rejected():
    with pytest.raises(SpecError, match=r"input_shape \(H, W\)"):
        _case(NET, input_shape=(64,)).validate()
    with pytest.raises(SpecError, match="needs an \\(H, W, C\\) feature map"):
        _case([Conv2D(4, 3), Flatten(), Flatten(), Dense(3)]).validate()


def test_layer_shapes_walk_channels_last():
    layers = (Conv2D(4, 3, padding="same"), SpatialDropout2D(0.1), MaxPool2D(2), Conv2D(6, 3), Flatten(),
              Dropout(0.5), Dense(3))
    assert layer_shapes(layers, (8, 8, 2)) == [(8, 8, 4), (8, 8, 4), (4, 4, 4), (2, 2, 6), (24,), (24,), (3,)]
    assert layer_shapes((Dense(3),), (28, 28)) == [(3,)]  # a dense-only arm sees the input flattened


def test_conv_init_bounds_and_layout():
    rng = np.random.default_rng(0)
    k, b = conv_init(3, 3, 2, 5, "glorot_uniform", rng)
    assert k.shape == (3, 3, 2, 5) and k.dtype == np.float32 and not b.any()
    # two-sided: a limit that shrank (sqrt 6 -> sqrt 3) stays under the bound but no longer reaches it
    assert 0.9 * math.sqrt(6 / (18 + 45)) < np.abs(k).max() <= math.sqrt(6 / (18 + 45))
    k, b = conv_init(3, 3, 2, 5, "kaiming_uniform", rng)
    assert 0.9 / math.sqrt(18) < np.abs(k).max() <= 1 / math.sqrt(18) and 0 < np.abs(b).max() <= 1 / math.sqrt(18)


def test_dense_weights_keep_their_streams_and_conv_draws_its_own():
    mlp = initial_params((Dense(5), Dropout(0.5), Dense(3)), (4, 4), seed=3, scheme="glorot_uniform")
    np.testing.assert_array_equal(mlp[0]["kernel"],
                                  dense_init(16, 5, "glorot_uniform", np.random.default_rng([3, 1, 0]))[0])
    cnn = initial_params(NET, (8, 8), seed=3, scheme="kaiming_uniform")
    assert cnn[0]["kernel"].shape == (3, 3, 1, 4) and cnn[1]["kernel"].shape == (36, 3)
    np.testing.assert_array_equal(cnn[1]["kernel"],
                                  dense_init(36, 3, "kaiming_uniform", np.random.default_rng([3, 1, 0]))[0])
    np.testing.assert_array_equal(cnn[0]["kernel"],
                                  conv_init(3, 3, 1, 4, "kaiming_uniform", np.random.default_rng([3, 4, 0]))[0])
    # Inserting parameter-free layers does not move any weight.
    with_drop = initial_params((NET[0], DropBlock(0.9, 3), NET[1], SpatialDropout2D(0.2), *NET[2:]),
                               (8, 8), seed=3, scheme="kaiming_uniform")
    for a, b in zip(cnn, with_drop):
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])


def test_a_feature_count_is_not_enough_for_a_conv_arm():
    with pytest.raises(SpecError, match="input_shape"):
        initial_params(NET, 64, 0, "glorot_uniform")
