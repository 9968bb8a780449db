"""The framework-neutral description of a case: frozen data, no framework imports.

A ``Case`` (``case``) holds a base model, the named ``Arm`` variations of it built from
the layer vocabulary (``layers``), how they train (``training``), the budget per
``Profile`` and the ``Claim`` s to test (``claims``). Backends read these objects and
nothing else. A field left as ``None`` means "the framework's own default"
(``defaults`` names every TF/PyTorch difference). ``registry`` finds the suites,
``overrides`` applies ``bench run --set``.

Suite files import their vocabulary from here: ``from bench.spec import Case, Dense, ...``.
"""
from bench.spec.case import MODES, PROFILES, Arm, Case, Profile, check_metrics, producible_metrics
from bench.spec.checks import check_types
from bench.spec.claims import Claim
from bench.spec.inference import INFERENCE_MODES, MC_ROWS, Inference
from bench.spec.job import Job
from bench.spec.layers import (ACTIVATIONS, PADDINGS, SPATIAL_LAYERS, Activation, BatchNorm, Conv2D, Dense,
                               DropBlock, Dropout, Flatten, GaussianDropout, Layer, LSTM, MaxPool2D,
                               SpatialDropout2D, UniformDropout)
from bench.spec.schedules import SCHEDULE_KINDS, Schedule
from bench.spec.shapes import arm_input_shape, layer_inputs, layer_shapes, param_layers
from bench.spec.throughput import Throughput
from bench.spec.training import L1, L2, STOP_MONITORS, Data, EarlyStopping, Loss, Metric, Optimizer

__all__ = ["ACTIVATIONS", "CLAIM_KINDS", "MODES", "PADDINGS", "PROFILES", "SPATIAL_LAYERS", "STOP_MONITORS",
           "Activation", "Arm", "BatchNorm", "Case", "Claim", "Conv2D", "Data", "Dense", "DropBlock", "Dropout",
           "EarlyStopping", "Flatten", "GaussianDropout", "INFERENCE_MODES", "Inference", "Job", "L1", "L2", "LSTM",
           "Layer", "Loss", "MC_ROWS", "MaxPool2D", "Metric", "Optimizer", "Profile", "SCHEDULE_KINDS", "Schedule",
           "SpatialDropout2D", "Throughput", "UniformDropout", "arm_input_shape", "check_metrics",
           "check_types", "layer_inputs", "layer_shapes", "param_layers", "producible_metrics"]


def __getattr__(name: str):
    # ``CLAIM_KINDS`` comes from the kind registry when first asked for (``bench.spec.claims``).
    if name == "CLAIM_KINDS":
        from bench.spec import claims
        return claims.CLAIM_KINDS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
