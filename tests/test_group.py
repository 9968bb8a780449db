"""Vectorized seeds (``GroupTrainer``) against the per-seed reference path, in both backends.

What must hold (bench/backends/*/group.py):
- the same initial weights, batch order and dropout masks per seed as the per-seed
  path, so one step moves the weights alike up to float rounding;
- over a short run the records agree within a tolerance: rounding differences of
  batched vs single kernels (about 1e-7 relative per op, measured) grow chaotically
  with training, so the bound is stated against the seed-to-seed spread the
  statistics work with (below 10 % of it) and in absolute terms;
- a seed's record is identical, to the bit, whichever seeds share its group.
"""
import dataclasses

import numpy as np
import pytest

from bench import arguments, backends, data
from bench.run import grouping
from bench.spec import registry
from bench.spec import Job
from bench.errors import SpecError
from bench.run.seeds import batch_order, initial_params, initializer_for
from bench.run.training import train_group, train_seed

FRAMEWORKS = ["torch", "tf"]


def _setup(case_id, arm, framework, mode="as_written"):
    pytest.importorskip(backends.package(framework))
    case = registry.get(case_id)
    budget = case.budget("smoke")
    arrays = data.prepare(data.load(case.data.dataset), budget)
    return Job(case, case.arm(arm), framework, mode, "smoke", budget), backends.load(framework), arrays


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("case_id, arm, mode, weights", [
    ("c1", "both", "as_written", True),      # dropout + L2 on every parameter
    ("c1", "dropout", "matched", True),      # PyTorch with Keras's init and Adam eps placement
    # Dropout before BatchNorm: compared on the two step losses only. This net is too
    # ill-conditioned for weights: on the per-seed path alone, moving the input by
    # 2 ulp moves most weights by more than 1e-4 within 2 Adam steps.
    ("c3", "standardized", "as_written", False),
    ("c4", "conv_fc", "as_written", True),   # elementwise dropout on maps and on FC features
    ("c4", "dropblock", "as_written", True),
    ("c4", "spatial", "as_written", True),
])
def test_one_step_moves_each_seed_as_the_per_seed_path_does(framework, case_id, arm, mode, weights):
    if framework == "tf" and mode == "matched":
        pytest.skip("matched mode is a PyTorch setting")
    job, backend, arrays = _setup(case_id, arm, framework, mode)
    x, y, _, _ = data.standardize(arrays) if job.arm.standardizes(job.data) else arrays
    seeds = [0, 3]
    scheme = initializer_for(framework, mode)
    params = [initial_params(job.arm.layers, job.case.input_shape, s, scheme) for s in seeds]
    group = backend.GroupTrainer(job, params, seeds)
    group.set_data(x, y)
    batches = [batch_order(len(x), job.data.batch_size, 1, s)[:2] for s in seeds]
    group_losses = group.fit_epoch(batches)
    for i, seed in enumerate(seeds):
        single = backend.Trainer(job, params[i], seed)
        single.set_data(x, y)
        np.testing.assert_allclose(group_losses[i], single.fit_epoch(batches[i]), rtol=1e-5)
        for got, want in zip(group.params()[i] if weights else [], single.params()):
            assert got.keys() == want.keys()
            for name in want:
                # Another mask would move most weights by ~lr. Rounding moves a handful:
                # Adam divides by sqrt(v), so a gradient that is ~0 up to rounding can
                # step by up to lr either way (3 of 204,800 kernel entries in C1).
                close = np.isclose(got[name], want[name], rtol=1e-4, atol=2e-6)
                assert close.mean() >= 0.999, (name, close.mean())


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_short_run_gives_the_per_seed_records_within_rounding(framework):
    job, backend, arrays = _setup("c1", "both", framework)
    seeds = [0, 1, 2, 3]
    group = train_group(job, backend, arrays, seeds)
    single = [train_seed(job, backend, arrays, s) for s in seeds]
    for metric in ("test_accuracy", "test_loss", "train_loss"):
        g = np.array([o["metrics"][metric] for o in group])
        s = np.array([o["metrics"][metric] for o in single])
        spread = s.std(ddof=1)
        assert np.abs(g - s).max() <= 0.1 * spread, metric
        assert np.abs(g - s).max() <= (0.002 if metric == "test_accuracy" else 1e-3), metric
    assert [o["group"] for o in group][0] == {"size": 4, "seeds": seeds, "path": "vectorized"}
    assert single[0]["group"]["path"] == "per_seed"


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("case_id, arm", [("c1", "both"), ("c3", "post"), ("c4", "conv_fc")])
def test_a_seed_record_does_not_depend_on_its_group(framework, case_id, arm):
    job, backend, arrays = _setup(case_id, arm, framework)
    alone = train_group(job, backend, arrays, [2])[0]
    for seeds in ([0, 1, 2], [2, 5], [4, 2, 7, 9]):
        out = train_group(job, backend, arrays, seeds)[seeds.index(2)]
        assert out["metrics"] == alone["metrics"] and out["curve"] == alone["curve"], seeds


