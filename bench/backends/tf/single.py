"""The TensorFlow/Keras backend: the reference framework of the C-series posts.

Every post trained in TF/Keras, so ``mode`` changes nothing here: the Keras
column (``bench.backends.tf.defaults``) *is* the as-written setup.

Speed: a whole epoch runs inside one ``tf.function`` as a graph loop over a
padded ``(steps, batch)`` index matrix plus a vector of true batch lengths, so
the short last batch needs no retrace and no step returns to Python. The
training set stays on the device and each step gathers its rows there.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench.backends.tf import device  # noqa: E402,F401  (sets up the GPUs before TF touches one)
from bench.backends.tf import inference  # noqa: E402
from bench.backends.tf.defaults import table  # noqa: E402
from bench.backends.tf.layers import keras_layer, kit_for, scheduled_rate  # noqa: E402
from bench.backends.tf.optimizer import build_optimizer, set_scheduled  # noqa: E402
from bench.errors import SpecError  # noqa: E402
from bench.spec import MC_ROWS, Job, arm_input_shape, layer_shapes  # noqa: E402
from bench.spec.gradients import recorded, wants_grad_norms  # noqa: E402
from bench.spec.inference import mode_of  # noqa: E402

EVAL_CHUNK = 2048  # rows per inference pass; bounds activation memory on 60k-row sets


class Trainer:
    def __init__(self, job: Job, params: list[dict], seed: int):
        defaults = table(job.mode)
        if job.framework != "tf":
            raise SpecError(f"the tf backend got a job for framework {job.framework!r}.")
        job.arm.validate()
        self.task = job.case.loss.name
        self.classification = self.task == "softmax_cross_entropy"
        if not self.classification and job.arm.layers[-1].units != 1:
            raise SpecError(f"arm {job.arm.name!r}: a {self.task} loss needs a Dense(1) output layer.")
        # Bit-identical reruns on one device; dropout draws from per-layer seeded
        # stateless streams, and the global seed covers any op left unseeded.
        tf.config.experimental.enable_op_determinism()
        tf.random.set_seed(seed)
        self.in_features = job.in_features
        layer_shapes(job.arm.layers, job.case.input_shape)  # a bad map size is a SpecError, not a Keras one
        first = arm_input_shape(job.arm.layers, job.case.input_shape)
        # Rows arrive flat; a conv arm sees them as channels-last (H, W, C) maps, a recurrent arm as (T, F) sequences.
        head = [keras.Input(shape=(self.in_features,))] + ([keras.layers.Reshape(first)] if len(first) > 1 else [])
        mode = mode_of(job.arm)
        body = [keras_layer(layer, seed, k, defaults, mode) for k, layer in enumerate(job.arm.layers)]
        self.model = keras.Sequential(head + body)
        self._mc = None   # MC averaging: (samples, reshape or None, [(kit, spec layer, Keras layer, stream)])
        if mode == "mc":
            mc = inference.streams(seed, job.arm.layers)
            self._mc = (job.arm.inference.samples, head[1] if len(head) > 1 else None,
                        [(kit_for(layer), layer, built, mc.get(k)) for k, (layer, built)
                         in enumerate(zip(job.arm.layers, body))])
        # (kit, Keras layer) of each parameter-owning layer, in arm order: the neutral parameter list's order
        self._owners = [(kit, built) for kit, built in zip(map(kit_for, job.arm.layers), body) if kit.PARAMS]
        self._set_params(params)
        self.optimizer = build_optimizer(job.case.optimizer, defaults, job.arm.schedules(job.case.optimizer))
        # Build the optimizer's slots now: variables cannot be created inside the graph loop.
        self.optimizer.build(self.model.trainable_variables)
        self.l2_coef, self.l2_vars = self._penalized(job.arm.l2)
        self.l1_coef, self.l1_vars = self._penalized(job.arm.l1)
        self._running_stats = [v for kit, built in self._owners
                               for name, v in kit.variables(built) if name in kit.STATE]
        # Only for a case that asks (bench.spec.gradients): where each kernel layer's kernel
        # sits in the trainable variables, whose gradient norms each step then returns.
        kernels = [v for kit, built in self._owners for name, v in kit.variables(built) if name == "kernel"]
        self._kernel_at = [next(i for i, v in enumerate(self.model.trainable_variables) if v is k)
                           for k in kernels] if wants_grad_norms(job.case) else []
        self._norms = None   # the last fit_epoch's (steps, kernel layers) norms
        y_dtype = tf.int32 if self.classification else tf.float32
        x_spec, y_spec = tf.TensorSpec([None, self.in_features], tf.float32), tf.TensorSpec([None], y_dtype)
        self._step = tf.function(self._train_step, input_signature=[x_spec, y_spec])
        self._forward = tf.function(lambda x, training: self.model(x, training=training), reduce_retracing=True)
        self._objective_fn = tf.function(self._objective, reduce_retracing=True)
        self._eval_chunk = tf.function(self._eval_sums, input_signature=[x_spec, y_spec])
        self._mc_chunk = tf.function(self._mc_sums, input_signature=[x_spec, y_spec, tf.TensorSpec([], tf.int64)])
        self._mc_predict = tf.function(self._mc_out, input_signature=[x_spec, tf.TensorSpec([], tf.int64)])
        self._epoch = None

    # --- the objective, traced into graphs ----------------------------------

    def _penalized(self, penalty) -> tuple[float, list]:
        """A penalty's coefficient (0 without one) and the variables it covers: every trainable
        variable without a penalty or with ``include_bias``, else the kernels (each kit's ``KERNELS``)."""
        if penalty is None or penalty.include_bias:
            return (0.0 if penalty is None else float(penalty.coef)), list(self.model.trainable_variables)
        kernels = [v for kit, built in self._owners for name, v in kit.variables(built) if name in kit.KERNELS]
        return float(penalty.coef), kernels

    def _per_example(self, out, y):
        if self.classification:
            # One-hot categorical cross-entropy from logits, as the C1 post computes it.
            return tf.nn.softmax_cross_entropy_with_logits(labels=tf.one_hot(y, tf.shape(out)[-1]), logits=out)
        err = tf.squeeze(out, -1) - y  # (n,1) -> (n,): comparing with y (n,) must not broadcast to (n,n)
        return tf.abs(err) if self.task == "mae" else tf.square(err)

    def _penalty(self):
        total = tf.constant(0.0)
        if self.l2_coef:
            total = self.l2_coef * tf.add_n([tf.nn.l2_loss(v) for v in self.l2_vars])  # l2_loss = sum(p^2)/2
        if self.l1_coef:   # coef * sum|p|; tf.abs's gradient is sign(p), 0 at 0, as torch's
            total = total + self.l1_coef * tf.add_n([tf.reduce_sum(tf.abs(v)) for v in self.l1_vars])
        return total

    def _objective(self, x, y, training):
        return tf.reduce_mean(self._per_example(self.model(x, training=training), y)) + self._penalty()

    def _train_step(self, x, y):
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            loss = self._objective(x, y, True)
        grads = tape.gradient(loss, variables)
        if self._kernel_at:   # the gradient norms, before the update (bench.spec.gradients)
            norms = tf.stack([tf.norm(grads[i]) for i in self._kernel_at])
            self.optimizer.apply(grads, variables)
            return loss, norms
        self.optimizer.apply(grads, variables)
        return loss

    def _train_epoch(self, index, lengths):
        if self._kernel_at:
            return self._train_epoch_norms(index, lengths)
        steps = tf.shape(lengths)[0]
        losses = tf.TensorArray(tf.float32, size=steps)
        for i in tf.range(steps):
            rows = index[i, :lengths[i]]
            losses = losses.write(i, self._train_step(tf.gather(self._x, rows), tf.gather(self._y, rows)))
        return losses.stack()

    def _train_epoch_norms(self, index, lengths):
        """``_train_epoch`` that also returns each step's kernel gradient norms, (steps, kernel layers)."""
        steps = tf.shape(lengths)[0]
        losses = tf.TensorArray(tf.float32, size=steps)
        norms = tf.TensorArray(tf.float32, size=steps)
        for i in tf.range(steps):
            rows = index[i, :lengths[i]]
            loss, norm = self._train_step(tf.gather(self._x, rows), tf.gather(self._y, rows))
            losses, norms = losses.write(i, loss), norms.write(i, norm)
        return losses.stack(), norms.stack()

    def _eval_sums(self, x, y):
        return self._sums(self.model(x, training=False), y)

    def _mc_out(self, x, chunk):
        """MC averaging's prediction for the rows ``x`` of chunk ``chunk``: each sample runs the
        Dropout layers as in training, with masks from the MC streams, the others at inference."""
        samples, reshape, layers = self._mc
        first = next(i for i, entry in enumerate(layers) if entry[3] is not None)
        h = x if reshape is None else reshape(x)
        for _, _, built, _ in layers[:first]:   # the layers before the first Dropout: the same every sample
            h = built(h, training=False)
        outs = []
        for j in range(samples):
            out = h
            for kit, layer, built, stream in layers[first:]:
                if stream is None:
                    out = built(out, training=False)
                else:
                    out = kit.sample(layer, out, inference.stateless_seed(stream, chunk * samples + j))
            outs.append(out)
        return inference.combine(outs, self.classification)

    def _mc_sums(self, x, y, chunk):
        return self._sums(self._mc_out(x, chunk), y)

    def _sums(self, out, y):
        loss = tf.reduce_sum(self._per_example(out, y))
        if self.classification:
            hits = tf.cast(tf.argmax(out, -1, output_type=tf.int32) == y, tf.float32)
            return loss, tf.reduce_sum(hits)
        return loss, tf.reduce_sum(tf.abs(tf.squeeze(out, -1) - y))

    # --- the interface -------------------------------------------------------

    def _xy(self, x, y=None):
        x = tf.convert_to_tensor(np.asarray(x, np.float32).reshape(len(x), self.in_features))
        if y is None:
            return x
        return x, tf.convert_to_tensor(np.asarray(y, np.int32 if self.classification else np.float32).reshape(-1))

    def set_data(self, x, y) -> None:
        self._x, self._y = self._xy(x, y)
        # Retrace once per data set: the graph captures the tensors above.
        self._epoch = tf.function(self._train_epoch, input_signature=[
            tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32)])

    def fit_epoch(self, batches) -> np.ndarray:
        if self._epoch is None:
            raise SpecError("call set_data() before fit_epoch().")
        if not len(batches):
            return np.zeros(0, np.float32)
        lengths = np.array([len(b) for b in batches], np.int32)
        index = np.zeros((len(batches), lengths.max()), np.int32)
        for i, b in enumerate(batches):
            index[i, :len(b)] = b
        losses = self._epoch(tf.constant(index), tf.constant(lengths))
        if self._kernel_at:
            losses, norms = losses
            self._norms = norms.numpy().astype(np.float64)
        losses = losses.numpy()
        if getattr(self, "_idle_dropout", False):   # see set_schedule: a rate-0 epoch still counts its draws
            scheduled_rate(self.model, 0.0, steps_done=len(batches))
        return losses

    def step(self, x, y) -> float:
        out = self._step(*self._xy(x, y))
        if self._kernel_at:
            out, norms = out
            self._norms = norms.numpy().astype(np.float64)[None]
        return float(out)

    def grad_norms(self) -> np.ndarray:
        """The last ``fit_epoch``'s (or ``step``'s) kernel gradient norms, (steps, kernel layers),
        for a case that asks for them (``bench.spec.gradients``)."""
        return recorded(self._norms)

    def set_schedule(self, dropout_rate=None, lr=None, momentum=None, lr_steps=None) -> None:
        """This epoch's scheduled values (``bench.spec.Schedule``): ``dropout_rate`` becomes
        the rate of every Keras ``Dropout`` layer (the spec's ``Dropout``), ``lr`` the
        optimizer's learning rate (a variable the graphs read), ``lr_steps`` one learning rate
        per step of the epoch and ``momentum`` SGD's (``bench.backends.tf.optimizer``; variables
        too, so neither retraces). A rate is a Python constant
        in the traced graphs, so a new one retraces them: the same ops as a constant-rate
        run at that rate, hence the same masks. Keras skips drawing at rate 0 and so does
        not advance its seed; ``fit_epoch`` advances it by the epoch's steps instead, so a
        layer's j-th step draws with the seed ``[stream, j]`` whatever the rates before,
        as the vectorized path's shared draw counter does."""
        set_scheduled(self.optimizer, lr, momentum, lr_steps)
        if dropout_rate is None:
            return
        self._idle_dropout = float(dropout_rate) == 0.0
        if not scheduled_rate(self.model, float(dropout_rate)):
            return
        x_spec = tf.TensorSpec([None, self.in_features], tf.float32)
        y_spec = tf.TensorSpec([None], tf.int32 if self.classification else tf.float32)
        self._step = tf.function(self._train_step, input_signature=[x_spec, y_spec])
        self._forward = tf.function(lambda x, training: self.model(x, training=training), reduce_retracing=True)
        self._objective_fn = tf.function(self._objective, reduce_retracing=True)
        if self._epoch is not None:   # a fresh Python function: TF's frequent-retracing warning counts per function
            self._epoch = tf.function(lambda index, lengths: self._train_epoch(index, lengths), input_signature=[
                tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.int32)])

    def _keeping_running_stats(self, fn, training: bool):
        """Run ``fn`` without letting a training-mode pass move the running
        statistics (each kit's ``STATE``): evaluating must not train. Dropout's
        RNG still advances, so repeated passes (MC dropout) draw fresh masks."""
        if not (training and self._running_stats):
            return fn()
        saved = [v.numpy() for v in self._running_stats]
        try:
            return fn()
        finally:
            for v, value in zip(self._running_stats, saved):
                v.assign(value)

    def loss(self, x, y, training: bool = False) -> float:
        x, y = self._xy(x, y)
        return float(self._keeping_running_stats(lambda: self._objective_fn(x, y, bool(training)), training))

    def predict(self, x, training: bool = False) -> np.ndarray:
        """Outputs (logits); under MC averaging at inference, the log of the mean probabilities."""
        if self._mc is not None and not training:
            x = np.asarray(x, np.float32)
            return np.concatenate([self._mc_predict(self._xy(x[start:start + MC_ROWS]),
                                                    tf.constant(i, tf.int64)).numpy()
                                   for i, start in enumerate(range(0, len(x), MC_ROWS))])
        x = self._xy(x)
        return self._keeping_running_stats(lambda: self._forward(x, bool(training)), training).numpy()

    def evaluate(self, x, y) -> dict:
        x, y, n = np.asarray(x), np.asarray(y), len(x)
        loss = metric = 0.0
        if self._mc is not None:   # MC averaging: chunks of MC_ROWS, each with its own masks
            for i, start in enumerate(range(0, n, MC_ROWS)):
                sums = self._mc_chunk(*self._xy(x[start:start + MC_ROWS], y[start:start + MC_ROWS]),
                                      tf.constant(i, tf.int64))
                loss, metric = loss + float(sums[0]), metric + float(sums[1])
            return {"loss": loss / n, ("accuracy" if self.classification else "mae"): metric / n}
        for start in range(0, n, EVAL_CHUNK):
            sums = self._eval_chunk(*self._xy(x[start:start + EVAL_CHUNK], y[start:start + EVAL_CHUNK]))
            loss, metric = loss + float(sums[0]), metric + float(sums[1])
        return {"loss": loss / n, ("accuracy" if self.classification else "mae"): metric / n}

    def params(self) -> list[dict]:
        return [{name: np.array(v.numpy()) for name, v in kit.variables(built)} for kit, built in self._owners]

    def _set_params(self, params: list[dict]) -> None:
        if len(params) != len(self._owners):
            raise SpecError(f"got {len(params)} parameter sets for {len(self._owners)} parameter-owning layers.")
        for k, ((kit, built), values) in enumerate(zip(self._owners, params)):
            for name, var in kit.variables(built):
                if name not in values or tuple(np.shape(values[name])) != tuple(var.shape):
                    raise SpecError(f"parameter layer {k}: {name!r} must have shape {tuple(var.shape)}, "
                                    f"got {np.shape(values.get(name))}.")
                var.assign(np.asarray(values[name], np.float32))

