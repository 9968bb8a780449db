"""How an arm's Bernoulli ``Dropout`` layers train and what the trained net predicts: the
arm's inference mode (``Arm.inference``; None is ``"inverted"``, the frameworks' default).

* ``"inverted"``: in training each kept unit is scaled by 1/keep; at test the layer is the
  identity (``keras.layers.Dropout``, ``torch.nn.Dropout``).
* ``"weight_scaling"``: classic, non-inverted dropout (Srivastava et al. 2014): in training
  kept units pass unscaled (the same masks as inverted dropout would draw, without the
  1/keep); at test every unit is multiplied by keep.
* ``"mc"``: Monte Carlo averaging (Gal & Ghahramani 2016). Training is exactly the inverted
  arm's; at test the prediction is the mean over ``samples`` (k) sampled masks of the output
  distribution: the softmax probabilities for classification (``test_accuracy`` is the argmax
  of the mean, ``test_loss`` the negative log of the mean probability of the true class), the
  raw output for regression (its loss and MAE are those of the mean). Every other layer runs
  as at inference, so a layer whose training mode differs from its inference mode in another
  way (BatchNorm's batch statistics) is not allowed in an ``mc`` arm.

The modes apply to ``Dropout`` layers only; each layer type states the modes it allows
(``LayerRules.inference_modes``), and the other noise layers allow only ``"inverted"``.

MC masks come from a stream of their own (``bench.spec.streams`` ``mc_masks``), restarted at
every evaluation, so an evaluation is a function of the weights alone and never moves the
training masks. The rows are taken ``MC_ROWS`` at a time; for each chunk, sample j = 0..k-1
and, within a sample, the Dropout layers in arm order. PyTorch draws each mask as
``nn.Dropout`` does, from one ``torch.Generator`` per seed seeded with ``mc_seed(seed)``;
TensorFlow draws it as ``keras.layers.Dropout`` does (``stateless_dropout``), with the
stateless seed ``(mc_stream(seed, k), chunk * samples + j)`` for the layer at position k.
The two frameworks draw different masks, as they do in training.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from bench.errors import SpecError
from bench.spec import streams

INFERENCE_MODES = ("inverted", "weight_scaling", "mc")
MC_ROWS = 256   # rows per MC pass in every trainer: a row's masks must not depend on the path or group


@dataclass(frozen=True)
class Inference:
    """``mode`` (see the module docstring); ``samples``: the masks averaged (k), ``"mc"`` only."""
    mode: Literal["inverted", "weight_scaling", "mc"] = "inverted"
    samples: int = 0

    def validate(self) -> None:
        if self.mode not in INFERENCE_MODES:
            raise SpecError(f"unknown inference mode {self.mode!r}; choose from {INFERENCE_MODES}.")
        if self.mode == "mc" and self.samples < 1:
            raise SpecError(f"inference mode 'mc' needs samples (the masks averaged) >= 1, got {self.samples}.")
        if self.mode != "mc" and self.samples:
            raise SpecError(f"samples is the number of masks MC averaging draws; inference mode "
                            f"{self.mode!r} draws none, so leave it 0 (got {self.samples}).")

    def check_layers(self, layers) -> None:
        """Every layer allows this mode, and a mode other than ``"inverted"`` has a Dropout to act on."""
        for i, layer in enumerate(layers):
            if self.mode not in layer.inference_modes:
                raise SpecError(f"inference mode {self.mode!r} does not apply to layer {i} "
                                f"({type(layer).__name__}), which allows only {layer.inference_modes}.")
        if self.mode != "inverted" and not any(layer.stochastic for layer in layers):
            raise SpecError(f"inference mode {self.mode!r} acts on Dropout layers, and this arm has none.")


def mode_of(arm) -> str:
    """The arm's inference mode: ``"inverted"`` without an ``Inference``."""
    return "inverted" if arm.inference is None else arm.inference.mode


def mc_seed(seed: int) -> int:
    """The PyTorch MC mask generator's seed for ``seed``."""
    return int(np.random.SeedSequence(streams.key(seed, "mc_masks")).generate_state(1)[0])


def mc_stream(seed: int, k: int) -> int:
    """The TensorFlow MC stream of the Dropout layer at position ``k`` of ``seed``'s arm."""
    # k + 1: SeedSequence pads entropy with zeros, so [seed, 5, 0] would be mc_seed's [seed, 5]
    return int(np.random.SeedSequence(streams.key(seed, "mc_masks", k + 1)).generate_state(1)[0])
