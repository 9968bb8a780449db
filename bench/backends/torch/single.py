"""The PyTorch backend: builds ``job.arm`` as an ``nn.Sequential`` and trains it.

Hyperparameters the spec leaves as ``None`` resolve through
``FRAMEWORK_DEFAULTS``: PyTorch's column under ``mode="as_written"``, the
Keras column under ``mode="matched"``. BatchNorm momentum is stored in the
Keras convention (weight on the old average), so PyTorch gets ``1 - m``.

Dropout masks come from PyTorch's own RNG. ``nn.Dropout`` takes no generator,
so each trainer keeps a private copy of the default generator's state, seeded
with ``seed``, and swaps it in around its forward passes: two trainers then
never disturb each other's masks, and the same seed gives bit-identical runs.
"""
from __future__ import annotations

import contextlib
import functools
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench.run import devices
from bench.backends.torch.layers import ChannelsFirst, image_module
from bench.errors import SpecError
from bench.spec import (FRAMEWORK_DEFAULTS, MODES, SPATIAL_LAYERS, Activation, BatchNorm, Conv2D, Dense, Dropout,
                        GaussianDropout, UniformDropout, arm_input_shape, layer_shapes)

EVAL_CHUNK = 4096
_ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
                "softmax": functools.partial(nn.Softmax, dim=-1)}


@functools.lru_cache(maxsize=None)
def _device() -> torch.device:
    """Chosen once per process, as ``--device`` asked (``bench.run.devices``): under auto,
    the first CUDA device if there is one."""
    wanted = devices.requested()
    if wanted not in ("cpu", "auto") and not torch.cuda.is_available():
        raise devices.DeviceError(f"--device {wanted}: PyTorch sees no CUDA device (torch {torch.__version__}, "
                                  f"built for CUDA {torch.version.cuda}); see README, \"Running on GPUs\".")
    if wanted != "cpu" and torch.cuda.is_available():
        index = devices.cuda_index(wanted) or 0
        if index >= torch.cuda.device_count():
            raise devices.DeviceError(f"--device {wanted}: PyTorch sees {torch.cuda.device_count()} CUDA device(s).")
        # cuBLAS is only deterministic with a fixed workspace; this must be set
        # before the first CUDA matmul creates its handle.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        device = torch.device("cuda", index)
    else:
        device = torch.device("cpu")
        # Subnormals flushed to zero, as TensorFlow does on the CPU by default. Set
        # before the thread pool starts, so its threads inherit it. Without it C1's
        # late epochs ran 2.5x slower (15 s -> 39 s an epoch for 16 vectorized seeds):
        # Adam moments of units that stopped learning decay through the subnormal
        # range, where every CPU operation is slow. Only values below 1.2e-38 change.
        torch.set_flush_denormal(True)
        torch.set_num_threads(devices.cpu_threads())   # the usable cores, unless BENCH_THREADS caps them
    # warn_only: an op without a deterministic kernel should warn, not crash a run.
    torch.use_deterministic_algorithms(True, warn_only=True)
    # Deterministic mode also fills every new tensor with NaN before use, a debugging aid
    # that adds a memory pass per allocation (part of the step time measured in README,
    # "Speed"). No result depends on it, since every tensor is written before it is read;
    # the bit-for-bit checks (tests, ``bench check``) would catch it if that stopped holding.
    torch.utils.deterministic.fill_uninitialized_memory = False
    return device


def free_memory():
    """Free bytes on the training device: the GPU's when there is one, else None (host memory)."""
    device = _device()
    return torch.cuda.mem_get_info(device)[0] if device.type == "cuda" else None


def peak_matmul_flops(n: int = 2048, repeats: int = 10) -> float:
    """The best FLOP/s of an n x n fp32 matmul on the suite's device and threads."""
    device = _device()
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    best = float("inf")
    for _ in range(repeats + 2):
        t0 = time.perf_counter()
        torch.mm(a, b)
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best


def versions() -> dict:
    device = _device()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return {"torch": torch.__version__, "device": name, "threads": torch.get_num_threads()}


