"""Initializer draws checked from both sides: the limit reached (not only respected), the
variance of U(-l, l) (l^2 / 3) and a zero mean, for every kernel and bias ``bench.run.seeds`` draws.

An upper bound alone passes a limit that shrank (sqrt 6 -> sqrt 3 in the Glorot formula gives
weights inside the old bound); the lower bound and the variance catch it.
"""
import math

import numpy as np
import pytest

from bench.spec.initializers import conv_init, dense_init


def _uniform(values: np.ndarray, limit: float) -> None:
    values = values.astype(np.float64).ravel()
    assert np.abs(values).max() <= limit
    assert np.abs(values).max() > 0.98 * limit, f"the draws reach only {np.abs(values).max():.4g} of {limit:.4g}"
    assert values.var() == pytest.approx(limit ** 2 / 3, rel=0.05)
    assert abs(values.mean()) < 4 * limit / math.sqrt(3 * values.size)   # 4 standard errors


@pytest.mark.parametrize("kh,kw,cin,cout", [(3, 3, 32, 64), (5, 3, 1, 200)])
def test_conv_glorot_uniform_limit_and_variance(kh, kw, cin, cout):
    kernel, bias = conv_init(kh, kw, cin, cout, "glorot_uniform", np.random.default_rng(1))
    # fans count the receptive field (Keras): fan_in = kh*kw*cin, fan_out = kh*kw*cout
    _uniform(kernel, math.sqrt(6 / (kh * kw * cin + kh * kw * cout)))
    assert not bias.any()


def test_conv_kaiming_uniform_kernel_and_bias():
    kernel, _ = conv_init(3, 3, 32, 64, "kaiming_uniform", np.random.default_rng(2))
    _uniform(kernel, 1 / math.sqrt(3 * 3 * 32))
    # the bias has few draws per layer: pool the biases of many layers for the distribution
    biases = np.concatenate([conv_init(3, 3, 32, 64, "kaiming_uniform", np.random.default_rng(s))[1]
                             for s in range(200)])
    _uniform(biases, 1 / math.sqrt(3 * 3 * 32))


def test_dense_glorot_and_kaiming_both_sides():
    kernel, _ = dense_init(300, 200, "glorot_uniform", np.random.default_rng(3))
    _uniform(kernel, math.sqrt(6 / (300 + 200)))
    kernel, _ = dense_init(300, 200, "kaiming_uniform", np.random.default_rng(4))
    _uniform(kernel, 1 / math.sqrt(300))
    biases = np.concatenate([dense_init(300, 200, "kaiming_uniform", np.random.default_rng(s))[1]
                             for s in range(60)])
    _uniform(biases, 1 / math.sqrt(300))
