"""Every claim's arms and direction say what its statement says.

A claim is a contrast of arms plus a direction; its statement is prose. Nothing else ties the
two, so a swapped arm or a flipped direction in a suite file yields a claim that tests the
opposite of what it says, and every run would report the wrong verdict. ``READINGS`` below is
each statement read by a person, written independently of the suite's contrast: which arm's
metric the statement says is higher or lower (or, for a binary outcome, which arm has the
outcome more often). For every claim in the registry the test plants that effect in synthetic
records, runs them through the report's own analysis (``bench.analysis.evaluate``, the path
``REPORT.md`` and the regression gate use) and asserts "reproduced"; the opposite effect must
give "contradicted". A suite edit that swaps arms or flips a direction fails here.

When a claim is added or its statement is reworded, the test asks for its reading: read the
statement against its arms and write down what it claims.
"""
import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from bench.spec import registry
from bench.analysis import evaluate as analysis
from bench.records import store

HIGHER, LOWER, SAME = +1, -1, 0
MORE_OFTEN = +1  # binary: the arm has the 0/1 outcome (diverged, fit failed) more often

# claim id -> (statement, {arm: the statement's side of that arm}); every arm of the claim is listed.
# For a two-arm claim one arm is HIGHER or LOWER and the other SAME; for an interaction the arm
# that carries the interaction effect ("both") is listed with the sign the statement gives it.
READINGS = {
    "c1a": ("Dropout + L2 is worse than dropout alone.",
            {"both": LOWER, "dropout": SAME}),
    "c1b": ("Dropout + L2 is worse than L2 alone.",
            {"both": LOWER, "l2": SAME}),
    "c1c": ("Dropout + L2 is worse than no regularization at all.",
            {"both": LOWER, "none": SAME}),
    "c1d": ("Dropout x L2 interaction is negative: on MNIST, adding one regularizer to the other only hurts.",
            {"both": LOWER, "dropout": SAME, "l2": SAME, "none": SAME}),
    "c2a": ("Without BN training usually fails: plain's loss goes NaN/inf more often than bn's.",
            {"plain": MORE_OFTEN, "bn": SAME}),
    "c2b": ("With BN the model trains to a low, finite validation MAE: bn fails to fit (diverges, or does "
            "no better than the median) less often than plain.",
            {"plain": MORE_OFTEN, "bn": SAME}),
    "c3a": ("With dropout and BN the wide model trains on raw data without diverging (less often than "
            "without BN).",
            {"no_bn": MORE_OFTEN, "post": SAME}),
    "c3b": ("Dropout controls overfitting: without it the validation-training gap is larger.",
            {"no_dropout": HIGHER, "post": SAME}),
    "c3c": ("Standardizing the data first gives a better validation MAE.",
            {"standardized": LOWER, "post": SAME}),
    "c4a1": ("Dropout after the FC layers beats dropout 0.5 after the conv layers.",
             {"fc": HIGHER, "conv50": SAME}),
    "c4a2": ("Dropout after the FC layers beats dropout 0.25 after the conv layers.",
             {"fc": HIGHER, "conv25": SAME}),
    "c4a3": ("SpatialDropout2D does at least as well as elementwise conv dropout (same rate).",
             {"spatial": HIGHER, "conv25": SAME}),
    "c4a4": ("DropBlock does at least as well as elementwise conv dropout.",
             {"dropblock": HIGHER, "conv25": SAME}),
    "c4a5": ("Adding dropout on the conv maps to FC dropout hurts (it 'destroys spatial structure').",
             {"conv_fc": LOWER, "fc": SAME}),
    "c4b1": ("Dropout before the conv stack beats dropout in the middle of it.",
             {"input": HIGHER, "middle": SAME}),
    "c4b2": ("Dropout after the conv stack beats dropout in the middle of it.",
             {"end": HIGHER, "middle": SAME}),
    "c5a": ("Validation accuracy against the dropout rate is an inverted U: some interior rate beats both "
            "no dropout and the highest rate.",
            {"rate00": SAME, "rate20": HIGHER, "rate40": HIGHER, "rate60": HIGHER, "rate90": SAME}),
    "c5b1": ("A dropout rate falling from 0.5 to 0 during training beats a constant 0.5.",
             {"decreasing": HIGHER, "constant": SAME}),
    "c5b2": ("A dropout rate falling from 0.5 to 0 beats one rising from 0 to 0.5 (curriculum).",
             {"decreasing": HIGHER, "increasing": SAME}),
    "c5c1": ("With sigmoid, dropout raises the first layer's gradient norm.",
             {"sigmoid_dropout": HIGHER, "sigmoid": SAME}),
    "c5c2": ("With sigmoid, dropout raises the first layer's gradient relative to the last's.",
             {"sigmoid_dropout": HIGHER, "sigmoid": SAME}),
    "c5c3": ("With tanh, dropout raises the first layer's gradient norm.",
             {"tanh_dropout": HIGHER, "tanh": SAME}),
    "c5c4": ("With tanh, dropout raises the first layer's gradient relative to the last's.",
             {"tanh_dropout": HIGHER, "tanh": SAME}),
    "c5d1": ("Dropout 0.2 before BN is harmless: it does at least as well as no dropout.",
             {"drop_bn20": HIGHER, "none": SAME}),
    "c5d2": ("Dropout 0.2 after BN beats dropout 0.2 before BN (variance shift).",
             {"bn_drop20": HIGHER, "drop_bn20": SAME}),
    "c5d3": ("Dropout 0.5 after BN beats dropout 0.5 before BN (variance shift).",
             {"bn_drop50": HIGHER, "drop_bn50": SAME}),
    "c5e1": ("Gaussian dropout is interchangeable with Bernoulli dropout of the same variance.",
             {"gaussian": SAME, "bernoulli": SAME}),
    "c5e2": ("Uniform dropout is interchangeable with Bernoulli dropout of the same variance.",
             {"uniform": SAME, "bernoulli": SAME}),
    "c5f1": ("L1 gives sparser weights than no regularization.", {"l1": HIGHER, "none": SAME}),
    "c5f2": ("L1 gives sparser weights than L2.", {"l1": HIGHER, "l2": SAME}),
    "c5f3": ("L2 does not give sparse weights: its sparsity equals no regularization's.",
             {"l2": SAME, "none": SAME}),
    "c5g1": ("Scaling by the keep probability at test (non-inverted dropout) matches inverted dropout.",
             {"weight_scaling": SAME, "inverted": SAME}),
    "c5g2": ("The deterministic weight-scaled net approximates the MC average over sampled masks (the same "
             "trained nets).", {"mc": SAME, "inverted": SAME}),
    "c5g3": ("Weight-scaling inference matches MC averaging over sampled masks.",
             {"weight_scaling": SAME, "mc": SAME}),
    "c5h": ("Adding dropout layers makes training run slightly faster.", {"dropout": HIGHER, "none": SAME}),
    "c5i1": ("Dropout on the LSTM's outputs reduces overfitting: lower test loss than no dropout.",
             {"output": LOWER, "none": SAME}),
    "c5i2": ("Recurrent dropout reduces overfitting: lower test loss than no dropout.",
             {"recurrent": LOWER, "none": SAME}),
    "c5i3": ("LSTM(50, dropout=0.2, recurrent_dropout=0.2) reduces overfitting: lower test loss than "
             "no dropout.", {"both": LOWER, "none": SAME}),
    "c5j1": ("Early stopping with dropout and weight decay beats early stopping alone.",
             {"all": HIGHER, "es": SAME}),
    "c5j2": ("Early stopping with dropout and weight decay beats dropout and weight decay alone.",
             {"all": HIGHER, "reg": SAME}),
    "l1a": ("Dropout + L2 gives a lower test error than L2 alone.", {"dropout_l2": LOWER, "l2": SAME}),
    "l1b": ("Dropout + max-norm gives a lower test error than dropout + L2.",
            {"dropout_maxnorm": LOWER, "dropout_l2": SAME}),
    "l2a": ("Gaussian dropout of the same variance is no worse than Bernoulli dropout.",
            {"gaussian": LOWER, "bernoulli": SAME}),
    "l3a": ("Test accuracy against the hidden dropout rate is an inverted U: some interior rate beats both no "
            "dropout and rate 0.9.", {"rate00": SAME, "rate20": HIGHER, "rate50": HIGHER, "rate90": SAME}),
}

