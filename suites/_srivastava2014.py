"""The MNIST recipe of Srivastava et al. 2014 (JMLR 15, "Dropout: a simple way to prevent neural
networks from overfitting") as the literature cases share it: no ``CASES`` here.

What the paper fixes and we keep: ReLU MLPs on MNIST trained by SGD with momentum, the
momentum ramped up during training and the learning rate decayed; dropout at the input
(drop 0.2) and in every hidden layer (drop 0.5); the max-norm constraint on each hidden and
output unit's incoming weights. What the paper tuned per method on validation data and does
not list for these tables, we choose once for every arm and every case: batch 100, x / 255,
learning rate 0.05 decaying exponentially per epoch to 0.005 at the last epoch, momentum rising
linearly from 0.5 to 0.95 over the first half of the run then held, max-norm c = 3, L2 1e-4 on
the kernels. Our SGD is Keras's (``v = m v - lr g``; PyTorch as written scales its buffer by the
current lr instead, see ``bench.spec.Optimizer``), with no (1 - momentum) factor on the step,
so our learning rates are lower than a paper stating that form would use.
"""
from bench.spec import L2, Data, Dense, Dropout, Optimizer, Profile, Schedule

DATA = Data("mnist", batch_size=100, epochs=50, scale=1 / 255)
OPTIMIZER = Optimizer("sgd", lr=0.05,
                      lr_schedule=Schedule("exponential", 0.05, 0.005),
                      momentum_schedule=Schedule("linear", 0.5, 0.95, at=0.5))
MAX_NORM = 3.0
DECAY = L2(1e-4, include_bias=False)
INPUT_RATE, HIDDEN_RATE = 0.2, 0.5


def mlp(widths: tuple, input_noise=None, hidden_noise=None, max_norm=None) -> tuple:
    """``784-widths-10`` ReLU, each noise layer (a spec layer or None) before its Dense layer."""
    layers = [input_noise] if input_noise is not None else []
    for k, units in enumerate(widths):
        layers.append(Dense(units, "relu", max_norm=max_norm))
        if hidden_noise is not None:
            layers.append(hidden_noise)
    layers.append(Dense(10, max_norm=max_norm))
    return tuple(layers)


def bernoulli(rate: float):
    return Dropout(rate)


def profiles(quick_width: float, quick_notes: str, full_notes: str, quick_epochs: int = 10) -> dict:
    """smoke (CI: every arm trains), quick (a CPU's: narrower nets on 10,000 images), full (the
    paper's widths on all 60,000 images, 50 epochs: a GPU's)."""
    return {
        "smoke": Profile(seeds=2, epochs=2, train_subsample=1000, test_subsample=1000, width=0.0625,
                         notes="1000 train / 1000 test images, 2 epochs, every width x 1/16, 2 seeds"),
        "quick": Profile(seeds=5, epochs=quick_epochs, train_subsample=10000, width=quick_width, notes=quick_notes),
        "full": Profile(seeds=10, notes=full_notes),
    }
