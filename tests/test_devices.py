"""GPU planning without a GPU: --device parsing, which GPU each worker gets, how many
workers share a GPU's memory, the backends' device choice and TF's GPU setup, all
against mocked GPU counts and free memory. (No GPU ran these paths for real.)"""
import os
import types

import pytest

from bench.publish import check
from bench import cli
from bench.host import devices
from bench.run import grouping, runner, workers
from bench.spec import registry


@pytest.fixture
def gpus(monkeypatch):
    """A machine whose driver reports ``n`` GPUs with 80 GiB free each; no CUDA_VISIBLE_DEVICES."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv(devices.ENV, raising=False)
    calls = []

    def install(n):
        def smi(*args):
            calls.append(args)
            if args[0] == "--query-gpu=index":
                return [str(i) for i in range(n)] or None
            if args[0] == "--query-gpu=memory.free":
                return ["81920"]
            return None
        monkeypatch.setattr(devices, "_nvidia_smi", smi)
        return calls
    return install


@pytest.mark.parametrize("value", ["auto", "cpu", "cuda", "cuda:0", "cuda:12", " CUDA:1 "])
def test_good_devices_parse(value):
    assert devices.parse(value) == value.strip().lower()


@pytest.mark.parametrize("value", ["gpu", "cuda:", "cuda:-1", "cuda:a", "tpu", ""])
def test_bad_devices_are_one_sentence(value):
    with pytest.raises(devices.DeviceError, match="--device must be"):
        devices.parse(value)


def test_bad_device_on_the_command_line_exits_2(capsys, monkeypatch):
    monkeypatch.delenv(devices.ENV, raising=False)
    assert cli.main(["run", "--case", "c1", "--device", "gpu0", "--no-progress"]) == 2
    assert "--device must be" in capsys.readouterr().err


def test_one_worker_per_gpu_each_on_its_own(gpus, monkeypatch):
    gpus(4)
    assert devices.visible_gpus() == ["0", "1", "2", "3"]
    assert devices.worker_gpus(4) == ["0", "1", "2", "3"]
    assert devices.worker_gpus(6) == ["0", "1", "2", "3", "0", "1"]   # more workers than GPUs: shared
    assert devices.worker_gpus(2, "cuda:2") == ["2", "2"]
    assert devices.worker_gpus(3, "cpu") == [None, None, None]
    assert workers.default_count(len(devices.gpus_for("auto")), free_bytes=None) == 4
    assert workers.default_count(True, free_bytes=None) == 1 and workers.default_count(0, None) >= 1


def test_cuda_visible_devices_limits_and_orders_the_gpus(gpus, monkeypatch):
    gpus(8)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,2")
    assert devices.worker_gpus(2) == ["5", "2"]
    assert devices.gpus_for("cuda:1") == ["2"]
    with pytest.raises(devices.DeviceError, match="2 GPUs are visible"):
        devices.gpus_for("cuda:2")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert devices.worker_gpus(2) == [None, None]


def test_no_driver_means_cpu_workers(gpus):
    gpus(0)
    assert devices.worker_gpus(2) == [None, None] and devices.sharing(2) == 2


def test_workers_sharing_a_gpu(gpus):
    gpus(2)
    assert [devices.sharing(n) for n in (1, 2, 3, 4)] == [1, 1, 2, 2]
    assert devices.sharing(4, "cuda:1") == 4   # one GPU named: every worker shares it


def test_free_memory_of_a_gpu_from_nvidia_smi(gpus, monkeypatch):
    calls = gpus(2)
    monkeypatch.setitem(__import__("sys").modules, "pynvml", None)   # NVML not installed
    assert devices.free_bytes("1") == 81920 << 20
    assert calls[-1][-2:] == ("-i", "1")


def test_a_worker_sees_only_its_gpu(monkeypatch):
    for name in ("CUDA_VISIBLE_DEVICES", "CUDA_DEVICE_ORDER"):   # setenv first: undone after the test
        monkeypatch.setenv(name, "")                              # even when absent before it (delenv
        monkeypatch.delenv(name)                                  # alone would leave pin()'s value behind)
    monkeypatch.setenv(devices.ENV, "cuda:1")
    devices.pin("3")
    assert (os.environ["CUDA_VISIBLE_DEVICES"], os.environ[devices.ENV]) == ("3", "cuda")
    assert os.environ["CUDA_DEVICE_ORDER"] == "PCI_BUS_ID"   # nvidia-smi's numbering


def _seen():
    return os.environ.get("CUDA_VISIBLE_DEVICES"), os.environ.get(devices.ENV)


def test_the_pool_pins_each_worker_to_its_gpu(monkeypatch):
    monkeypatch.setenv(devices.ENV, "auto")
    monkeypatch.setattr(workers.devices, "worker_gpus", lambda count: ["3", "5"][:count])
    with workers.Pool(2) as pool:
        assert pool.each(_seen) == [("3", "auto"), ("5", "auto")]


def test_group_planning_divides_a_gpu_among_its_workers_only(gpus, monkeypatch):
    """Four workers on two GPUs of 80 GiB: each plans with 40 GiB of GPU memory; on the
    host (a backend without a GPU) the four share host memory."""
    gpus(2)
    seen = []
    monkeypatch.setattr(grouping, "plan", lambda n, req, per_seed, free: (seen.append(free), (n, ""))[1])
    monkeypatch.setattr(grouping, "host_free_bytes", lambda: 16 << 30)
    case = registry.get("c1")
    jobs = runner.jobs_for(case, "smoke", ["torch"], ["as_written"])
    fake = types.SimpleNamespace(free_memory=lambda: 80 << 30)
    monkeypatch.setattr(runner.backends, "load", lambda fw: fake)
    runner._group_size(case, jobs, 10, grouping.GroupSize.AUTO, None, workers=4)
    fake.free_memory = lambda: None
    runner._group_size(case, jobs, 10, grouping.GroupSize.AUTO, None, workers=4)
    assert seen == [40 << 30, 4 << 30]


def test_the_gate_uses_the_statistical_test_for_gpu_records():
    gpu = {"devices": ["NVIDIA H200"], "cpus": ["x [1]"]}
    cpu = {"devices": ["cpu"], "cpus": ["x [1]"]}
    assert check.same_cpu_machine(cpu, cpu)
    assert not check.same_cpu_machine(gpu, gpu) and not check.same_cpu_machine(cpu, gpu)


def test_torch_refuses_a_cuda_device_it_cannot_see(monkeypatch):
    torch_backend = pytest.importorskip("bench.backends.torch.device")
    monkeypatch.setattr(torch_backend.torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv(devices.ENV, "cuda")
    with pytest.raises(devices.DeviceError, match="no CUDA device"):
        torch_backend.training_device.__wrapped__()


def test_torch_takes_the_gpu_it_is_told(monkeypatch):
    torch_backend = pytest.importorskip("bench.backends.torch.device")
    monkeypatch.setattr(torch_backend.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch_backend.torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    monkeypatch.setenv(devices.ENV, "cuda:1")
    assert str(torch_backend.training_device.__wrapped__()) == "cuda:1"
    monkeypatch.setenv(devices.ENV, "cuda:2")
    with pytest.raises(devices.DeviceError, match="2 CUDA device"):
        torch_backend.training_device.__wrapped__()


class _Gpu:
    def __init__(self, k):
        self.name = f"/physical_device:GPU:{k}"


def test_tf_turns_memory_growth_on_for_the_gpu_it_uses(monkeypatch, gpus):
    tf_backend = pytest.importorskip("bench.backends.tf.device")
    config = tf_backend.tf.config
    physical = [_Gpu(0), _Gpu(1)]
    growth, visible = [], []
    monkeypatch.setattr(config, "list_physical_devices", lambda kind: physical)
    monkeypatch.setattr(config, "set_visible_devices", lambda chosen, kind: visible.append(chosen))
    monkeypatch.setattr(config.experimental, "set_memory_growth", lambda gpu, on: growth.append((gpu.name, on)))
    monkeypatch.setenv(devices.ENV, "auto")
    assert tf_backend._prepare_gpus() == physical and visible == []
    assert growth == [("/physical_device:GPU:0", True), ("/physical_device:GPU:1", True)]
    growth.clear()
    monkeypatch.setenv(devices.ENV, "cuda:1")
    assert tf_backend._prepare_gpus() == [physical[1]] and visible == [[physical[1]]]
    assert growth == [("/physical_device:GPU:1", True)]
    monkeypatch.setenv(devices.ENV, "cpu")
    assert tf_backend._prepare_gpus() == [] and visible[-1] == []
    monkeypatch.setenv(devices.ENV, "cuda:2")
    with pytest.raises(devices.DeviceError, match="TensorFlow sees 2 GPU"):
        tf_backend._prepare_gpus()
    # group planning: the free memory of the GPU TF trains on, not None (host memory)
    gpus(2)
    monkeypatch.setattr(devices, "free_bytes", lambda gpu: {"0": 1 << 30, "1": 7 << 30}[gpu])
    monkeypatch.setattr(tf_backend, "_GPUS", [physical[1]])
    assert tf_backend.free_memory() == 7 << 30
    monkeypatch.setattr(tf_backend, "_GPUS", [])
    assert tf_backend.free_memory() is None


def test_threads_follow_bench_threads(monkeypatch):
    monkeypatch.setenv(devices.THREADS_ENV, "1")
    assert devices.cpu_threads() == 1
    monkeypatch.setenv(devices.THREADS_ENV, "999")
    assert devices.cpu_threads() == len(os.sched_getaffinity(0))
    monkeypatch.delenv(devices.THREADS_ENV)
    assert devices.cpu_threads() == len(os.sched_getaffinity(0))
