"""The neutral spec: validation gives clear errors, and the C1 case matches the post."""
import math

import pytest

from bench.spec import registry
from bench.errors import SpecError
from bench.spec import L2, Arm, BatchNorm, Dense, Dropout, Optimizer


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, math.nan])
def test_dropout_rate_outside_unit_interval_is_rejected(rate):
    with pytest.raises(SpecError, match="Dropout rate"):
        Dropout(rate).validate()


@pytest.mark.parametrize("coef", [-1e-4, math.inf, math.nan])
def test_negative_or_nonfinite_l2_is_rejected(coef):
    with pytest.raises(SpecError, match="L2 coefficient"):
        L2(coef).validate()


def test_other_invalid_layers_and_optimizers():
    with pytest.raises(SpecError, match="activation"):
        Dense(4, "swishy").validate()
    with pytest.raises(SpecError, match="momentum"):
        BatchNorm(momentum=1.0).validate()
    with pytest.raises(SpecError, match="optimizer"):
        Optimizer("rmsprop").validate()
    with pytest.raises(SpecError, match="Dense output"):
        Arm("a", (Dense(4), Dropout(0.5))).validate()


def test_c1_matches_the_post():
    case = registry.get("c1")
    none = case.arm("none")
    # 784-256-128-64-32-10: 244,522 parameters, as the post's summary prints.
    widths = [784] + [layer.units for layer in none.layers if isinstance(layer, Dense)]
    assert sum(a * b + b for a, b in zip(widths, widths[1:])) == 244_522
    assert sum(isinstance(layer, Dropout) for layer in case.arm("dropout").layers) == 2
    assert case.arm("both").l2 == L2(1e-4, include_bias=True)
    assert case.optimizer.lr == 0.01 and case.optimizer.eps is None  # eps: framework default
    full = case.budget("full")
    assert (full.batch_size, full.epochs, full.train_subsample) == (128, 10, None)
    assert case.profile("full").seeds >= 10


def test_unknown_case_arm_and_profile_are_clear_errors():
    with pytest.raises(SpecError, match="unknown case 'c99'"):
        registry.get("c99")
    case = registry.get("c1")
    with pytest.raises(SpecError, match="no arm 'nope'"):
        case.arm("nope")
    with pytest.raises(SpecError, match="no profile 'huge'"):
        case.profile("huge")