def _resolved(job) -> dict:
    if job.mode not in MODES:
        raise SpecError(f"unknown mode {job.mode!r}; choose from {MODES}.")
    return FRAMEWORK_DEFAULTS["torch" if job.mode == "as_written" else "tf"]


def _build(layers, input_shape: tuple, defaults: dict) -> tuple[nn.Sequential, list[nn.Module]]:
    """The model, and its parameter-owning modules in spec order. A conv arm's
    flat input rows become NCHW first (``torch_layers.ChannelsFirst``)."""
    first = arm_input_shape(layers, input_shape)
    inputs = [first] + layer_shapes(layers, input_shape)[:-1]
    modules, owners = ([ChannelsFirst(*first)] if len(first) == 3 else []), []
    for layer, shape in zip(layers, inputs):
        width = shape[-1]  # features, or channels of a feature map
        if isinstance(layer, (*SPATIAL_LAYERS, GaussianDropout, UniformDropout)):
            module = image_module(layer, width)
            modules.append(module)
            if isinstance(layer, Conv2D):
                owners.append(module)
                if layer.activation != "linear":
                    modules.append(_ACTIVATIONS[layer.activation]())
        elif isinstance(layer, Dense):
            linear = nn.Linear(width, layer.units, bias=layer.use_bias)
            modules.append(linear)
            owners.append(linear)
            if layer.activation != "linear":
                modules.append(_ACTIVATIONS[layer.activation]())
        elif isinstance(layer, Dropout):
            modules.append(nn.Dropout(p=layer.rate))
        elif isinstance(layer, BatchNorm):
            keras_momentum = defaults["bn_momentum"] if layer.momentum is None else layer.momentum
            eps = defaults["bn_eps"] if layer.eps is None else layer.eps
            bn = nn.BatchNorm1d(width, eps=eps, momentum=1.0 - keras_momentum)
            modules.append(bn)
            owners.append(bn)
        elif isinstance(layer, Activation):
            if layer.name == "softmax" and len(shape) == 3:  # channels are dim 1 of NCHW
                modules.append(nn.Softmax(dim=1))
            elif layer.name != "linear":
                modules.append(_ACTIVATIONS[layer.name]())
        else:
            raise SpecError(f"layer {layer!r} is not supported by the torch backend.")
    return nn.Sequential(*modules), owners


def _optimizer(spec, params, defaults: dict, mode: str) -> torch.optim.Optimizer:
    # fused kernels exist for CPU and CUDA and save one dispatch per tensor.
    if spec.name in ("adam", "adamw"):
        kwargs = dict(lr=defaults["adam_lr"] if spec.lr is None else spec.lr,
                      betas=(defaults["beta1"] if spec.beta1 is None else spec.beta1,
                             defaults["beta2"] if spec.beta2 is None else spec.beta2),
                      eps=defaults["adam_eps"] if spec.eps is None else spec.eps, fused=True)
        if spec.name == "adam":
            return torch.optim.Adam(params, **kwargs)
        # decoupled: p.mul_(1 - lr * wd) before the Adam update, as Keras's AdamW
        return torch.optim.AdamW(params, weight_decay=defaults["adamw_decay"] if spec.weight_decay is None
                                 else spec.weight_decay, **kwargs)
    lr = defaults["sgd_lr"] if spec.lr is None else spec.lr
    if lr is None:
        raise SpecError(f"PyTorch's SGD has no default learning rate; set Optimizer.lr "
                        f"in the case, or use mode 'matched' for Keras's 0.01 (mode is {mode!r}).")
    return torch.optim.SGD(params, lr=lr, momentum=spec.momentum, fused=True)


