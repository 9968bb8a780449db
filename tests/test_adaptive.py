"""bench.run.adaptive: the spending plan and the batch loop, with a fake runner (no training)."""
import json
import math

import numpy as np
import pytest
from scipy import stats as st

from bench.run.options import AdaptiveOptions, RunOptions
from bench.run import adaptive
from bench.records import identity, store
from bench.spec import registry
from bench.analysis import evaluate as analysis
from bench.publish import report
from bench.errors import SpecError

C1 = registry.get("c1")


def test_obrien_fleming_spending_by_hand():
    assert adaptive.spent(1.0) == pytest.approx(0.05)
    # spent per side at alpha / 2: 4 (1 - Phi(z_{1 - 0.0125} / sqrt(t)))
    assert adaptive.spent(0.25) == pytest.approx(4 * st.norm.sf(2.241403 / 0.5), rel=1e-5)
    assert adaptive.spent(0.5, spending="pocock") == pytest.approx(0.05 * math.log(1 + (math.e - 1) / 2))
    with pytest.raises(ValueError):
        adaptive.spent(0.0)


def test_boundaries_match_published_lan_demets_values():
    # Lan-DeMets O'Brien-Fleming, 5 equally spaced looks, two-sided 0.05 (ldbounds / gsDesign).
    published = [4.8769, 3.3569, 2.6803, 2.2898, 2.0310]
    assert adaptive.boundaries([0.2, 0.4, 0.6, 0.8, 1.0]) == pytest.approx(published, abs=2e-4)
    # One look is the fixed-n test; unequal looks stay monotone and end near 1.96.
    assert adaptive.boundaries([1.0]) == pytest.approx([1.959964], abs=1e-6)
    uneven = adaptive.boundaries([5 / 7, 1.0])
    assert uneven[0] > uneven[1] > 1.96
    with pytest.raises(ValueError):
        adaptive.boundaries([0.5, 0.4, 1.0])


def test_boundaries_spend_alpha_by_simulation():
    rng = np.random.default_rng(3)
    t = np.array([0.25, 0.5, 0.75, 1.0])
    c = np.array(adaptive.boundaries(t))
    steps = rng.normal(size=(200_000, 4)) * np.sqrt(np.diff(t, prepend=0.0))
    z = np.cumsum(steps, axis=1) / np.sqrt(t)
    crossed = (np.abs(z) >= c).any(axis=1).mean()
    assert crossed == pytest.approx(0.05, abs=4 * math.sqrt(0.05 * 0.95 / 200_000))


def test_plan_levels_exceed_the_union_bound_increments():
    plan = adaptive.nominal_levels(20, 5)
    assert [n for n, *_ in plan] == [5, 10, 15, 20]
    increments = np.diff([0.0, *[cum for _, _, cum, _ in plan]])
    levels = [level for *_, level in plan]
    # Using the correlation between looks, every look after the first gets more than its increment.
    assert levels[0] == pytest.approx(increments[0], rel=1e-6)
    assert all(lev > inc for lev, inc in zip(levels[1:], increments[1:]))
    assert 0.035 < levels[-1] < 0.05 and plan[-1][2] == pytest.approx(0.05)
    assert [n for n, *_ in adaptive.nominal_levels(7, 3)] == [3, 6, 7]
    with pytest.raises(SpecError):
        adaptive.looks(10, 1)


def test_step_down_passes_alpha_on_within_a_family():
    levels = adaptive.look_levels(20, 5)
    half = adaptive.look_levels(20, 5, alpha=0.025)
    # Two claims at the last look: the smaller p is tested at alpha / 2, then the other at alpha.
    p = [half[-1] * 0.9, levels[-1] * 0.9]
    assert [i for i, _ in adaptive.step_down(p, [False, False], 3, 20, 5)] == [0, 1]
    assert adaptive.step_down([half[-1] * 1.1, 0.5], [False, False], 3, 20, 5) == []
    # A claim rejected at an earlier look frees its share.
    assert [i for i, _ in adaptive.step_down([0.9, levels[-1] * 0.9], [True, False], 3, 20, 5)] == [1]


def fake_runner(effect):
    """Writes seeds 0..n-1 for every C1 arm; 'both' is lower by ``effect`` plus noise."""
    def run(options):
        profile, results_dir, seeds, frameworks = options.profile, options.results_dir, options.seeds, options.frameworks
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
    out = adaptive.run(RunOptions([C1], "smoke", frameworks=("torch",), results_dir=tmp_path, progress=False,
                                  adaptive=AdaptiveOptions(max_seeds=30, batch=10)))
    # c1a-c1c are decided; c1d (interaction = -effect) too, all reproduced
    assert not out.undecided and out.stopped_early
    assert {v for v, _ in out.decided.values()} == {"reproduced"}
    log = json.loads((tmp_path / "smoke" / "adaptive.json").read_text())
    assert log["looks"][0]["seeds"] == 10 and "not valid under optional stopping" in log["procedure"]
    assert "## Adaptive seeds" in "\n".join(report.adaptive_section(tmp_path / "smoke"))
    # The report's verdicts are the sequential ones, with the fixed-n reading kept in the reason.
    records = store.load(tmp_path, "smoke")
    shown = report.adaptive_verdicts(analysis.evaluate(records, [C1]), tmp_path / "smoke")
    assert all(res.reason.startswith("adaptive: decided at") for *_, res in shown)
    assert {res.verdict for *_, res in shown} == {"reproduced"}


def test_no_effect_runs_the_whole_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(adaptive.runner, "run", fake_runner(0.0))
    out = adaptive.run(RunOptions([C1], "smoke", frameworks=("torch",), results_dir=tmp_path, progress=False,
                                  adaptive=AdaptiveOptions(max_seeds=12, batch=4)))
    assert [look["seeds"] for look in out.looks] == [4, 8, 12]
    # no effect and a fixed noise draw: nothing may be decided, and every claim is left undecided
    assert not out.stopped_early and not out.decided and len(out.undecided) == 4
    records = store.load(tmp_path, "smoke")
    shown = report.adaptive_verdicts(analysis.evaluate(records, [C1]), tmp_path / "smoke")
    undecided = [res for case, fw, mode, res in shown if f"c1/{res.claim_id}/{fw}/{mode}" in out.undecided]
    assert all(r.verdict == "inconclusive" and "not valid under optional stopping" in r.reason for r in undecided)
