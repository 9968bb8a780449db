"""Everything the TensorFlow backend knows per layer type: one kit instance per spec
layer class (``KITS``, found by ``kit_for``; ``kit.Kit`` says what a kit holds), so a
new layer type adds one kit and one entry here. ``keras_layer`` builds the
per-seed path's Keras layer for one spec layer, ``layer_stream`` seeds it.

The kits by family: ``dense``, ``conv`` (Conv2D, MaxPool2D, Flatten), ``norm``
(BatchNorm), ``activation``, ``noise`` (the dropout family, with the Keras
layers ``DropBlock`` and ``UniformDropout`` the frameworks do not ship),
``recurrent`` (LSTM, per seed only).
"""
from __future__ import annotations

import numpy as np

from bench import spec
from bench.backends.tf.layers.activation import ActivationKit
from bench.backends.tf.layers.kit import Kit
from bench.backends.tf.layers.conv import Conv2DKit, FlattenKit, MaxPool2DKit
from bench.backends.tf.layers.dense import DenseKit
from bench.backends.tf.layers.noise import (ClassicDropout, DropBlock, DropBlockKit, DropoutKit, GaussianDropoutKit,
                                            SpatialDropout2DKit, UniformDropout, UniformDropoutKit, dropblock_gamma,
                                            scheduled_rate)
from bench.backends.tf.layers.norm import BatchNormKit
from bench.backends.tf.layers.recurrent import LSTMKit
from bench.errors import SpecError
from bench.spec import streams

# spec layer class -> its kit
KITS: dict[type, Kit] = {
    spec.Dense: DenseKit(),
    spec.Dropout: DropoutKit(),
    spec.Conv2D: Conv2DKit(),
    spec.MaxPool2D: MaxPool2DKit(),
    spec.Flatten: FlattenKit(),
    spec.SpatialDropout2D: SpatialDropout2DKit(),
    spec.DropBlock: DropBlockKit(),
    spec.GaussianDropout: GaussianDropoutKit(),
    spec.UniformDropout: UniformDropoutKit(),
    spec.BatchNorm: BatchNormKit(),
    spec.Activation: ActivationKit(),
    spec.LSTM: LSTMKit(),
}


def kit_for(layer: spec.Layer) -> Kit:
    """The kit of a spec layer; a SpecError for a layer type this backend lacks."""
    for kind, kit in KITS.items():
        if isinstance(layer, kind):
            return kit
    raise SpecError(f"layer {layer!r} is not supported by the tf backend.")


def layer_stream(seed: int, k: int) -> int:
    """The Keras seed of the stochastic layer at position ``k`` of seed ``seed``'s arm.
    Each layer gets its own stream: one shared seed would make layers of equal
    shape draw identical masks."""
    return int(np.random.SeedSequence(streams.key(seed, "layer_seed", k)).generate_state(1)[0])


def keras_layer(layer: spec.Layer, seed: int, k: int, defaults: dict, mode: str = "inverted"):
    """The Keras layer for one spec layer; ``k`` is its position in the arm, ``defaults``
    the Keras column (``bench.backends.tf.defaults``), ``mode`` the arm's inference mode."""
    stream = layer_stream(seed, k)
    if mode == "inverted":
        return kit_for(layer).build(layer, stream, defaults)
    return kit_for(layer).build_mode(layer, stream, defaults, mode)


__all__ = ["KITS", "ClassicDropout", "DropBlock", "Kit", "UniformDropout", "dropblock_gamma", "keras_layer", "kit_for",
           "layer_stream", "scheduled_rate"]
