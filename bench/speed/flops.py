"""The work of a training step, counted as the matmul FLOPs the kernels actually do.

For every Conv2D and Dense layer, the forward pass is ``2 x M`` FLOPs per example with
``M`` = its multiply-adds = (output positions) x (kernel entries), i.e. ``oh x ow x kh x kw
x cin x cout`` for a convolution and ``fan_in x units`` for a dense layer. Backward does two
products of the same size: the weight gradient and the input gradient, except that the first
such layer needs no input gradient (nothing upstream learns). So a training step costs
``3 x forward - forward(first)`` per example, times the batch. Biases, activations, pooling,
dropout masks, the loss and the optimizer's update are left out: they are elementwise and a
few percent of the total for the nets timed here.
"""
from __future__ import annotations

import math

from bench.spec import layer_inputs, layer_shapes


def forward_flops(layers, input_shape) -> list[int]:
    """The forward FLOPs per example of each kernel-matmul layer (Dense, Conv2D), in order."""
    out = []
    for layer, shape_in, shape_out in zip(layers, layer_inputs(layers, input_shape),
                                          layer_shapes(layers, input_shape)):
        if layer.kernel_matmul:
            kernel = layer.param_shapes(shape_in)["kernel"]
            out.append(2 * math.prod(shape_out[:-1]) * math.prod(kernel))
    return out


def training_flops(layers, input_shape) -> int:
    """FLOPs per example of one training step: forward, weight gradient, and input gradient
    for every kernel layer but the first."""
    forward = forward_flops(layers, input_shape)
    return 3 * sum(forward) - (forward[0] if forward else 0)
