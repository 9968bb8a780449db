"""BatchNorm: ``nn.BatchNorm1d`` on the per-seed path; on the group path the
columns (seed, feature) of ``(n, S*F)``, so its statistics stay per seed. The
spec's momentum is in Keras terms (weight on the old average): PyTorch gets ``1 - m``."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench.backends.torch.layers.kit import Kit
from bench.spec.defaults import batchnorm_settings


class BatchNormKit(Kit):
    weights = True
    buffers = ("mean", "var")

    def build(self, layer, shape, defaults):
        keras_momentum, eps = batchnorm_settings(layer, defaults)
        bn = nn.BatchNorm1d(shape[-1], eps=eps, momentum=1.0 - keras_momentum)
        return [bn], bn

    def load(self, module, entry):
        module.weight.copy_(torch.as_tensor(entry["gamma"]))
        module.bias.copy_(torch.as_tensor(entry["beta"]))
        module.running_mean.copy_(torch.as_tensor(entry["mean"]))
        module.running_var.copy_(torch.as_tensor(entry["var"]))

    def save(self, module):
        return {"gamma": module.weight, "beta": module.bias, "mean": module.running_mean, "var": module.running_var}

    def group_forward(self, trainer, layer, shape, x, weights, training):
        momentum, eps = batchnorm_settings(layer, trainer.defaults)
        s, n, f = x.shape
        cols = x.permute(1, 0, 2).reshape(n, s * f)
        out = F.batch_norm(cols, weights["mean"], weights["var"], weights["gamma"], weights["beta"], training,
                           1.0 - momentum, eps)
        return out.reshape(n, s, f).permute(1, 0, 2)
