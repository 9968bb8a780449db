"""Gradient-norm metrics (C5c, seed 001: "dropout mitigates vanishing gradients"): their
names, which layers they read, and the rules a case asking for them must meet.

The trainers (``bench.backends.<fw>.single`` and ``group``) record, only for a case that
asks for one of ``GRAD_METRICS``, the L2 norm of each kernel layer's kernel gradient at every
training step: the gradient the optimizer applies (dropout active), taken before the update,
per seed. A kernel layer is one with a neutral ``kernel`` parameter (Dense, Conv2D, LSTM's
input kernel); biases, recurrent kernels and BatchNorm vectors are not read.
``bench.run.training`` keeps each epoch's mean per kernel layer as the curves
``grad_norm_0`` (the first kernel layer), ``grad_norm_1``, ... and, over all steps trained:

- ``grad_norm_first``: the mean norm of the first kernel layer's gradient;
- ``grad_ratio_first_last``: log10(mean first-layer norm / mean last-layer norm), the
  scale-free measure of vanishing. It cancels a scale every layer shares, but not what the
  inverted-dropout masks between the two layers add (each scales the backward signal's squared
  norm by 1/keep on average; the C5c suite states the size this gives). Below 0: the first
  layer gets smaller gradients.
"""
from __future__ import annotations

from bench.errors import SpecError
from bench.spec.shapes import layer_inputs

GRAD_NORM_FIRST = "grad_norm_first"
GRAD_RATIO = "grad_ratio_first_last"
GRAD_METRICS = (GRAD_NORM_FIRST, GRAD_RATIO)


def wants_grad_norms(case) -> bool:
    """Whether ``case`` asks for a gradient-norm metric (so its trainers record the norms)."""
    return any(m.name in GRAD_METRICS for m in case.metrics)


def kernel_layers(layers: tuple, input_shape: tuple) -> list[int]:
    """Positions in ``layers`` of the layers with a ``kernel`` parameter, input first."""
    return [i for i, (layer, shape) in enumerate(zip(layers, layer_inputs(tuple(layers), tuple(input_shape))))
            if layer.owns_params and "kernel" in layer.param_shapes(shape)]


def check_grad_metrics(case) -> None:
    """One sentence for a case whose arms cannot give the gradient metrics it asks for."""
    asked = [m.name for m in case.metrics if m.name in GRAD_METRICS]
    if not asked:
        return
    need = 2 if GRAD_RATIO in asked else 1
    for arm in case.arms:
        found = len(kernel_layers(arm.layers, case.input_shape))
        if found < need:
            raise SpecError(f"arm {arm.name!r} has {found} kernel layer(s), but {', '.join(asked)} needs "
                            f"{need} (the ratio compares the first kernel layer's gradient with the last's).")
        if arm.l1 is not None or arm.l2 is not None:
            raise SpecError(f"arm {arm.name!r} has an L1/L2 penalty; the gradient metrics measure the data "
                            f"loss's gradient, so they are only computed for arms without one.")


def recorded(norms):
    """A trainer's ``grad_norms()``: the norms it recorded, or one sentence where it recorded none."""
    if norms is None:
        raise SpecError("no gradient norms: the case asks for no gradient metric, or nothing was trained yet.")
    return norms
