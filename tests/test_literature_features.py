"""The spec features a paper's recipe needs: max-norm, exponential/cosine/per-step learning rates,
a momentum schedule, case-wide schedules, per-profile widths, a three-way split with selection on
validation rows, ``test_error``, numeric ``reported`` figures and claim pairs.

TF <-> PyTorch parity as ``tests/test_parity.py`` does it (the same glorot weights and batch,
PyTorch in ``matched`` mode); the vectorized trainers against the per-seed path as
``tests/test_group.py`` does it.
"""
import dataclasses
import math

import numpy as np
import pytest

from bench import backends, data
from bench.errors import SpecError
from bench.records import identity
from bench.run.seeds import batch_order, initial_params, initializer_for
from bench.run.training import train_group
from bench.spec import (L2, Arm, Case, Claim, Data, Dense, Dropout, Job, Loss, Metric, Optimizer, Profile, Schedule,
                        registry)
from bench.spec.layers import max_norm_numpy

FRAMEWORKS = ["torch", "tf"]


# --- schedules: the values ------------------------------------------------------------------

def test_exponential_and_cosine_values():
    assert Schedule("exponential", 1.0, 0.01).values(3) == pytest.approx([1.0, 0.1, 0.01])
    assert Schedule("exponential", 1.0, 0.25, at=0.5).values(5) == pytest.approx([1.0, 0.5, 0.25, 0.25, 0.25])
    assert Schedule("cosine", 1.0, 0.0).values(3) == pytest.approx([1.0, 0.5, 0.0])
    assert Schedule("cosine", 0.0, 1.0).values(5) == pytest.approx([0.0, (1 - math.cos(math.pi / 4)) / 2, 0.5,
                                                                     (1 - math.cos(3 * math.pi / 4)) / 2, 1.0])


@pytest.mark.parametrize("arm, match", [
    (Arm("a", (Dense(4), Dense(2)), lr_schedule=Schedule("exponential", 0.1, 0.0)), "must be > 0"),
    (Arm("a", (Dense(4), Dropout(0.5), Dense(2)), dropout_schedule=Schedule("linear", 0.5, 0.0, per="step")),
     "dropout schedule runs per epoch"),
    (Arm("a", (Dense(4), Dense(2)), momentum_schedule=Schedule("linear", 0.5, 0.9, per="step")),
     "momentum schedule runs per epoch"),
    (Arm("a", (Dense(4), Dense(2)), momentum_schedule=Schedule("linear", 0.5, 1.0)), r"\[0.0, 1.0\)"),
    (Arm("a", (Dense(4), Dense(2)), lr_schedule=Schedule("linear", 0.1, 0.01, per="batch")), "per 'epoch' or"),
])
def test_bad_schedules_are_one_sentence(arm, match):
    with pytest.raises(SpecError, match=match):
        arm.validate()


def _case(**changes) -> Case:
    """A small MNIST case to vary: Dense 32 relu, Dense 10, SGD."""
    base = Case(id="lit", title="t", source="s", input_shape=(784,), data=Data("mnist", 32, 2, scale=1 / 255),
                loss=Loss("softmax_cross_entropy"), optimizer=Optimizer("sgd", lr=0.05),
                arms=(Arm("a", (Dense(32, "relu"), Dense(10))),), metrics=(Metric("test_accuracy", True),),
                claims=(), profiles={"smoke": Profile(seeds=1, train_subsample=256, test_subsample=128)})
    return dataclasses.replace(base, **changes)


def test_a_case_declares_schedules_once_and_an_arm_overrides_them():
    case = _case(optimizer=Optimizer("sgd", lr=0.1, lr_schedule=Schedule("linear", 0.1, 0.01),
                                     momentum_schedule=Schedule("linear", 0.5, 0.9)),
                 arms=(Arm("a", (Dense(8), Dense(10))),
                       Arm("b", (Dense(8), Dense(10)), lr_schedule=Schedule("constant", 0.3))))
    case.validate()
    assert case.arm("a").schedule_at(1, 2, case.optimizer) == {"lr": 0.01, "momentum": 0.9}
    assert case.arm("b").schedule_at(1, 2, case.optimizer) == {"lr": 0.3, "momentum": 0.9}
    per_step = Arm("c", (Dense(8), Dense(10)), lr_schedule=Schedule("linear", 0.4, 0.0, per="step"))
    assert per_step.schedule_at(1, 2, case.optimizer, steps_per_epoch=2) == {
        "lr": pytest.approx(0.4 / 3), "lr_steps": pytest.approx([0.4 / 3, 0.0]), "momentum": 0.9}
    with pytest.raises(SpecError, match="momentum schedule drives SGD's momentum; this case's optimizer is 'adam'"):
        _case(optimizer=Optimizer("adam", momentum_schedule=Schedule("constant", 0.9))).validate()
    with pytest.raises(SpecError, match="momentum schedule drives SGD's momentum"):
        _case(optimizer=Optimizer("adam"),
              arms=(Arm("a", (Dense(8), Dense(10)), momentum_schedule=Schedule("constant", 0.9)),)).validate()