def test_the_group_trainers_refuse_mismatched_input():
    job, backend, _ = _setup("c1", "none", "torch")
    with pytest.raises(SpecError, match="one parameter set per seed"):
        backend.GroupTrainer(job, [], [0])


def test_torch_masks_drawn_three_ways_give_the_same_records():
    """The torch group draws dropout masks with the compiled Mersenne Twister
    (``torch_mt``) where it can, else as float64 uniforms below the keep rate, which
    on the CPU is ``bernoulli_`` draw for draw (both checked at run time, with
    ``bernoulli_`` itself as the last fallback). All three routes must give the same records."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("numba")
    job, backend, arrays = _setup("c4", "conv_fc", "torch")   # masks on maps (channels-last order) and on rows
    from bench.backends.torch import group as torch_group

    cpu = torch.device("cpu")
    assert torch_group._bernoulli_is_uniform_below(cpu)        # else the fast routes are never taken
    assert torch_group._mask_streams(job.arm.layers, [torch.Generator()], cpu) is not None
    fast = train_group(job, backend, arrays, [0, 1])
    probe, streams = torch_group._bernoulli_is_uniform_below, torch_group._mask_streams
    try:
        torch_group._mask_streams = lambda *args: None
        uniform = train_group(job, backend, arrays, [0, 1])
        torch_group._bernoulli_is_uniform_below = lambda device: False
        slow = train_group(job, backend, arrays, [0, 1])
    finally:
        torch_group._bernoulli_is_uniform_below, torch_group._mask_streams = probe, streams
    for a, b, c in zip(fast, uniform, slow):
        assert a["metrics"] == b["metrics"] == c["metrics"] and a["curve"] == b["curve"] == c["curve"]


def test_torch_mask_streams_only_where_masks_are_all_that_is_drawn():
    torch = pytest.importorskip("torch")
    pytest.importorskip("numba")
    backends.load("torch")
    from bench.backends.torch import group as torch_group

    cpu, gens = torch.device("cpu"), [torch.Generator()]
    assert torch_group._mask_streams(registry.get("c4").arm("spatial").layers, gens, cpu) is not None
    for case_id, arm in [("c4", "dropblock"), ("c1", "none")]:     # DropBlock draws uniforms; "none" draws nothing
        assert torch_group._mask_streams(registry.get(case_id).arm(arm).layers, gens, cpu) is None


def test_torch_mask_streams_fall_back_to_torch_without_a_usable_numba(monkeypatch):
    """No numba: torch draws, silently (the same bits). A numba that cannot compile or
    cache raises RuntimeError on import: torch draws, with a warning saying why."""
    torch = pytest.importorskip("torch")
    import sys

    backends.load("torch")   # torch.py imports torch_group, not the other way round
    from bench.backends.torch import group as torch_group

    layers, gens, cpu = registry.get("c1").arm("both").layers, [torch.Generator()], torch.device("cpu")
    import bench.backends.torch

    monkeypatch.delattr(bench.backends.torch, "mt", raising=False)         # else `from ... import` finds it there
    monkeypatch.setitem(sys.modules, "bench.backends.torch.mt", None)      # import -> ImportError
    assert torch_group._mask_streams(layers, gens, cpu) is None

    class Broken:
        def find_spec(self, name, path=None, target=None):
            if name == "bench.backends.torch.mt":
                raise RuntimeError("cannot cache function '_twist': no locator available")

    monkeypatch.delitem(sys.modules, "bench.backends.torch.mt")
    monkeypatch.setattr(sys, "meta_path", [Broken(), *sys.meta_path])
    with pytest.warns(RuntimeWarning, match="no locator available"):
        assert torch_group._mask_streams(layers, gens, cpu) is None


@pytest.mark.parametrize("case_id, arm", [("c1", "both"), ("c4", "conv_fc")])
def test_tf_group_dropout_is_keras_stateless_dropout_per_seed(case_id, arm):
    """The TF group runs stateless dropout's ops once over all seeds; each seed's slice
    must be ``tf.nn.experimental.stateless_dropout`` with that seed's Keras seed, bit
    for bit, in value and in gradient."""
    tf = pytest.importorskip("tensorflow")
    job, backend, _ = _setup(case_id, arm, "tf")
    from bench.backends.tf.layers import kit_for
    seeds = [0, 5, 2]
    params = [initial_params(job.arm.layers, job.case.input_shape, s, initializer_for("tf", "as_written"))
              for s in seeds]
    group = backend.GroupTrainer(job, params, seeds)
    drops = [(k, layer, shape) for k, layer, shape in group._layers if type(layer).__name__ == "Dropout"]
    assert drops
    rng = np.random.default_rng(0)
    for k, layer, shape in drops:
        flat = len(shape) == 1
        x = tf.constant(rng.normal(size=(3, 7, *shape) if flat else (7, *shape[:2], 3 * shape[2])).astype(np.float32))
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            got = kit_for(layer).group_forward(group, k, layer, shape, x, None, True)
            parts = group.slices(x)
            want = group.join([tf.nn.experimental.stateless_dropout(p, rate=layer.rate, seed=group.draw_seed(k, s))
                                for s, p in enumerate(parts)], flat)
            got2, want2 = tf.reduce_sum(got * got), tf.reduce_sum(want * want)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        np.testing.assert_array_equal(tape.gradient(got2, x).numpy(), tape.gradient(want2, x).numpy())
        assert abs(float(tf.reduce_mean(tf.cast(got == 0, tf.float32))) - layer.rate) < 0.05   # masks are drawn


# --- the group-size plan ---------------------------------------------------------------

def test_split_is_balanced_and_keeps_order():
    assert grouping.split(list(range(9)), 8) == [[0, 1, 2, 3, 4], [5, 6, 7, 8]]
    assert grouping.split(list(range(10)), 64) == [list(range(10))]
    assert grouping.split([3, 4], 1) == [[3], [4]]
    assert grouping.split([], 4) == []


def test_plan_fits_memory_and_says_when_it_cuts_a_request():
    gib = 2 ** 30
    assert grouping.plan(10, None, per_seed=gib, free=64 * gib) == (10, "")
    size, message = grouping.plan(40, 32, per_seed=gib, free=16 * gib)
    assert size == 8 and "training groups of 8" in message
    assert grouping.plan(40, None, per_seed=gib, free=16 * gib) == (8, "")  # auto: cut silently
    assert grouping.plan(5, None, per_seed=100 * gib, free=gib)[0] == 1
    assert grouping.plan(5, 4, per_seed=gib, free=None) == (4, "")


def test_seed_bytes_grow_with_the_activations():
    case = registry.get("c4")
    conv = grouping.seed_bytes(case, case.arm("none"), 128)
    mlp = grouping.seed_bytes(registry.get("c1"), registry.get("c1").arm("none"), 128)
    assert conv > 10 * mlp > 0
    assert grouping.parameter_count(registry.get("c1").arm("none").layers, (784,)) == 244_522


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_parse_size_rejects_bad_values(value):
    with pytest.raises(SpecError, match="group-size"):
        arguments.group_size(value)


def test_a_group_size_is_auto_the_per_seed_path_or_a_width():
    assert arguments.group_size("auto") is grouping.GroupSize.AUTO
    assert arguments.group_size("1") == grouping.GroupSize.PER_SEED == grouping.GroupSize.fixed(1)
    assert arguments.group_size("8") == grouping.GroupSize.fixed(8) and grouping.GroupSize.fixed(8).requested == 8
    assert (grouping.GroupSize.AUTO.requested, grouping.GroupSize.PER_SEED.requested) == (None, 1)
    assert str(grouping.GroupSize.AUTO) == "auto" and str(grouping.GroupSize.fixed(8)) == "8"


def test_the_per_seed_path_is_decided_in_one_place():
    """Asked for, or forced by a case that resplits its data per seed (each seed its own arrays)."""
    c1 = registry.get("c1")
    resplit = dataclasses.replace(c1, data=dataclasses.replace(c1.data, resplit=True))
    assert grouping.trains_per_seed(c1, grouping.GroupSize.PER_SEED)
    assert not grouping.trains_per_seed(c1, grouping.GroupSize.AUTO)
    assert not grouping.trains_per_seed(c1, grouping.GroupSize.fixed(4))
    assert grouping.trains_per_seed(resplit, grouping.GroupSize.fixed(4))


def test_out_of_memory_is_recognised():
    assert grouping.is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate"))
    assert grouping.is_out_of_memory(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried"))
    assert not grouping.is_out_of_memory(RuntimeError("shape mismatch"))


def test_torch_mask_streams_refuse_a_non_float32_activation():
    """While the compiled streams hold the generators' states torch must not draw, so a
    float64 activation is an error rather than a silent fallback to stale generators."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("numba")
    job, backend, _ = _setup("c1", "dropout", "torch")
    scheme = initializer_for("torch", job.mode)
    group = backend.GroupTrainer(job, [initial_params(job.arm.layers, job.case.input_shape, s, scheme)
                                       for s in (0, 1)], [0, 1])
    assert group._streams is not None
    with pytest.raises(SpecError, match="float32"):
        group.keep_mask(torch.zeros(2, 4, 8, dtype=torch.float64), lambda n: (n, 8), 0.5, maps_last=True)
