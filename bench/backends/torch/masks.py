"""Dropout keep masks on the CPU, drawn faster than ``bernoulli_`` with the same bits.

PyTorch's CPU ``bernoulli_(p)`` draws one float64 uniform per element, in memory
order, from MT19937, one element at a time; ``bernoulli_is_uniform_below`` checks
that on every process. ``compiled_streams`` hands back the compiled copies of
some generators (``bench.backends.torch.mt``) where they draw the same words, and
``keep_mask`` draws a per-seed path's Dropout mask (``empty_like(x).bernoulli_(keep)
.div_(keep)``, what ``nn.Dropout`` multiplies by on the CPU) from the default
generator through them, leaving that generator in the state ``bernoulli_`` would.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np
import torch


@functools.cache
def bernoulli_is_uniform_below(device: torch.device) -> bool:
    """Whether ``t.bernoulli_(p, generator=g)`` on ``device`` is, draw for draw,
    ``uniform_`` in float64 from ``g`` compared with ``p``. In PyTorch's CPU kernel it
    is (one 53-bit uniform per element, in memory order; checked here on every
    process, since another build or device may differ)."""
    for p, size in ((0.5, 4099), (0.8, 517), (0.1, 64)):
        g1, g2 = (torch.Generator(device).manual_seed(11) for _ in range(2))
        want = torch.empty(size, device=device).bernoulli_(p, generator=g1)
        got = torch.empty(size, device=device, dtype=torch.float64).uniform_(generator=g2) < p
        if not (torch.equal(want, got.to(want.dtype)) and torch.equal(g1.get_state(), g2.get_state())):
            return False
    return True


def compiled_streams(gens: list):
    """``bench.backends.torch.mt.SeedStreams`` over the CPU generators ``gens``, or None
    where numba is missing or unusable or the compiled copy would draw other words
    (``mt.exact()``); the caller then draws with torch (the same bits, slower)."""
    try:
        from bench.backends.torch import mt
    except ImportError:      # numba not installed
        return None
    except RuntimeError as err:  # numba present but unusable (e.g. no writable cache)
        warnings.warn(f"dropout masks drawn by torch, not the compiled generator: {err}", RuntimeWarning)
        return None
    return mt.SeedStreams(gens) if mt.exact() else None


def keep_mask(x: torch.Tensor, keep: float):
    """The mask ``nn.Dropout`` draws for ``x`` at keep probability ``keep`` on the CPU,
    scaled by ``1/keep``, drawn from the default generator by its compiled copy; None
    where that would not be the same bits, and the caller lets torch draw. ``bernoulli_``
    fills ``empty_like(x)``, which keeps ``x``'s layout, in memory order: the mask here is
    laid out the same way for a contiguous or a channels-last ``x`` (a conv stack whose
    input is one channel runs channels-last), and is None for any other layout, another
    dtype or device, or where ``compiled_streams`` is unusable."""
    if x.device.type != "cpu" or x.dtype != torch.float32 or not bernoulli_is_uniform_below(x.device):
        return None
    if x.is_contiguous():
        shape = None
    elif x.ndim == 4 and x.is_contiguous(memory_format=torch.channels_last):
        shape = (x.shape[0], x.shape[2], x.shape[3], x.shape[1])
    else:
        return None
    streams = compiled_streams([torch.default_generator])
    if streams is None:
        return None
    out = np.empty((1, x.numel()), np.float32)
    streams.keep_masks(out, keep)
    streams.store()
    mask = torch.from_numpy(out)
    return mask.view(x.shape) if shape is None else mask.view(shape).permute(0, 3, 1, 2)
