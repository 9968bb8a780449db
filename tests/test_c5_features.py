"""The spec features the C5 cases need: L1, UniformDropout, validation_split, weight_sparsity,
and the check that a case only declares metrics the engine computes.

TF <-> PyTorch parity as ``tests/test_parity.py`` does it (copied glorot weights, PyTorch in
``matched`` mode): forward, loss with the penalty, one step. The vectorized trainers against the
per-seed path as ``tests/test_group.py`` does it: one step per seed, and a seed's record alone
and in a group.
"""
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench import backends, data
from bench.spec import registry
from bench.spec import Job
from bench.errors import SpecError
from bench.run.seeds import batch_order, initial_params, initializer_for
from bench.spec import L1, Arm, Case, Dense, Metric, Optimizer, UniformDropout, producible_metrics
from bench.run.training import train_group, weight_sparsity

FRAMEWORKS = ["torch", "tf"]


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(7)
    x = rng.random((128, 784), dtype=np.float32)
    x[x < 0.8] = 0.0   # sparse like MNIST
    x[:, :50] = 0.0    # pixels that are always off: no data gradient reaches their weights
    return x, rng.integers(0, 10, 128).astype(np.int64)


def _trainers(case_id, arm, seed=0):
    pytest.importorskip("tensorflow")
    pytest.importorskip("torch")
    case = registry.get(case_id)
    arm = case.arm(arm) if isinstance(arm, str) else arm
    params = initial_params(arm.layers, case.input_shape, seed, "glorot_uniform")
    budget = case.budget("smoke")
    return (backends.load("tf").Trainer(Job(case, arm, "tf", "as_written", "smoke", budget), params, seed),
            backends.load("torch").Trainer(Job(case, arm, "torch", "matched", "smoke", budget), params, seed))


# --- L1 --------------------------------------------------------------------------------

def test_l1_loss_is_coef_times_sum_of_abs_in_both_frameworks(batch):
    tf_l1, pt_l1 = _trainers("c5f", "l1")
    tf_none, pt_none = _trainers("c5f", "none")
    coef = registry.get("c5f").arm("l1").l1.coef
    l1 = coef * sum(np.abs(p).sum() for layer in tf_l1.params() for p in layer.values())
    for l1_t, none_t in ((tf_l1, tf_none), (pt_l1, pt_none)):
        assert l1_t.loss(*batch) - none_t.loss(*batch) == pytest.approx(l1, rel=1e-4)
    assert tf_l1.loss(*batch) == pytest.approx(pt_l1.loss(*batch), rel=1e-5)


@pytest.mark.parametrize("include_bias", [True, False])
def test_one_sgd_step_adds_coef_sign_p_in_both_frameworks(batch, include_bias):
    """SGD is linear in the gradient, so from the same weights the L1 step differs from the
    unpenalized one by exactly -lr * coef * sign(p) on every penalized entry, and not at all
    elsewhere (biases when include_bias is False)."""
    case = registry.get("c5f")
    arm = dataclasses.replace(case.arm("l1"), l1=L1(1e-3, include_bias=include_bias))
    lr, coef = case.optimizer.lr, 1e-3
    pairs = [_trainers("c5f", arm), _trainers("c5f", "none")]
    before = pairs[0][0].params()
    losses = [[t.step(*batch) for t in pair] for pair in pairs]
    assert losses[0][0] == pytest.approx(losses[0][1], rel=1e-5)
    for fw in (0, 1):
        for got, plain, p0 in zip(pairs[0][fw].params(), pairs[1][fw].params(), before):
            for name in got:
                penalized = include_bias or name == "kernel"
                want = -lr * coef * np.sign(p0[name]) if penalized else 0.0
                np.testing.assert_allclose(got[name] - plain[name], want, rtol=0, atol=2e-7, err_msg=name)
    for pa, pb in zip(pairs[0][0].params(), pairs[0][1].params()):   # TF and PyTorch agree
        for name in pa:
            np.testing.assert_allclose(pa[name], pb[name], rtol=0, atol=1e-6, err_msg=name)


def test_weight_sparsity_counts_kernel_entries_below_1e_3():
    params = [{"kernel": np.array([[0.0, 5e-4], [1.0, 2e-3]]), "bias": np.zeros(2)},
              {"gamma": np.zeros(3), "beta": np.zeros(3), "mean": np.zeros(3), "var": np.ones(3)},
              {"kernel": np.array([[-9e-4], [-1.1e-3]])}]
    assert weight_sparsity(params) == pytest.approx(3 / 6)


# --- UniformDropout --------------------------------------------------------------------

def test_uniform_dropout_rejects_a_half_width_outside_0_1():
    for a in (-0.1, 1.5, float("nan")):
        with pytest.raises(SpecError, match="UniformDropout half_width"):
            UniformDropout(a).validate()


