"""C4's ``mid`` profile: full's data and seeds for a third of its epochs, and only C4 has it."""
import pytest

from bench.spec import registry
from bench.errors import SpecError


def test_mid_is_all_images_for_five_epochs_and_ten_seeds():
    case = registry.get("c4")
    mid, full = case.budget("mid"), case.budget("full")
    assert (mid.epochs, full.epochs) == (5, 15)
    assert mid.train_subsample == full.train_subsample and mid.test_subsample == full.test_subsample
    assert case.profile("mid").seeds == case.profile("full").seeds == 10


def test_a_case_without_mid_says_so():
    with pytest.raises(SpecError, match="no profile 'mid'"):
        registry.get("c1").profile("mid")
