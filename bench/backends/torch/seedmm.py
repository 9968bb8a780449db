"""Batched matmuls over seeds whose slice for a seed does not depend on where it sits in its group.

A group stacks its seeds along dim 0 of every ``torch.bmm`` operand, so seed s's
slice starts ``s * slice_size`` elements into its tensor. BLAS kernels may
peel leading elements until a pointer reaches a vector boundary, and then
add up a seed's numbers in another order: MKL's kernel for a ``(1, n) @ (n, k)``
slice (a bias gradient) does on its SSE4.2 path (measured on an Intel Xeon with
``MKL_ENABLE_INSTRUCTIONS=SSE4_2``; its AVX-512 path does not), so seed s's bits
then depend on whether ``s * k * 4`` bytes is a multiple of 16. Which path MKL
takes on another vendor's CPU is MKL's choice. ``bmm`` here starts
every slice of its operands and its output on a 64-byte boundary (the widest
vector, AVX-512's) from the allocation, which is 64-byte aligned: a slice whose
size is a multiple of 16 floats already is, and is used as it is; any other is
copied into, or computed into, a buffer whose seed stride is padded to one.
Every seed's slice then meets the kernel at the same alignment, whatever its index.
"""
from __future__ import annotations

import torch

ALIGN = 16   # float32 elements in 64 bytes


def _aligned(t) -> bool:
    """Whether every seed slice of ``t`` (S, m, k) starts on a 64-byte boundary from its first."""
    return t.shape[0] == 1 or t.stride(0) % ALIGN == 0


def empty(s: int, m: int, k: int, like):
    """An empty (s, m, k) tensor with contiguous seed slices, each starting a multiple of 64 bytes
    after the first."""
    stride = -(-(m * k) // ALIGN) * ALIGN
    return like.new_empty(s * stride).as_strided((s, m, k), (stride, k, 1))


def _padded(t):
    """``t`` itself when its seed slices are aligned; else a copy whose seed stride is padded."""
    if _aligned(t):
        return t
    out = empty(*t.shape, like=t)
    return out.copy_(t)


def _bmm(a, b):
    """``torch.bmm(a, b)`` with every seed slice of ``a``, ``b`` and the result on a 64-byte boundary."""
    a, b = _padded(a), _padded(b)
    s, m, k = a.shape[0], a.shape[1], b.shape[2]
    if (m * k) % ALIGN == 0 or m * k == 1:   # one number per seed: where it is stored cannot order its sum
        return torch.bmm(a, b)
    return torch.bmm(a, b, out=empty(s, m, k, like=a))   # per-seed calls, ~10 us each: only where needed


class _Bmm(torch.autograd.Function):
    """``_bmm`` with autograd: the backward products are ``_bmm`` too, of the operands autograd's would take."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _bmm(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = _bmm(grad, b.transpose(1, 2)) if ctx.needs_input_grad[0] else None
        grad_b = _bmm(a.transpose(1, 2), grad) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


def bmm(a, b):
    """``torch.bmm(a, b)`` (differentiable) with every seed slice of its operands, its result and, in
    backward, its gradients' products on a 64-byte boundary."""
    s, n, m, k = a.shape[0], a.shape[1], a.shape[2], b.shape[2]
    if _aligned(a) and _aligned(b) and (n * k == 1 or all(size % ALIGN == 0 for size in (n * m, m * k, n * k))):
        # so are its gradients' products (contiguous, of these sizes; for one number per seed,
        # products over a dimension of 1, exact in any order): autograd's own
        return torch.bmm(a, b)
    if torch.is_grad_enabled() and (a.requires_grad or b.requires_grad):
        return _Bmm.apply(a, b)
    return _bmm(a, b)
