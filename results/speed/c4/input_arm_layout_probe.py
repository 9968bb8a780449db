"""PyTorch's per-seed C4 `input` arm (dropout on the pixels, then the conv stack), as it is ("old")
and with the dropout's output given channels-last strides ("new"). A one-channel map is both
NCHW- and channels-last-contiguous; the permuted input rows carry channels-last strides, so the
other arms' convolutions run channels-last, but ``x * mask`` returns NCHW strides and this arm's
whole conv stack runs NCHW. "new" changes only the stride of the size-1 channel dimension
(the same memory, the same values). Five training steps each from the same weights, then the
bits compared; then 4 interleaved rounds of 5 steps, median ms per step, 1 thread, random data.
Usage: BENCH_THREADS=1 python input_arm_layout_probe.py"""
import statistics, time

import numpy as np

from bench import backends
from bench.backends.torch.layers import noise
from bench.run.seeds import initial_params, initializer_for
from bench.spec import Job, registry

case = registry.get("c4")
arm = case.arm("input")
job = Job(case, arm, "torch", "as_written", "full", case.budget("full"))
backend = backends.load("torch")
rng = np.random.default_rng(0)
x, y = rng.random((1280, 784), dtype=np.float32), rng.integers(0, 10, 1280)
batches = [list(range(i * 128, (i + 1) * 128)) for i in range(10)]
as_is = noise.KeepMaskDropout.forward


def channels_last(self, maps):
    out = as_is(self, maps)
    if out.ndim == 4 and out.shape[1] == 1:
        n, _, h, w = out.shape
        out = out.as_strided(out.shape, (h * w, 1, w, 1))
    return out


forwards = {"old": as_is, "new": channels_last}
trainers, losses, weights = {}, {}, {}
for name, forward in forwards.items():
    noise.KeepMaskDropout.forward = forward
    trainers[name] = backend.Trainer(job, initial_params(arm.layers, case.input_shape, 0,
                                                         initializer_for("torch", "as_written")), 0)
    trainers[name].set_data(x, y)
    losses[name] = trainers[name].fit_epoch(batches[:5])
    weights[name] = trainers[name].params()
print("5 step losses bit-equal:", bool(np.array_equal(losses["old"], losses["new"])))
for i, (old, new) in enumerate(zip(weights["old"], weights["new"])):
    for key in old:
        if not np.array_equal(old[key], new[key]):
            print(f"layer {i} {key}: {int((old[key] != new[key]).sum())} of {old[key].size} values differ, "
                  f"max |difference| {float(np.abs(old[key] - new[key]).max()):.3g}")
times = {name: [] for name in forwards}
for r in range(4):
    for name in (list(forwards) if r % 2 == 0 else list(forwards)[::-1]):
        noise.KeepMaskDropout.forward = forwards[name]
        t0 = time.perf_counter()
        trainers[name].fit_epoch(batches[5:])
        times[name].append((time.perf_counter() - t0) / 5)
for name, ts in times.items():
    print(f"{name}: median {statistics.median(ts) * 1e3:.1f} ms per step")
print(f"new/old: {statistics.median(times['new']) / statistics.median(times['old']):.2f}")