class Trainer:
    def __init__(self, job, params: list[dict], seed: int):
        if job.framework != "torch":
            raise SpecError(f"the torch backend got a job for framework {job.framework!r}.")
        job.arm.validate()
        self.job = job
        self.device = _device()
        defaults = _resolved(job)
        self.classify = job.case.loss.name == "softmax_cross_entropy"
        self.model, self._owners = _build(job.arm.layers, tuple(job.case.input_shape), defaults)
        self._load(params)
        self.model.to(self.device)
        self.optimizer = _optimizer(job.case.optimizer, list(self.model.parameters()), defaults, job.mode)
        matched_adam = job.mode == "matched" and job.case.optimizer.name in ("adam", "adamw")
        self._keras_eps = self.optimizer.param_groups[0]["eps"] if matched_adam else None
        self._t = 0
        self._l2_coef, self._l2_params = self._penalized(job.arm.l2)
        self._l1_coef, self._l1_params = self._penalized(job.arm.l1)
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
            for module, entry in zip(self._owners, params):
                if isinstance(module, (nn.Linear, nn.Conv2d)):
                    kernel = torch.as_tensor(entry["kernel"])  # (in, out) / (kh, kw, cin, cout)
                    module.weight.copy_(kernel.T if kernel.ndim == 2 else kernel.permute(3, 2, 0, 1))
                    if module.bias is not None:
                        module.bias.copy_(torch.as_tensor(entry["bias"]))
                else:
                    module.weight.copy_(torch.as_tensor(entry["gamma"]))
                    module.bias.copy_(torch.as_tensor(entry["beta"]))
                    module.running_mean.copy_(torch.as_tensor(entry["mean"]))
                    module.running_var.copy_(torch.as_tensor(entry["var"]))

    def params(self) -> list[dict]:
        def host(t):
            return t.detach().cpu().numpy().copy()
        out = []
        for module in self._owners:
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                w = module.weight
                entry = {"kernel": host(w.T if w.ndim == 2 else w.permute(2, 3, 1, 0))}
                if module.bias is not None:
                    entry["bias"] = host(module.bias)
            else:
                entry = {"gamma": host(module.weight), "beta": host(module.bias),
                         "mean": host(module.running_mean), "var": host(module.running_var)}
            out.append(entry)
        return out

    # --- tensors, RNG, objective ---------------------------------------------

    def _penalized(self, penalty) -> tuple[float, list]:
        """A penalty's coefficient (0 without one) and the tensors it covers: every parameter
        with ``include_bias``, else the kernels of the dense and conv layers."""
        if penalty is not None and penalty.include_bias:
            return penalty.coef, list(self.model.parameters())
        kernels = [m.weight for m in self._owners if isinstance(m, (nn.Linear, nn.Conv2d))]
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
            # Keras adds eps to sqrt(v) *before* bias correction, torch after it;
            # eps_t = eps / sqrt(1 - beta2^t) makes torch's update equal Keras's.
            self._t += 1
            group = self.optimizer.param_groups[0]
            group["eps"] = self._keras_eps / (1.0 - group["betas"][1] ** self._t) ** 0.5
        self.optimizer.zero_grad(set_to_none=True)
        loss = self._objective(self.model(x), y)
        loss.backward()
        self.optimizer.step()
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
        self.model.train()
        with self._own_rng():
            for i, idx in enumerate(torch.split(flat, sizes)):
                losses[i] = self._step(self._x.index_select(0, idx), self._y.index_select(0, idx))
        return losses.cpu().numpy().astype(np.float64)

    def step(self, x, y) -> float:
        self.model.train()
        with self._own_rng():
            return float(self._step(*self._tensors(x, y)))

    def loss(self, x, y, training: bool = False) -> float:
        x, y = self._tensors(x, y)
        self.model.train(training)
        with torch.no_grad(), self._own_rng():
            return float(self._objective(self.model(x), y))

    def predict(self, x, training: bool = False) -> np.ndarray:
        x = self._tensors(x)
        self.model.train(training)
        with torch.no_grad(), self._own_rng():
            out = torch.cat([self.model(c) for c in torch.split(x, EVAL_CHUNK)])
        return out.cpu().numpy()

    def evaluate(self, x, y) -> dict:
        x, y = self._tensors(x, y)
        self.model.eval()
        total, hits = torch.zeros((), device=self.device), torch.zeros((), device=self.device)
        with torch.no_grad():
            for xc, yc in zip(torch.split(x, EVAL_CHUNK), torch.split(y, EVAL_CHUNK)):
                out = self.model(xc)
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


from bench.backends.torch.group import GroupTrainer  # noqa: E402,F401  (the vectorized path; it imports this module)
