"""The Ray executor on a local Ray instance: the same records as local workers, and a
worker killed mid-task loses nothing (Ray retries the task)."""
import functools
import json
import os
import sys

import pytest

ray = pytest.importorskip("ray", reason="the Ray executor is an optional extra: pip install -e .[ray]")
pytest.importorskip("torch")

from bench.run.options import RunOptions
from bench.run import ray_executor, runner  # noqa: E402
from bench.spec import registry
from bench.records import store
from bench.run.workers import WorkerDied  # noqa: E402

CASE, FRAMEWORK, ARMS = "c2", "torch", ["bn", "plain"]   # the cheapest case; BatchNorm makes threads matter


@pytest.fixture(scope="module")
def local_ray():
    """One local instance for the module (starting one takes seconds); the pools below
    find it running and leave it up."""
    # one logical GPU: Ray only counts it, so GPU scheduling is testable on a CPU
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, logging_level="WARNING")
    # this module is not importable in Ray's workers: its task functions travel by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield
    ray.shutdown()


def _pool(**options):
    return functools.partial(ray_executor.RayPool, device="cpu", log=lambda line: None, **options)


def _run(path, executor=None, workers=2):
    return runner.run(RunOptions([registry.get(CASE)], "smoke", frameworks=(FRAMEWORK,), arm_names=ARMS, seeds=2,
                      results_dir=path, progress=False, workers=workers, executor=executor))


def _outcomes(path):
    """Per seed: what it trained to, as JSON (so that a diverged run's NaN equals itself)."""
    return {(r["arm"], r["seed"]): json.dumps([r["status"], r.get("metrics"), r.get("curve"), r.get("steps"),
                                               r.get("env", {}).get("threads")], sort_keys=True)
            for r in store.load(path, "smoke")}


class _DyingPool(ray_executor.RayPool):
    """Kills the Ray worker running the first task to start, once (a marker file says it happened)."""

    marker = None

    def map(self, fn, payloads, on_progress=None):
        marker = self.marker

        def dies_once(*args):
            if not os.path.exists(marker):
                open(marker, "w").close()
                os._exit(1)
            return fn(*args)

        return super().map(dies_once, payloads)


def test_ray_records_equal_local_workers_and_a_killed_worker_loses_nothing(tmp_path, local_ray):
    """Local workers with one core each against Ray tasks with one CPU each (one thread):
    the same bits, even for PyTorch's BatchNorm, which rounds by thread count. The Ray run
    loses its first worker mid-task; the retry writes the record."""
    local = _run(tmp_path / "local")
    _DyingPool.marker = str(tmp_path / "died")
    on_ray = _run(tmp_path / "ray", executor=functools.partial(_DyingPool, device="cpu", log=lambda line: None))
    assert os.path.exists(_DyingPool.marker)   # a worker did die
    assert (on_ray.ok, on_ray.failed) == (local.ok, local.failed) and local.ok > 0 and local.failed == 0
    assert _outcomes(tmp_path / "ray") == _outcomes(tmp_path / "local")
    assert {json.loads(v)[-1] for v in _outcomes(tmp_path / "ray").values()} == {1}   # one thread each
    # the store works as before: a rerun has nothing left to do
    assert _run(tmp_path / "ray", executor=_pool()).skipped == local.ok


def _die(code):
    os._exit(code)


def _square(x):
    return x * x


def test_a_task_whose_worker_always_dies_fails_alone(local_ray):
    with _pool(max_retries=0)() as pool:
        out = {index: (ok, value) for index, ok, value in pool.map(_die, [(3,)])}
        after = {index: (ok, value) for index, ok, value in pool.map(_square, [(n,) for n in range(3)])}
    ok, err = out[0]
    assert not ok and isinstance(err, WorkerDied) and "1 tries" in str(err)
    assert after == {n: (True, n * n) for n in range(3)}


def test_more_gpus_than_the_cluster_has_is_one_sentence(local_ray):
    with pytest.raises(ray_executor.RayError, match="GPU"):
        ray_executor.RayPool(task_gpus=2, device="auto", log=lambda line: None)


def _where():
    return os.environ.get("CUDA_VISIBLE_DEVICES"), os.environ.get("BENCH_DEVICE"), os.environ.get("BENCH_THREADS"), \
        os.getpid()


def test_a_gpu_task_sees_its_gpu_in_a_fresh_worker_and_a_cpu_task_none(local_ray):
    with ray_executor.RayPool(device="auto", log=lambda line: None) as pool:   # auto: 1 GPU per task here
        assert pool.task_gpus == 1
        seen = [value for _, _, value in pool.map(_where, [(), ()])]
    assert [s[:3] for s in seen] == [("0", "cuda", "1")] * 2
    assert seen[0][3] != seen[1][3]   # a fresh process per GPU task: no framework keeps an earlier GPU
    with _pool()() as pool:   # --device cpu: no GPU asked for, none taken
        assert pool.task_gpus == 0
        (_, _, value), = pool.map(_where, [()])
    assert value[1:3] == ("cpu", "1") and value[0] in (None, "")


def test_the_command_line_picks_the_executor():
    import argparse

    from bench import cli
    from bench.errors import SpecError

    args = argparse.Namespace(executor="local", adaptive=False, address=None, task_cpus=1, task_gpus=None)
    assert cli._executor(args, "cpu") is None
    args.executor = "ray"
    pool = cli._executor(args, "cpu")
    assert pool.func is ray_executor.RayPool and pool.keywords["device"] == "cpu"
    args.adaptive = True
    with pytest.raises(SpecError, match="--adaptive"):
        cli._executor(args, "cpu")


def test_records_from_other_code_are_refused():
    from bench.host import environment
    from bench.run import runner as r

    ours = {"env": {"bench": environment.code_version()}}
    ray_executor._same_code(([ours], r.Summary()))   # this checkout's: kept
    with pytest.raises(ray_executor.RayError, match="same commit"):
        ray_executor._same_code(([ours, {"env": {"bench": "0.1.0+0000000"}}], r.Summary()))
