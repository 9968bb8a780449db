"""Generated from the registry: every case x backend trains (its weights move), is finite and is
deterministic on CPU."""
import numpy as np
import pytest

from bench import backends, data
from bench.spec import registry
from bench.spec import Job
from bench.run.seeds import initial_params, initializer_for
from bench.run.training import train_seed

CASES = registry.discover()
FRAMEWORKS = list(backends.BACKENDS)


class _Spy:
    """A backend whose per-seed ``Trainer`` instances are kept, so a test can read the trained weights."""

    def __init__(self, backend):
        self._backend, self.trainers = backend, []
        spy = self

        class Trainer(backend.Trainer):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                spy.trainers.append(self)

        self.Trainer = Trainer

    def __getattr__(self, name):
        return getattr(self._backend, name)


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
    backend = _Spy(backends.load(framework))
    a, b, c = (train_seed(job, backend, arrays, s) for s in (0, 0, 1))
    assert not a["diverged"]
    # It trains: every kernel moved from its initial draw (a backend that never steps fails here).
    start = initial_params(arm.layers, case.input_shape, 0, initializer_for(framework, job.mode))
    trained = backend.trainers[0].params()
    assert len(trained) == len(start)
    for k, (before, after) in enumerate(zip(start, trained)):
        if "kernel" in before:
            assert after["kernel"].shape == before["kernel"].shape
            assert np.abs(after["kernel"] - before["kernel"]).max() > 1e-6, f"layer {k}'s kernel did not move"
    assert a["metrics"] == b["metrics"] and a["curve"] == b["curve"]
    assert a["metrics"] != c["metrics"]
