"""MC averaging at test in PyTorch (``bench.spec.inference``): how k sampled outputs become
one prediction, shared by the per-seed and the group trainer so both combine them alike."""
from __future__ import annotations

import math

import torch


def combine(outs: list, classify: bool, dim: int = 0):
    """One prediction from k sampled outputs: for classification the log of the mean softmax
    probability (so softmax, argmax and cross-entropy of it are those of the mean), computed
    as a logsumexp of the log-softmaxes; for regression the mean output."""
    stacked = torch.stack(outs, dim)
    if not classify:
        return stacked.mean(dim)
    return torch.logsumexp(torch.log_softmax(stacked, -1), dim) - math.log(len(outs))
