"""bench.adaptive: the spending plan and the batch loop, with a fake runner (no training)."""
import json
import math

import numpy as np
import pytest
from scipy import stats as st

from bench import adaptive, identity, registry, report, store
from bench.errors import SpecError

C1 = registry.get("c1")


def test_obrien_fleming_spending_by_hand():
    assert adaptive.spent(1.0) == pytest.approx(0.05)
    assert adaptive.spent(0.25) == pytest.approx(2 * st.norm.sf(1.959964 / 0.5), rel=1e-5)
    assert adaptive.spent(0.5, spending="pocock") == pytest.approx(0.05 * math.log(1 + (math.e - 1) / 2))
    with pytest.raises(ValueError):
        adaptive.spent(0.0)


def test_plan_levels_sum_to_alpha():
    plan = adaptive.nominal_levels(20, 5)
    assert [n for n, *_ in plan] == [5, 10, 15, 20]
    assert sum(level for *_, level in plan) == pytest.approx(0.05)
    assert all(level > 0 for *_, level in plan)
    assert [n for n, *_ in adaptive.nominal_levels(7, 3)] == [3, 6, 7]
    with pytest.raises(SpecError):
        adaptive.looks(10, 1)


def fake_runner(effect):
    """Writes seeds 0..n-1 for every C1 arm; 'both' is lower by ``effect`` plus noise."""
    def run(cases, profile, frameworks, modes, arm_names, seeds, results_dir, data_dir, group_size=None,
            progress=True, workers=1):
        done = {store.key(r) for r in store.load(results_dir, profile)} if \
            store.records_path(results_dir, profile).exists() else set()
        with store.RecordWriter(store.records_path(results_dir, profile)) as w:
            for fw in frameworks:
                for i, arm in enumerate(C1.arms):
                    for s in range(seeds):
                        if ("c1", arm.name, fw, "as_written", s) in done:
                            continue
                        rng = np.random.default_rng([s, i, len(fw)])
                        acc = 0.95 + 0.002 * rng.normal() - (effect if arm.name == "both" else 0.0)
                        w.append({"case": "c1", "arm": arm.name, "framework": fw, "mode": "as_written",
                                  "seed": s, "profile": profile, "status": "ok", "diverged": False,
                                  "spec_hash": identity.spec_hash(C1, profile),
                                  "metrics": {"test_accuracy": acc, "test_loss": 0.1, "train_loss": 0.1}})
    return run


def test_large_effect_stops_early(tmp_path, monkeypatch):
    monkeypatch.setattr(adaptive.runner, "run", fake_runner(0.05))
    out = adaptive.run([C1], "smoke", max_seeds=30, batch=10, frameworks=("torch",),
                       results_dir=tmp_path, progress=False)
    # c1a-c1c are decided; c1d (interaction = -effect) too, all reproduced
    assert not out.undecided and out.stopped_early
    assert {v for v, _ in out.decided.values()} == {"reproduced"}
    log = json.loads((tmp_path / "smoke" / "adaptive.json").read_text())
    assert log["looks"][0]["seeds"] == 10 and "not sequentially valid" in log["procedure"]
    assert "## Adaptive seeds" in "\n".join(report.adaptive_section(tmp_path / "smoke"))


def test_no_effect_runs_the_whole_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(adaptive.runner, "run", fake_runner(0.0))
    out = adaptive.run([C1], "smoke", max_seeds=12, batch=4, frameworks=("torch",),
                       results_dir=tmp_path, progress=False)
    assert [look["seeds"] for look in out.looks] == [4, 8, 12]
    assert not out.stopped_early and len(out.undecided) + len(out.decided) == 4
