"""Per-epoch schedules of the dropout rate and the learning rate (``bench.spec.Schedule``, C5b).

The values (the same numbers for TF and PyTorch, computed once by the neutral loop), their
checks, and what each trainer does with them: a constant schedule is the unscheduled run to
the bit (both frameworks, both paths); a scheduled rate drops that fraction of units with the
usual 1 / keep scaling; a scheduled learning rate steps the weights as that optimizer lr would;
the vectorized seeds follow the per-seed path under a schedule, in TF also across an epoch at
rate 0 (Keras draws nothing there; its seed is advanced as the group's draw counter is).
"""
import dataclasses

import numpy as np
import pytest

from bench import backends, data
from bench.errors import SpecError
from bench.run.seeds import batch_order, initial_params, initializer_for
from bench.run.training import train_group
from bench.spec import Arm, Dense, Dropout, GaussianDropout, Job, Optimizer, Schedule, registry

FRAMEWORKS = ["torch", "tf"]


# --- the values ---------------------------------------------------------------------------

def test_schedule_values_per_epoch():
    assert Schedule("constant", 0.3).values(4) == [0.3] * 4
    assert Schedule("linear", 0.5, 0.0).values(5) == [0.5, 0.375, 0.25, 0.125, 0.0]
    assert Schedule("linear", 0.0, 0.5, at=0.5).values(5) == [0.0, 0.25, 0.5, 0.5, 0.5]   # k = round(0.5 * 4) = 2
    assert Schedule("linear", 0.5, 0.0).values(1) == [0.5]
    assert Schedule("step", 0.5, 0.0, at=0.5).values(5) == [0.5, 0.5, 0.5, 0.0, 0.0]     # k = round(2.5) = 3, half up
    assert Schedule("step", 0.5, 0.1, at=0.1).values(3) == [0.5, 0.1, 0.1]               # at least one epoch of start


@pytest.mark.parametrize("schedule, match", [
    (Schedule("warmup", 0.5, 0.0), "unknown schedule kind"),
    (Schedule("constant", 0.5, 0.0), "takes no end value"),
    (Schedule("linear", 0.5), "needs an end value"),
    (Schedule("linear", 0.5, 0.0, at=0.0), "fraction of the run"),
    (Schedule("step", 0.5, 0.0, at=1.0), "fraction of the run"),
    (Schedule("linear", 0.5, 1.0), r"values must lie in \[0.0, 1.0\)"),
])
def test_bad_dropout_schedules_are_one_sentence(schedule, match):
    arm = Arm("a", (Dense(8), Dropout(schedule.start), Dense(2)), dropout_schedule=schedule)
    with pytest.raises(SpecError, match=match):
        arm.validate()


def test_a_dropout_schedule_needs_dropout_layers_declared_at_its_start():
    layers = (Dense(8), Dropout(0.5), Dense(2))
    Arm("a", layers, dropout_schedule=Schedule("linear", 0.5, 0.0)).validate()
    with pytest.raises(SpecError, match=r"declared at the schedule's start rate 0.2; its Dropout rates are \[0.5\]"):
        Arm("a", layers, dropout_schedule=Schedule("linear", 0.2, 0.0)).validate()
    with pytest.raises(SpecError, match=r"its Dropout rates are \[\]"):   # other noise layers are not scheduled
        Arm("a", (Dense(8), GaussianDropout(0.5), Dense(2)), dropout_schedule=Schedule("constant", 0.5)).validate()


def test_a_learning_rate_schedule_is_positive():
    layers = (Dense(8), Dense(2))
    Arm("a", layers, lr_schedule=Schedule("step", 0.01, 0.001, at=0.5)).validate()
    with pytest.raises(SpecError, match="must be > 0"):
        Arm("a", layers, lr_schedule=Schedule("linear", 0.01, 0.0)).validate()


def test_an_arm_without_schedules_keeps_its_hash_form():
    from bench.records.identity import canonical
    arm = Arm("a", (Dense(8), Dense(2)))
    assert "dropout_schedule" not in canonical(arm) and "lr_schedule" not in canonical(arm)
    assert arm.schedule_at(0, 3) == {}


# --- the trainers -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def setup():
    case = registry.get("c5b")
    budget = case.budget("smoke")
    return case, budget, data.prepare(data.load(case.data.dataset), budget)


def _job(setup, arm, framework):
    pytest.importorskip({"tf": "tensorflow", "torch": "torch"}[framework])
    case, budget, _ = setup
    arm = case.arm(arm) if isinstance(arm, str) else arm
    return Job(case, arm, framework, "as_written", "smoke", budget)


