"""Worker processes: every payload answered, a raising or dying task fails alone,
workers pinned to their own cores, and the runner's records unchanged by them."""
import os

import pytest

from bench import arguments
from bench.run.options import RunOptions
from bench.host import allocator
from bench.run import runner, workers
from bench.spec import registry
from bench.records import store
from bench.errors import SpecError


def _square(x):
    return x * x


def _fail(message):
    raise ValueError(message)


def _die(code):
    os._exit(code)


def _affinity():
    return sorted(os.sched_getaffinity(0))


def _collect(pool, fn, payloads):
    return {index: (ok, value) for index, ok, value in pool.map(fn, payloads)}


def test_every_payload_is_answered_once():
    with workers.Pool(2) as pool:
        out = _collect(pool, _square, [(n,) for n in range(7)])
    assert out == {n: (True, n * n) for n in range(7)}


def test_a_raising_task_fails_alone_with_its_traceback():
    with workers.Pool(2) as pool:
        out = _collect(pool, _fail, [("boom",)])
        assert _collect(pool, _square, [(3,)]) == {0: (True, 9)}
    ok, err = out[0]
    assert not ok and isinstance(err, workers.TaskError)
    assert str(err) == "ValueError: boom" and "_fail" in err.traceback


def test_a_dying_worker_fails_its_task_and_is_replaced():
    with workers.Pool(2) as pool:
        out = _collect(pool, _die, [(3,)])
        after = _collect(pool, _square, [(n,) for n in range(4)])
    ok, err = out[0]
    assert not ok and isinstance(err, workers.WorkerDied) and "exit code 3" in str(err)
    assert after == {n: (True, n * n) for n in range(4)}


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs two usable cores")
def test_workers_are_pinned_to_their_own_cores():
    with workers.Pool(2) as pool:
        cores = pool.each(_affinity)
    assert cores == workers.core_sets(2)
    assert not set(cores[0]) & set(cores[1])


def test_core_sets_deal_every_core_and_share_only_when_short(monkeypatch):
    monkeypatch.setattr(workers, "usable_cores", lambda: [0, 1, 2, 3, 4])
    assert workers.core_sets(2) == [[0, 2, 4], [1, 3]]
    assert workers.core_sets(1) == [[0, 1, 2, 3, 4]]
    assert workers.core_sets(7) == [[0], [1], [2], [3], [4], [0], [1]]


def test_default_count_is_one_per_core_within_memory_and_one_with_a_gpu(monkeypatch):
    monkeypatch.setattr(workers, "usable_cores", lambda: list(range(8)))
    assert workers.default_count(gpu=False, free_bytes=None) == 8
    assert workers.default_count(gpu=False, free_bytes=3 * workers.WORKER_BYTES + 1) == 3
    assert workers.default_count(gpu=False, free_bytes=1) == 1
    assert workers.default_count(gpu=True, free_bytes=None) == 1


@pytest.mark.parametrize("bad", ["0", "-2", "two", ""])
def test_bad_worker_counts_are_refused(bad):
    with pytest.raises(SpecError, match="--workers"):
        arguments.worker_count(bad)
    assert arguments.worker_count("auto") is None and arguments.worker_count("3") == 3


def test_the_allocator_settings_take_effect_on_glibc():
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's")
    assert allocator.keep_freed_memory() is True


class _FakePool:
    """Answers the first group with a dead worker and trains the rest in this process."""

    def __init__(self, count, shares=None):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map(self, fn, payloads, on_progress=None):
        for index, payload in enumerate(payloads):
            if index == 0:
                yield index, False, workers.WorkerDied("its worker process ended with exit code -9 (killed).")
            else:
                yield index, True, fn(*payload)


