"""C3: dropout + batch norm on raw red-wine data (seed post 003, Keras example).

As written: red-wine.csv, 11 raw features (no standardization), target quality; the post's
split df.sample(frac=0.7, random_state=0), 1119 train / 480 validation rows;
[Dense 1024 relu, Dropout(0.3), BatchNormalization] x3 + Dense 1; Adam at framework
defaults (lr 1e-3; eps Keras 1e-7, PyTorch 1e-8); MAE; batch 256; 100 epochs (5 steps each).
BN defaults are each framework's own: Keras momentum 0.99, eps 1e-3; PyTorch momentum 0.1
(0.9 in Keras terms), eps 1e-5.

c3a ("trains on raw data without diverging") needs a contrast for an exact test: the post
drops standardization "to show how BN stabilizes training", so the comparison is the same
model without BN (`no_bn`, an arm the post implies but does not run). If neither diverges
the verdict is inconclusive and the arm table shows post's 0/n.
"""
from bench.spec import Arm, BatchNorm, Case, Claim, Data, Dense, Dropout, Loss, Metric, Optimizer, Profile


def _net(dropout: bool = True, bn: bool = True) -> tuple:
    block = (Dense(1024, "relu"),) + ((Dropout(0.3),) if dropout else ()) + ((BatchNorm(),) if bn else ())
    return block * 3 + (Dense(1),)


# TF<->PyTorch agreement margins, fixed before any run: failure rates within 0.2, and MAE
# effects within 0.05 points of the wine-quality score (a judgment, not taken from any run).
RATE_MARGIN, MAE_MARGIN = 0.2, 0.05

CASES = [Case(
    id="c3", title="Dropout + batch norm on raw red-wine data", source="seed 003 (Keras)",
    input_shape=(11,),
    data=Data("red_wine", batch_size=256, epochs=100, eval_train=True),  # eval_train: the gap
    loss=Loss("mae"),
    optimizer=Optimizer("adam"),  # model.compile(optimizer="adam"): every value the default
    arms=(Arm("post", _net()),
          Arm("no_dropout", _net(dropout=False)),
          Arm("no_bn", _net(bn=False)),
          Arm("standardized", _net(), standardize=True)),  # z-scored on the training split
    metrics=(Metric("diverged", higher_is_better=False),
             Metric("min_val_mae", higher_is_better=False),
             Metric("final_val_mae", higher_is_better=False),
             Metric("gap_mae", higher_is_better=False)),  # val MAE - train MAE, inference mode, at the end
    claims=(
        Claim("c3a", "With dropout and BN the wide model trains on raw data without diverging "
              "(less often than without BN).", "diverged", (("no_bn", 1.0), ("post", -1.0)), "greater",
              kind="binary", agreement_margin=RATE_MARGIN),
        Claim("c3b", "Dropout controls overfitting: without it the validation-training gap is larger.",
              "gap_mae", (("no_dropout", 1.0), ("post", -1.0)), "greater", agreement_margin=MAE_MARGIN),
        Claim("c3c", "Standardizing the data first gives a better validation MAE.",
              "min_val_mae", (("standardized", 1.0), ("post", -1.0)), "less", agreement_margin=MAE_MARGIN),
    ),
    profiles={
        # CI: 3 epochs (15 steps), enough to exercise every arm and outcome; 8 seeds so the
        # gate can see a regression off its own machine (bench/publish/check.py, tests/test_gate.py).
        "smoke": Profile(seeds=8, epochs=3, notes="3 epochs, 8 seeds"),
        # A CPU: the exact 100 epochs (500 steps) with 5 seeds, the post's own run count x5.
        "quick": Profile(seeds=5, notes="the post's exact budget, 5 seeds"),
        "full": Profile(seeds=10, notes="the post's exact budget (100 epochs, 500 steps), 10 seeds"),
    },
)]
