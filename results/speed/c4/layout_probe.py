"""Paired, interleaved timing of one change to a per-seed C4 step: the suite's Trainer
as it is ("old") against the same Trainer changed ("new") by ``CHANGE`` (argv[1]):
``channels_last``: its model in channels-last memory layout (its input already arrives
channels-last: ``ChannelsFirst`` is a permute of NHWC rows); ``compile``: ``torch.compile``
of its model (the default inductor backend on the CPU); ``xla``: TensorFlow's per-seed
Trainer with its epoch graph compiled by XLA (``tf.function(jit_compile=True)``).
Each repetition times ``STEPS`` steps of the fc arm for old and new (the order alternates
every repetition), each after a 2-step warm-up; per-step milliseconds, min and median.
Same initial weights, batches and dropout masks for both (seed 0).

    BENCH_THREADS=1 BENCH_DATA_DIR=... taskset -c 1 python results/speed/c4/layout_probe.py CHANGE
"""
import dataclasses, json, os, statistics, sys, time

from bench import backends, data
from bench.run.seeds import batch_order, initial_params, initializer_for
from bench.spec import Job, registry

STEPS, REPEATS = 12, 6
CHANGE = sys.argv[1]
FRAMEWORK = "tf" if CHANGE == "xla" else "torch"
case = registry.get("c4")
budget = dataclasses.replace(case.data, epochs=1, train_subsample=(STEPS + 2) * 128, test_subsample=256)
job = Job(case, case.arm("fc"), FRAMEWORK, "as_written", "full", budget)
backend = backends.load(FRAMEWORK)
x, y, _, _ = data.prepare(data.load(case.data.dataset), budget)
params = initial_params(job.arm.layers, case.input_shape, 0, initializer_for(FRAMEWORK, "as_written"))
batches = batch_order(len(x), 128, 1, 0, True)


def trainer(layout):
    t = backend.Trainer(job, params, 0)
    if layout == "new" and CHANGE == "channels_last":
        import torch
        t.model.to(memory_format=torch.channels_last)
    if layout == "new" and CHANGE == "compile":
        import torch
        t.model = torch.compile(t.model)
    t.set_data(x, y)
    if layout == "new" and CHANGE == "xla":
        import tensorflow as tf
        t._epoch = tf.function(t._train_epoch, jit_compile=True, input_signature=[
            tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32)])
    t.fit_epoch(batches[:2])   # warm-up: first calls
    return t


seconds = {"old": [], "new": []}
losses = {}
for r in range(REPEATS):
    for layout in (("old", "new") if r % 2 == 0 else ("new", "old")):
        t = trainer(layout)
        t0 = time.perf_counter()
        losses[layout] = t.fit_epoch(batches[2:]).tolist()
        seconds[layout].append((time.perf_counter() - t0) / STEPS)
out = {k: {"min_ms": 1e3 * min(v), "median_ms": 1e3 * statistics.median(v), "all_ms": [1e3 * s for s in v]}
       for k, v in seconds.items()}
out["new/old median"] = out["new"]["median_ms"] / out["old"]["median_ms"]
out["new/old min"] = out["new"]["min_ms"] / out["old"]["min_ms"]
out["max |loss difference|"] = max(abs(a - b) for a, b in zip(losses["old"], losses["new"]))
out["change"] = CHANGE
out["threads"] = backend.versions().get("threads")
out["load after"] = os.getloadavg()
print(json.dumps(out, indent=1))