def test_a_dead_worker_fails_its_group_and_the_run_goes_on(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setattr(runner.pool, "Pool", _FakePool)
    summary = runner.run(RunOptions([registry.get("c1")], "smoke", frameworks=("torch",), arm_names=["none", "l2"], seeds=2,
                         results_dir=tmp_path, progress=False, workers=2))
    assert (summary.ok, summary.failed) == (2, 2)
    records = store.load(tmp_path, "smoke")
    failed = [r for r in records if r["status"] == "failed"]
    assert {(r["arm"], r["seed"]) for r in failed} == {("none", 0), ("none", 1)}
    assert all("exit code -9" in r["error"] for r in failed)
    assert {(r["arm"], r["seed"]) for r in records if r["status"] == "ok"} == {("l2", 0), ("l2", 1)}
    # a rerun resumes: only the failed group trains again
    again = runner.run(RunOptions([registry.get("c1")], "smoke", frameworks=("torch",), arm_names=["none", "l2"], seeds=2,
                       results_dir=tmp_path, progress=False, workers=1))
    assert (again.ok, again.skipped) == (2, 2)


def _outcomes(path):
    return {(r["arm"], r["framework"], r["seed"]): (r["metrics"], r["curve"], r["steps"], r["diverged"])
            for r in store.load(path, "smoke")}


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_records_are_the_same_bits_with_one_worker_or_two(tmp_path, framework):
    """C1 in worker processes (one thread each) and in this process (all threads): the
    same records. (PyTorch's BatchNorm is the exception, see docs/method.md, "Workers".)"""
    pytest.importorskip("tensorflow" if framework == "tf" else "torch")
    kw = dict(frameworks=(framework,), arm_names=["none", "both"], seeds=2, progress=False)
    one = runner.run(RunOptions([registry.get("c1")], "smoke", results_dir=tmp_path / "one", workers=1, **kw))
    two = runner.run(RunOptions([registry.get("c1")], "smoke", results_dir=tmp_path / "two", workers=2, **kw))
    assert one.ok == two.ok == 4
    assert _outcomes(tmp_path / "one") == _outcomes(tmp_path / "two")


def _module():
    return os   # a module cannot be pickled


def test_a_result_that_cannot_be_sent_back_is_its_tasks_error():
    with workers.Pool(1) as pool:
        [(index, ok, err)] = list(pool.map(_module, [()]))
        with pytest.raises(workers.TaskError, match="pickle"):
            pool.each(_module)
    assert not ok and isinstance(err, workers.TaskError) and "pickle" in str(err)


def test_an_interrupt_ends_every_worker():
    import signal
    import time

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            with workers.Pool(2) as pool:
                procs = list(pool._procs)
                signal.alarm(3)
                list(pool.map(time.sleep, [(120,), (120,)]))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert not any(p.is_alive() for p in procs)


class _InterruptedPool(_FakePool):
    """Trains the first group in this process, then is interrupted (ctrl-c)."""

    def map(self, fn, payloads, on_progress=None):
        yield 0, True, fn(*payloads[0])
        raise KeyboardInterrupt


def test_an_interrupted_run_in_workers_keeps_the_finished_groups(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    from bench.cli import main

    monkeypatch.setattr(runner.pool, "Pool", _InterruptedPool)
    argv = ["run", "--case", "c1", "--profile", "smoke", "--framework", "torch", "--arm", "none", "--seeds", "4",
            "--group-size", "2", "--workers", "2", "--results-dir", str(tmp_path), "--no-progress"]
    assert main(argv) == 130
    assert "rerun the same command to resume" in capsys.readouterr().err
    assert [r["seed"] for r in store.load(tmp_path, "smoke")] == [0, 1]


def test_a_bad_worker_count_on_the_command_line_is_one_clear_sentence(capsys):
    from bench.cli import main

    assert main(["run", "--case", "c1", "--profile", "smoke", "--workers", "none", "--no-progress"]) == 2
    assert "--workers must be 'auto' or an integer >= 1, got 'none'" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs two usable cores")
def test_fewer_workers_than_asked_keep_the_asked_share_of_cores():
    with workers.Pool(1, shares=2) as pool:
        [cores] = pool.each(_affinity)
    assert cores == workers.core_sets(2)[0]


def test_a_run_with_one_group_left_still_trains_at_the_workers_thread_count(tmp_path):
    """Its records must not depend on how many groups happened to be pending: with
    --workers 2 on two cores, one group alone still gets one core (one thread)."""
    pytest.importorskip("torch")
    if not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) != 2:
        pytest.skip("the thread count checked is that of two cores dealt to two workers")
    summary = runner.run(RunOptions([registry.get("c1")], "smoke", frameworks=("torch",), arm_names=["none"], seeds=2,
                         results_dir=tmp_path, progress=False, workers=2))
    assert summary.ok == 2
    assert {r["env"]["threads"] for r in store.load(tmp_path, "smoke")} == {1}
