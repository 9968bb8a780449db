"""One evaluation of 10,000 random C4-shaped images by the suite's per-seed Trainer (arm `fc`, 1
thread), with the Trainer's rows per inference pass (``EVAL_CHUNK``) set to argv[2]; median of 3
after one untimed pass, and the metrics, whose last digits show whether the bits moved.
Usage: python eval_chunk_probe.py tf|torch ROWS"""
import statistics, sys, time

import numpy as np

from bench import backends
from bench.run.seeds import initial_params, initializer_for
from bench.spec import Job, registry

FRAMEWORK, ROWS = sys.argv[1], int(sys.argv[2])
if FRAMEWORK == "torch":
    import torch
    torch.set_num_threads(1)
else:
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
case = registry.get("c4")
arm = case.arm("fc")
job = Job(case, arm, FRAMEWORK, "as_written", "full", case.budget("full"))
backend = backends.load(FRAMEWORK)
sys.modules[backend.Trainer.__module__].EVAL_CHUNK = ROWS
trainer = backend.Trainer(job, initial_params(arm.layers, case.input_shape, 0, initializer_for(FRAMEWORK, job.mode)), 0)
rng = np.random.default_rng(0)
x, y = rng.random((10_000, 784), dtype=np.float32), rng.integers(0, 10, 10_000)
trainer.evaluate(x, y)
seconds = []
for _ in range(3):
    t0 = time.perf_counter()
    metrics = trainer.evaluate(x, y)
    seconds.append(time.perf_counter() - t0)
print(f"{FRAMEWORK} rows per pass {ROWS}: {statistics.median(seconds):.2f} s per 10,000 images, {metrics}")
