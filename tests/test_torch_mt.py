"""Dropout masks from the compiled Mersenne Twister (``bench.backends.torch.mt``): the
same values as torch's own draws, and the same generator state after."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch_mt = pytest.importorskip("bench.backends.torch.mt")   # needs numba


def _torch_masks(g, sizes, keep):
    return [(torch.empty(n, dtype=torch.float64).uniform_(generator=g) < keep).float().div_(keep).numpy()
            for n in sizes]


def test_the_run_time_check_passes_here():
    assert torch_mt.exact()   # else the group trainer silently takes the slow route


@pytest.mark.parametrize("keep", [0.5, 0.75, 0.2, 0.9999999])
@pytest.mark.parametrize("lead", [0, 1])   # 1: an odd word count before, so a pair straddles each twist
def test_masks_and_states_are_torchs(keep, lead):
    sizes = [1, 5, 311, 312, 313, 623, 624, 625, 5000]
    seeds = [0, 7, 123]
    want_gens = [torch.Generator().manual_seed(s) for s in seeds]
    got_gens = [torch.Generator().manual_seed(s) for s in seeds]
    for g in want_gens + got_gens:
        torch.empty(lead).uniform_(generator=g)      # float32: one word per element
    want = [_torch_masks(g, sizes, keep) for g in want_gens]
    streams = torch_mt.SeedStreams(got_gens)
    for i, n in enumerate(sizes):
        got = np.full((len(seeds), n), np.nan, np.float32)
        streams.keep_masks(got, keep)
        for s in range(len(seeds)):
            np.testing.assert_array_equal(got[s], want[s][i])
    streams.store()
    for w, g in zip(want_gens, got_gens):
        assert torch.equal(w.get_state(), g.get_state())
        # and torch goes on drawing from where the streams left it
        assert torch.equal(torch.rand(9, generator=w), torch.rand(9, generator=g))


def test_a_seed_masks_do_not_depend_on_the_other_rows():
    alone = torch_mt.SeedStreams([torch.Generator().manual_seed(5)])
    together = torch_mt.SeedStreams([torch.Generator().manual_seed(s) for s in (1, 5, 9)])
    a, b = np.empty((1, 3000), np.float32), np.empty((3, 3000), np.float32)
    alone.keep_masks(a, 0.5)
    together.keep_masks(b, 0.5)
    np.testing.assert_array_equal(a[0], b[1])
    assert not np.array_equal(b[0], b[1])


def test_masks_keep_about_the_keep_rate():
    streams = torch_mt.SeedStreams([torch.Generator().manual_seed(0)])
    out = np.empty((1, 200_000), np.float32)
    streams.keep_masks(out, 0.3)
    assert set(np.unique(out)) == {0.0, np.float32(torch.ones(1).div_(0.3).item())}
    assert abs((out > 0).mean() - 0.3) < 0.005


@pytest.mark.parametrize("keep", [0.0, -0.1, 1.5, float("nan")])
def test_bad_keep_is_an_error(keep):
    streams = torch_mt.SeedStreams([torch.Generator().manual_seed(0)])
    with pytest.raises(ValueError, match="keep probability"):
        streams.keep_masks(np.empty((1, 4), np.float32), keep)


@pytest.mark.parametrize("out", [np.empty((2, 4), np.float32), np.empty((1, 4), np.float64),
                                 np.empty((1, 4, 2), np.float32)[..., 0], np.empty(4, np.float32)])
def test_a_wrong_buffer_is_an_error(out):
    streams = torch_mt.SeedStreams([torch.Generator().manual_seed(0)])
    with pytest.raises(ValueError, match="float32"):
        streams.keep_masks(out, 0.5)


def test_ties_in_the_high_word_are_settled_by_the_low_word():
    """A keep rate equal to one of the drawn uniforms (or the next double up) makes that
    element's high 21 bits equal the threshold's, which random rates almost never do."""
    draws = torch.empty(64, dtype=torch.float64).uniform_(generator=torch.Generator().manual_seed(3)).numpy()
    for u in draws[[5, 17, 40]]:
        for keep in (float(u), float(np.nextafter(u, 1.0))):
            want = _torch_masks(torch.Generator().manual_seed(3), [64], keep)[0]
            got = np.empty((1, 64), np.float32)
            torch_mt.SeedStreams([torch.Generator().manual_seed(3)]).keep_masks(got, keep)
            np.testing.assert_array_equal(got[0], want)
