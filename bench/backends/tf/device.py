"""TensorFlow's devices: the GPUs this process trains on, their free memory, and versions.

Imported by both trainers before they build anything, so the GPUs are set up
before TensorFlow touches one.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from bench.backends import quiet  # noqa: E402
from bench.host import devices  # noqa: E402

if quiet.quiet():   # TF's own Python warnings (tf.function retracing) too, unless `bench -v`
    tf.get_logger().setLevel("ERROR")


def _prepare_gpus() -> list:
    """The GPUs this process trains on, set up before TF touches one: only the one
    ``--device`` names (none for cpu), each with memory growth on, because TF would
    otherwise take nearly all of a GPU's memory at once and leave none to PyTorch,
    which may train in the same process or on the same GPU."""
    wanted = devices.requested()
    gpus = tf.config.list_physical_devices("GPU")
    index = devices.cuda_index(wanted)
    if wanted.startswith("cuda") and index >= len(gpus):
        raise devices.DeviceError(f"--device {wanted}: TensorFlow sees {len(gpus)} GPU(s); a GPU build needs "
                                  f"`pip install tensorflow[and-cuda]` (see docs/running.md, \"Running on GPUs and clusters\").")
    chosen = [] if wanted == "cpu" else [gpus[index]] if wanted.startswith("cuda:") else gpus
    try:
        if chosen != gpus:
            tf.config.set_visible_devices(chosen, "GPU")
        for gpu in chosen:
            tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError as exc:   # TF was initialized before this import; it keeps what it has
        import warnings

        warnings.warn(f"TensorFlow's GPUs were set up before the backend could ({exc}); memory growth may be off.")
    return chosen


_GPUS = _prepare_gpus()


def free_memory():
    """Free bytes of the GPU this backend trains on (from NVML or nvidia-smi: TF itself
    only reports what it has allocated), else None: host memory
    (``bench.run.grouping.host_free_bytes``)."""
    if not _GPUS:
        return None
    # "/physical_device:GPU:k" is the k-th entry of CUDA_VISIBLE_DEVICES (or of all GPUs).
    k = int(_GPUS[0].name.rsplit(":", 1)[-1])
    visible = devices.visible_gpus()
    return devices.free_bytes(visible[k]) if k < len(visible) else None


def versions() -> dict:
    gpus = _GPUS
    device = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "gpu") if gpus else "cpu"
    return {"tensorflow": tf.__version__, "keras": keras.__version__, "device": device}
