"""``Profile.arms``: a profile that runs some of a case's arms (c4_mnist's full profile runs the anchor
arm), honoured by the runner, the planner and ``bench list``, and no part of a record's spec hash."""
import collections
import dataclasses
from pathlib import Path

import pytest

from bench.cli import main
from bench.errors import SpecError
from bench.records import identity, store
from bench.run import plan, runner
from bench.run.options import RunOptions
from bench.spec import Profile, registry

ROOT = Path(__file__).resolve().parents[1]
C4_MNIST = registry.get("c4_mnist")


def test_c4_mnist_full_runs_the_anchor_arm_on_five_seeds():
    prof = C4_MNIST.profile("full")
    assert prof.arms == ("fc",) and prof.seeds == 5
    jobs = runner.jobs_for(C4_MNIST, "full", ["tf", "torch"], ["as_written"])
    assert sorted({j.arm.name for j in jobs}) == ["fc"] and len(jobs) == 2
    made = plan.make(RunOptions([C4_MNIST], "full", ["tf", "torch"], ["as_written"], results_dir="/nonexistent"),
                     rate_dirs=[])
    (c,) = made.cases
    assert (c.arms, c.seeds, c.runs) == (1, 5, 10)
    # an explicit --arm still names any arm of the case
    assert {j.arm.name for j in runner.jobs_for(C4_MNIST, "full", ["tf"], ["as_written"], ["none", "fc"])} == {"none", "fc"}


def test_the_published_anchor_is_exactly_what_the_profile_runs_and_is_current():
    loaded = identity.split(store.load(ROOT / "results", "full"), "full")
    mine = [r for r in loaded.records if r["case"] == "c4_mnist"]
    assert "c4_mnist" not in loaded.stale
    runs = collections.Counter((r["arm"], r["framework"], r["mode"], r["seed"]) for r in mine)
    want = {("fc", fw, "as_written", s) for fw in ("tf", "torch") for s in range(C4_MNIST.profile("full").seeds)}
    assert set(runs) == want and set(runs.values()) == {1}
    assert all(r["status"] == "ok" for r in mine)


def test_the_arm_selection_is_no_part_of_the_spec_hash():
    every = dataclasses.replace(C4_MNIST, profiles={**C4_MNIST.profiles,
                                                    "full": dataclasses.replace(C4_MNIST.profile("full"), arms=None)})
    assert identity.spec_hash(every, "full") == identity.spec_hash(C4_MNIST, "full")
    # what an arm trains still is
    longer = dataclasses.replace(every, profiles={**every.profiles,
                                                  "full": dataclasses.replace(every.profile("full"), epochs=3)})
    assert identity.spec_hash(longer, "full") != identity.spec_hash(C4_MNIST, "full")


@pytest.mark.parametrize("arms", [("fc", "nope"), (), ("fc", "fc")])
def test_a_profile_naming_arms_the_case_lacks_is_one_sentence(arms):
    bad = dataclasses.replace(C4_MNIST, profiles={**C4_MNIST.profiles, "full": Profile(seeds=3, arms=arms)})
    with pytest.raises(SpecError, match=r"profile 'full' of case 'c4_mnist' runs arms .* each must be one of "
                                        r"the case's arms"):
        bad.validate()


def test_a_profile_arms_of_the_wrong_type_is_one_sentence():
    bad = dataclasses.replace(C4_MNIST, profiles={**C4_MNIST.profiles, "full": Profile(seeds=3, arms="fc")})
    with pytest.raises(SpecError, match="field 'arms': must be"):
        bad.validate()


def test_bench_list_names_a_profiles_arms(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    section = out.split("c4_mnist:", 1)[1].split("\nc5a:", 1)[0]
    assert "profile full: 5 seeds of arms fc;" in section
    assert "profile mid: 10 seeds;" in section