SEEDS = range(12)
VARIANTS = (("tf", "as_written"), ("torch", "as_written"), ("torch", "matched"))
CLAIMS = [(case, claim) for _, case in sorted(registry.discover().items()) for claim in case.claims]
IDS = [f"{case.id}-{claim.id}" for case, claim in CLAIMS]


def _reading(claim):
    if claim.id not in READINGS:
        pytest.fail(f"claim {claim.id} has no reading in tests/test_claim_statements.py: read its statement "
                    f"against its arms {claim.contrast} and direction {claim.direction!r}, then add what the "
                    f"statement claims to READINGS.")
    statement, sides = READINGS[claim.id]
    assert claim.statement == statement, (
        f"the statement of {claim.id} changed; re-read it against its arms {claim.contrast} and direction "
        f"{claim.direction!r} and update its reading in READINGS.")
    assert set(sides) == set(claim.arms), f"{claim.id}: the reading names arms {sorted(sides)}, the claim {claim.arms}"
    return sides


def _values(claim, sides, flip: bool) -> dict:
    """{arm: per-seed values}: the statement's effect planted (reversed with ``flip``) with seed noise."""
    rng = np.random.default_rng(sum(map(ord, claim.id)))
    sign = -1.0 if flip else 1.0
    if claim.kind == "binary":   # the arm said to have the outcome more often has it on every seed
        return {arm: [float((side == MORE_OFTEN) != flip) for _ in SEEDS] for arm, side in sides.items()}
    if claim.kind == "equivalence":   # "the same": no difference; opposite: four margins apart
        effect = 0.0 if not flip else 4 * claim.margin
        return {arm: [1.0 + effect * (i == 0) + rng.normal(0, claim.margin / 20) for _ in SEEDS]
                for i, arm in enumerate(sides)}
    # A clear effect: three margins for non-inferiority (so a swapped claim is shown inferior), else 0.05,
    # or twice a declared smallest effect that matters where that is larger (C5c's ratio claims).
    effect = 3 * claim.margin if claim.margin else max(0.05, 2 * (claim.min_effect or 0.0))
    seed_level = rng.normal(0, 0.02, len(SEEDS))   # seeds differ; arms share them (paired design)
    return {arm: [0.8 + seed_level[s] + sign * side * effect + rng.normal(0, effect / 20) for s in SEEDS]
            for arm, side in sides.items()}


