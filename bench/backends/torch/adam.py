"""Adam for vectorized seeds: the kernel of ``torch.optim.Adam(fused=True)``, called directly.

A group of S seeds hands Adam S tensors per weight (every seed's tensor alone,
see ``bench.backends.torch.group``), so S times the per-tensor bookkeeping of
``torch.optim.Adam.step``: its state lookups, device grouping, one step counter
per tensor, and a zero-grad pass over them all, a share of every vectorized step
(docs/speed.md). ``SeedAdam`` keeps the lists ready and
calls the same fused kernel with the same arguments, so each tensor's update is
the same bits; the only change is one step counter shared by every tensor,
which holds because every trainable tensor gets a gradient at every step (a
tensor without one is an error here, where ``torch.optim`` would skip it).
"""
from __future__ import annotations

import torch

from bench.errors import SpecError


def supports(optimizer: torch.optim.Optimizer) -> bool:
    """Whether ``SeedAdam`` can replace ``optimizer.step`` with the same arithmetic."""
    return isinstance(optimizer, torch.optim.Adam) and all(
        group.get("fused") and not group["amsgrad"] and not group["maximize"]
        and not group.get("decoupled_weight_decay", False) and not group.get("differentiable", False)
        and not isinstance(group["lr"], torch.Tensor)
        for group in optimizer.param_groups)


class SeedAdam:
    """``step`` and ``zero_grad`` for a fused ``torch.optim.Adam`` that is only used as
    resolved settings: ``param_groups`` are the optimizer's own, so a change to a
    group's ``eps`` (Keras's epsilon in matched mode) takes effect at the next step."""

    def __init__(self, optimizer: torch.optim.Adam):
        if not supports(optimizer):
            raise SpecError("SeedAdam needs a fused Adam without amsgrad, maximize, decoupled decay or a tensor lr.")
        self.param_groups = optimizer.param_groups
        # Moments start at zero, as torch.optim.Adam's lazily made state does.
        self._moments = [([torch.zeros_like(p, memory_format=torch.preserve_format) for p in g["params"]],
                          [torch.zeros_like(p, memory_format=torch.preserve_format) for p in g["params"]])
                         for g in self.param_groups]
        first = self.param_groups[0]["params"][0]
        # torch.optim keeps a float32 0-d step per tensor for the fused kernel; every
        # tensor steps together here, so one serves them all.
        self._step = torch.zeros((), dtype=torch.float32, device=first.device)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        grads = [[p.grad for p in g["params"]] for g in self.param_groups]
        if any(grad is None for per_group in grads for grad in per_group):
            raise SpecError("a trainable tensor got no gradient this step; vectorized seeds need one for every tensor.")
        self._step.add_(1)
        for group, per_group, (exp_avgs, exp_avg_sqs) in zip(self.param_groups, grads, self._moments):
            params = group["params"]
            beta1, beta2 = group["betas"]
            torch._fused_adam_(params, per_group, exp_avgs, exp_avg_sqs, [], [self._step] * len(params),
                               lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=group["weight_decay"],
                               eps=group["eps"], amsgrad=False, maximize=False)
