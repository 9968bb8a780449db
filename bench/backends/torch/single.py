"""The PyTorch backend: builds ``job.arm`` as an ``nn.Sequential`` and trains it.

Hyperparameters the spec leaves as ``None`` resolve through
``bench.backends.torch.defaults``: PyTorch's column under ``mode="as_written"``, the
Keras column under ``mode="matched"``. BatchNorm momentum is stored in the
Keras convention (weight on the old average), so PyTorch gets ``1 - m``.

Dropout masks come from PyTorch's own RNG. ``nn.Dropout`` takes no generator,
so each trainer keeps a private copy of the default generator's state, seeded
with ``seed``, and swaps it in around its forward passes: two trainers then
never disturb each other's masks, and the same seed gives bit-identical runs.
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch
import torch.nn.functional as F

from bench.backends.torch.defaults import table
from bench.backends.torch import inference
from bench.backends.torch.device import training_device as _device
from bench.backends.torch.layers import build, kit_for, scheduled_rate
from bench.backends.torch.optimizer import build_optimizer, matched_eps, set_keras_eps
from bench.errors import SpecError
from bench.spec import MC_ROWS
from bench.spec.gradients import recorded, wants_grad_norms
from bench.spec.inference import mc_seed, mode_of

EVAL_CHUNK = 4096


class Trainer:
    def __init__(self, job, params: list[dict], seed: int):
        if job.framework != "torch":
            raise SpecError(f"the torch backend got a job for framework {job.framework!r}.")
        job.arm.validate()
        self.job = job
        self.device = _device()
        defaults = table(job.mode)
        self.classify = job.case.loss.name == "softmax_cross_entropy"
        self.model, self._owners = build(job.arm.layers, tuple(job.case.input_shape), defaults, mode_of(job.arm))
        # MC averaging at test: the masks averaged, and their generator's seed (bench.spec.inference)
        self._mc = (job.arm.inference.samples, mc_seed(seed)) if mode_of(job.arm) == "mc" else None
        self._load(params)
        self.model.to(self.device)
        self.optimizer = build_optimizer(job.case.optimizer, list(self.model.parameters()), defaults, job.mode)
        # (kit, spec layer, module) of each max-norm layer, constrained after every update
        owner_layers = [layer for layer in job.arm.layers if kit_for(layer).weights]
        self._max_norms = [(kit, layer, module) for (kit, module), layer in zip(self._owners, owner_layers)
                           if getattr(layer, "max_norm", None) is not None]
        self._lr_steps = None   # this epoch's per-step learning rates (set_schedule), else None
        self._keras_eps = matched_eps(job, self.optimizer)
        self._t = 0
        self._l2_coef, self._l2_params = self._penalized(job.arm.l2)
        self._l1_coef, self._l1_params = self._penalized(job.arm.l1)
        # Only for a case that asks (bench.spec.gradients): each kernel layer's kernel tensor,
        # whose gradient norms ``_step`` takes before the update.
        self._kernels = [kit.kernel_tensors(module)[0] for kit, module in self._owners
                         if "kernel" in kit.kernels] if wants_grad_norms(job.case) else []
        self._norms = self._step_norms = None
        gen = self._generator()
        saved = gen.get_state()
        gen.manual_seed(seed)
        self._rng_state = gen.get_state()
        gen.set_state(saved)
        self._x = self._y = None

    # --- weights ------------------------------------------------------------

    def _load(self, params: list[dict]) -> None:
        if len(params) != len(self._owners):
            raise SpecError(f"arm {self.job.arm.name!r} has {len(self._owners)} parameter layers, "
                            f"but {len(params)} were given.")
        with torch.no_grad():
            for (kit, module), entry in zip(self._owners, params):
                kit.load(module, entry)

    def params(self) -> list[dict]:
        """Each parameter layer's weights in the neutral layout (``bench.run.seeds``)."""
        return [{name: t.detach().cpu().numpy().copy() for name, t in kit.save(module).items()}
                for kit, module in self._owners]

    # --- tensors, RNG, objective ---------------------------------------------

    def _penalized(self, penalty) -> tuple[float, list]:
        """A penalty's coefficient (0 without one) and the tensors it covers: every parameter
        with ``include_bias``, else the kernels each layer's kit names (``layers``)."""
        if penalty is not None and penalty.include_bias:
            return penalty.coef, list(self.model.parameters())
        kernels = [t for kit, module in self._owners for t in kit.kernel_tensors(module)]
        return (penalty.coef if penalty is not None else 0.0), kernels

    def _generator(self) -> torch.Generator:
        if self.device.type == "cuda":
            return torch.cuda.default_generators[self.device.index or torch.cuda.current_device()]
        return torch.default_generator

    @contextlib.contextmanager
    def _own_rng(self):
        gen = self._generator()
        saved = gen.get_state()
        gen.set_state(self._rng_state)
        try:
            yield
        finally:
            self._rng_state = gen.get_state()
            gen.set_state(saved)

    @contextlib.contextmanager
    def _mc_rng(self):
        """MC averaging's masks: the default generator restarted from the MC seed for one evaluation."""
        gen = self._generator()
        saved = gen.get_state()
        gen.manual_seed(self._mc[1])
        try:
            yield
        finally:
            gen.set_state(saved)

    def _mc_out(self, x):
        """k training-mode passes (the spec allows no layer but Dropout whose training mode
        differs), combined into one prediction; called inside ``_mc_rng``."""
        first = self.model.layer_starts[next(i for i, layer in enumerate(self.job.arm.layers) if layer.stochastic)]
        h = self.model[:first](x)   # the modules before the first Dropout: the same every sample
        return inference.combine([self.model[first:](h) for _ in range(self._mc[0])], self.classify)

    def _tensors(self, x, y=None):
        x = torch.as_tensor(np.asarray(x, np.float32).reshape(len(x), -1), device=self.device)
        if y is None:
            return x
        y = np.asarray(y)
        if self.classify and np.issubdtype(y.dtype, np.integer):
            y = torch.as_tensor(y.astype(np.int64), device=self.device)
        else:   # one-hot / probability targets, or regression targets
            y = torch.as_tensor(y.astype(np.float32), device=self.device)
        return x, y

    def _data_loss(self, out, y):
        if self.classify:
            return F.cross_entropy(out, y)
        out, y = out.reshape(len(out), -1).squeeze(-1), y.reshape(len(y), -1).squeeze(-1)
        if self.job.case.loss.name == "mae":
            return F.l1_loss(out, y)
        return F.mse_loss(out, y)

    def _objective(self, out, y):
        # coef * sum(p^2)/2 is exactly coef * sum(tf.nn.l2_loss(p)), so both
        # frameworks minimise the same function. For plain Adam/SGD torch's
        # weight_decay=coef would give the same gradient, but the explicit term
        # keeps the reported loss comparable and needs no per-param groups.
        loss = self._data_loss(out, y)
        if self._l2_coef:
            loss = loss + self._l2_coef / 2 * sum(p.pow(2).sum() for p in self._l2_params)
        if self._l1_coef:   # coef * sum|p|: abs's gradient is sign(p), 0 at 0, as in TF
            loss = loss + self._l1_coef * sum(p.abs().sum() for p in self._l1_params)
        return loss

    def _step(self, x, y):
        if self._keras_eps is not None:
            self._t += 1
            set_keras_eps(self.optimizer, self._keras_eps, self._t)
        self.optimizer.zero_grad(set_to_none=True)
        loss = self._objective(self.model(x), y)
        loss.backward()
        if self._kernels:   # the gradient norms, before the update (bench.spec.gradients)
            self._step_norms = torch.stack([torch.linalg.vector_norm(t.grad) for t in self._kernels])
        self.optimizer.step()
        if self._max_norms:
            with torch.no_grad():
                for kit, layer, module in self._max_norms:
                    kit.constrain(layer, module)
        return loss.detach()

    # --- the interface ---------------------------------------------------------

    def set_data(self, x, y) -> None:
        self._x, self._y = self._tensors(x, y)

    def fit_epoch(self, batches) -> np.ndarray:
        if self._x is None:
            raise SpecError("call set_data(x, y) before fit_epoch.")
        # One host-to-device copy of all indices and one device-to-host copy of
        # all losses: nothing inside the loop waits for the device.
        sizes = [len(b) for b in batches]
        flat = torch.as_tensor(np.concatenate(batches).astype(np.int64), device=self.device)
        losses = torch.empty(len(batches), device=self.device)
        norms = torch.empty(len(batches), len(self._kernels), device=self.device) if self._kernels else None
        self.model.train()
        with self._own_rng():
            for i, idx in enumerate(torch.split(flat, sizes)):
                if self._lr_steps is not None:
                    for group in self.optimizer.param_groups:
                        group["lr"] = self._lr_steps[i]
                losses[i] = self._step(self._x.index_select(0, idx), self._y.index_select(0, idx))
                if norms is not None:
                    norms[i] = self._step_norms
        if norms is not None:
            self._norms = norms.cpu().numpy().astype(np.float64)
        return losses.cpu().numpy().astype(np.float64)

    def grad_norms(self) -> np.ndarray:
        """The last ``fit_epoch``'s (or ``step``'s) kernel gradient norms, (steps, kernel layers),
        for a case that asks for them (``bench.spec.gradients``)."""
        return recorded(self._norms)

    def set_schedule(self, dropout_rate=None, lr=None, momentum=None, lr_steps=None) -> None:
        """This epoch's scheduled values (``bench.spec.Schedule``): ``dropout_rate`` becomes
        ``p`` of every ``nn.Dropout`` (the spec's ``Dropout``; at p = 0 it draws nothing,
        as the vectorized path), ``lr`` every parameter group's learning rate, ``lr_steps``
        its value at each step of the epoch, ``momentum`` SGD's momentum."""
        self._lr_steps = None if lr_steps is None else [float(v) for v in lr_steps]
        for group in self.optimizer.param_groups:
            if lr is not None and lr_steps is None:
                group["lr"] = float(lr)
            if momentum is not None:
                group["momentum"] = float(momentum)
        if dropout_rate is not None:
            scheduled_rate(self.model, float(dropout_rate))

    def step(self, x, y) -> float:
        self.model.train()
        with self._own_rng():
            loss = float(self._step(*self._tensors(x, y)))
        if self._kernels:
            self._norms = self._step_norms.detach().cpu().numpy().astype(np.float64)[None]
        return loss

    def loss(self, x, y, training: bool = False) -> float:
        x, y = self._tensors(x, y)
        self.model.train(training)
        with torch.no_grad(), self._own_rng():
            return float(self._objective(self.model(x), y))

    def predict(self, x, training: bool = False) -> np.ndarray:
        """Outputs (logits); under MC averaging at inference, the log of the mean probabilities."""
        x = self._tensors(x)
        if self._mc is not None and not training:
            self.model.train()
            with torch.no_grad(), self._mc_rng():
                return torch.cat([self._mc_out(c) for c in torch.split(x, MC_ROWS)]).cpu().numpy()
        self.model.train(training)
        with torch.no_grad(), self._own_rng():
            out = torch.cat([self.model(c) for c in torch.split(x, EVAL_CHUNK)])
        return out.cpu().numpy()

    def evaluate(self, x, y) -> dict:
        x, y = self._tensors(x, y)
        mc = self._mc is not None
        self.model.train(mc)   # MC averaging: Dropout samples (bench.spec.inference)
        chunk = MC_ROWS if mc else EVAL_CHUNK
        total, hits = torch.zeros((), device=self.device), torch.zeros((), device=self.device)
        with torch.no_grad(), (self._mc_rng() if mc else contextlib.nullcontext()):
            for xc, yc in zip(torch.split(x, chunk), torch.split(y, chunk)):
                out = self._mc_out(xc) if mc else self.model(xc)
                total += self._data_loss(out, yc) * len(xc)
                if self.classify:
                    labels = yc if yc.ndim == 1 else yc.argmax(-1)
                    hits += (out.argmax(-1) == labels).sum()
                else:
                    hits += F.l1_loss(out.reshape(len(out), -1).squeeze(-1),
                                      yc.reshape(len(yc), -1).squeeze(-1), reduction="sum")
        n = len(x)
        key = "accuracy" if self.classify else "mae"
        return {"loss": float(total) / n, key: float(hits) / n}

