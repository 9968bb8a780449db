"""CPU seconds per seed-step of C4 in one single-threaded process: per-seed path vs vectorized S seeds.
A warm-up, then two lengths per setting (16 and 48 steps of 128 images, one epoch, 500 test images);
their difference removes set-up and tracing. CPU seconds (time.process_time), not wall: the machine
was shared (load average about 13 on 2 cores) when probe.jsonl was made, by

    for fw in torch tf; do for arm in conv50 fc; do
      BENCH_THREADS=1 BENCH_DATA_DIR=... taskset -c 1 python results/speed/c4_rates/probe.py $fw $arm 4
    done; done >> probe.jsonl

Usage: probe.py FRAMEWORK ARM S"""
import dataclasses, json, sys, time
from bench import backends, data, registry
from bench.backends import Job
from bench.training import train_group, train_seed

fw, arm, S = sys.argv[1], sys.argv[2], int(sys.argv[3])
case = registry.get("c4")
backend = backends.load(fw)
raw = data.load(case.data.dataset, None)
out = {"fw": fw, "arm": arm, "S": S}
for path in ("per_seed", "vectorized"):
    cpu = {}
    for rows in (1024, 2048, 6144):   # the first only warms up (first calls, tracing, compiling)
        budget = dataclasses.replace(case.data, epochs=1, train_subsample=rows, test_subsample=500)
        job = Job(case, case.arm(arm), fw, "as_written", "smoke", budget)
        arrays = data.arrays_for(raw, budget)
        seeds = list(range(S)) if path == "vectorized" else [0]
        t0, w0 = time.process_time(), time.perf_counter()
        if path == "vectorized":
            train_group(job, backend, arrays(0), seeds, vectorized=True)
        else:
            train_seed(job, backend, arrays(0), 0)
        cpu[rows] = (time.process_time() - t0, time.perf_counter() - w0)
    steps = (6144 - 2048) // 128
    n = S if path == "vectorized" else 1
    out[path] = {"cpu_s_per_seed_step": (cpu[6144][0] - cpu[2048][0]) / steps / n,
                 "wall_s_per_seed_step": (cpu[6144][1] - cpu[2048][1]) / steps / n, "raw": cpu}
out["threads"] = backend.versions().get("threads")
print(json.dumps(out), flush=True)
