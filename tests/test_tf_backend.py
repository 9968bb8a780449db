"""The TF backend: dropout semantics, seeded determinism, the L2 term, divergence."""
import numpy as np
import pytest

pytest.importorskip("tensorflow")

from bench.spec import Job  # noqa: E402
from bench.backends.tf import single as backend  # noqa: E402
from bench.backends.tf.defaults import KERAS  # noqa: E402
from bench.backends.tf.layers import keras_layer  # noqa: E402
from bench.errors import SpecError  # noqa: E402
from bench.run.seeds import batch_order, initial_params  # noqa: E402
from bench.spec import L2, Arm, BatchNorm, Case, Data, Dense, Dropout, Loss, Metric, Optimizer, Profile  # noqa: E402

IN = 12


def make_trainer(layers, seed=0, loss="softmax_cross_entropy", optimizer=Optimizer("adam"), l2=None):
    arm = Arm("a", tuple(layers), l2)
    data = Data("synthetic", batch_size=16, epochs=1)
    case = Case("t", "test", "tests", (IN,), data, Loss(loss), optimizer, (arm,),
                (Metric("test_accuracy", True),), (), {"smoke": Profile(seeds=1)})
    job = Job(case, arm, "tf", "as_written", "smoke", data)
    return backend.Trainer(job, initial_params(arm.layers, IN, 0, "glorot_uniform"), seed)


def toy_data(n=60, classes=3):
    rng = np.random.default_rng(7)
    return rng.normal(size=(n, IN)).astype(np.float32), rng.integers(0, classes, n)


# --- dropout semantics (the posts get these wrong; see CLAIMS.md) ------------

def apply_dropout(rate, training, seed=0):
    layer = keras_layer(Dropout(rate), seed, 0, KERAS)
    return np.asarray(layer(np.ones((1000, 1000), np.float32), training=training))


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_rate_is_the_drop_probability_and_survivors_are_scaled_up(rate):
    out = apply_dropout(rate, training=True)
    n = out.size
    zeros = np.mean(out == 0)
    assert abs(zeros - rate) < 5 * np.sqrt(rate * (1 - rate) / n)  # 5 binomial standard errors
    survivors = out[out != 0]
    np.testing.assert_array_equal(survivors, np.float32(1 / (1 - rate)))


def test_high_rate_scales_survivors_by_a_hundred():
    survivors = apply_dropout(0.99, training=True)
    survivors = survivors[survivors != 0]
    assert survivors.size > 0
    np.testing.assert_allclose(survivors, 100.0, rtol=1e-6)


@pytest.mark.parametrize("rate, training", [(0.5, False), (0.99, False), (0.0, True)])
def test_dropout_is_the_identity_at_inference_and_at_rate_zero(rate, training):
    np.testing.assert_array_equal(apply_dropout(rate, training), 1.0)


def test_spec_rejects_rate_one():
    # Rate 1 would zero every unit, and the survivor scale 1/(1-p) is undefined.
    with pytest.raises(SpecError):
        Dropout(1.0).validate()


# --- determinism ----------------------------------------------------------

def run_steps(seed):
    x, y = toy_data()
    trainer = make_trainer([Dense(16, "relu"), Dropout(0.5), Dense(16, "relu"), Dropout(0.5), Dense(3)], seed=seed)
    trainer.set_data(x, y)
    batches = batch_order(len(x), 16, 2, seed=0)  # batches of 16, 16, 16, 12 per epoch
    losses = np.concatenate([trainer.fit_epoch(batches[:4]), trainer.fit_epoch(batches[4:])])
    return losses, trainer.params()


def test_same_seed_is_bit_identical_and_another_seed_is_not():
    losses_a, params_a = run_steps(seed=3)
    losses_b, params_b = run_steps(seed=3)
    np.testing.assert_array_equal(losses_a, losses_b)
    for pa, pb in zip(params_a, params_b):
        for name in pa:
            np.testing.assert_array_equal(pa[name], pb[name])
    losses_c, _ = run_steps(seed=4)
    assert losses_c.shape == (8,)
    assert not np.array_equal(losses_a, losses_c)


def test_graph_epoch_loop_matches_an_explicit_step():
    # fit_epoch gathers rows inside a compiled loop; step() takes them from
    # Python. Same seed, same rows: same loss, masks included.
    x, y = toy_data()
    layers = [Dense(8, "relu"), BatchNorm(), Dropout(0.5), Dense(3)]
    looped, explicit = make_trainer(layers, seed=5), make_trainer(layers, seed=5)
    looped.set_data(x, y)
    rows = np.arange(10, 30)
    assert looped.fit_epoch([rows])[0] == np.float32(explicit.step(x[rows], y[rows]))
    for pa, pb in zip(looped.params(), explicit.params()):
        for name in pa:
            np.testing.assert_array_equal(pa[name], pb[name])


# --- the L2 term ------------------------------------------------------------

@pytest.mark.parametrize("include_bias", [True, False])
def test_loss_adds_half_the_sum_of_squares(include_bias):
    coef = 0.05
    trainer = make_trainer([Dense(8, "relu"), BatchNorm(), Dense(3)], l2=L2(coef, include_bias))
    x, y = toy_data()
    logits = trainer.predict(x).astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    data_loss = np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(len(y)), y])
    trainable = ("kernel", "bias", "gamma", "beta") if include_bias else ("kernel",)
    penalty = sum(np.sum(v.astype(np.float64) ** 2) / 2
                  for layer in trainer.params() for name, v in layer.items() if name in trainable)
    assert trainer.loss(x, y) == pytest.approx(data_loss + coef * penalty, rel=1e-5)


def test_regression_loss_compares_per_example_not_by_broadcasting():
    trainer = make_trainer([Dense(8, "relu"), Dense(1)], loss="mse")
    x, _ = toy_data()
    y = np.linspace(-1, 1, len(x)).astype(np.float32)
    pred = trainer.predict(x)
    assert pred.shape == (len(x), 1)
    assert trainer.loss(x, y) == pytest.approx(np.mean((pred[:, 0] - y) ** 2), rel=1e-5)
    assert trainer.evaluate(x, y)["mae"] == pytest.approx(np.mean(np.abs(pred[:, 0] - y)), rel=1e-5)


# --- divergence is an outcome ---------------------------------------------------

def test_divergence_returns_non_finite_losses_instead_of_raising():
    trainer = make_trainer([Dense(32, "relu"), Dense(32, "relu"), Dense(1)], loss="mse",
                           optimizer=Optimizer("sgd", lr=10.0))
    x, _ = toy_data()
    x, y = x * 1e3, np.full(len(x), 1e3, np.float32)
    trainer.set_data(x, y)
    losses = trainer.fit_epoch(batch_order(len(x), 16, 3, seed=0))
    assert losses.shape == (12,)
    assert not np.all(np.isfinite(losses))
    assert not np.isfinite(trainer.evaluate(x, y)["loss"])
