"""L3: Srivastava et al. 2014, Section 7.3 (Figure 9a): test error against the retention probability is U-shaped.

Section 7.3 varies the probability p of retaining a hidden unit on MNIST with the number of
hidden units fixed (784-2048-2048-2048-10): test error is high for small p (too much noise,
the net underfits), flat for p between about 0.4 and 0.8, and rises again towards p = 1 (no
dropout). The paper shows it as a figure, not a table, so no figure enters ``reported``.
Arms: drop rate 0 (p = 1), 0.2, 0.5 and 0.9 (p = 0.1) in every hidden layer, no input dropout
(the section varies the hidden units' p), max-norm on every arm, the recipe of
``suites/_srivastava2014.py``.

The claim is the U, read on accuracy (the trend test looks for an inverted U): some interior
rate gives a higher test accuracy than both no dropout and the highest rate. The post behind C5a says the same of validation accuracy (C5a).
"""
from bench.spec import Arm, Case, Claim, Loss, Metric

from suites._srivastava2014 import DATA, MAX_NORM, OPTIMIZER, bernoulli, mlp, profiles

WIDTHS = (2048, 2048, 2048)
ERR, ACC = "test_error", "test_accuracy"
RATES = (0.0, 0.2, 0.5, 0.9)

ARMS = tuple(Arm(f"rate{round(r * 100):02d}",
                 mlp(WIDTHS, hidden_noise=bernoulli(r) if r else None, max_norm=MAX_NORM)) for r in RATES)

CASES = [Case(
    id="l3_srivastava2014_rate", title="Srivastava et al. 2014, Section 7.3: error against the dropout rate is a U",
    source="Srivastava et al. 2014, JMLR 15, Section 7.3, Figure 9a",
    input_shape=(784,),
    data=DATA,
    loss=Loss("softmax_cross_entropy"),
    optimizer=OPTIMIZER,
    arms=ARMS,
    metrics=(Metric(ERR, higher_is_better=False), Metric(ACC, higher_is_better=True),
             Metric("test_loss", higher_is_better=False), Metric("train_loss", higher_is_better=False)),
    claims=(
        Claim("l3a", "Test accuracy against the hidden dropout rate is an inverted U: some interior rate beats "
              "both no dropout and rate 0.9.", ACC, tuple((a.name, 1.0) for a in ARMS), "greater", kind="trend",
              reported_note="Figure 9a: flat for p = 0.4-0.8, higher at small p and towards p = 1 (a figure, "
                            "no table)", pairs_with=("c5a",)),
    ),
    # four arms: 8 epochs keep a CPU's quick run of both frameworks near 20 minutes
    profiles=profiles(
        quick_width=0.125, quick_epochs=8,
        quick_notes="784-256-256-256-10 (widths x 1/8, 0.33 M of 10.5 M weights), first 10,000 training images, "
                    "8 epochs (800 steps), 5 seeds",
        full_notes="the paper's widths, all 60,000 training images, 50 epochs (30,000 steps), 10 seeds"),
    notes="Budget gap: the paper trains the full-width net on all 60,000 images to convergence for each p; "
          "quick trains an eighth-width copy on 10,000 images for 8 epochs, full the paper's widths for 50 "
          "epochs. Narrower nets lose more to a given rate, so the low-p side of the U may move.",
)]
