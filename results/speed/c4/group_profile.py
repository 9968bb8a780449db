"""Where the vectorized path's extra time goes on C4 (arm `conv_fc`, PyTorch, 1 thread): five
training steps of one group of S = 4 seeds against four seeds' five steps on the per-seed path,
under ``torch.profiler``; self CPU time of the operators, summed into convolution, max-pool,
ReLU and the rest. Random C4-shaped data. Usage: BENCH_THREADS=1 python group_profile.py"""
import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from bench import backends
from bench.run.seeds import initial_params, initializer_for
from bench.spec import Job, registry

S, STEPS = 4, 5
KINDS = {"convolution": ("aten::convolution_backward", "aten::mkldnn_convolution"),
         "max-pool": ("aten::max_pool2d_with_indices", "aten::max_pool2d_with_indices_backward"),
         "relu": ("aten::clamp_min", "aten::threshold_backward", "aten::relu")}
case = registry.get("c4")
arm = case.arm("conv_fc")
job = Job(case, arm, "torch", "as_written", "full", case.budget("full"))
backend = backends.load("torch")
rng = np.random.default_rng(0)
x, y = rng.random((STEPS * 128, 784), dtype=np.float32), rng.integers(0, 10, STEPS * 128)
params = [initial_params(arm.layers, case.input_shape, s, initializer_for("torch", "as_written")) for s in range(S)]
batches = [list(range(i * 128, (i + 1) * 128)) for i in range(STEPS)]
group = backend.GroupTrainer(job, params, list(range(S)))
group.set_data(x, y)
single = backend.Trainer(job, params[0], 0)
single.set_data(x, y)
group.fit_epoch([batches] * S)   # warm-up
single.fit_epoch(batches)
runs = {f"vectorized, one group of {S}": lambda: group.fit_epoch([batches] * S),
        f"per-seed, {S} seeds": lambda: [single.fit_epoch(batches) for _ in range(S)]}
print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); self CPU seconds for {STEPS} steps of {S} seeds")
print(f"| path | {' | '.join(KINDS)} | other | total |")
print("|---|" + "---|" * (len(KINDS) + 2))
for name, run in runs.items():
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        run()
    times = {e.key: e.self_cpu_time_total / 1e6 for e in prof.key_averages()}
    total = sum(times.values())
    parts = [sum(times.get(op, 0.0) for op in ops) for ops in KINDS.values()]
    print(f"| {name} | " + " | ".join(f"{p:.2f}" for p in parts) + f" | {total - sum(parts):.2f} | {total:.2f} |")
