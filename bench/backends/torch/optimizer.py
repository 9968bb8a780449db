"""The torch optimizer of a case, every setting resolved (``bench.spec.defaults``), and
the matched mode's Keras eps placement, for both trainers.
"""
from __future__ import annotations

import torch

from bench.errors import SpecError
from bench.spec.defaults import optimizer_settings


def build_optimizer(spec, params, defaults: dict, mode: str) -> torch.optim.Optimizer:
    """``spec`` is a ``bench.spec.Optimizer``; ``None`` fields take ``defaults``
    (``bench.backends.torch.defaults.table(mode)``)."""
    s = optimizer_settings(spec, defaults)
    # fused kernels exist for CPU and CUDA and save one dispatch per tensor.
    if spec.name in ("adam", "adamw"):
        kwargs = dict(lr=s["lr"], betas=(s["beta1"], s["beta2"]), eps=s["eps"], fused=True)
        if spec.name == "adam":
            return torch.optim.Adam(params, **kwargs)
        # decoupled: p.mul_(1 - lr * wd) before the Adam update, as Keras's AdamW
        return torch.optim.AdamW(params, weight_decay=s["weight_decay"], **kwargs)
    if s["lr"] is None:
        raise SpecError(f"PyTorch's SGD has no default learning rate; set Optimizer.lr "
                        f"in the case, or use mode 'matched' for Keras's 0.01 (mode is {mode!r}).")
    return torch.optim.SGD(params, lr=s["lr"], momentum=s["momentum"], fused=True)


def matched_eps(job, optimizer) -> "float | None":
    """Keras's Adam eps under ``mode="matched"`` (to be placed as Keras places it, see
    ``set_keras_eps``), else None."""
    matched_adam = job.mode == "matched" and job.case.optimizer.name in ("adam", "adamw")
    return optimizer.param_groups[0]["eps"] if matched_adam else None


def set_keras_eps(optimizer, eps: float, t: int) -> None:
    """Keras adds eps to sqrt(v) *before* bias correction, torch after it;
    eps_t = eps / sqrt(1 - beta2^t) at step t makes torch's update equal Keras's."""
    for group in optimizer.param_groups:
        group["eps"] = eps / (1.0 - group["betas"][1] ** t) ** 0.5
