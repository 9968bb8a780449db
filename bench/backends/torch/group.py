"""Vectorized seeds in PyTorch: S seeds of one arm trained as one wide model.

Each seed's parameters are leaf tensors of their own, views of its block of
one seed-stacked tensor per weight, which the forward pass uses as it is (no
copy to join the seeds). Flat activations are ``(S, batch, features)`` and go
through batched matmuls (``torch.bmm``); feature maps are ``(batch, S*C, H, W)``
and go through grouped convolutions (``groups=S``), so each seed only ever
sees its own channels; BatchNorm normalizes the ``S*F`` columns of
``(batch, S*F)``, which keeps its statistics per seed. The objective is the sum
of the per-seed objectives, so each seed's gradient is exactly its own. L2 is
the optimizer's weight decay (the same gradient, ``coef * p``, as the per-seed
path's explicit ``coef * sum(p**2) / 2`` term, whose value is still added to
the reported loss).

What equals the per-seed path (``bench.backends.torch.single.Trainer``) for a seed:
initial weights and batch order (both from ``bench.run.seeds``) exactly, and on
the CPU the dropout masks exactly too: seed s draws its masks from its own
``torch.Generator`` seeded with s, with the same calls, shapes and memory
order as the per-seed path makes on its private generator state (Dropout's
``bernoulli_`` as the float64 uniforms it is made of, see
``_bernoulli_is_uniform_below``; where only keep masks are drawn, the same words
come from a compiled copy of each generator, ``bench.backends.torch.mt``). What differs
is the float rounding of batched versus single kernels (about 1 ulp per op),
which training amplifies; ``tests/test_group.py`` bounds it. On CUDA the
per-seed path's dropout is a fused kernel with another draw order, so masks
there are only equal in distribution.

Group independence (a seed's record is the same bits whichever seeds share
its group): no operation mixes seeds; a batched matmul computes each slice of a
group of two or more alike whatever the others are, once every slice starts on
a 64-byte boundary (``bench.backends.torch.seedmm``; tested also on MKL's SSE4.2
path, whose kernels depend on alignment); reductions over
the seed axis are avoided (``_rowsum``, the Dense kit's bias add) because they may split
rows differently as S changes; and the optimizer steps every seed's tensors
alone, at their own size, so its vector loops and tails are those of S = 1
(Adam by its fused kernel called directly, ``bench.backends.torch.adam``). A
group of one would take different single-matrix kernels, so it is padded with
a copy of its seed, whose results are dropped.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from bench.backends import EVAL_ROWS
from bench.backends.torch import adam as torch_adam
from bench.backends.torch import inference, seedmm
from bench.backends.torch.defaults import table
from bench.backends.torch.device import training_device as _device
from bench.backends.torch.layers import KEEP_MASKS, kit_for
from bench.backends.torch.masks import bernoulli_is_uniform_below as _bernoulli_is_uniform_below
from bench.backends.torch.masks import compiled_streams
from bench.backends.torch.optimizer import build_optimizer, matched_eps, set_keras_eps
from bench.errors import SpecError
from bench.spec import MC_ROWS, arm_input_shape, layer_shapes
from bench.spec.gradients import recorded, wants_grad_norms
from bench.spec.inference import mc_seed, mode_of


def _rowsum(t):
    """(S, k) -> (S,) row sums as a batched matrix-vector product. A plain
    ``sum(1)`` may split its rows differently as S changes, which would let a
    seed's numbers depend on the size of its group; a batched matmul computes
    each slice alike whatever the others are (S >= 2, see the module docstring)."""
    s, k = t.shape
    return seedmm.bmm(t.reshape(s, 1, k), t.new_ones(1, k, 1).expand(s, k, 1)).reshape(s)


def _mask_streams(layers, gens: list, device: torch.device):
    """``bench.backends.torch.mt.SeedStreams`` over ``gens`` where they draw the same
    masks as torch, faster: on the CPU, when every stochastic layer draws keep masks
    only (Dropout, SpatialDropout2D: their kits' ``draws``; so nothing else draws
    while the streams hold the states), numba is installed and
    ``torch_mt.exact()`` holds. Otherwise None, and torch draws."""
    noisy = [kit.draws for kit in map(kit_for, layers) if kit.draws is not None]
    if device.type != "cpu" or not noisy or not all(draws == KEEP_MASKS for draws in noisy):
        return None
    if not _bernoulli_is_uniform_below(device):
        return None
    return compiled_streams(gens)


class GroupTrainer:
    """Trains ``len(seeds)`` seeds of ``job.arm`` at once; ``params[i]`` is seed i's
    initial weights (``bench.run.seeds.initial_params``)."""

    def __init__(self, job, params: list[list[dict]], seeds: list[int]):
        if job.framework != "torch":
            raise SpecError(f"the torch backend got a job for framework {job.framework!r}.")
        if len(params) != len(seeds) or not seeds:
            raise SpecError(f"a group needs one parameter set per seed; got {len(params)} for {len(seeds)} seeds.")
        job.arm.validate()
        self.job, self.n = job, len(seeds)
        if self.n == 1:  # see the module docstring: a group of one is padded
            params, seeds = params * 2, seeds * 2
        self.S = len(seeds)
        self.device = _device()
        defaults = table(job.mode)
        self.classify = job.case.loss.name == "softmax_cross_entropy"
        self.regression = job.case.loss.name
        self._first = arm_input_shape(job.arm.layers, tuple(job.case.input_shape))
        shapes = [self._first] + layer_shapes(job.arm.layers, tuple(job.case.input_shape))
        self._layers = [(kit_for(layer), layer, shapes[i]) for i, layer in enumerate(job.arm.layers)]
        self.defaults = defaults
        self._owners = [(kit, layer) for kit, layer, _ in self._layers if kit.weights]
        self._stores, self._leaves = self._stack(params)
        l2 = job.arm.l2
        self._l2_coef = l2.coef if l2 else 0.0
        # The per-seed path's L2 set (every trainable tensor, or only the kernels), as
        # the optimizer's weight decay: for Adam and SGD (not AdamW) ``weight_decay=c``
        # adds c * p to the gradient, the gradient of c * sum(p**2) / 2, in one fused
        # pass instead of a square, a sum and their backward per tensor and seed.
        named = [(name, store, entry[name], kit)
                 for (kit, _), store, entry in zip(self._owners, self._stores, self._leaves) for name in entry]
        decays = [bool(self._l2_coef) and (l2.include_bias or name in kit.kernels) for name, _, _, kit in named]
        self._l2 = [store[name] for (name, store, _, _), d in zip(named, decays) if d]   # joined tensors
        l1 = job.arm.l1
        self._l1_coef = l1.coef if l1 else 0.0
        # L1 is no optimizer option: its gradient, coef * sign(p), is added to the joined
        # gradients in ``_step``; (parameter layer, name) of the tensors it covers.
        self._l1 = [(i, name) for i, ((kit, _), entry) in enumerate(zip(self._owners, self._leaves)) for name in entry
                    if self._l1_coef and (l1.include_bias or name in kit.kernels)]
        # AdamW's weight_decay is its own decoupled decay, so there L2's gradient, coef * p,
        # is added in ``_step`` as L1's is: (parameter layer, name) of the tensors it covers.
        adamw = job.case.optimizer.name == "adamw"
        self._l2_grad = [(i, name) for i, entry in enumerate(self._leaves) for name in entry] if adamw else []
        self._l2_grad = [key for key, d in zip(self._l2_grad, decays) if d]
        groups = [{"params": [t for (_, _, leaves, _), d in zip(named, decays) if d for t in leaves],
                   "weight_decay": self._l2_coef},
                  {"params": [t for (_, _, leaves, _), d in zip(named, decays) if not d for t in leaves]}]
        if adamw:
            groups = [{"params": [t for _, _, leaves, _ in named for t in leaves]}]
        self.optimizer = build_optimizer(job.case.optimizer, [g for g in groups if g["params"]], defaults, job.mode)
        if torch_adam.supports(self.optimizer):
            self.optimizer = torch_adam.SeedAdam(self.optimizer)
        self._keras_eps = matched_eps(job, self.optimizer)
        self._t = 0
        # (parameter layer, kit, spec layer) of each max-norm layer, constrained after every update
        self._max_norms = [(i, kit, layer) for i, (kit, layer) in enumerate(self._owners)
                           if getattr(layer, "max_norm", None) is not None]
        self._lr_steps = None   # this epoch's per-step learning rates (set_schedule), else None
        self._gens = [torch.Generator(self.device).manual_seed(int(s)) for s in seeds]
        self._streams = _mask_streams(job.arm.layers, self._gens, self.device)
        self._x = self._y = None
        self.inference = mode_of(job.arm)   # the Dropout kit reads it (bench.spec.inference)
        self._seeds = seeds
        # Only for a case that asks (bench.spec.gradients): (parameter layer, kit) of each kernel
        # layer, whose per-seed kernel gradient norms ``_step`` takes before the update.
        self._kernels = [(i, kit) for i, ((kit, _), entry) in enumerate(zip(self._owners, self._leaves))
                         if "kernel" in entry] if wants_grad_norms(job.case) else []
        self._norms = self._step_norms = None

    # --- weights ------------------------------------------------------------

    def _stack(self, params: list[list[dict]]) -> tuple[list[dict], list[dict]]:
        """Per parameter layer, the seed-stacked tensors as the forward pass uses them
        (each kit's ``stack``: e.g. Dense kernels ``(S, in, out)``, Conv2D kernels
        ``(S*out, in, kh, kw)``, BN vectors ``(S*F,)``) and, per trainable
        name, S leaf tensors that are views of one seed's block each. The optimizer
        updates the leaves, so every seed's tensor alone (the same sizes, the same
        kernel paths, whatever S is), and so the stacked tensors in place: nothing is
        copied to join the seeds at each step."""
        stores, leaves = [], []
        for k, (kit, layer) in enumerate(self._owners):
            entries = [p[k] for p in params]
            store, views = {}, {}
            for name in entries[0]:
                arr = kit.stack(layer, name, np.stack([np.asarray(e[name], np.float32) for e in entries]))
                store[name] = torch.as_tensor(np.ascontiguousarray(arr), device=self.device)
                if name not in kit.buffers:
                    views[name] = [b.detach().requires_grad_(True) for b in kit.blocks(store[name], self.S)]
            stores.append(store)
            leaves.append(views)
        return stores, leaves

    def _joined(self, grad: bool = False) -> list[dict]:
        """The stacked tensors; with ``grad``, the trainable ones as fresh autograd
        leaves over the same memory, whose gradients ``_scatter`` hands to the seeds."""
        if not grad:
            return self._stores
        return [{name: t.detach().requires_grad_(True) if name in views else t for name, t in store.items()}
                for store, views in zip(self._stores, self._leaves)]

    def _scatter(self, joined: list[dict]) -> None:
        """Each seed's leaf gets its block of the stacked gradient (a view, no copy)."""
        for (kit, _), entry, views in zip(self._owners, joined, self._leaves):
            for name, leaves in views.items():
                grad = entry[name].grad
                if grad is not None:
                    for leaf, block in zip(leaves, kit.blocks(grad.contiguous(), self.S)):
                        leaf.grad = block

    def params(self) -> list[list[dict]]:
        """Each real seed's current weights in the neutral layout."""
        per_seed = [[] for _ in range(self.n)]
        for (kit, layer), entry in zip(self._owners, self._stores):
            for s in range(self.n):
                values = {}
                for name, t in entry.items():
                    values[name] = kit.unstack(layer, name, t.detach().cpu().numpy(), self.S, s).copy()
                per_seed[s].append(values)
        return per_seed

    # --- the forward pass ----------------------------------------------------

    def _to_maps(self, x):
        """(S, n, H*W*C) rows in channels-last order -> (n, S*C, H, W)."""
        h, w, c = self._first
        return x.reshape(self.S, x.shape[1], h, w, c).permute(1, 0, 4, 2, 3).reshape(x.shape[1], self.S * c, h, w)

    def per_seed_noise(self, x, shape, fill, maps_last: bool = False, dtype=torch.float32):
        """Noise for every seed, ``fill(t, g)`` drawing it into ``t`` from seed's own
        generator ``g``, where ``t`` has the per-seed path's shape (``shape(batch)``,
        NCHW or flat) and strides: channels-last maps where ``maps_last``, for the
        per-seed path's input rows become NCHW by a permuted view, so its convolutions
        return channels-last tensors and the ``*_like`` noise of Dropout and
        GaussianDropout fills them in (n, H, W, C) order. Returns the seeds' noise
        stacked as ``(S, *memory order)``, for ``seed_layout``."""
        buf, last = self._noise_buffer(x, shape, maps_last, dtype)
        for block, g in zip(buf.unbind(0), self._gens):
            fill(block.permute(0, 3, 1, 2) if last else block, g)
        return buf

    def _noise_buffer(self, x, shape, maps_last: bool, dtype):
        """``per_seed_noise``'s empty ``(S, *memory order)`` buffer, and whether its maps are channels-last."""
        n = x.shape[1] if x.ndim == 3 else x.shape[0]
        per = tuple(shape(n))
        last = maps_last and len(per) == 4
        return torch.empty(self.S, *((per[0], per[2], per[3], per[1]) if last else per), device=x.device,
                           dtype=dtype), last

    def seed_layout(self, noise, x, maps_last: bool = False):
        """``(S, *memory order)`` noise from ``per_seed_noise`` laid out like ``x``:
        ``(S, n, F)`` rows or ``(n, S*C, h, w)`` maps."""
        if x.ndim == 3:
            return noise
        if maps_last and noise.ndim == 5:
            noise = noise.permute(0, 1, 4, 2, 3)            # (S, n, C, h, w)
        n = noise.shape[1]
        return noise.transpose(0, 1).reshape(n, -1, *noise.shape[3:])

    def keep_mask(self, x, shape, keep: float, maps_last: bool):
        """Dropout's mask, scaled as the per-seed path scales it (``mask.div_(keep)``)."""
        if self._streams is not None:   # it holds the generators' states: torch must not draw now
            if x.dtype != torch.float32:
                raise SpecError(f"the compiled dropout masks are float32; this activation is {x.dtype}.")
            kept, _ = self._noise_buffer(x, shape, maps_last, x.dtype)
            self._streams.keep_masks(kept.numpy().reshape(self.S, -1), keep)   # scaled already
            return self.seed_layout(kept, x, maps_last)
        if _bernoulli_is_uniform_below(x.device):
            uniform = self.per_seed_noise(x, shape, lambda t, g: t.uniform_(generator=g), maps_last, torch.float64)
            # compared straight into x's dtype: a bool mask and its cast cost a pass more
            kept = torch.lt(uniform, keep, out=torch.empty(uniform.shape, dtype=x.dtype, device=x.device))
        else:
            kept = self.per_seed_noise(x, shape, lambda t, g: t.bernoulli_(keep, generator=g), maps_last)
        return self.seed_layout(kept, x, maps_last).div_(keep)

    def _forward(self, x, training: bool, joined=None):
        """``x``: (S, n, features) rows. Returns (S, n, outputs). Each layer is its kit's
        ``group_forward``; a layer with weights takes the next stacked dict."""
        image = len(self._first) == 3
        if image:
            x = self._to_maps(x)
        weights = iter(self._joined() if joined is None else joined)
        for kit, layer, shape in self._layers:
            x = kit.group_forward(self, layer, shape, x, next(weights) if kit.weights else None, training)
        return x

    # --- the objective ----------------------------------------------------------

    def _data_loss(self, out, y):
        """Per-seed mean loss, shape (S,). ``out``: (S, n, k); ``y``: (S, n)."""
        s, n = y.shape
        if self.classify:
            per = F.cross_entropy(out.reshape(s * n, -1), y.reshape(s * n), reduction="none").reshape(s, n)
        else:
            err = out.reshape(s, n) - y
            per = err.abs() if self.regression == "mae" else err.square()
        return _rowsum(per) / n

    def _penalty(self):
        """(S,) ``coef * sum(p**2) / 2`` per seed, for the reported loss (the optimizer's
        weight decay applies its gradient). Each seed's sum of squares is its block's
        dot product with itself, a batched matmul (see ``_rowsum``), added tensor by
        tensor, so the value does not depend on S."""
        total = None
        for joined in self._l2:
            rows = joined.reshape(self.S, 1, -1)
            squares = seedmm.bmm(rows, rows.transpose(1, 2)).reshape(self.S)
            total = squares if total is None else total + squares
        return self._l2_coef / 2 * total

    def _l1_penalty(self):
        """(S,) ``coef * sum|p|`` per seed, for the reported loss, tensor by tensor (``_rowsum``)."""
        total = None
        for i, name in self._l1:
            sums = _rowsum(self._stores[i][name].reshape(self.S, -1).abs())
            total = sums if total is None else total + sums
        return self._l1_coef * total

    def _step(self, x, y):
        if self._keras_eps is not None:
            self._t += 1
            set_keras_eps(self.optimizer, self._keras_eps, self._t)
        self.optimizer.zero_grad(set_to_none=True)
        joined = self._joined(grad=True)
        losses = self._data_loss(self._forward(x, True, joined), y)
        losses.sum().backward()   # each seed's gradient is its own: no term mixes seeds
        for i, name in self._l1:   # autograd's gradient of coef * sum|p|: coef * sign(p), 0 at 0
            t = joined[i][name]
            t.grad.add_(torch.sign(t.detach()), alpha=self._l1_coef)
        for i, name in self._l2_grad:   # L2 under AdamW: the gradient of coef * sum(p**2) / 2
            t = joined[i][name]
            t.grad.add_(t.detach(), alpha=self._l2_coef)
        if self._kernels:   # (S, kernel layers): one norm per seed's block, at its own size
            self._step_norms = torch.stack(
                [torch.stack([torch.linalg.vector_norm(b) for b in kit.blocks(joined[i]["kernel"].grad.contiguous(),
                                                                               self.S)])
                 for i, kit in self._kernels], dim=1)
        self._scatter(joined)
        penalty = self._penalty() if self._l2 else 0.0   # of the weights this step's loss saw
        if self._l1:
            penalty = penalty + self._l1_penalty()
        self.optimizer.step()
        if self._max_norms:   # each seed's block alone, at its own size, as the per-seed path
            with torch.no_grad():
                for i, kit, layer in self._max_norms:
                    kit.constrain_blocks(layer, self._stores[i]["kernel"], self.S)
        return losses.detach() + penalty

    def _mc_out(self, rows, gens: list, streams):
        """MC averaging: k training-mode passes (the spec allows no layer but Dropout whose training
        mode differs) drawing from each seed's MC generator ``gens`` (through ``streams``, their
        compiled copy, where ``_mask_streams`` allows it: the same bits as the per-seed path's
        ``nn.Dropout``), combined into one prediction per seed."""
        h = self._to_maps(rows) if len(self._first) == 3 else rows
        weights = iter(self._joined())
        steps = [(kit, layer, shape, next(weights) if kit.weights else None) for kit, layer, shape in self._layers]
        first = next(i for i, (_, layer, _, _) in enumerate(steps) if layer.stochastic)
        for kit, layer, shape, w in steps[:first]:   # before the first Dropout: the same every sample
            h = kit.group_forward(self, layer, shape, h, w, False)
        saved = self._gens, self._streams
        outs = []
        try:
            self._gens, self._streams = gens, streams
            for _ in range(self.job.arm.inference.samples):
                out = h
                for kit, layer, shape, w in steps[first:]:
                    out = kit.group_forward(self, layer, shape, out, w, True)
                outs.append(out)
        finally:
            self._gens, self._streams = saved
        return inference.combine(outs, self.classify)

    # --- the group interface -----------------------------------------------------

    def _pad(self, per_seed: list) -> list:
        return per_seed * 2 if self.n == 1 else per_seed

    def set_data(self, x, y) -> None:
        self._x = torch.as_tensor(np.asarray(x, np.float32).reshape(len(x), -1), device=self.device)
        y = np.asarray(y)
        dtype = np.int64 if self.classify and np.issubdtype(y.dtype, np.integer) else np.float32
        self._y = torch.as_tensor(y.astype(dtype), device=self.device)

    def fit_epoch(self, batches: list[list[np.ndarray]]) -> np.ndarray:
        """``batches[i]`` is seed i's index arrays for this epoch; returns losses (n_seeds, steps)."""
        if self._x is None:
            raise SpecError("call set_data(x, y) before fit_epoch.")
        batches = self._pad(batches)
        sizes = [len(b) for b in batches[0]]
        if any([len(b) for b in seed] != sizes for seed in batches):
            raise SpecError("the seeds of a group need batches of equal sizes at every step.")
        index = torch.as_tensor(np.stack([np.concatenate(seed) for seed in batches]).astype(np.int64),
                                device=self.device)                               # (S, rows)
        losses = torch.empty(len(sizes), self.S, device=self.device)
        norms = torch.empty(len(sizes), self.S, len(self._kernels), device=self.device) if self._kernels else None
        for i, idx in enumerate(torch.split(index, sizes, dim=1)):
            if self._lr_steps is not None:
                for group in self.optimizer.param_groups:
                    group["lr"] = self._lr_steps[i]
            rows = idx.reshape(-1)   # index_select: a plain gather, faster than advanced indexing
            x = self._x.index_select(0, rows).reshape(*idx.shape, -1)
            losses[i] = self._step(x, self._y.index_select(0, rows).reshape(*idx.shape, *self._y.shape[1:]))
            if norms is not None:
                norms[i] = self._step_norms
        if self._streams is not None:
            self._streams.store()
        if norms is not None:
            self._norms = norms.transpose(0, 1)[:self.n].cpu().numpy().astype(np.float64)
        return losses.T[:self.n].cpu().numpy().astype(np.float64)

    def grad_norms(self) -> np.ndarray:
        """The last ``fit_epoch``'s kernel gradient norms, (seeds, steps, kernel layers), for a
        case that asks for them (``bench.spec.gradients``)."""
        return recorded(self._norms)

    def set_schedule(self, dropout_rate=None, lr=None, momentum=None, lr_steps=None) -> None:
        """This epoch's scheduled values, as ``bench.backends.torch.single.Trainer.set_schedule``:
        ``dropout_rate`` replaces every spec ``Dropout`` layer's rate (its kit reads it at
        each draw), ``lr`` every parameter group's learning rate, ``lr_steps`` its value at
        each step of the epoch, ``momentum`` SGD's momentum."""
        self._lr_steps = None if lr_steps is None else [float(v) for v in lr_steps]
        for group in self.optimizer.param_groups:
            if lr is not None and lr_steps is None:
                group["lr"] = float(lr)
            if momentum is not None:
                group["momentum"] = float(momentum)
        if dropout_rate is not None:
            self._layers = [(kit, kit.with_rate(layer, float(dropout_rate)) if kit.scheduled else layer, shape)
                            for kit, layer, shape in self._layers]

    def evaluate(self, x, y) -> list[dict]:
        x = torch.as_tensor(np.asarray(x, np.float32).reshape(len(x), -1), device=self.device)
        y = np.asarray(y)
        y = torch.as_tensor(y.astype(np.int64 if self.classify and np.issubdtype(y.dtype, np.integer)
                                     else np.float32), device=self.device)
        total = torch.zeros(self.S, device=self.device, dtype=torch.float64)
        hits = torch.zeros(self.S, device=self.device, dtype=torch.float64)
        chunk = EVAL_ROWS  # the same chunks whatever S is: a seed's sums must not depend on its group
        mc = self.inference == "mc"
        if mc:   # restarted at every evaluation, chunks of MC_ROWS, as on the per-seed path
            chunk = MC_ROWS
            gens = [torch.Generator(self.device).manual_seed(mc_seed(s)) for s in self._seeds]
            streams = _mask_streams(self.job.arm.layers, gens, self.device)   # discarded after: nothing to store
        with torch.no_grad():
            for xc, yc in zip(torch.split(x, chunk), torch.split(y, chunk)):
                rows = xc.expand(self.S, *xc.shape)
                labels = yc.expand(self.S, *yc.shape)
                out = self._mc_out(rows, gens, streams) if mc else self._forward(rows, False)
                total += self._data_loss(out, labels).double() * len(xc)
                if self.classify:
                    hits += (out.argmax(-1) == labels).sum(1).double()
                else:
                    hits += _rowsum((out.reshape(self.S, -1) - labels).abs()).double()
        n = len(x)
        key = "accuracy" if self.classify else "mae"
        return [{"loss": float(total[s]) / n, key: float(hits[s]) / n} for s in range(self.n)]