def _records(case, claim, values) -> list[dict]:
    out = []
    for fw, mode in VARIANTS:
        for arm, per_seed in values.items():
            for seed, v in zip(SEEDS, per_seed):
                diverged = claim.metric == "diverged" and v == 1.0
                out.append({"case": case.id, "arm": arm, "framework": fw, "mode": mode, "seed": seed,
                            "profile": "smoke", "status": "ok", "diverged": diverged,
                            "metrics": {claim.metric: v}})
    return out


def _verdicts(tmp_path, case, claim, flip: bool) -> set:
    """The verdicts the report gives ``claim`` (alone in its family) in every framework and mode."""
    records = _records(case, claim, _values(claim, _reading(claim), flip))
    # Through the store's format and back, as the report reads them.
    with store.RecordWriter(store.records_path(tmp_path, "smoke")) as writer:
        for r in records:
            writer.append(r)
    loaded = store.load(tmp_path, "smoke")
    evaluated = analysis.evaluate(loaded, [dataclasses.replace(case, claims=(claim,))])
    assert len(evaluated) == len(VARIANTS), f"{claim.id}: evaluated {len(evaluated)} of {len(VARIANTS)} variants"
    return {res.verdict for *_, res in evaluated}


@pytest.mark.parametrize("case,claim", CLAIMS, ids=IDS)
def test_the_effect_the_statement_claims_is_reproduced(tmp_path, case, claim):
    assert _verdicts(tmp_path, case, claim, flip=False) == {"reproduced"}, (
        f"{case.id} {claim.id}: data showing what the statement says ({claim.statement!r}) is not "
        f"'reproduced'; check its arms {claim.contrast} and direction {claim.direction!r} in suites/.")


