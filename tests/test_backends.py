"""Generated from the registry: every case x backend trains, is finite and is deterministic on CPU."""
import pytest

from bench import backends, data, registry
from bench.backends import Job
from bench.training import train_seed

CASES = registry.discover()
FRAMEWORKS = list(backends.BACKENDS)


def _job(case, arm, framework):
    budget = case.budget("smoke")
    return Job(case, arm, framework, "as_written", "smoke", budget)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("case_id", sorted(CASES))
def test_same_seed_twice_gives_an_identical_record(case_id, framework):
    pytest.importorskip(backends.FRAMEWORK_PACKAGES[framework])
    case = CASES[case_id]
    arm = next((a for a in case.arms if a.l2 is not None), case.arms[-1])
    job = _job(case, arm, framework)
    arrays = data.prepare(data.load(case.data.dataset), job.data)
    backend = backends.load(framework)
    a, b, c = (train_seed(job, backend, arrays, s) for s in (0, 0, 1))
    assert not a["diverged"]
    assert a["metrics"] == b["metrics"] and a["curve"] == b["curve"]
    assert a["metrics"] != c["metrics"]
