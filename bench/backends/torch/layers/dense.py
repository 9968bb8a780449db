"""Dense: ``nn.Linear`` on the per-seed path; on the group path a batched matmul
of ``(S, n, in)`` rows with ``(S, in, out)`` kernels, plus ``(S, 1, out)`` biases,
every product through ``bench.backends.torch.seedmm`` (a seed's slices on 64-byte
boundaries, so its bits do not depend on its place in the group)."""
from __future__ import annotations

import torch
from torch import nn

from bench.backends.torch.layers.activation import activate, activation_modules
from bench.backends.torch import seedmm
from bench.backends.torch.layers.kit import Kit
from bench.spec.layers import MAX_NORM_EPS


def max_norm_(weight, c: float, dim: int) -> None:
    """Keras's ``MaxNorm`` in place: ``w * (clip(n, 0, c) / (eps + n))`` with ``n`` each unit's
    incoming-weight norm over ``dim`` (1 for an ``nn.Linear.weight`` (out, in), 0 for a
    neutral (in, out) kernel), the same ops in the same order."""
    norms = torch.sqrt(torch.sum(torch.square(weight), dim=dim, keepdim=True))
    weight.mul_(torch.clamp(norms, 0.0, c) / (MAX_NORM_EPS + norms))


class _AddBias(torch.autograd.Function):
    """``x + bias`` for x (S, n, F) and bias (S, 1, F), whose bias gradient is a batched
    matmul with ones (autograd's broadcast reduction over the whole (S, n, F)
    gradient splits differently as S changes, which would let a seed's numbers
    depend on the size of its group; a batched matmul computes each slice alike)."""

    @staticmethod
    def forward(ctx, x, bias):
        return x + bias

    @staticmethod
    def backward(ctx, grad):
        s, n, f = grad.shape
        return grad, seedmm.bmm(grad.new_ones(1, 1, n).expand(s, 1, n), grad)


class DenseKit(Kit):
    weights = True
    kernels = ("kernel",)

    def build(self, layer, shape, defaults):
        linear = nn.Linear(shape[-1], layer.units, bias=layer.use_bias)
        return [linear, *activation_modules(layer.activation)], linear

    def load(self, module, entry):
        module.weight.copy_(torch.as_tensor(entry["kernel"]).T)   # neutral (in, out)
        if module.bias is not None:
            module.bias.copy_(torch.as_tensor(entry["bias"]))

    def save(self, module):
        out = {"kernel": module.weight.T}
        if module.bias is not None:
            out["bias"] = module.bias
        return out

    def kernel_tensors(self, module):
        return [module.weight]

    def constrain(self, layer, module) -> None:
        """Max-norm (``Dense.max_norm``) on the per-seed path: ``nn.Linear.weight`` is (out, in),
        so each unit's incoming weights are a row (dim 1)."""
        max_norm_(module.weight, layer.max_norm, 1)

    def constrain_blocks(self, layer, joined, seeds: int) -> None:
        """Max-norm on a group's (S, in, out) kernel, each seed's (in, out) block alone (dim 0)."""
        for block in self.blocks(joined, seeds):
            max_norm_(block, layer.max_norm, 0)

    def stack(self, layer, name, arr):
        return arr[:, None, :] if name == "bias" else arr     # (S, 1, out) / (S, in, out)

    def blocks(self, joined, seeds):
        return joined.unbind(0)

    def unstack(self, layer, name, a, seeds, s):
        return a[s, 0] if name == "bias" else a[s]

    def group_forward(self, trainer, layer, shape, x, weights, training):
        x = seedmm.bmm(x, weights["kernel"])
        if "bias" in weights:
            x = _AddBias.apply(x, weights["bias"])
        if layer.activation != "linear":
            x = activate(x, layer.activation)
        return x
