"""The kit of ``bench.spec.LSTM``: ``KerasLSTM``, an LSTM written out with Keras's
semantics, since ``nn.LSTM`` has no recurrent dropout (its ``dropout`` drops the
outputs between stacked layers) and keeps two biases.

What Keras 3's ``LSTMCell`` does, and this module does too: gates i, f, c, o in
that order in a (features, 4u) kernel, a (u, 4u) recurrent kernel and one (4u,)
bias; i, f, o = sigmoid, c~ = tanh, c = f*c + i*c~, h = o*tanh(c), zero initial
state. In training, every mask is inverted dropout (kept with 1 - rate, scaled
by 1 / (1 - rate)) drawn once per sequence (per example) and fixed over the time
steps. With ``recurrent_dropout > 0`` (Keras's implementation 1) there are four
input masks (n, features) and four recurrent masks (n, u), one per gate, the
gate g seeing ``(x * m_g) @ W_g`` and ``(h * r_g) @ U_g``; with only ``dropout``
one input mask serves all gates. The masks come from PyTorch's default
generator (the trainer's seeded state), so they differ from Keras's: the two
frameworks agree in distribution, not in draws. No group path (the spec's
``vectorized = False``): a case with an LSTM trains seed by seed.
"""
from __future__ import annotations

import torch
from torch import nn

from bench.backends.torch.layers.kit import NOISE, Kit
from bench.errors import SpecError


def keep_mask(rows: int, width: int, rate: float, like: torch.Tensor) -> torch.Tensor:
    """An inverted-dropout mask (rows, width): 1 / (1 - rate) with probability 1 - rate, else 0."""
    return torch.empty(rows, width, dtype=like.dtype, device=like.device).bernoulli_(1.0 - rate).div_(1.0 - rate)


class KerasLSTM(nn.Module):
    """(n, steps * features) rows or (n, steps, features) sequences -> (n, units), or
    (n, steps, units) with ``return_sequences``. Parameters in the neutral layout."""

    def __init__(self, steps: int, features: int, units: int, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, return_sequences: bool = False):
        super().__init__()
        self.steps, self.features, self.units = steps, features, units
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.return_sequences = return_sequences
        self.kernel = nn.Parameter(torch.zeros(features, 4 * units))
        self.recurrent_kernel = nn.Parameter(torch.zeros(units, 4 * units))
        self.bias = nn.Parameter(torch.zeros(4 * units))
        self.masks = None   # the last training pass's (input masks, recurrent masks), for the tests

    def draw_masks(self, n: int, like: torch.Tensor) -> tuple[list, list]:
        """A training pass's input and recurrent masks (an empty list where a rate is 0)."""
        gates = 4 if self.recurrent_dropout > 0 else 1   # Keras's implementation 1 vs 2
        inputs = [keep_mask(n, self.features, self.dropout, like) for _ in range(gates)] if self.dropout > 0 else []
        recurrent = ([keep_mask(n, self.units, self.recurrent_dropout, like) for _ in range(4)]
                     if self.recurrent_dropout > 0 else [])
        return inputs, recurrent

    def forward(self, x):
        n, u = len(x), self.units
        x = x.reshape(n, self.steps, self.features)
        in_masks, rec_masks = self.draw_masks(n, x) if self.training else ([], [])
        if self.training:
            self.masks = (in_masks, rec_masks)
        # Every step's input projection at once: (n, T, 4u).
        if len(in_masks) == 4:
            kernels = self.kernel.split(u, dim=1)
            xw = torch.cat([(x * m[:, None, :]) @ k for m, k in zip(in_masks, kernels)], dim=-1) + self.bias
        elif in_masks:
            xw = (x * in_masks[0][:, None, :]) @ self.kernel + self.bias
        else:
            xw = x @ self.kernel + self.bias
        if rec_masks:
            per_gate = self.recurrent_kernel.reshape(u, 4, u).permute(1, 0, 2)   # (4, u, u): U_i, U_f, U_c, U_o
            rec = torch.stack(rec_masks)                                         # (4, n, u)
        h = x.new_zeros(n, u)
        c = x.new_zeros(n, u)
        outputs = []
        for t in range(self.steps):
            if rec_masks:
                hu = torch.bmm(h * rec, per_gate).permute(1, 0, 2).reshape(n, 4 * u)
            else:
                hu = h @ self.recurrent_kernel
            z = xw[:, t] + hu
            i, f, g, o = z.split(u, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            if self.return_sequences:
                outputs.append(h)
        return torch.stack(outputs, dim=1) if self.return_sequences else h


class LSTMKit(Kit):
    weights = True
    kernels = ("kernel", "recurrent_kernel")
    draws = NOISE

    def build(self, layer, shape, defaults):
        steps, features = shape
        lstm = KerasLSTM(steps, features, layer.units, layer.dropout, layer.recurrent_dropout,
                         layer.return_sequences)
        return [lstm], lstm

    def load(self, module, entry):
        for name in ("kernel", "recurrent_kernel", "bias"):
            getattr(module, name).copy_(torch.as_tensor(entry[name]))

    def save(self, module):
        return {"kernel": module.kernel, "recurrent_kernel": module.recurrent_kernel, "bias": module.bias}

    def kernel_tensors(self, module):
        return [module.kernel, module.recurrent_kernel]

    def group_forward(self, trainer, layer, shape, x, weights, training):
        raise SpecError("LSTM has no group path; a case holding one trains seed by seed (bench.run.grouping).")
