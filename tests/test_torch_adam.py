"""``SeedAdam`` (bench/backends/torch/adam.py) must step tensors to the same bits as
``torch.optim.Adam(fused=True)``, which it replaces for vectorized seeds."""
import pytest

torch = pytest.importorskip("torch")

from bench.backends.torch.adam import SeedAdam, supports  # noqa: E402
from bench.errors import SpecError  # noqa: E402


def _tensors(seed):
    g = torch.Generator().manual_seed(seed)
    # sizes with and without a vector tail: 10 and 33 are not multiples of any SIMD width
    return [torch.randn(shape, generator=g).requires_grad_(True) for shape in ((784, 16), (16,), (10,), (3, 11))]


def _grads(step, tensors):
    g = torch.Generator().manual_seed(1000 + step)
    for p in tensors:
        p.grad = torch.randn(p.shape, generator=g) * (10.0 ** -(step % 5))


def _adam(tensors, **kw):
    return torch.optim.Adam([{"params": tensors[:2], "weight_decay": 1e-4}, {"params": tensors[2:]}],
                            lr=0.01, fused=True, **kw)


def test_steps_are_the_bits_of_torch_adam():
    ours, theirs = _tensors(0), _tensors(0)
    reference, seed_adam = _adam(theirs), SeedAdam(_adam(ours))
    for step in range(1, 8):
        if step == 4:   # as matched mode does: a new eps takes effect at the next step
            for opt in (reference, seed_adam):
                for group in opt.param_groups:
                    group["eps"] = 1e-7 / (1.0 - group["betas"][1] ** step) ** 0.5
        for opt, tensors in ((reference, theirs), (seed_adam, ours)):
            opt.zero_grad(set_to_none=True)
            _grads(step, tensors)
            opt.step()
        for a, b in zip(ours, theirs):
            assert torch.equal(a, b), f"step {step}: {(a - b).abs().max()}"


def test_zero_grad_clears_every_gradient():
    tensors = _tensors(1)
    opt = SeedAdam(_adam(tensors))
    _grads(1, tensors)
    opt.zero_grad()
    assert all(p.grad is None for p in tensors)


def test_a_tensor_without_a_gradient_is_an_error_not_a_skip():
    tensors = _tensors(2)
    opt = SeedAdam(_adam(tensors))
    _grads(1, tensors)
    tensors[2].grad = None
    with pytest.raises(SpecError, match="no gradient"):
        opt.step()


@pytest.mark.parametrize("kw", [{"amsgrad": True}, {"maximize": True}])
def test_other_adam_variants_keep_torch_optim(kw):
    assert supports(_adam(_tensors(3)))
    assert not supports(_adam(_tensors(3), **kw))
    assert not supports(torch.optim.Adam(_tensors(3), lr=0.01))       # not fused
    assert not supports(torch.optim.SGD(_tensors(3), lr=0.01, fused=True))
    with pytest.raises(SpecError):
        SeedAdam(_adam(_tensors(3), **kw))
