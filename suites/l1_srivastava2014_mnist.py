"""L1: Srivastava et al. 2014, Table 9: dropout + max-norm beats dropout + L2, which beats L2 alone (MNIST).

The paper's Table 9 compares regularizers on one net, 784-1024-1024-2048-10 ReLU, on MNIST's
test set: L2 1.62 % error, dropout + L2 1.25 %, dropout + max-norm 1.05 %. The recipe shared by
the literature cases is ``suites/_srivastava2014.py`` (what the paper fixes, what we choose).
Arms: ``l2`` (L2 on the kernels, no dropout), ``dropout_l2`` (dropout 0.2 at the input and 0.5
after each hidden layer, with the same L2), ``dropout_maxnorm`` (the same dropout, max-norm c on
every Dense layer, no L2).

The claims read the table's two steps: dropout + L2 beats L2 (the post behind C1 says the
opposite on MNIST, C1b), and dropout + max-norm beats dropout + L2.
"""
from bench.spec import Arm, Case, Claim, Loss, Metric

from suites._srivastava2014 import DATA, DECAY, HIDDEN_RATE, INPUT_RATE, MAX_NORM, OPTIMIZER, bernoulli, mlp, profiles

WIDTHS = (1024, 1024, 2048)
ERR = "test_error"

CASES = [Case(
    id="l1_srivastava2014_mnist", title="Srivastava et al. 2014, Table 9: dropout + max-norm > dropout + L2 > L2",
    source="Srivastava et al. 2014, JMLR 15, Table 9",
    input_shape=(784,),
    data=DATA,
    loss=Loss("softmax_cross_entropy"),
    optimizer=OPTIMIZER,
    arms=(Arm("l2", mlp(WIDTHS), l2=DECAY),
          Arm("dropout_l2", mlp(WIDTHS, bernoulli(INPUT_RATE), bernoulli(HIDDEN_RATE)), l2=DECAY),
          Arm("dropout_maxnorm", mlp(WIDTHS, bernoulli(INPUT_RATE), bernoulli(HIDDEN_RATE), max_norm=MAX_NORM))),
    metrics=(Metric(ERR, higher_is_better=False), Metric("test_accuracy", higher_is_better=True),
             Metric("test_loss", higher_is_better=False), Metric("train_loss", higher_is_better=False)),
    claims=(
        Claim("l1a", "Dropout + L2 gives a lower test error than L2 alone.", ERR,
              (("dropout_l2", 1.0), ("l2", -1.0)), "less",
              reported=(("l2", 0.0162), ("dropout_l2", 0.0125)), pairs_with=("c1b",)),
        Claim("l1b", "Dropout + max-norm gives a lower test error than dropout + L2.", ERR,
              (("dropout_maxnorm", 1.0), ("dropout_l2", -1.0)), "less",
              reported=(("dropout_l2", 0.0125), ("dropout_maxnorm", 0.0105))),
    ),
    profiles=profiles(
        quick_width=0.25,
        quick_notes="784-256-256-512-10 (widths x 1/4, 0.40 M of 3.96 M weights), first 10,000 training images, "
                    "10 epochs (1,000 steps), 5 seeds",
        full_notes="the paper's widths, all 60,000 training images, 50 epochs (30,000 steps), 10 seeds"),
    notes="Budget gap: the paper trains the full-width net on all 60,000 images to convergence, with "
          "each method's hyperparameters tuned on validation data; quick trains a quarter-width copy on "
          "10,000 images for 10 epochs with one shared recipe, full the paper's widths for 50 epochs. "
          "The paper's errors are single runs; ours are means over seeds.",
)]
