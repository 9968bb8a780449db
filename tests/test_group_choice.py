"""``--group-size auto`` picks the faster path by itself: on a CPU, a case with convolutions
trains per seed (its vectorized groups are grouped convolutions, the slower path there);
with a GPU, and for nets without convolutions, it stays vectorized. An explicit width is
always honoured."""
import pytest

from bench.records import store
from bench.run import grouping, plan, runner
from bench.run.grouping import GroupSize
from bench.run.options import RunOptions
from bench.spec import registry


@pytest.mark.parametrize("case_id, size, gpu, per_seed", [
    ("c4", GroupSize.AUTO, False, True),          # conv on a CPU: per seed
    ("c4_mnist", GroupSize.AUTO, False, True),
    ("c4", GroupSize.AUTO, True, False),          # conv on a GPU: vectorized
    ("c4", GroupSize.fixed(4), False, False),     # asked for groups: groups
    ("c4", GroupSize.PER_SEED, True, True),
    ("c1", GroupSize.AUTO, False, False),         # an MLP: vectorized on a CPU too
])
def test_auto_trains_conv_nets_per_seed_on_a_cpu_only(case_id, size, gpu, per_seed):
    assert grouping.trains_per_seed(registry.get(case_id), size, gpu=gpu) is per_seed


def test_without_an_answer_it_asks_the_backends(monkeypatch):
    monkeypatch.setattr(grouping.backends, "gpu_visible", lambda: False)
    assert grouping.trains_per_seed(registry.get("c4"), GroupSize.AUTO)
    monkeypatch.setattr(grouping.backends, "gpu_visible", lambda: True)
    assert not grouping.trains_per_seed(registry.get("c4"), GroupSize.AUTO)


def test_the_plan_and_the_run_follow_the_choice(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setattr(grouping.backends, "gpu_visible", lambda: False)
    options = RunOptions([registry.get("c4")], "smoke", frameworks=("torch",), arm_names=["fc"], seeds=2,
                         results_dir=tmp_path, progress=False)
    assert [c.group_size for c in plan.make(options, rate_dirs=[]).cases] == [1]
    assert runner.run(options).ok == 2
    assert {r["group"]["path"] for r in store.load(tmp_path, "smoke")} == {"per_seed"}
