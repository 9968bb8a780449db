"""ms per step of the torch per-seed trainer on one C4 arm (random pixels, 60 steps, best of 3 epochs after a warm-up). Usage: step_probe.py THREADS [ARM] [--prof]"""
import sys, time
from bench.host.allocator import keep_freed_memory
keep_freed_memory()
import torch, numpy as np
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
from dataclasses import replace
from bench.spec import registry, Job
from bench.run.seeds import initial_params, initializer_for
from bench.backends.torch.single import Trainer
case = registry.get("c4")
arm = case.arm(sys.argv[2] if len(sys.argv) > 2 and not sys.argv[2].startswith("--") else "fc")
job = Job(case, arm, "torch", "as_written", "full", replace(case.data, epochs=1))
params = initial_params(arm.layers, case.input_shape, 0, initializer_for("torch", "as_written"))
tr = Trainer(job, params, 0)
rng = np.random.default_rng(0)
x = rng.random((128 * 60, 784), dtype=np.float32); y = rng.integers(0, 10, 128 * 60)
tr.set_data(x, y)
batches = [np.arange(i * 128, (i + 1) * 128) for i in range(60)]
tr.fit_epoch(batches[:10])
ts = []
for _ in range(3):
    t = time.perf_counter(); tr.fit_epoch(batches); ts.append((time.perf_counter() - t) / 60)
dt = min(ts)
print(f"ms/step {dt*1e3:.2f}  GFLOP/s {1.971/dt:.1f}")

if "--prof" in sys.argv:
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU]) as p:
        tr.fit_epoch(batches[:20])
    print(p.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))
