"""L2: Srivastava et al. 2014, Section 10 (Table 10): Gaussian dropout does as well as Bernoulli dropout (MNIST).

Section 10 replaces dropout's Bernoulli(p) mask by multiplicative Gaussian noise N(1, sigma^2)
with sigma^2 = (1 - p) / p, the same mean and variance, and reports on MNIST 1.08 % test error
for Bernoulli and 0.95 % for Gaussian: as good, if not better. ``GaussianDropout(rate)`` is
exactly that noise (variance rate / (1 - rate) with rate = 1 - p). Both arms use the paper's
MNIST dropout rates (0.2 at the input, 0.5 in hidden layers) with max-norm, on Table 9's net
and the recipe of ``suites/_srivastava2014.py`` (the section does not restate its MNIST net or
hyperparameters beside the table).

The claim is non-inferiority on test error with a margin of 0.002 (0.2 points, about the
paper's own gap between the two): Gaussian is not worse than Bernoulli by more than that.
The post behind C5e makes the stronger claim that the noises are interchangeable (C5e1).
"""
from bench.spec import Arm, Case, Claim, GaussianDropout, Loss, Metric

from suites._srivastava2014 import DATA, HIDDEN_RATE, INPUT_RATE, MAX_NORM, OPTIMIZER, bernoulli, mlp, profiles

WIDTHS = (1024, 1024, 2048)
ERR = "test_error"

CASES = [Case(
    id="l2_srivastava2014_gaussian", title="Srivastava et al. 2014, Section 10: Gaussian dropout is as good as Bernoulli",
    source="Srivastava et al. 2014, JMLR 15, Section 10, Table 10",
    input_shape=(784,),
    data=DATA,
    loss=Loss("softmax_cross_entropy"),
    optimizer=OPTIMIZER,
    arms=(Arm("bernoulli", mlp(WIDTHS, bernoulli(INPUT_RATE), bernoulli(HIDDEN_RATE), max_norm=MAX_NORM)),
          Arm("gaussian", mlp(WIDTHS, GaussianDropout(INPUT_RATE), GaussianDropout(HIDDEN_RATE),
                              max_norm=MAX_NORM))),
    metrics=(Metric(ERR, higher_is_better=False), Metric("test_accuracy", higher_is_better=True),
             Metric("test_loss", higher_is_better=False), Metric("train_loss", higher_is_better=False)),
    claims=(
        Claim("l2a", "Gaussian dropout of the same variance is no worse than Bernoulli dropout.", ERR,
              (("gaussian", 1.0), ("bernoulli", -1.0)), "less", kind="noninferiority", margin=0.002,
              reported=(("bernoulli", 0.0108), ("gaussian", 0.0095)), pairs_with=("c5e1",)),
    ),
    profiles=profiles(
        quick_width=0.25,
        quick_notes="784-256-256-512-10 (widths x 1/4), first 10,000 training images, 10 epochs (1,000 steps), "
                    "5 seeds",
        full_notes="Table 9's widths, all 60,000 training images, 50 epochs (30,000 steps), 10 seeds"),
    notes="Budget gap: the paper trains to convergence on all 60,000 images at full width; quick trains a "
          "quarter-width copy on 10,000 images for 10 epochs, full the full width for 50 epochs. The net is "
          "Table 9's, an assumption where the section does not restate it.",
)]
