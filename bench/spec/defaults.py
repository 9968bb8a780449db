"""What a field left as ``None`` becomes in each framework, and why it differs.

Where TensorFlow/Keras and PyTorch defaults differ, a field left as ``None``
means "the framework's own default" and the backends resolve it (see
``FRAMEWORK_DEFAULTS``). The differences that matter for the claims:

================  ==========================  ===========================
setting           Keras (TF)                  PyTorch
================  ==========================  ===========================
Dense init        glorot_uniform, bias 0      kaiming_uniform(a=sqrt 5),
                                              bias U(+-1/sqrt(fan_in))
Conv2D init       glorot_uniform over         kaiming_uniform(a=sqrt 5),
                  receptive field, bias 0     bias U(+-1/sqrt(fan_in)),
                                              fan_in = kh*kw*cin
Conv layout       channels-last (NHWC)        channels-first (NCHW); the
                                              spec is NHWC, Flatten maps it
Dropout RNG       stateless, seeded per       default generator, seeded
                  layer (SeedGenerator)       per trainer (``bench.backends``)
Subnormals (CPU)  flushed to zero             kept; the suite flushes them
                                              (``bench.backends.torch.single``)
Adam eps          1e-7, added to sqrt(v)      1e-8, added to sqrt(v_hat)
                  before bias correction      after bias correction
SGD lr            0.01                        none (must be set)
BN momentum       0.99 (weight on old mean)   0.1 (weight on new batch)
BN eps            1e-3                        1e-5
BN moving var     biased batch variance       unbiased batch variance
L2                explicit loss term          ``weight_decay=lam`` adds
                                              lam*w to the gradient, i.e.
                                              lam * sum(w^2)/2 in the loss
AdamW decay       0.004                       0.01
================  ==========================  ===========================

``mode="matched"`` (see ``MODES``) makes the PyTorch backend use the Keras
column for init, Adam eps and BN momentum/eps, and Keras's eps placement too
(torch's eps is set to ``eps / sqrt(1 - beta2**t)`` at step t, which makes the
two updates equal); the BN moving-variance estimator stays each framework's own.
"""
from __future__ import annotations

# What "None" resolves to in each backend, kept here so it is stated once.
FRAMEWORK_DEFAULTS = {
    "tf": {"init": "glorot_uniform", "adam_lr": 1e-3, "adam_eps": 1e-7, "sgd_lr": 0.01,
           "beta1": 0.9, "beta2": 0.999, "bn_momentum": 0.99, "bn_eps": 1e-3, "adamw_decay": 0.004},
    "torch": {"init": "kaiming_uniform", "adam_lr": 1e-3, "adam_eps": 1e-8, "sgd_lr": None,
              "beta1": 0.9, "beta2": 0.999, "bn_momentum": 0.99, "bn_eps": 1e-5, "adamw_decay": 0.01},
}
# PyTorch's BN momentum is 1 - Keras's; stored here in the Keras convention.
FRAMEWORK_DEFAULTS["torch"]["bn_momentum"] = 1.0 - 0.1