def _trainer(setup, arm, framework, vectorized, seeds=(0,)):
    job = _job(setup, arm, framework)
    params = [initial_params(job.arm.layers, job.case.input_shape, s, initializer_for(framework, job.mode))
              for s in seeds]
    backend = backends.load(framework)
    if vectorized:
        return job, backend.GroupTrainer(job, params, list(seeds))
    return job, backend.Trainer(job, params[0], seeds[0])


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("vectorized", [False, True])
def test_a_constant_schedule_is_no_schedule_to_the_bit(setup, framework, vectorized):
    plain = _job(setup, "constant", framework)
    scheduled = _job(setup, dataclasses.replace(plain.arm, dropout_schedule=Schedule("constant", 0.5),
                                                lr_schedule=Schedule("constant", 0.01)), framework)
    backend, arrays = backends.load(framework), setup[2]
    want = train_group(plain, backend, arrays, [0], vectorized=vectorized)[0]
    got = train_group(scheduled, backend, arrays, [0], vectorized=vectorized)[0]
    assert got["metrics"] == want["metrics"]
    assert got["curve"].pop("dropout_rate") == [0.5, 0.5] and got["curve"].pop("lr") == [0.01, 0.01]
    assert got["curve"] == want["curve"]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("vectorized", [False, True])
def test_a_schedule_matches_the_constant_run_while_its_rate_is_the_same(setup, framework, vectorized):
    """A step from 0.5 to 0 after the first epoch: epoch 1 is the constant-0.5 run's, epoch 2 is not."""
    plain = _job(setup, "constant", framework)
    stepped = _job(setup, dataclasses.replace(plain.arm, dropout_schedule=Schedule("step", 0.5, 0.0, at=0.5)),
                   framework)
    backend, arrays = backends.load(framework), setup[2]
    want = train_group(plain, backend, arrays, [1], vectorized=vectorized)[0]["curve"]
    got = train_group(stepped, backend, arrays, [1], vectorized=vectorized)[0]["curve"]
    assert got["dropout_rate"] == [0.5, 0.0]
    assert got["train_loss"][0] == want["train_loss"][0] and got["test_loss"][0] == want["test_loss"][0]
    assert got["train_loss"][1] != want["train_loss"][1]


def test_tf_and_torch_records_carry_the_same_per_epoch_values(setup):
    backend_arms = {}
    for framework in FRAMEWORKS:
        for arm in ("decreasing", "increasing"):
            job = _job(setup, arm, framework)
            out = train_group(job, backends.load(framework), setup[2], [0])[0]
            backend_arms[framework, arm] = out["curve"]["dropout_rate"]
    case, budget, _ = setup
    for arm in ("decreasing", "increasing"):
        want = case.arm(arm).dropout_schedule.values(budget.epochs)
        assert backend_arms["tf", arm] == backend_arms["torch", arm] == want
    assert backend_arms["tf", "decreasing"] == [0.5, 0.0] and backend_arms["tf", "increasing"] == [0.0, 0.5]


def _dropout_outputs(trainer, framework, vectorized, x):
    """What every scheduled Dropout layer of ``trainer`` does to ones in training mode now
    (``x``'s rows, or in a group each seed's rows of the layer's width)."""
    ones = lambda shape: np.ones((trainer.S, len(x), shape[-1]), np.float32)   # noqa: E731
    if framework == "tf":
        import tensorflow as tf
        if vectorized:
            from bench.backends.tf.layers import kit_for
            return [kit_for(layer).group_forward(trainer, k, layer, shape, tf.constant(ones(shape)),
                                                 None, True).numpy()
                    for k, layer, shape in trainer._layers if type(layer) is Dropout]
        import keras
        return [layer(tf.constant(x), training=True).numpy() for layer in trainer.model.layers
                if type(layer) is keras.layers.Dropout]
    import torch
    if vectorized:
        from bench.backends.torch.layers import kit_for
        return [kit_for(layer).group_forward(trainer, layer, shape, torch.as_tensor(ones(shape)),
                                             None, True).numpy()
                for _, layer, shape in trainer._layers if type(layer) is Dropout]
    trainer.model.train()
    with torch.no_grad(), trainer._own_rng():
        return [m(torch.as_tensor(x)).numpy() for m in trainer.model.modules() if isinstance(m, torch.nn.Dropout)]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("vectorized", [False, True])
