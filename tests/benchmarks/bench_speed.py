"""Speed of the C1 MLP per backend: one training step (per-seed and for a vectorized group of
GROUP seeds), one smoke-budget seed-run, one step's dropout masks for 16 seeds (PyTorch, by
both routes), and the data loading; and of C4's CNN: one per-seed step of 128 images of an arm
with dropout on the conv maps and after the dense layer (``conv_fc``).

Not a unit test: the file name does not match ``test_*.py``, so ``make test``
never collects it. ``make bench-speed`` (``compare.sh``) times it on the base
commit and on the working tree, on the same machine in the same job, and fails
a median that got slower beyond the threshold justified in docs/speed.md.
"""
import pytest

import bench
from bench import backends, data
from bench.spec import registry
from bench.spec import Job
from bench.run.seeds import batch_order, initial_params, initializer_for
from bench.run.training import train_seed

C1 = registry.get("c1")
C4 = registry.get("c4")
ARM = C1.arm("both")  # dropout + L2: the most work per step
BUDGET = C1.budget("smoke")
GROUP = 4  # seeds per vectorized group: near the best per seed-run in ``bench speed`` on 2 cores


@pytest.fixture(scope="module")
def arrays():
    return data.prepare(data.load(C1.data.dataset), BUDGET)


@pytest.fixture(params=sorted(backends.BACKENDS))
def framework(request, benchmark):
    pytest.importorskip(backends.FRAMEWORK_PACKAGES[request.param])
    benchmark.extra_info["bench_module"] = bench.__file__  # which checkout was timed
    return request.param


def _job(framework: str) -> Job:
    return Job(C1, ARM, framework, "as_written", "smoke", BUDGET)


def test_data_loading(benchmark):
    benchmark.extra_info["bench_module"] = bench.__file__
    out = benchmark.pedantic(lambda: data.prepare(data.load(C1.data.dataset), BUDGET), rounds=5, warmup_rounds=1)
    assert len(out[0]) == BUDGET.train_subsample


@pytest.fixture(scope="module")
def c4_batch():
    """One batch of C4's shape (random pixels: speed does not depend on the values)."""
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.random((C4.data.batch_size, 784), dtype=np.float32), rng.integers(0, 10, C4.data.batch_size)


def test_conv_step(benchmark, framework, c4_batch):
    arm = C4.arm("conv_fc")
    job = Job(C4, arm, framework, "as_written", "quick", C4.budget("quick"))
    backend = backends.load(framework)
    trainer = backend.Trainer(job, initial_params(arm.layers, C4.input_shape, 0,
                                                  initializer_for(framework, job.mode)), 0)
    trainer.set_data(*c4_batch)
    first = [list(range(len(c4_batch[0])))]
    trainer.fit_epoch(first)  # build/trace once; the step itself is what is timed
    losses = benchmark(trainer.fit_epoch, first)
    assert len(losses) == 1


def test_training_step(benchmark, framework, arrays):
    job, backend = _job(framework), backends.load(framework)
    params = initial_params(ARM.layers, job.in_features, 0, initializer_for(framework, job.mode))
    trainer = backend.Trainer(job, params, 0)
    trainer.set_data(arrays[0], arrays[1])
    first = [batch_order(len(arrays[0]), BUDGET.batch_size, 1, 0, True)[0]]
    trainer.fit_epoch(first)  # build/trace once; the step itself is what is timed
    losses = benchmark(trainer.fit_epoch, first)
    assert len(losses) == 1


def test_group_step(benchmark, framework, arrays):
    job, backend = _job(framework), backends.load(framework)
    seeds = list(range(GROUP))
    scheme = initializer_for(framework, job.mode)
    trainer = backend.GroupTrainer(job, [initial_params(ARM.layers, job.in_features, s, scheme) for s in seeds], seeds)
    trainer.set_data(arrays[0], arrays[1])
    first = [[batch_order(len(arrays[0]), BUDGET.batch_size, 1, s, True)[0]] for s in seeds]
    trainer.fit_epoch(first)  # build/trace once; the step itself is what is timed
    losses = benchmark(trainer.fit_epoch, first)
    assert len(losses) == GROUP


def test_short_run(benchmark, framework, arrays):
    job, backend = _job(framework), backends.load(framework)
    out = benchmark.pedantic(train_seed, args=(job, backend, arrays, 0), rounds=5, warmup_rounds=1)
    assert out["steps"] == out["planned_steps"] and not out["diverged"]


@pytest.mark.parametrize("route", ["torch", "compiled"])
def test_keep_masks(benchmark, route, arrays):
    """One C1 step's dropout masks (Dropout(0.5) on 256 and on 128 units, batch 128) for a
    group of 16 seeds: drawn by torch (``uniform_`` < keep, then scaled) or by the compiled
    generator (``bench.backends.torch.mt``). Same bits either way (tests/test_torch_mt.py)."""
    pytest.importorskip("torch")
    import torch

    backend, job, seeds = backends.load("torch"), _job("torch"), list(range(16))
    scheme = initializer_for("torch", job.mode)
    trainer = backend.GroupTrainer(job, [initial_params(ARM.layers, job.in_features, s, scheme) for s in seeds], seeds)
    benchmark.extra_info["bench_module"] = bench.__file__
    if route == "compiled" and getattr(trainer, "_streams", None) is None:
        pytest.skip("no compiled mask generator in this checkout or environment")
    if route == "torch":
        trainer._streams = None
    rows = [torch.empty(16, BUDGET.batch_size, width) for width in (256, 128)]

    def masks():
        return [trainer.keep_mask(x, lambda n, w=x.shape[2]: (n, w), 0.5, maps_last=True) for x in rows]

    out = benchmark(masks)
    assert [tuple(m.shape) for m in out] == [(16, BUDGET.batch_size, 256), (16, BUDGET.batch_size, 128)]
