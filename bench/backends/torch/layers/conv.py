"""Conv2D, MaxPool2D and Flatten, and the layout changes around them.

The spec is channels-last (``bench.spec.arm_input_shape``); PyTorch convolves
NCHW. ``ChannelsFirst`` turns the flat input rows into NCHW once, and
``FlattenHWC`` permutes back to NHWC before flattening, so a Dense after
Flatten sees features in the same order as in Keras and takes the same weights.
On the group path maps are ``(n, S*C, H, W)`` and a convolution is grouped
(``groups=S``), so each seed only ever sees its own channels.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench.backends.torch.layers.activation import activate, activation_modules
from bench.backends.torch.layers.kit import Kit


class ChannelsFirst(nn.Module):
    """(n, H*W*C) rows in channels-last order -> (n, C, H, W)."""

    def __init__(self, h: int, w: int, c: int):
        super().__init__()
        self.hwc = (h, w, c)

    def forward(self, x):
        return x.reshape(len(x), *self.hwc).permute(0, 3, 1, 2)


class FlattenHWC(nn.Module):
    """(n, C, H, W) -> (n, H*W*C), in Keras's channels-last order."""

    def forward(self, x):
        return x.permute(0, 2, 3, 1).reshape(len(x), -1)


class PoolThenReLU(nn.MaxPool2d):
    """A max-pool that applies ReLU to its output: ``build`` puts it where a ReLU (a conv
    layer's activation) is followed directly by a MaxPool2D layer, and that ReLU becomes the
    identity. ReLU is monotone, so max then ReLU gives the same values as ReLU then max, and
    the same gradients: a window whose maximum is positive sends its gradient to the same
    first maximum either way, and one whose maximum is not sends none. The ReLU then runs on
    a quarter of the values (``tests/test_torch_backend.py`` checks the bits)."""

    def forward(self, x):
        return F.relu(super().forward(x))


def pool_before_relu(modules: list) -> list:
    """``modules`` with each ReLU that a MaxPool2d follows folded into it (``PoolThenReLU``);
    the module count and positions stay as they were."""
    out = list(modules)
    for i in range(len(out) - 1):
        if type(out[i]) is nn.ReLU and type(out[i + 1]) is nn.MaxPool2d:
            pool = out[i + 1]
            out[i] = nn.Identity()
            out[i + 1] = PoolThenReLU(pool.kernel_size, pool.stride, pool.padding, pool.dilation,
                                      pool.return_indices, pool.ceil_mode)
    return out


class Conv2DKit(Kit):
    weights = True
    kernels = ("kernel",)

    @staticmethod
    def module(layer, in_channels: int) -> nn.Module:
        return nn.Conv2d(in_channels, layer.filters, layer.kernel, padding=layer.padding, bias=layer.use_bias)

    def build(self, layer, shape, defaults):
        conv = self.module(layer, shape[-1])
        return [conv, *activation_modules(layer.activation)], conv

    def load(self, module, entry):
        module.weight.copy_(torch.as_tensor(entry["kernel"]).permute(3, 2, 0, 1))   # neutral (kh, kw, cin, cout)
        if module.bias is not None:
            module.bias.copy_(torch.as_tensor(entry["bias"]))

    def save(self, module):
        out = {"kernel": module.weight.permute(2, 3, 1, 0)}
        if module.bias is not None:
            out["bias"] = module.bias
        return out

    def kernel_tensors(self, module):
        return [module.weight]

    def stack(self, layer, name, arr):
        if name != "kernel":
            return arr.reshape(-1)                              # (S*cout,)
        arr = arr.transpose(0, 4, 3, 1, 2)                      # (S, kh, kw, cin, cout) -> (S*cout, cin, kh, kw)
        return arr.reshape(-1, *arr.shape[2:])

    def unstack(self, layer, name, a, seeds, s):
        if name != "kernel":
            return a.reshape(seeds, -1)[s]
        cout = a.shape[0] // seeds
        return a.reshape(seeds, cout, *a.shape[1:])[s].transpose(2, 3, 1, 0)

    def group_forward(self, trainer, layer, shape, x, weights, training):
        x = F.conv2d(x, weights["kernel"], weights.get("bias"), padding=layer.padding, groups=trainer.S)
        if layer.activation != "linear":
            x = activate(x, layer.activation)
        return x


class MaxPool2DKit(Kit):
    @staticmethod
    def module(layer, in_channels: int) -> nn.Module:
        return nn.MaxPool2d(layer.pool)

    def build(self, layer, shape, defaults):
        return [self.module(layer, shape[-1])], None

    def group_forward(self, trainer, layer, shape, x, weights, training):
        return F.max_pool2d(x, layer.pool)


class FlattenKit(Kit):
    @staticmethod
    def module(layer, in_channels: int) -> nn.Module:
        return FlattenHWC()

    def build(self, layer, shape, defaults):
        return [FlattenHWC()], None

    def group_forward(self, trainer, layer, shape, x, weights, training):
        """(n, S*C, h, w) maps -> (S, n, h*w*C) rows, channels-last as ``FlattenHWC``."""
        n, _, h, w = x.shape
        return x.reshape(n, trainer.S, -1, h, w).permute(1, 0, 3, 4, 2).reshape(trainer.S, n, -1)