def test_a_linear_schedule_drops_the_scheduled_fraction_at_each_epoch(setup, framework, vectorized):
    """Every Dropout layer of the ``increasing`` arm (declared at 0) at each epoch of a
    5-epoch run: rate 0, 0.125, ... 0.5; zeros at that rate, survivors scaled by 1 / keep."""
    _, trainer = _trainer(setup, "increasing", framework, vectorized, seeds=(0, 1) if vectorized else (0,))
    x = np.ones((400, 256), np.float32)
    for rate in Schedule("linear", 0.0, 0.5).values(5):
        trainer.set_schedule(dropout_rate=rate)
        outs = _dropout_outputs(trainer, framework, vectorized, x)
        assert len(outs) == 2
        for out in outs:
            dropped = (out == 0).mean()
            n = out.size
            assert abs(dropped - rate) <= 5 * np.sqrt(rate * (1 - rate) / n) + 1e-12, (rate, dropped)
            np.testing.assert_allclose(out[out != 0], 1 / (1 - rate), rtol=1e-6)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("vectorized", [False, True])
def test_the_lr_schedule_sets_the_optimizer_lr(setup, framework, vectorized):
    """One epoch with ``lr=0.003`` scheduled equals, to the bit, one with ``Optimizer(lr=0.003)``
    declared, and differs from the case's own lr (0.01)."""
    case, _, arrays = setup
    x, y = arrays[0], arrays[1]
    seeds = (0, 1) if vectorized else (0,)
    batches = [batch_order(len(x), 128, 1, s)[:3] for s in seeds]
    got = {}
    for name, lr, optimizer in (("scheduled", 0.003, case.optimizer), ("declared", None, Optimizer("adam", lr=0.003)),
                                ("own", None, case.optimizer)):
        job = _job(setup, "none", framework)
        job = dataclasses.replace(job, case=dataclasses.replace(job.case, optimizer=optimizer))
        params = [initial_params(job.arm.layers, job.case.input_shape, s, initializer_for(framework, job.mode))
                  for s in seeds]
        backend = backends.load(framework)
        trainer = backend.GroupTrainer(job, params, list(seeds)) if vectorized else backend.Trainer(job, params[0], 0)
        if lr is not None:
            trainer.set_schedule(lr=lr)
        trainer.set_data(x, y)
        trainer.fit_epoch(batches if vectorized else batches[0])
        weights = trainer.params()
        got[name] = weights[0] if vectorized else weights
    for a, b, c in zip(got["scheduled"], got["declared"], got["own"]):
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
            assert not np.array_equal(a[key], c[key]), key


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("arm", ["decreasing", "increasing"])
def test_the_group_follows_the_per_seed_path_under_a_schedule(setup, framework, arm):
    job = _job(setup, arm, framework)
    backend, arrays = backends.load(framework), setup[2]
    seeds = [0, 3]
    group = train_group(job, backend, arrays, seeds)
    for out, seed in zip(group, seeds):
        single = train_group(job, backend, arrays, [seed], vectorized=False)[0]
        assert out["curve"]["dropout_rate"] == single["curve"]["dropout_rate"]
        # the same masks at every epoch: rounding apart, the same losses (another mask moves them by ~1e-2)
        np.testing.assert_allclose(out["curve"]["train_loss"], single["curve"]["train_loss"], rtol=2e-4)
        assert out["metrics"]["test_accuracy"] == pytest.approx(single["metrics"]["test_accuracy"], abs=0.003)


def test_tf_advances_a_dropout_seed_through_an_epoch_at_rate_0(setup):
    """Keras draws nothing at rate 0; the trainer moves the layer's seed on by the epoch's
    steps, so its j-th step draws with the seed [stream, j] as the group's counter does."""
    from bench.backends.tf.layers import layer_stream
    job, trainer = _trainer(setup, "increasing", "tf", False)
    x, y = setup[2][:2]
    trainer.set_data(x, y)
    trainer.set_schedule(dropout_rate=0.0)
    trainer.fit_epoch(batch_order(len(x), 128, 1, 0)[:5])
    import keras
    states = [layer.seed_generator.state.numpy().tolist() for layer in trainer.model.layers
              if type(layer) is keras.layers.Dropout]
    streams = [layer_stream(0, k) for k, layer in enumerate(job.arm.layers) if type(layer) is Dropout]
    assert states == [[s, 5] for s in streams]


def test_a_speed_case_refuses_schedules():
    case = registry.get("c5h")
    arm = dataclasses.replace(case.arms[0], lr_schedule=Schedule("constant", 0.01))
    with pytest.raises(SpecError, match="would not apply; leave schedules out of speed cases"):
        dataclasses.replace(case, arms=(arm, *case.arms[1:])).validate()
