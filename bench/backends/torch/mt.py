"""Dropout masks for vectorized seeds, drawn from each seed's torch CPU generator by a compiled Mersenne Twister.

PyTorch's CPU generator is MT19937, and its dropout mask for keep probability
k is, element by element in memory order, a 53-bit uniform ``u`` made of two
32-bit draws (``(a & (2**21 - 1)) << 32 | b``, scaled by 2**-53) and kept when
``u < k``, then divided by k (``bench.backends.torch.group``). ``torch.Tensor.
uniform_`` makes those uniforms one element at a time, which made mask drawing
the largest cost of a dropout step after the matmuls. ``SeedStreams`` copies
each seed's generator state (the 624-word MT19937 state and its position) and
draws the same words with the twist and tempering compiled by numba,
vectorized, and writes the scaled mask (``1/k`` or 0, in float32) directly: the
same bits and the same generator state after, in less time (measured by
``test_keep_masks`` in ``tests/benchmarks/bench_speed.py``; the figures are in CHANGELOG.md).

The state layout of ``torch.Generator.get_state()`` is PyTorch's own and could
change between releases, so ``exact()`` checks every process once: masks from
``SeedStreams`` against ``uniform_(...) < k`` from torch, for several sizes, keep
probabilities and word alignments, and the generator states after. Where numba
is missing or the check fails, the caller draws with torch (the same bits, slower).
"""
from __future__ import annotations

import functools
import math

import numpy as np
import torch

import numba

_N, _M = 624, 397
# torch's CPUGeneratorImplState: u64 seed, i32 left, i32 seeded, u64 next, u64 state[624], ...
_LEFT, _NEXT, _WORDS = slice(8, 12), slice(16, 24), slice(24, 24 + 8 * _N)
_U32 = np.uint32


@numba.njit(cache=True, boundscheck=False)
def _twist(mt):
    upper, lower, matrix = _U32(0x80000000), _U32(0x7FFFFFFF), _U32(0x9908B0DF)
    for i in range(_N - _M):
        y = (mt[i] & upper) | (mt[i + 1] & lower)
        mt[i] = mt[i + _M] ^ (y >> _U32(1)) ^ ((y & _U32(1)) * matrix)
    for i in range(_N - _M, _N - 1):
        y = (mt[i] & upper) | (mt[i + 1] & lower)
        mt[i] = mt[i + _M - _N] ^ (y >> _U32(1)) ^ ((y & _U32(1)) * matrix)
    y = (mt[_N - 1] & upper) | (mt[0] & lower)
    mt[_N - 1] = mt[_M - 1] ^ (y >> _U32(1)) ^ ((y & _U32(1)) * matrix)


@numba.njit(cache=True, boundscheck=False)
def _temper(y):
    y ^= y >> _U32(11)
    y ^= (y << _U32(7)) & _U32(0x9D2C5680)
    y ^= (y << _U32(15)) & _U32(0xEFC60000)
    y ^= y >> _U32(18)
    return y


@numba.njit(cache=True, boundscheck=False)
def _kept(a, b, khi, klo):
    """Whether the uniform of words ``a`` (high) and ``b`` is below k = (khi << 32 | klo) / 2**53."""
    hi = _temper(a) & _U32(0x1FFFFF)
    return (hi < khi) | ((hi == khi) & (_temper(b) < klo))


