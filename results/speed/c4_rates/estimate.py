"""C4 full on this CPU from the probe's single-thread CPU rates (probe.jsonl), spread over the ten
arms by each arm's training time in results/quick (linear between the probed fc and conv50 arms).
Evaluation: quick's seconds x 15/6 evaluations x 2 (they ran on two threads). Output: estimate.txt
(python results/speed/c4_rates/estimate.py)."""
import json, statistics as st, collections
HERE = __file__.rsplit("/", 1)[0]
probe = {(r["fw"], r["arm"]): r
         for r in map(json.loads, (line for line in open(HERE + "/probe.jsonl") if line.startswith("{")))}
quick = collections.defaultdict(list)
for r in map(json.loads, open(__file__.rsplit("/", 3)[0] + "/quick/records.jsonl")):
    if r["case"] == "c4" and r["status"] == "ok":
        quick[(r["framework"], r["arm"])].append((r["timing"]["train_s"], r["timing"]["eval_s"]))
STEPS, SEEDS, EVALS_FULL, EVALS_QUICK = 7035, 10, 15, 6
tot = {}
for fw in ("tf", "torch"):
    q = {arm: st.mean(t for t, _ in v) for (f, arm), v in quick.items() if f == fw}
    qe = {arm: st.mean(e for _, e in v) for (f, arm), v in quick.items() if f == fw}
    for path in ("per_seed", "vectorized"):
        lo, hi = probe[(fw, "fc")][path]["cpu_s_per_seed_step"], probe[(fw, "conv50")][path]["cpu_s_per_seed_step"]
        slope = (hi - lo) / (q["conv50"] - q["fc"])
        rate = {arm: lo + (q[arm] - q["fc"]) * slope for arm in q}
        # eval: quick's seconds (2 threads) x 15/6 evaluations x 2 (one thread), same on both paths
        train = sum(rate.values()) * STEPS * SEEDS
        ev = sum(qe.values()) * EVALS_FULL / EVALS_QUICK * 2 * SEEDS
        tot[(fw, path)] = (train, ev)
        print(f"{fw:5s} {path:10s} per seed-step (ms, mean of arms) {1000*sum(rate.values())/len(rate):6.1f}  "
              f"train {train/3600:5.2f} CPU-h  eval {ev/3600:4.2f} CPU-h")
for path in ("per_seed", "vectorized"):
    cpu = sum(sum(tot[(fw, path)]) for fw in ("tf", "torch"))
    print(f"{path:10s}: {cpu/3600:5.2f} CPU-hours -> {cpu/2/3600:5.2f} h wall on 2 single-threaded workers; "
          f"mid (5 of 15 epochs, training and evaluations a third): {cpu/3/2/3600:4.2f} h")
for fw in ("tf", "torch"):
    ratio = {a: round(probe[(fw, a)]["vectorized"]["cpu_s_per_seed_step"]
                      / probe[(fw, a)]["per_seed"]["cpu_s_per_seed_step"], 2) for a in ("fc", "conv50")}
    print(fw, "vectorized/per-seed per seed-step:", ratio)