@pytest.mark.parametrize("case,claim", CLAIMS, ids=IDS)
def test_the_opposite_effect_is_contradicted(tmp_path, case, claim):
    assert _verdicts(tmp_path, case, claim, flip=True) == {"contradicted"}, (
        f"{case.id} {claim.id}: data showing the opposite of the statement is not 'contradicted'; check "
        f"its arms {claim.contrast} and direction {claim.direction!r} in suites/.")


def test_every_reading_belongs_to_a_claim():
    known = {claim.id for _, claim in CLAIMS}
    assert set(READINGS) <= known, f"readings of claims no case has: {sorted(set(READINGS) - known)}"


# --- the post's figures ------------------------------------------------------------------------------

SEEDS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
ROOT = Path(__file__).resolve().parents[1]


def _numbers(claim) -> list[tuple[str, str]]:
    out = []
    for arm, value in claim.reported:
        try:
            float(value)
        except ValueError:
            continue
        out.append((arm, value))
    return out


def test_every_reported_figure_agrees_with_its_claims_sign():
    """A post's own figures support the claim it makes: where every arm of a claim's contrast has a
    figure, their contrast has the claimed sign (a typo such as 0.9365 for 0.9635 flips it and
    silently drops the claim's smallest effect that matters and its agreement margin)."""
    from bench.analysis import verdict
    from bench.stats import kinds
    checked = 0
    for case in registry.discover().values():
        for claim in case.claims:
            post = verdict.post_effect(claim)
            if post is None:
                continue
            checked += 1
            claimed = 1.0 if claim.direction == "greater" else -1.0
            assert post * claimed > 0, (claim.id, claim.reported)
            if kinds.get(claim.kind).SIZED and claim.min_effect is None:
                assert verdict.min_effect(claim)[0] is not None, claim.id
    assert checked >= 2


def test_every_reported_figure_is_in_the_posts_text():
    """Each figure typed into a claim's ``reported`` appears verbatim in the text of a post its case
    names (``source``: "seed 002 ..."), where that text is at hand. A paper's case (no seed post in its
    source) is checked against its catalogue entry in ``docs/literature.md`` instead."""
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"the posts' texts are not at {SEEDS_DIR}")
    checked = 0
    for case in registry.discover().values():
        numbers = re.findall(r"\bseeds? (\d{3}(?:, \d{3})*)", case.source)
        numbers = re.findall(r"\d{3}", " ".join(numbers))
        texts = "".join(p.read_text(encoding="utf-8", errors="replace")
                        for n in numbers for p in SEEDS_DIR.glob(f"{n}_*.txt"))
        if not numbers:
            texts = (ROOT / "docs" / "literature.md").read_text(encoding="utf-8")
        for claim in case.claims:
            for arm, value in _numbers(claim):
                assert texts, f"{case.id}: no post text for source {case.source!r}"
                # a post prints 0.9635; a paper's table 1.62 (%), which the claim holds as 0.0162
                shown = {repr(float(value)), f"{float(value) * 100:g}"}
                assert any(s in texts for s in shown), f"{claim.id} {arm}: {value} is not in {case.source}"
                checked += 1
    assert checked >= 4