# --- the trainers ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def arrays():
    return data.prepare(data.load("mnist"), _case().budget("smoke"))


def _trainer(case, arm, framework, seeds=(0,), vectorized=False, mode=None):
    pytest.importorskip({"tf": "tensorflow", "torch": "torch"}[framework])
    mode = mode or ("matched" if framework == "torch" else "as_written")
    job = Job(case, case.arm(arm) if isinstance(arm, str) else arm, framework, mode, "smoke", case.budget("smoke"))
    scheme = "glorot_uniform"   # the same weights in both frameworks
    params = [initial_params(job.arm.layers, case.input_shape, s, scheme) for s in seeds]
    backend = backends.load(framework)
    return backend.GroupTrainer(job, params, list(seeds)) if vectorized else backend.Trainer(job, params[0], seeds[0])


def _fit(trainer, arrays, batches, vectorized, **schedule):
    trainer.set_data(arrays[0], arrays[1])
    if schedule:
        trainer.set_schedule(**schedule)
    trainer.fit_epoch(batches if vectorized else batches[0])
    out = trainer.params()
    return out[0] if vectorized else out


MAXNORM = _case(arms=(Arm("free", (Dense(32, "relu"), Dense(10))),
                      Arm("capped", (Dense(32, "relu", max_norm=0.3), Dense(10, max_norm=0.3)))))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_max_norm_scales_each_units_incoming_weights_after_the_update(framework, arrays):
    """One SGD step: the capped net's kernels are the free net's step with Keras's MaxNorm formula
    applied per column of the neutral (in, out) kernel (each unit's incoming weights), biases untouched."""
    batches = [batch_order(len(arrays[0]), 32, 1, 0)[:1]]
    free = _fit(_trainer(MAXNORM, "free", framework), arrays, batches, False)
    capped = _fit(_trainer(MAXNORM, "capped", framework), arrays, batches, False)
    for f, c in zip(free, capped):
        want = max_norm_numpy(f["kernel"], 0.3)
        np.testing.assert_allclose(c["kernel"], want, rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(c["bias"], f["bias"])
        assert np.sqrt((c["kernel"] ** 2).sum(axis=0)).max() <= 0.3 * (1 + 1e-5)
        assert not np.allclose(c["kernel"], f["kernel"], atol=1e-4)   # the cap bit: the step alone exceeds it


def test_max_norm_parity_across_frameworks(arrays):
    batches = [batch_order(len(arrays[0]), 32, 1, 0)[:3]]
    tf_p = _fit(_trainer(MAXNORM, "capped", "tf"), arrays, batches, False)
    pt_p = _fit(_trainer(MAXNORM, "capped", "torch"), arrays, batches, False)
    for a, b in zip(tf_p, pt_p):
        for name in a:
            np.testing.assert_allclose(a[name], b[name], rtol=0, atol=2e-6, err_msg=name)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_group_max_norm_follows_the_per_seed_path(framework, arrays):
    seeds = [0, 3]
    batches = [batch_order(len(arrays[0]), 32, 1, s)[:3] for s in seeds]
    group = _fit(_trainer(MAXNORM, "capped", framework, seeds, True, "as_written"), arrays, batches, True)
    single = _fit(_trainer(MAXNORM, "capped", framework, seeds[:1], False, "as_written"), arrays, batches[:1], False)
    for g, s in zip(group, single):
        for name in s:
            np.testing.assert_allclose(g[name], s[name], rtol=1e-5, atol=1e-6, err_msg=name)


MOMENTUM = _case(optimizer=Optimizer("sgd", lr=0.05, momentum_schedule=Schedule("linear", 0.5, 0.9)))
FIXED = _case(optimizer=Optimizer("sgd", lr=0.05, momentum=0.9))


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("vectorized", [False, True])
def test_a_scheduled_momentum_is_the_declared_momentum_to_the_bit(framework, vectorized, arrays):
    seeds = (0, 1) if vectorized else (0,)
    batches = [batch_order(len(arrays[0]), 32, 1, s)[:3] for s in seeds]
    mode = "as_written"
    declared = _fit(_trainer(FIXED, "a", framework, seeds, vectorized, mode), arrays, batches, vectorized)
    scheduled = _fit(_trainer(MOMENTUM, "a", framework, seeds, vectorized, mode), arrays, batches, vectorized,
                     momentum=0.9)
    other = _fit(_trainer(MOMENTUM, "a", framework, seeds, vectorized, mode), arrays, batches, vectorized,
                 momentum=0.5)
    for d, s, o in zip(declared, scheduled, other):
        for name in d:
            np.testing.assert_array_equal(s[name], d[name], err_msg=name)
            assert not np.array_equal(o[name], d[name]), name


def test_a_momentum_ramp_agrees_across_frameworks(arrays):
    """Two epochs of three steps, momentum 0.5 then 0.9 at a constant lr (where both SGDs agree)."""
    out = {}
    for framework in FRAMEWORKS:
        trainer = _trainer(MOMENTUM, "a", framework)
        trainer.set_data(arrays[0], arrays[1])
        for epoch, m in enumerate((0.5, 0.9)):
            trainer.set_schedule(momentum=m)
            trainer.fit_epoch(batch_order(len(arrays[0]), 32, 2, 0)[3 * epoch:3 * epoch + 3])
        out[framework] = trainer.params()
    for a, b in zip(out["tf"], out["torch"]):
        for name in a:
            np.testing.assert_allclose(a[name], b[name], rtol=0, atol=2e-6, err_msg=name)


PER_STEP = _case(optimizer=Optimizer("sgd", lr=0.05, lr_schedule=Schedule("linear", 0.2, 0.01, per="step")))


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("vectorized", [False, True])
def test_a_per_step_lr_sets_each_steps_rate(framework, vectorized, arrays):
    """Three steps at rates (r, r, r) equal the declared lr r to the bit; (0.2, 0.1, 0.01) equals three
    one-step epochs at those rates."""
    seeds = (0, 1) if vectorized else (0,)
    batches = [batch_order(len(arrays[0]), 32, 1, s)[:3] for s in seeds]
    mode = "as_written"
    declared = _fit(_trainer(_case(optimizer=Optimizer("sgd", lr=0.1)), "a", framework, seeds, vectorized, mode),
                    arrays, batches, vectorized)
    flat = _fit(_trainer(PER_STEP, "a", framework, seeds, vectorized, mode), arrays, batches, vectorized,
                lr=0.1, lr_steps=[0.1, 0.1, 0.1])
    rates = [0.2, 0.1, 0.01]
    stepped = _fit(_trainer(PER_STEP, "a", framework, seeds, vectorized, mode), arrays, batches, vectorized,
                   lr=0.2, lr_steps=rates)
    one_by_one = _trainer(_case(), "a", framework, seeds, vectorized, mode)
    one_by_one.set_data(arrays[0], arrays[1])
    for i, rate in enumerate(rates):
        one_by_one.set_schedule(lr=rate)
        step = [b[i:i + 1] for b in batches]
        one_by_one.fit_epoch(step if vectorized else step[0])
    want = one_by_one.params()[0] if vectorized else one_by_one.params()
    for d, f, s, w in zip(declared, flat, stepped, want):
        for name in d:
            np.testing.assert_array_equal(f[name], d[name], err_msg=name)
            np.testing.assert_allclose(s[name], w[name], rtol=1e-6, atol=1e-7, err_msg=name)
            assert not np.allclose(s[name], d[name], atol=1e-5), name


def test_per_step_lr_records_agree_across_frameworks_and_paths(arrays):
    case = dataclasses.replace(PER_STEP, profiles={"smoke": Profile(seeds=1, train_subsample=256,
                                                                    test_subsample=128)})
    budget = case.budget("smoke")
    runs = {}
    for framework in FRAMEWORKS:
        pytest.importorskip({"tf": "tensorflow", "torch": "torch"}[framework])
        job = Job(case, case.arm("a"), framework, "matched" if framework == "torch" else "as_written", "smoke",
                  budget)
        runs[framework] = train_group(job, backends.load(framework), arrays, [0], vectorized=False)[0]
        group = train_group(job, backends.load(framework), arrays, [0, 1])[0]
        np.testing.assert_allclose(group["curve"]["train_loss"], runs[framework]["curve"]["train_loss"], rtol=1e-4)
    assert runs["tf"]["curve"]["lr"] == runs["torch"]["curve"]["lr"] == [0.2, pytest.approx(0.2 - 0.19 * 8 / 15)]
    np.testing.assert_allclose(runs["tf"]["curve"]["train_loss"], runs["torch"]["curve"]["train_loss"], rtol=1e-4)


# --- per-profile widths ----------------------------------------------------------------------

def test_a_profile_width_scales_hidden_dense_units_but_not_the_output():
    case = _case(arms=(Arm("a", (Dense(1024, "relu"), Dropout(0.5), Dense(2048, "relu"), Dense(10))),),
                 profiles={"smoke": Profile(seeds=1, width=0.25), "quick": Profile(seeds=1)})
    case.validate()
    assert [getattr(x, "units", None) for x in case.arm_at("a", "smoke").layers] == [256, None, 512, 10]
    assert case.arm_at("a", "quick") is case.arm("a")
    from bench.run import runner
    assert [x.units for x in runner.jobs_for(case, "smoke", ["tf"], ["as_written"])[0].arm.layers
            if isinstance(x, Dense)] == [256, 512, 10]
    assert "width" not in identity.canonical(case.profile("quick"))
    assert identity.spec_hash(case, "smoke") != identity.spec_hash(
        dataclasses.replace(case, profiles={"smoke": Profile(seeds=1)}), "smoke")
    with pytest.raises(SpecError, match="width scales Dense units, a number > 0; got 0"):
        _case(profiles={"smoke": Profile(seeds=1, width=0.0)}).validate()


# --- the three-way split, selection and test_error ---------------------------------------------

SELECT = _case(data=Data("mnist", 32, 4, scale=1 / 255, validation_split=0.25, select="val_loss"),
               metrics=(Metric("test_error", False), Metric("val_error", False), Metric("test_accuracy", True)))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_select_judges_test_rows_at_the_best_validation_epoch(framework, arrays):
    pytest.importorskip({"tf": "tensorflow", "torch": "torch"}[framework])
    budget = SELECT.budget("smoke")
    job = Job(SELECT, SELECT.arm("a"), framework, "as_written", "smoke", budget)
    outs = train_group(job, backends.load(framework), arrays, [0, 1])
    for out in outs:
        curve, metrics = out["curve"], out["metrics"]
        best = int(np.argmin(curve["val_loss"]))
        assert out["selected_epoch"] == best
        assert metrics["test_accuracy"] == curve["test_accuracy"][best]
        assert metrics["test_error"] == pytest.approx(1 - metrics["test_accuracy"])
        assert metrics["val_error"] == pytest.approx(1 - curve["val_accuracy"][best])
        assert out["steps"] == 4 * math.ceil(192 / 32)   # 256 rows, the last quarter held out for validation


def test_select_needs_validation_rows_and_a_validation_metric():
    with pytest.raises(SpecError, match="needs validation rows: set validation_split > 0"):
        _case(data=Data("mnist", 32, 2, select="val_loss")).validate()
    with pytest.raises(SpecError, match="select picks an epoch by a validation metric"):
        _case(data=Data("mnist", 32, 2, validation_split=0.2, select="test_loss")).validate()


def test_regression_val_metrics_use_validation_rows_where_there_are_some():
    from bench.run.training import _Run
    run = _Run()
    run.curve.update({"step": [1, 2], "train_loss": [1.0, 0.5], "test_mae": [9.0, 8.0], "val_mae": [3.0, 4.0]})
    run.final, run.final_val = {"mae": 8.0, "loss": 8.0}, {"mae": 4.0, "loss": 4.0}
    job = Job(registry.get("c2"), registry.get("c2").arms[0], "tf", "as_written", "smoke", registry.get("c2").data)
    out = run.outcome(job, None, np.zeros(4), np.ones(4))["metrics"]
    assert (out["min_val_mae"], out["final_val_mae"], out["test_mae"]) == (3.0, 4.0, 8.0)


# --- claims: reported figures, messages, pairs --------------------------------------------------

def test_reported_must_be_a_plain_number_in_metric_units():
    claim = Claim("x1", "a beats b", "test_accuracy", (("a", 1.0), ("b", -1.0)), "greater",
                  reported=(("a", "1.62 %"),))
    case = _case(arms=(Arm("a", (Dense(8), Dense(10))), Arm("b", (Dense(8), Dense(10)))), claims=(claim,))
    with pytest.raises(SpecError, match=r"claim 'x1': reported value '1.62 %' must be a plain number in the units "
                                        r"of metric 'test_accuracy'"):
        case.validate()
    dataclasses.replace(case, claims=(dataclasses.replace(claim, reported=(("a", 0.9838),)),)).validate()


def test_a_claim_on_an_undeclared_metric_names_the_claim_the_case_and_its_metrics():
    claim = Claim("s9a", "t", "test_error", (("a", 1.0), ("b", -1.0)), "less")
    case = _case(id="s9", arms=(Arm("a", (Dense(8), Dense(10))), Arm("b", (Dense(8), Dense(10)))), claims=(claim,))
    with pytest.raises(SpecError, match="claim 's9a' tests metric 'test_error', which case 's9' does not declare; "
                                        "its metrics are test_accuracy"):
        case.validate()


def test_every_pair_names_a_claim_of_another_case_and_stays_out_of_the_hashes():
    cases = registry.discover()
    ids = {c.id: case.id for case in cases.values() for c in case.claims}
    pairs = [(case.id, c, other) for case in cases.values() for c in case.claims for other in c.pairs_with]
    assert pairs, "no claim declares a pair"
    for case_id, claim, other in pairs:
        assert other in ids and ids[other] != case_id, (claim.id, other)
    case = cases["l1_srivastava2014_mnist"]
    bare = dataclasses.replace(case, claims=tuple(dataclasses.replace(c, pairs_with=(), reported=(),
                                                                      reported_note="") for c in case.claims))
    assert identity.claims_hash(bare) == identity.claims_hash(case)


def test_every_published_record_is_still_current():
    """The new fields default so that no spec hash changed: no record in results/ is stale, and the
    smoke baseline's spec hashes are today's."""
    import json
    from pathlib import Path
    from bench.records import profiles
    root = Path(__file__).resolve().parents[1] / "results"
    for profile in profiles.present(root):
        loaded = identity.load(root, profile)
        assert loaded.records and not loaded.stale, (profile, loaded.note())
    baseline = json.loads((root / "baselines" / "smoke.json").read_text())
    hashes = identity.current_hashes("smoke")
    for case_id, entry in baseline["cases"].items():
        assert entry["spec_hash"] == hashes[case_id], case_id
        assert entry["claims_hash"] == identity.claims_hash(registry.get(case_id)), case_id


def test_the_pairs_table_shows_both_verdicts_and_budgets(tmp_path):
    from bench.publish import pairs
    (tmp_path / "quick").mkdir()
    (tmp_path / "quick" / "claims.csv").write_text(
        "case,claim,framework,mode,verdict\n"
        "l1_srivastava2014_mnist,l1a,tf,as_written,reproduced\n"
        "l1_srivastava2014_mnist,l1a,torch,as_written,inconclusive\n"
        "c1,c1b,tf,as_written,contradicted\n", encoding="utf-8")
    found = [r for r in pairs.rows(tmp_path) if r["claim"] == "l1a"]
    assert len(found) == 1 and found[0]["profile"] == "quick" and found[0]["paired claim"] == "c1b"
    assert found[0]["verdicts"] == "tf: ✅ reproduced; torch: ❔ inconclusive"
    assert found[0]["paired verdicts"] == "tf: ❌ contradicted"
    assert found[0]["budget"] == registry.get("l1_srivastava2014_mnist").profile("quick").notes
    assert [r["claim"] for r in pairs.rows(tmp_path)] == ["l1a"]   # pairs with no verdict on either side left out
