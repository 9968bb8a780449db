"""Common random numbers: initializer formulas, shared weights across arms, batch order."""
import math

import numpy as np
import pytest

from bench.spec import registry
from bench.errors import SpecError
from bench.run.seeds import batch_order, initial_params, initializer_for
from bench.spec.initializers import dense_init


def test_glorot_uniform_bounds_and_zero_bias():
    kernel, bias = dense_init(784, 256, "glorot_uniform", np.random.default_rng(0))
    limit = math.sqrt(6 / (784 + 256))
    assert kernel.shape == (784, 256) and kernel.dtype == np.float32
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.99 * limit
    assert not bias.any()
    # Uniform(-l, l) has variance l^2 / 3.
    assert kernel.var() == pytest.approx(limit ** 2 / 3, rel=0.02)


def test_kaiming_uniform_a_sqrt5_bounds_and_uniform_bias():
    kernel, bias = dense_init(784, 256, "kaiming_uniform", np.random.default_rng(0))
    bound = 1 / math.sqrt(784)  # gain sqrt(1/3) * sqrt(3 / fan_in)
    assert np.abs(kernel).max() <= bound and np.abs(kernel).max() > 0.99 * bound
    assert np.abs(bias).max() <= bound and bias.std() > 0


def test_initializer_per_framework_and_mode():
    assert initializer_for("tf", "as_written") == "glorot_uniform"
    assert initializer_for("torch", "as_written") == "kaiming_uniform"
    assert initializer_for("torch", "matched") == "glorot_uniform"
    with pytest.raises(SpecError):
        initializer_for("torch", "fair")


def test_arms_share_initial_weights_where_shapes_match():
    case = registry.get("c1")
    a = initial_params(case.arm("none").layers, 784, seed=3, scheme="glorot_uniform")
    b = initial_params(case.arm("both").layers, 784, seed=3, scheme="glorot_uniform")
    c = initial_params(case.arm("none").layers, 784, seed=4, scheme="glorot_uniform")
    assert len(a) == len(b) == 5
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(pa["kernel"], pb["kernel"])
    assert not np.array_equal(a[0]["kernel"], c[0]["kernel"])


def test_batch_order_matches_the_posts_pipeline():
    batches = batch_order(60000, 128, 10, seed=0)
    assert len(batches) == 4690  # 469 per epoch
    assert [len(b) for b in batches[:469]].count(96) == 1 and len(batches[468]) == 96
    first = np.concatenate(batches[:469])
    np.testing.assert_array_equal(np.sort(first), np.arange(60000))  # each epoch is a permutation
    assert not np.array_equal(first, np.concatenate(batches[469:938]))  # reshuffled per epoch
    np.testing.assert_array_equal(batches[5], batch_order(60000, 128, 10, seed=0)[5])
    assert not np.array_equal(batches[0], batch_order(60000, 128, 10, seed=1)[0])


def test_each_stream_of_a_seed_has_its_own_number():
    from bench.spec import streams

    assert len(set(streams.STREAMS.values())) == len(streams.STREAMS)
    assert streams.key(7, "dense_init", 2) == [7, 1, 2] and streams.key(7, "batch_order") == [7, 0]
    # the numbers are in every published record: the weights of seed 0 come from stream 1
    (first, *_) = initial_params(registry.get("c1").arm("none").layers, 784, 0, "glorot_uniform")
    limit = math.sqrt(6 / (784 + first["kernel"].shape[1]))
    drawn = np.random.default_rng([0, 1, 0]).uniform(-limit, limit, size=first["kernel"].shape)
    assert np.array_equal(first["kernel"], drawn.astype(np.float32))


def test_stream_keys_are_written_only_in_the_table():
    """No module draws from a seed's stream by a number of its own (``[seed, 2, k]``): a new
    stream that reused a number would silently share another's draws."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1] / "bench"
    literal = re.compile(r"(default_rng|SeedSequence)\(\s*\[\s*\w+\s*,\s*\d")
    found = [str(p.relative_to(root)) for p in root.rglob("*.py") if literal.search(p.read_text(encoding="utf-8"))]
    assert found == []
