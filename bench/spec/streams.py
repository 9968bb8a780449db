"""The random streams of a seed: one table of names -> key numbers, for every file that draws.

Seed *i*'s random numbers come from numpy streams keyed ``[i, STREAMS[name], *index]``
(``key``), so each use has a stream of its own and adding a use never shifts another's
draws. The numbers are part of every published record: changing one changes the
records, so a new stream takes a new number, never a used one.

* ``batch_order`` 0: the batch order of every epoch (``bench.run.seeds.batch_order``).
* ``dense_init`` 1: the k-th Dense layer's initial weights, keyed by Dense ordinal, so an
  arm that inserts Dropout or BatchNorm keeps the same Dense weights.
* ``layer_seed`` 2: the Keras seed of the stochastic layer at position k of an arm
  (``bench.backends.tf``): one stream per layer, so layers of equal shape draw different masks.
* ``resplit`` 3: a tabular case's per-seed 70/30 split (``bench.data.prepare``).
* ``conv_init`` 4: the k-th Conv2D layer's initial weights; a stream of its own so Dense
  weights of dense-only cases did not change when conv layers arrived. Not 3: numpy's
  SeedSequence pads entropy with zeros, so ``[i, 3, 0]`` is the same stream as ``[i, 3]``.
* ``lstm_init`` 5: the k-th LSTM layer's initial weights (kernel, recurrent kernel, bias,
  drawn in that order from one stream).
* ``mc_masks`` 6: the dropout masks MC averaging draws at test (``bench.spec.inference``).

Dropout masks in PyTorch, and TensorFlow's global seed, come from each framework's own
generator seeded with the integer *i* itself, not from these streams.
"""
from __future__ import annotations

STREAMS = {"batch_order": 0, "dense_init": 1, "layer_seed": 2, "resplit": 3, "conv_init": 4, "lstm_init": 5,
           "mc_masks": 6}


def key(seed: int, stream: str, *index: int) -> list[int]:
    """The entropy of ``stream`` for ``seed`` (and a layer ordinal ``index``), for
    ``numpy.random.default_rng`` or ``SeedSequence``."""
    return [seed, STREAMS[stream], *index]
