"""Vectorized seeds against the per-seed path where a short run's records would not show a bug:
an evaluation after training a BatchNorm arm (running statistics), and the independence of the
dropout masks of two layers of one arm (each layer its own seed stream)."""
import numpy as np
import pytest

from bench import backends, data
from bench.run.seeds import batch_order, initial_params, initializer_for
from bench.spec import Job, registry

FRAMEWORKS = ["torch", "tf"]


def _setup(case_id, arm, framework, mode="as_written"):
    pytest.importorskip({"tf": "tensorflow", "torch": "torch"}[framework])
    case = registry.get(case_id)
    budget = case.budget("smoke")
    arrays = data.prepare(data.load(case.data.dataset), budget)
    return Job(case, case.arm(arm), framework, mode, "smoke", budget), backends.load(framework), arrays


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_an_evaluation_after_training_a_batchnorm_arm_matches_the_per_seed_path(framework):
    """Evaluation uses BatchNorm's running statistics, which training moves with the layer's
    momentum; a vectorized path that took Keras's momentum where PyTorch wants 1 - momentum would
    train alike (batch statistics) but evaluate on other running statistics."""
    job, backend, arrays = _setup("c2", "bn", framework)
    x, y, x_test, y_test = arrays
    seeds = [0, 3]
    scheme = initializer_for(framework, "as_written")
    params = [initial_params(job.arm.layers, job.case.input_shape, s, scheme) for s in seeds]
    group = backend.GroupTrainer(job, params, seeds)
    group.set_data(x, y)
    batches = [batch_order(len(x), job.data.batch_size, 1, s)[:3] for s in seeds]
    group.fit_epoch(batches)
    got = group.evaluate(x_test, y_test)
    for i, seed in enumerate(seeds):
        single = backend.Trainer(job, params[i], seed)
        single.set_data(x, y)
        single.fit_epoch(batches[i])
        want = single.evaluate(x_test, y_test)
        assert got[i].keys() == want.keys()
        for key in want:
            assert got[i][key] == pytest.approx(want[key], rel=1e-4), (framework, key)
        # and the running statistics themselves, layer by layer
        stats = [(g, w) for g, w in zip(group.params()[i], single.params()) if "mean" in w]
        assert stats
        for g, w in stats:
            np.testing.assert_allclose(np.asarray(g["mean"]), np.asarray(w["mean"]), rtol=1e-4, atol=1e-6)
            np.testing.assert_allclose(np.asarray(g["var"]), np.asarray(w["var"]), rtol=1e-4, atol=1e-6)


def _independent(masks) -> None:
    """Two dropout masks of one shape: each drops about its rate, and they are neither equal
    nor correlated (8,192 units each: a correlation of 0.1 is 9 standard errors)."""
    a, b = (np.asarray(m) == 0 for m in masks)
    assert 0.4 < a.mean() < 0.6 and 0.4 < b.mean() < 0.6
    assert not np.array_equal(a, b)
    assert abs(np.corrcoef(a.ravel(), b.ravel())[0, 1]) < 0.1


def test_tf_dropout_layers_of_one_arm_draw_independent_masks():
    """Each Dropout layer of an arm has its own seed stream, on the per-seed path and in a group;
    one shared stream would give layers of one shape identical masks."""
    tf = pytest.importorskip("tensorflow")
    import keras
    job, backend, _ = _setup("c1", "dropout", "tf")
    seeds = [0, 3]
    params = [initial_params(job.arm.layers, job.case.input_shape, s, initializer_for("tf", "as_written"))
              for s in seeds]
    x = tf.ones((64, 128))
    for i, seed in enumerate(seeds):
        single = backend.Trainer(job, params[i], seed)
        drops = [layer for layer in single.model.layers if isinstance(layer, keras.layers.Dropout)]
        assert len(drops) >= 2
        _independent([layer(x, training=True) for layer in drops[:2]])
    group = backend.GroupTrainer(job, params, seeds)
    drops = [(k, layer) for k, layer, _ in group._layers if type(layer).__name__ == "Dropout"]
    assert len(drops) >= 2
    for s in range(len(seeds)):
        _independent([tf.nn.experimental.stateless_dropout(x, rate=layer.rate, seed=group.draw_seed(k, s))
                      for k, layer in drops[:2]])
