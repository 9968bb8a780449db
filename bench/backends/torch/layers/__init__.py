"""The torch backend's layers: ``KITS``, a table keyed by the spec's layer
class whose entries (``kit.Kit``) hold everything both trainers know about that
layer type (its modules and weights per seed, its seed-stacked weights and forward
op in a group, what it draws). A new layer type adds one kit here and nothing to
``single`` or ``group``. One module per family: ``dense``, ``conv`` (with
MaxPool2D, Flatten and the NCHW layout changes), ``norm``, ``activation``, ``noise``,
``recurrent`` (LSTM with Keras's dropout semantics, per seed only).
"""
from __future__ import annotations

from torch import nn

from bench.backends.torch.layers.activation import ACTIVATIONS, ActivationKit
from bench.backends.torch.layers.conv import (ChannelsFirst, Conv2DKit, FlattenHWC, FlattenKit, MaxPool2DKit,
                                              pool_before_relu)
from bench.backends.torch.layers.dense import DenseKit
from bench.backends.torch.layers.kit import KEEP_MASKS, NOISE, Kit
from bench.backends.torch.layers.noise import (ClassicDropout, DropBlock2d, DropBlockKit, DropoutKit,
                                               GaussianDropoutKit, GaussianNoiseDropout, SpatialDropout2DKit,
                                               UniformDropoutKit, UniformNoiseDropout, dropblock_gamma, scheduled_rate)
from bench.backends.torch.layers.norm import BatchNormKit
from bench.backends.torch.layers.recurrent import KerasLSTM, LSTMKit
from bench.errors import SpecError
from bench.spec import (LSTM, Activation, BatchNorm, Conv2D, Dense, DropBlock, Dropout, Flatten, GaussianDropout,
                        MaxPool2D, SpatialDropout2D, UniformDropout, arm_input_shape, layer_shapes)

KITS: dict[type, Kit] = {
    Dense: DenseKit(),
    Dropout: DropoutKit(),
    BatchNorm: BatchNormKit(),
    Activation: ActivationKit(),
    Conv2D: Conv2DKit(),
    MaxPool2D: MaxPool2DKit(),
    Flatten: FlattenKit(),
    SpatialDropout2D: SpatialDropout2DKit(),
    DropBlock: DropBlockKit(),
    GaussianDropout: GaussianDropoutKit(),
    UniformDropout: UniformDropoutKit(),
    LSTM: LSTMKit(),
}


def kit_for(layer) -> Kit:
    """The kit of a spec layer; a SpecError for a layer type the backend lacks."""
    kit = next((kit for kind, kit in KITS.items() if isinstance(layer, kind)), None)
    if kit is None:
        raise SpecError(f"layer {layer!r} is not supported by the torch backend.")
    return kit


def image_module(layer, in_channels: int) -> nn.Module:
    """The module for one image layer of the spec; its input is NCHW."""
    kit = next((kit for kind, kit in KITS.items() if isinstance(layer, kind)), None)
    if kit is None or kit.module is None:
        raise TypeError(f"{layer!r} is not an image layer.")
    return kit.module(layer, in_channels)


def build(layers, input_shape: tuple, defaults: dict,
          mode: str = "inverted") -> tuple[nn.Sequential, list[tuple[Kit, nn.Module]]]:
    """The model, and (kit, module) of its parameter-owning modules in spec order. A
    conv arm's flat input rows become NCHW first (``ChannelsFirst``). ``defaults`` is
    the table of ``bench.backends.torch.defaults``; ``mode`` the arm's inference mode."""
    kits = [kit_for(layer) for layer in layers]   # an unknown layer: this backend's one sentence, first
    first = arm_input_shape(layers, input_shape)
    inputs = [first] + layer_shapes(layers, input_shape)[:-1]
    modules, owners = ([ChannelsFirst(*first)] if len(first) == 3 else []), []
    starts = []   # the index of each layer's first module (MC averaging runs the part before a Dropout once)
    for kit, layer, shape in zip(kits, layers, inputs):
        starts.append(len(modules))
        made, owner = kit.build(layer, shape, defaults) if mode == "inverted" else kit.build_mode(layer, shape,
                                                                                                 defaults, mode)
        modules += made
        if owner is not None:
            owners.append((kit, owner))
    model = nn.Sequential(*pool_before_relu(modules))
    model.layer_starts = starts
    return model, owners


__all__ = ["ACTIVATIONS", "KEEP_MASKS", "KITS", "NOISE", "ChannelsFirst", "ClassicDropout", "DropBlock2d",
           "FlattenHWC", "GaussianNoiseDropout", "KerasLSTM", "Kit", "UniformNoiseDropout", "build", "dropblock_gamma",
           "image_module", "kit_for", "scheduled_rate"]
