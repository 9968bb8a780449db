"""The kit of ``bench.spec.LSTM``: Keras's own ``keras.layers.LSTM`` per seed, its
dropout masks seeded by the layer's stream; the arm's flat rows become (steps,
features) sequences in the trainer's head (``bench.spec.arm_input_shape``).

Keras draws each mask once per sequence from its ``SeedGenerator`` and keeps it over
the time steps; with ``recurrent_dropout > 0`` it draws four input and four recurrent
masks (one per gate, its implementation 1), else one input mask. No group path: the
spec says ``vectorized = False``, so a case with an LSTM trains seed by seed.
"""
from __future__ import annotations

import keras

from bench.backends.tf.layers.kit import Kit
from bench.errors import SpecError

NO_GROUP = "LSTM has no group path; a case holding one trains seed by seed (bench.run.grouping)."


class LSTMKit(Kit):
    PARAMS = ("kernel", "recurrent_kernel", "bias")
    KERNELS = ("kernel", "recurrent_kernel")
    STOCHASTIC = True

    @staticmethod
    def build(layer, stream, defaults):
        # Initializers are Keras's defaults; the trainer overwrites them with the neutral weights.
        return keras.layers.LSTM(layer.units, dropout=layer.dropout, recurrent_dropout=layer.recurrent_dropout,
                                 return_sequences=layer.return_sequences, seed=stream)

    @staticmethod
    def variables(built):
        cell = built.cell
        return [("kernel", cell.kernel), ("recurrent_kernel", cell.recurrent_kernel), ("bias", cell.bias)]

    @staticmethod
    def stack(name, values):
        raise SpecError(NO_GROUP)

    @staticmethod
    def group_forward(trainer, k, layer, shape, x, weights, training):
        raise SpecError(NO_GROUP)