def _uniform_noise(framework, a, n=200_000):
    """Training-mode output of the framework's UniformDropout on ones, and its eval output."""
    x = np.ones((n // 100, 100), np.float32)
    if framework == "tf":
        pytest.importorskip("tensorflow")
        from bench.backends.tf.layers import UniformDropout as Layer
        layer = Layer(a, seed=3)
        return np.asarray(layer(x, training=True)), np.asarray(layer(x, training=False))
    torch = pytest.importorskip("torch")
    from bench.backends.torch.layers import UniformNoiseDropout
    torch.manual_seed(3)
    layer = UniformNoiseDropout(a)
    t = torch.as_tensor(x)
    train = layer.train()(t).numpy()
    return train, layer.eval()(t).numpy()


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("a", [0.4, 1.0])
def test_uniform_dropout_multiplies_by_u_1_minus_a_1_plus_a(framework, a):
    train, infer = _uniform_noise(framework, a)
    np.testing.assert_array_equal(infer, 1.0)                        # the identity at inference
    assert train.min() >= 1 - a and train.max() <= 1 + a
    assert train.mean() == pytest.approx(1.0, abs=0.01)               # 4.5 SE at a = 1
    assert train.var() == pytest.approx(a * a / 3, rel=0.02)
    # flat histogram: every tenth of the interval holds a tenth of the draws
    counts, _ = np.histogram(train, bins=10, range=(1 - a, 1 + a))
    assert np.abs(counts / train.size - 0.1).max() < 0.005


def test_uniform_dropout_arm_agrees_at_inference_and_is_noisy_in_training(batch):
    tf_t, pt_t = _trainers("c5e", "uniform")
    x = batch[0]
    np.testing.assert_allclose(tf_t.predict(x), pt_t.predict(x), rtol=1e-5, atol=1e-5)
    assert tf_t.loss(*batch) == pytest.approx(pt_t.loss(*batch), rel=1e-5)
    for t in (tf_t, pt_t):
        assert np.abs(t.predict(x, training=True) - t.predict(x)).max() > 1e-3


# --- vectorized seeds against the per-seed path ----------------------------------------

def _setup(case_id, arm, framework):
    pytest.importorskip({"tf": "tensorflow", "torch": "torch"}[framework])
    case = registry.get(case_id)
    budget = case.budget("smoke")
    arrays = data.prepare(data.load(case.data.dataset), budget)
    return Job(case, case.arm(arm), framework, "as_written", "smoke", budget), backends.load(framework), arrays


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("case_id, arm", [("c5f", "l1"), ("c5e", "uniform")])
def test_group_step_moves_each_seed_as_the_per_seed_path_does(framework, case_id, arm):
    job, backend, (x, y, _, _) = _setup(case_id, arm, framework)
    seeds = [0, 3]
    scheme = initializer_for(framework, "as_written")
    params = [initial_params(job.arm.layers, job.case.input_shape, s, scheme) for s in seeds]
    group = backend.GroupTrainer(job, params, seeds)
    group.set_data(x, y)
    batches = [batch_order(len(x), job.data.batch_size, 1, s)[:2] for s in seeds]
    group_losses = group.fit_epoch(batches)
    for i, seed in enumerate(seeds):
        single = backend.Trainer(job, params[i], seed)
        single.set_data(x, y)
        np.testing.assert_allclose(group_losses[i], single.fit_epoch(batches[i]), rtol=1e-5)
        for got, want in zip(group.params()[i], single.params()):
            for name in want:   # another noise draw or a missing L1 gradient would move most entries
                close = np.isclose(got[name], want[name], rtol=1e-4, atol=2e-6)
                assert close.mean() >= 0.999, (name, close.mean())


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("case_id, arm", [("c5f", "l1"), ("c5e", "uniform")])
def test_a_seed_record_does_not_depend_on_its_group(framework, case_id, arm):
    job, backend, arrays = _setup(case_id, arm, framework)
    alone = train_group(job, backend, arrays, [2])[0]
    out = train_group(job, backend, arrays, [0, 2, 5])[1]
    assert out["metrics"] == alone["metrics"] and out["curve"] == alone["curve"]


def test_a_seed_record_does_not_depend_on_its_group_on_an_alignment_sensitive_blas_path():
    """The test above under MKL's SSE4.2 path, whose kernels depend on pointer alignment
    (``tests/test_seedmm.py``), as the path MKL takes on some CPUs of other vendors may: without
    ``bench.backends.torch.seedmm`` this C5e record moves with the seed's place in its group."""
    torch = pytest.importorskip("torch")
    if "mkl" not in torch.__config__.show().lower():
        pytest.skip("this torch build has no MKL, whose SSE4.2 path the test takes")
    root = Path(__file__).resolve().parents[1]
    test = "tests/test_c5_features.py::test_a_seed_record_does_not_depend_on_its_group[c5e-uniform-torch]"
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test], cwd=root,
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"})
    assert out.returncode == 0, out.stdout[-3000:]


# --- validation_split and the metrics a case may declare ---------------------------------

def test_holdout_is_keras_validation_split():
    x, y = np.arange(10)[:, None], np.arange(10)
    (xt, yt, _, _), (xv, yv) = data.holdout((x, y, x[:2], y[:2]), 0.25)
    assert yt.tolist() == list(range(7)) and yv.tolist() == [7, 8, 9]   # floor(10 * 0.75) = 7: the last rows
    with pytest.raises(SpecError, match="validation_split"):
        data.holdout((x[:1], y[:1], x, y), 0.5)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_validation_split_trains_on_the_rest_and_reports_val_metrics(framework):
    job, backend, arrays = _setup("c5a", "rate20", framework)
    out = train_group(job, backend, arrays, [0, 1])
    n_train = int(len(arrays[0]) * 0.8)
    assert all(o["steps"] == -(-n_train // job.data.batch_size) for o in out)
    for o in out:
        assert 0 < o["metrics"]["val_accuracy"] <= 1 and o["metrics"]["val_loss"] > 0
        assert len(o["curve"]["val_accuracy"]) == job.data.epochs


def test_a_metric_the_engine_cannot_compute_is_a_spec_error_listing_the_ones_it_can():
    case = registry.get("c1")
    assert "val_accuracy" not in producible_metrics(case)
    assert "val_accuracy" in producible_metrics(registry.get("c5a"))
    bad = dataclasses.replace(case, metrics=case.metrics + (Metric("val_accuracy", True),))
    with pytest.raises(SpecError, match="not one this case can produce.*test_accuracy"):
        bad.validate()
    with pytest.raises(SpecError, match="'f1_score'"):
        Case("x", "t", "s", (4,), registry.get("c5f").data, case.loss, case.optimizer,
             (Arm("a", (Dense(10),)),), (Metric("f1_score", True),), ()).validate()


# --- AdamW (decoupled weight decay) -------------------------------------------------------

def _adamw_case(name="adamw", wd=0.1):
    case = registry.get("c5f")
    return dataclasses.replace(case, optimizer=Optimizer(name, lr=1e-3, weight_decay=wd if name == "adamw" else None))


def _adamw_trainers(case, arm_name, framework, mode="as_written", seed=0):
    arm = case.arm(arm_name)
    params = initial_params(arm.layers, case.input_shape, seed, "glorot_uniform")
    return backends.load(framework).Trainer(Job(case, arm, framework, mode, "smoke", case.budget("smoke")),
                                            params, seed)


def test_weight_decay_is_only_for_adamw():
    with pytest.raises(SpecError, match="decoupled decay"):
        Optimizer("adam", weight_decay=0.1).validate()
    Optimizer("adamw", weight_decay=0.1).validate()


def test_one_adamw_step_is_adam_plus_decoupled_decay_in_both_frameworks(batch):
    """From the same weights, AdamW's step differs from Adam's by -lr * wd * p (decoupled:
    the decay never passes through Adam's scaling), and TF and PyTorch take the same step."""
    pytest.importorskip("tensorflow")
    pytest.importorskip("torch")
    lr, wd = 1e-3, 0.1
    steps = {}
    for fw, mode in (("tf", "as_written"), ("torch", "matched")):
        for name in ("adamw", "adam"):
            t = _adamw_trainers(_adamw_case(name, wd), "none", fw, mode)
            before = t.params()
            t.step(*batch)
            steps[fw, name] = t.params()
    for fw in ("tf", "torch"):
        for w, a, p0 in zip(steps[fw, "adamw"], steps[fw, "adam"], before):
            for key in w:
                np.testing.assert_allclose(w[key] - a[key], -lr * wd * p0[key], rtol=0, atol=1e-7, err_msg=(fw, key))
    for a, b in zip(steps["tf", "adamw"], steps["torch", "adamw"]):
        for key in a:
            close = np.isclose(a[key], b[key], rtol=0, atol=2e-6)   # Adam's sqrt(v) ~ 0 entries, as test_parity
            assert close.mean() >= 0.999, key


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_group_adamw_with_l2_steps_each_seed_as_the_per_seed_path(framework):
    """Under AdamW the vectorized torch trainer adds L2's gradient itself (the optimizer's
    weight_decay is the decoupled one); both groups must match the per-seed path."""
    pytest.importorskip({"tf": "tensorflow", "torch": "torch"}[framework])
    case = _adamw_case()
    budget = case.budget("smoke")
    x, y, _, _ = data.prepare(data.load(case.data.dataset), budget)
    job = Job(case, case.arm("l2"), framework, "as_written", "smoke", budget)
    backend, seeds = backends.load(framework), [0, 3]
    scheme = initializer_for(framework, "as_written")
    params = [initial_params(job.arm.layers, case.input_shape, s, scheme) for s in seeds]
    group = backend.GroupTrainer(job, params, seeds)
    group.set_data(x, y)
    batches = [batch_order(len(x), budget.batch_size, 1, s)[:2] for s in seeds]
    group_losses = group.fit_epoch(batches)
    for i, seed in enumerate(seeds):
        single = backend.Trainer(job, params[i], seed)
        single.set_data(x, y)
        np.testing.assert_allclose(group_losses[i], single.fit_epoch(batches[i]), rtol=1e-5)
        for got, want in zip(group.params()[i], single.params()):
            for name in want:
                close = np.isclose(got[name], want[name], rtol=1e-4, atol=2e-6)
                assert close.mean() >= 0.999, (name, close.mean())


# --- early stopping ---------------------------------------------------------------------------

def _keras_stops(values, patience, monitor):
    """The epoch at which keras.callbacks.EarlyStopping stops on ``values``, and its best epoch."""
    keras = pytest.importorskip("keras")

    class Model:
        stop_training = False

        def get_weights(self):
            return []

    mode = "max" if monitor.endswith("accuracy") else "min"   # Keras cannot tell without a compiled model
    cb = keras.callbacks.EarlyStopping(monitor=monitor, patience=patience, restore_best_weights=True, mode=mode)
    cb.set_model(Model())
    cb.on_train_begin()
    for epoch, v in enumerate(values):
        cb.on_epoch_end(epoch, {monitor: v})
        if cb.model.stop_training:
            return epoch, cb.best_epoch
    return None, cb.best_epoch


@pytest.mark.parametrize("monitor", ["val_loss", "val_accuracy"])
@pytest.mark.parametrize("patience", [0, 1, 2, 5])
def test_the_stopping_rule_is_keras_early_stopping(monitor, patience):
    from bench.spec import EarlyStopping
    from bench.run.stopping import Stopper

    rng = np.random.default_rng(patience)
    for trial in range(40):
        values = np.round(rng.normal(size=12).cumsum() * 0.1, 1).tolist()   # rounding makes ties
        stopper = Stopper(EarlyStopping(patience, monitor))
        for epoch, v in enumerate(values):
            stopper.update(epoch, v)
            if stopper.stopped:
                break
        assert (stopper.stopped_epoch, stopper.best_epoch) == _keras_stops(values, patience, monitor), values


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_early_stopping_keeps_the_best_epoch_in_both_frameworks(framework):
    from bench.spec import EarlyStopping

    pytest.importorskip({"tf": "tensorflow", "torch": "torch"}[framework])
    case = registry.get("c5a")
    arm = dataclasses.replace(case.arm("rate00"), early_stopping=EarlyStopping(0, "val_accuracy"))
    case = dataclasses.replace(case, arms=(arm,))
    budget = dataclasses.replace(case.budget("smoke"), epochs=4, train_subsample=640)
    arrays = data.prepare(data.load("mnist"), budget)
    out = train_group(Job(case, arm, framework, "as_written", "smoke", budget), backends.load(framework),
                      arrays, [0, 1])
    for o in out:
        stop = o["early_stopping"]
        curve = o["curve"]["val_accuracy"]
        best = stop["best_epoch"]
        assert curve[best] == max(curve) and o["metrics"]["val_accuracy"] == curve[best]
        assert o["metrics"]["test_accuracy"] == o["curve"]["test_accuracy"][best]
        trained = len(curve)
        assert trained == (stop["stopped_epoch"] + 1 if stop["stopped_epoch"] is not None else 4)
        assert o["steps"] == trained * 16   # 512 training rows / 32
    # seed 1 stops at epoch 3 with its best at epoch 2 in both frameworks: the restore is exercised
    assert any(o["early_stopping"]["best_epoch"] < len(o["curve"]["val_accuracy"]) - 1 for o in out)


def test_early_stopping_on_a_metric_the_case_lacks_is_a_spec_error():
    from bench.spec import EarlyStopping

    case = registry.get("c1")
    arm = dataclasses.replace(case.arm("none"), early_stopping=EarlyStopping(5))
    with pytest.raises(SpecError, match="validation_split"):
        dataclasses.replace(case, arms=(arm,)).validate()
    with pytest.raises(SpecError, match="patience"):
        EarlyStopping(-1).validate()
