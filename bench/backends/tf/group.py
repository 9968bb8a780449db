"""Vectorized seeds in TensorFlow: S seeds of one arm trained as one wide model.

The mirror of ``bench.backends.torch.group``. Every variable carries the seed
axis and one Keras optimizer steps them all inside one ``tf.function`` per
epoch. Flat activations are ``(S, batch, features)`` and go through batched
matmuls; feature maps are ``(batch, H, W, S*C)`` (seed-major channel blocks)
and go through grouped convolutions (a kernel of ``cin`` input channels on an
``S*cin``-channel map); batch normalization takes its moments over the batch
axis of ``(S, batch, F)``, so its statistics stay per seed. The objective is the
sum of the per-seed objectives, so each seed's gradient is its own. What each
layer type does here (its stacked variables, its forward op, its draws) is its
kit's, in ``bench.backends.tf.layers``; this module holds the generic machinery.

Equal to the per-seed path (``bench.backends.tf.single.Trainer``) for a seed: initial
weights and batch order exactly, and the dropout masks too: a Keras dropout
layer with ``seed=stream`` draws its j-th training mask from the stateless RNG
with the seed ``[stream, j]`` (``keras.random.SeedGenerator`` state, cast as
Keras's TF backend casts it), so seed s's slice calls the same stateless op
with the same seed and shape. What differs is float rounding of batched
versus single kernels; ``tests/test_group.py`` bounds it. A group of one is
padded with a copy of its seed, as in PyTorch, so that the same batched
kernels always run.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench.backends import EVAL_ROWS  # noqa: E402
from bench.backends.tf import device  # noqa: E402,F401  (sets up the GPUs before TF touches one)
from bench.backends.tf import inference  # noqa: E402
from bench.backends.tf.defaults import table  # noqa: E402
from bench.backends.tf.layers import kit_for, layer_stream  # noqa: E402
from bench.backends.tf.optimizer import build_optimizer, set_scheduled  # noqa: E402
from bench.errors import SpecError  # noqa: E402
from bench.spec import MC_ROWS, arm_input_shape, layer_shapes  # noqa: E402
from bench.spec.gradients import recorded, wants_grad_norms  # noqa: E402
from bench.spec.inference import mode_of  # noqa: E402



class GroupTrainer:
    """Trains ``len(seeds)`` seeds of ``job.arm`` at once; ``params[i]`` is seed i's
    initial weights (``bench.run.seeds.initial_params``)."""

    def __init__(self, job, params: list[list[dict]], seeds: list[int]):
        self.defaults = table(job.mode)
        if job.framework != "tf":
            raise SpecError(f"the tf backend got a job for framework {job.framework!r}.")
        if len(params) != len(seeds) or not seeds:
            raise SpecError(f"a group needs one parameter set per seed; got {len(params)} for {len(seeds)} seeds.")
        job.arm.validate()
        tf.config.experimental.enable_op_determinism()
        self.job, self.n = job, len(seeds)
        if self.n == 1:
            params, seeds = params * 2, seeds * 2
        self.S = len(seeds)
        self.task = job.case.loss.name
        self.classify = self.task == "softmax_cross_entropy"
        if not self.classify and job.arm.layers[-1].units != 1:
            raise SpecError(f"arm {job.arm.name!r}: a {self.task} loss needs a Dense(1) output layer.")
        self.in_features = job.in_features
        self._first = arm_input_shape(job.arm.layers, tuple(job.case.input_shape))
        shapes = [self._first] + layer_shapes(job.arm.layers, tuple(job.case.input_shape))
        self._layers = [(k, layer, shapes[k]) for k, layer in enumerate(job.arm.layers)]
        self._kits = [kit_for(layer) for layer in job.arm.layers]
        # Per stochastic layer: each seed's Keras stream, and a count of the masks drawn so far.
        self._streams = {k: tf.constant([layer_stream(s, k) for s in seeds], tf.int64)
                         for (k, _, _), kit in zip(self._layers, self._kits) if kit.STOCHASTIC}
        self._draws = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.inference = mode_of(job.arm)   # the Dropout kit reads it (bench.spec.inference)
        if self.inference == "mc":   # per stochastic layer, each seed's MC stream (bench.backends.tf.inference)
            per_seed = [inference.streams(s, job.arm.layers) for s in seeds]
            self._mc_streams = {k: tf.constant([m[k] for m in per_seed], tf.int64) for k in self._streams}
        self._owners = [kit for kit in self._kits if kit.PARAMS]   # parallel to self._weights
        self._weights = self._stack(params)
        self.trainable = [v for kit, w in zip(self._owners, self._weights)
                          for name, v in w.items() if name not in kit.STATE]
        self.optimizer = build_optimizer(job.case.optimizer, self.defaults, job.arm.schedules(job.case.optimizer))
        # (kit, spec layer, stacked kernel) of each max-norm layer, constrained after every update
        self._max_norms = [(kit, layer, w["kernel"]) for kit, layer, w in
                           zip(self._owners, [lr for lr, kit in zip(job.arm.layers, self._kits) if kit.PARAMS], self._weights)
                           if getattr(layer, "max_norm", None) is not None]
        self.optimizer.build(self.trainable)
        l2 = job.arm.l2
        self.l2_coef = 0.0 if l2 is None else float(l2.coef)
        self._l2 = self._penalized(l2)
        self._decays = [any(v is w for _, _, w in self._l2) for v in self.trainable]
        l1 = job.arm.l1
        self.l1_coef = 0.0 if l1 is None else float(l1.coef)
        self._l1 = self._penalized(l1)
        self._shrinks = [bool(self.l1_coef) and any(v is w for _, _, w in self._l1) for v in self.trainable]
        # Only for a case that asks (bench.spec.gradients): (kit, index in self.trainable) of
        # each kernel layer's kernel, whose per-seed gradient norms each step then returns.
        self._kernel_at = [(kit, next(i for i, v in enumerate(self.trainable) if v is w["kernel"]))
                           for kit, w in zip(self._owners, self._weights)
                           if "kernel" in w] if wants_grad_norms(job.case) else []
        self._norms = None   # the last fit_epoch's (S, steps, kernel layers) norms
        y_dtype = tf.int32 if self.classify else tf.float32
        self._epoch = None
        self._eval = tf.function(self._eval_sums, input_signature=[
            tf.TensorSpec([None, self.in_features], tf.float32), tf.TensorSpec([None], y_dtype)])
        self._mc_eval = tf.function(self._mc_sums, input_signature=[
            tf.TensorSpec([None, self.in_features], tf.float32), tf.TensorSpec([None], y_dtype),
            tf.TensorSpec([], tf.int64)])

    # --- weights ---------------------------------------------------------------

    def _stack(self, params: list[list[dict]]) -> list[dict]:
        """Each parameter-owning layer's seed-stacked variables, laid out by its kit's ``stack``."""
        out = []
        for k, kit in enumerate(self._owners):
            entries = [p[k] for p in params]
            w = {}
            for name in entries[0]:
                arr = kit.stack(name, [np.asarray(e[name], np.float32) for e in entries])
                w[name] = tf.Variable(arr, trainable=name not in kit.STATE, name=name)
            out.append(w)
        return out

    def _penalized(self, penalty) -> list[tuple]:
        """(kit, name, variable) of the trainable variables a penalty covers: all of them
        without a penalty or with ``include_bias``, else the kernels (each kit's ``KERNELS``)."""
        return [(kit, name, v) for kit, w in zip(self._owners, self._weights) for name, v in w.items()
                if name not in kit.STATE and (penalty is None or penalty.include_bias or name in kit.KERNELS)]

    def params(self) -> list[list[dict]]:
        per_seed = [[] for _ in range(self.n)]
        for kit, w in zip(self._owners, self._weights):
            for s in range(self.n):
                per_seed[s].append({name: np.array(kit.unstack(name, v.numpy(), s, self.S))
                                    for name, v in w.items()})
        return per_seed

    # --- the forward pass ---------------------------------------------------------

    # The stochastic kits draw through draw_seed, slices and join.

    def draw_seed(self, k: int, s: int):
        """The stateless seed Keras's layer k of seed s uses for its current draw."""
        pair = tf.stack([self._streams[k][s], self._draws])
        return tf.cast(tf.math.floormod(pair, inference.INT32_MOD), tf.int32)

    def slices(self, x):
        """Seed s's part of ``x``, in the per-seed path's layout. ``unstack``/``split``
        rather than indexing: their gradients are one ``stack``/``concat``, where
        S index ops would each pad a full-size gradient (S**2 work)."""
        return tf.unstack(x) if len(x.shape) == 3 else tf.split(x, self.S, axis=-1)

    def join(self, parts, flat: bool):
        return tf.stack(parts) if flat else tf.concat(parts, axis=-1)

    def _forward(self, x, training: bool):
        """``x``: (S, n, features) rows -> (S, n, outputs)."""
        if len(self._first) == 3:
            h, w, c = self._first
            n = tf.shape(x)[1]
            x = tf.reshape(tf.transpose(tf.reshape(x, [self.S, n, h, w, c]), [1, 2, 3, 0, 4]),
                           [n, h, w, self.S * c])
        weights = iter(self._weights)
        for (k, layer, shape), kit in zip(self._layers, self._kits):
            x = kit.group_forward(self, k, layer, shape, x, next(weights) if kit.PARAMS else None, training)
        return x

    # --- the objective --------------------------------------------------------------

    def _per_example(self, out, y):
        """(S, n) losses; ``out`` (S, n, k), ``y`` (S, n)."""
        if self.classify:
            return tf.nn.softmax_cross_entropy_with_logits(labels=tf.one_hot(y, tf.shape(out)[-1]), logits=out)
        err = tf.squeeze(out, -1) - y
        return tf.abs(err) if self.task == "mae" else tf.square(err)

    def _penalty(self):
        """(S,) per-seed ``coef * sum(p**2) / 2``, as the per-seed path computes it
        (``tf.nn.l2_loss`` per tensor, one op per seed), plus L1's ``coef * sum|p|``.
        Only the value: ``_step`` adds the gradients, ``coef * p`` and ``coef * sign(p)``."""
        total = tf.zeros([self.S])
        for coef, chosen, per_tensor in ((self.l2_coef, self._l2, tf.nn.l2_loss),
                                         (self.l1_coef, self._l1, lambda p: tf.reduce_sum(tf.abs(p)))):
            if coef == 0.0:
                continue
            terms = []
            for kit, name, v in chosen:
                # where the seeds lie in the stacked variable is its kit's layout
                terms.append(_seedwise(per_tensor, kit.seed_parts(v, self.S)))
            total = total + coef * tf.add_n(terms)
        return total

    def _step(self, x, y):
        """The penalty's gradient is added as ``coef * p``: what the tape would give
        (``l2_loss``'s gradient is ``p``, times the upstream ``coef``), without S
        square-and-sum subgraphs and their backward per tensor."""
        with tf.GradientTape() as tape:
            per = self._per_example(self._forward(x, True), y)
            data = _seedwise(tf.reduce_mean, tf.unstack(per))
            total = tf.reduce_sum(data)
        grads = tape.gradient(total, self.trainable)
        if self.l2_coef:
            grads = [g + v * self.l2_coef if decay else g for g, v, decay in zip(grads, self.trainable, self._decays)]
        if self.l1_coef:   # the tape's gradient of coef * sum|p|: coef * sign(p), 0 at 0
            grads = [g + tf.sign(v) * self.l1_coef if shrink else g
                     for g, v, shrink in zip(grads, self.trainable, self._shrinks)]
        losses = data + self._penalty()   # of the weights this step's loss saw
        if self._kernel_at:   # (S, kernel layers), before the update, one norm op per seed's part
            norms = tf.stack([tf.stack([tf.norm(p) for p in kit.seed_parts(grads[i], self.S)])
                              for kit, i in self._kernel_at], axis=1)
            self.optimizer.apply(grads, self.trainable)
            self._constrain()
            self._draws.assign_add(1)
            return losses, norms
        self.optimizer.apply(grads, self.trainable)
        self._constrain()
        self._draws.assign_add(1)
        return losses

    def _constrain(self) -> None:
        """Max-norm after the update, as Keras applies a kernel constraint (``Dense.max_norm``)."""
        for kit, layer, kernel in self._max_norms:
            kernel.assign(kit.constrain(layer, kernel, self.S))

    def _train_epoch(self, index, lengths):
        if self._kernel_at:
            return self._train_epoch_norms(index, lengths)
        steps = tf.shape(lengths)[0]
        losses = tf.TensorArray(tf.float32, size=steps)
        for i in tf.range(steps):
            rows = index[i, :, :lengths[i]]                       # (S, b)
            losses = losses.write(i, self._step(tf.gather(self._x, rows), tf.gather(self._y, rows)))
        return losses.stack()

    def _train_epoch_norms(self, index, lengths):
        """``_train_epoch`` that also returns each step's per-seed kernel gradient norms, (steps, S, kernel layers)."""
        steps = tf.shape(lengths)[0]
        losses = tf.TensorArray(tf.float32, size=steps)
        norms = tf.TensorArray(tf.float32, size=steps)
        for i in tf.range(steps):
            rows = index[i, :, :lengths[i]]
            loss, norm = self._step(tf.gather(self._x, rows), tf.gather(self._y, rows))
            losses, norms = losses.write(i, loss), norms.write(i, norm)
        return losses.stack(), norms.stack()

    def _eval_sums(self, x, y):
        rows = tf.broadcast_to(x[None], [self.S, tf.shape(x)[0], self.in_features])
        return self._sums(self._forward(rows, False), y)

    def _mc_sums(self, x, y, chunk):
        """MC averaging on chunk ``chunk``: each sample is a training-mode pass (the spec allows no
        layer but Dropout whose training mode differs) whose draws take each seed's MC stream
        and the counter chunk * samples + j in place of the training streams, as the per-seed path."""
        h = tf.broadcast_to(x[None], [self.S, tf.shape(x)[0], self.in_features])
        if len(self._first) == 3:
            c = self._first
            h = tf.reshape(tf.transpose(tf.reshape(h, [self.S, tf.shape(x)[0], *c]), [1, 2, 3, 0, 4]),
                           [tf.shape(x)[0], c[0], c[1], self.S * c[2]])
        samples = self.job.arm.inference.samples
        steps = [(kit, k, layer, shape, w) for ((k, layer, shape), kit), w in
                 zip(zip(self._layers, self._kits), self._layer_weights())]
        first = next(i for i, (kit, *_) in enumerate(steps) if kit.STOCHASTIC)
        for kit, k, layer, shape, w in steps[:first]:   # before the first Dropout: the same every sample
            h = kit.group_forward(self, k, layer, shape, h, w, False)
        outs = []
        streams, draws = self._streams, self._draws
        try:
            self._streams = self._mc_streams
            for j in range(samples):
                self._draws = chunk * samples + j
                out = h
                for kit, k, layer, shape, w in steps[first:]:
                    out = kit.group_forward(self, k, layer, shape, out, w, True)
                outs.append(out)
        finally:
            self._streams, self._draws = streams, draws
        return self._sums(inference.combine(outs, self.classify), y)

    def _layer_weights(self) -> list:
        """Each layer's stacked variables (None for a layer without), in arm order."""
        weights = iter(self._weights)
        return [next(weights) if kit.PARAMS else None for kit in self._kits]

    def _sums(self, out, y):
        labels = tf.broadcast_to(y[None], [self.S, tf.shape(y)[0]])
        per = self._per_example(out, labels)
        if self.classify:
            metric = tf.cast(tf.argmax(out, -1, output_type=tf.int32) == labels, tf.float32)
        else:
            metric = tf.abs(tf.squeeze(out, -1) - labels)
        return tuple(_seedwise(tf.reduce_sum, tf.unstack(t)) for t in (per, metric))

    # --- the group interface ---------------------------------------------------------

    def set_data(self, x, y) -> None:
        self._x = tf.convert_to_tensor(np.asarray(x, np.float32).reshape(len(x), self.in_features))
        self._y = tf.convert_to_tensor(np.asarray(y, np.int32 if self.classify else np.float32).reshape(-1))
        self._epoch = tf.function(self._train_epoch, input_signature=[
            tf.TensorSpec([None, self.S, None], tf.int32), tf.TensorSpec([None], tf.int32)])

    def fit_epoch(self, batches: list[list[np.ndarray]]) -> np.ndarray:
        if self._epoch is None:
            raise SpecError("call set_data() before fit_epoch().")
        if self.n == 1:
            batches = batches * 2
        sizes = [len(b) for b in batches[0]]
        if any([len(b) for b in seed] != sizes for seed in batches):
            raise SpecError("the seeds of a group need batches of equal sizes at every step.")
        if not sizes:
            return np.zeros((self.n, 0))
        index = np.zeros((len(sizes), self.S, max(sizes)), np.int32)
        for s, seed in enumerate(batches):
            for i, b in enumerate(seed):
                index[i, s, :len(b)] = b
        losses = self._epoch(tf.constant(index), tf.constant(np.array(sizes, np.int32)))
        if self._kernel_at:
            losses, norms = losses
            self._norms = norms.numpy().transpose(1, 0, 2)[:self.n].astype(np.float64)
        return losses.numpy().T[:self.n].astype(np.float64)

    def grad_norms(self) -> np.ndarray:
        """The last ``fit_epoch``'s kernel gradient norms, (seeds, steps, kernel layers), for a
        case that asks for them (``bench.spec.gradients``)."""
        return recorded(self._norms)

    def set_schedule(self, dropout_rate=None, lr=None, momentum=None, lr_steps=None) -> None:
        """This epoch's scheduled values, as ``bench.backends.tf.single.Trainer.set_schedule``:
        ``dropout_rate`` replaces every spec ``Dropout`` layer's rate (a constant of the
        traced epoch, so a new one retraces it; the draw counter steps on at rate 0 too),
        ``lr``, ``lr_steps`` and ``momentum`` the optimizer's variables."""
        set_scheduled(self.optimizer, lr, momentum, lr_steps)
        if dropout_rate is None:
            return
        layers = [(k, kit.with_rate(layer, float(dropout_rate)) if kit.SCHEDULED else layer, shape)
                  for (k, layer, shape), kit in zip(self._layers, self._kits)]
        if layers == self._layers:
            return
        self._layers = layers
        if self._epoch is not None:   # a fresh Python function: TF's frequent-retracing warning counts per function
            self._epoch = tf.function(lambda index, lengths: self._train_epoch(index, lengths), input_signature=[
                tf.TensorSpec([None, self.S, None], tf.int32), tf.TensorSpec([None], tf.int32)])

    def evaluate(self, x, y) -> list[dict]:
        x = np.asarray(x, np.float32).reshape(len(x), self.in_features)
        y = np.asarray(y, np.int32 if self.classify else np.float32).reshape(-1)
        n = len(x)
        loss, metric = np.zeros(self.S), np.zeros(self.S)
        chunk = EVAL_ROWS  # the same chunks whatever S is: a seed's sums must not depend on its group
        mc = self.inference == "mc"
        chunk = MC_ROWS if mc else chunk   # MC masks are drawn per chunk of MC_ROWS, as on the per-seed path
        for i, start in enumerate(range(0, n, chunk)):
            rows = (tf.constant(x[start:start + chunk]), tf.constant(y[start:start + chunk]))
            sums = self._mc_eval(*rows, tf.constant(i, tf.int64)) if mc else self._eval(*rows)
            loss += sums[0].numpy()
            metric += sums[1].numpy()
        key = "accuracy" if self.classify else "mae"
        return [{"loss": loss[s] / n, key: metric[s] / n} for s in range(self.n)]


def _seedwise(reduce, parts):
    """(S,) reductions, one op per seed: a reduction over one axis of an (S, n)
    tensor may split its rows differently as S changes, which would let a
    seed's numbers depend on the size of its group."""
    return tf.stack([reduce(p) for p in parts])