@numba.njit(cache=True, boundscheck=False)
def _fill(mt, pos, out, khi, klo, scale):
    """One generator (state ``mt``, ``pos`` = [left, next] as torch keeps them) into ``out``.

    torch draws a word by ``--left == 0 ? twist, left = 624, next = 0``, then
    ``state[next++]``, so ``left - 1`` words are ready before the next twist."""
    zero = np.float32(0.0)
    ready, nxt = pos[0] - 1, pos[1]
    n, k = out.shape[0], 0
    while k < n:
        if ready == 0:
            _twist(mt)
            ready, nxt = _N, 0
        m = min(ready // 2, n - k)
        if m == 0:                      # the pair straddles a twist
            a = mt[nxt]
            _twist(mt)
            out[k] = scale if _kept(a, mt[0], khi, klo) else zero
            ready, nxt, k = _N - 1, 1, k + 1
            continue
        words, dst = mt[nxt:nxt + 2 * m], out[k:k + m]
        for j in range(m):
            dst[j] = scale if _kept(words[2 * j], words[2 * j + 1], khi, klo) else zero
        ready, nxt, k = ready - 2 * m, nxt + 2 * m, k + m
    pos[0], pos[1] = ready + 1, nxt


@numba.njit(cache=True, boundscheck=False)
def _fill_all(mt, pos, out, khi, klo, scale):
    for s in range(out.shape[0]):
        _fill(mt[s], pos[s], out[s], khi, klo, scale)


def _threshold(keep: float) -> tuple[np.uint32, np.uint32]:
    """(high 21 bits, low 32 bits) of the least 53-bit integer v with v * 2**-53 >= keep."""
    if not 0.0 < keep <= 1.0:
        raise ValueError(f"keep probability must be in (0, 1], got {keep}.")
    limit = min(math.ceil(keep * 2.0 ** 53), 2 ** 53)      # keep * 2**53 is exact (a power-of-two scaling)
    return _U32(limit >> 32), _U32(limit & 0xFFFFFFFF)


class SeedStreams:
    """The MT19937 states of ``gens`` (torch CPU generators, one per seed), drawn from
    here instead of there until ``store()`` hands them back."""

    def __init__(self, gens: list[torch.Generator]):
        self._gens = gens
        self._mt = np.empty((len(gens), _N), _U32)
        self._pos = np.empty((len(gens), 2), np.int64)
        self.load()

    def load(self) -> None:
        for s, g in enumerate(self._gens):
            raw = g.get_state().numpy()
            self._mt[s] = raw[_WORDS].view(np.uint64)
            self._pos[s] = raw[_LEFT].view(np.int32)[0], raw[_NEXT].view(np.uint64)[0]

    def store(self) -> None:
        for s, g in enumerate(self._gens):
            raw = g.get_state().numpy().copy()
            raw[_WORDS].view(np.uint64)[:] = self._mt[s]
            raw[_LEFT].view(np.int32)[0] = self._pos[s, 0]
            raw[_NEXT].view(np.uint64)[0] = self._pos[s, 1]
            g.set_state(torch.from_numpy(raw))

    def keep_masks(self, out: np.ndarray, keep: float) -> None:
        """Row s of ``out`` (float32, (S, L), C order) gets seed s's next L mask values in
        memory order: ``1/keep`` (rounded as ``mask.div_(keep)`` rounds it) where kept, else 0."""
        if out.dtype != np.float32 or out.ndim != 2 or len(out) != len(self._gens) or not out.flags.c_contiguous:
            raise ValueError(f"keep_masks needs a C-ordered float32 (S={len(self._gens)}, L) array.")
        khi, klo = _threshold(keep)
        scale = np.float32(torch.ones(1).div_(keep).item())
        _fill_all(self._mt, self._pos, out, khi, klo, scale)


@functools.cache
def exact() -> bool:
    """Whether ``SeedStreams`` draws what torch draws here (see the module docstring)."""
    try:
        for keep, sizes, lead in ((0.5, (4099, 1, 311, 312, 313, 624), 0), (0.8, (517, 1000), 1),
                                  (0.1, (64, 1249), 3), (1 - 2.0 ** -40, (700,), 0)):
            want_g, got_g = (torch.Generator().manual_seed(11) for _ in range(2))
            for g in (want_g, got_g):                 # odd lead: a pair straddles a twist
                torch.empty(lead).uniform_(generator=g)
            streams = SeedStreams([got_g])
            for size in sizes:
                want = (torch.empty(size, dtype=torch.float64).uniform_(generator=want_g) < keep).float().div_(keep)
                got = np.empty((1, size), np.float32)
                streams.keep_masks(got, keep)
                if not np.array_equal(got[0], want.numpy()):
                    return False
            streams.store()
            if not torch.equal(want_g.get_state(), got_g.get_state()):
                return False
    except (ValueError, RuntimeError, IndexError):
        return False
    return True
