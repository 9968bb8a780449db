"""C1: dropout vs L2 vs both on MNIST (seed post 002, TF2 eager GradientTape loop).

As written: MNIST x/255, shuffle(60000).batch(128).repeat(10) = 4690 steps,
MLP 784-256-128-64-32-10 with Dropout(0.5) after the first two layers,
Adam(lr=0.01) otherwise at framework defaults, mean softmax cross-entropy
from logits, and for the L2 arms ``1e-4 * sum(tf.nn.l2_loss(p))`` over *all*
trainable variables (biases included). Test accuracy on the 10k test set in
inference mode after the last step.
"""
from bench.spec import (L2, Arm, Case, Claim, Data, Dense, Dropout, Loss, Metric,
                        Optimizer, Profile)

def _mlp(dropout: bool) -> tuple:
    drop = (Dropout(0.5),) if dropout else ()
    return (Dense(256, "relu"), *drop, Dense(128, "relu"), *drop,
            Dense(64, "relu"), Dense(32, "relu"), Dense(10))

# TF<->PyTorch agreement margin for claims without a post figure: half a point of accuracy,
# fixed before any run (c1a/c1b take half the post's own effect, bench.analysis.verdict.min_effect).
ACC_MARGIN = 0.005

POST_L2 = L2(coef=1e-4, include_bias=True)  # the post sums l2_loss over all trainable variables

CASES = [Case(
    id="c1",
    title="Dropout vs L2 vs both on MNIST",
    source="seed 002 (TF2, GradientTape loop)",
    input_shape=(784,),
    data=Data("mnist", batch_size=128, epochs=10, scale=1 / 255),
    loss=Loss("softmax_cross_entropy"),
    optimizer=Optimizer("adam", lr=0.01),  # post: optimizers.Adam(lr=0.01); eps etc. framework default
    arms=(
        Arm("none", _mlp(dropout=False)),
        Arm("dropout", _mlp(dropout=True)),
        Arm("l2", _mlp(dropout=False), l2=POST_L2),
        Arm("both", _mlp(dropout=True), l2=POST_L2),
    ),
    metrics=(Metric("test_accuracy", higher_is_better=True),
             Metric("test_loss", higher_is_better=False),
             Metric("train_loss", higher_is_better=False)),
    claims=(
        Claim("c1a", "Dropout + L2 is worse than dropout alone.", "test_accuracy",
              (("both", 1.0), ("dropout", -1.0)), "less",
              reported=(("both", 0.9496), ("dropout", 0.9635))),
        Claim("c1b", "Dropout + L2 is worse than L2 alone.", "test_accuracy",
              (("both", 1.0), ("l2", -1.0)), "less",
              reported=(("both", 0.9496), ("l2", 0.9652))),
        Claim("c1c", "Dropout + L2 is worse than no regularization at all.", "test_accuracy",
              (("both", 1.0), ("none", -1.0)), "less",
              reported=(("both", 0.9496),), reported_note="none not reported", agreement_margin=ACC_MARGIN),
        Claim("c1d", "Dropout x L2 interaction is negative: on MNIST, adding one "
              "regularizer to the other only hurts.", "test_accuracy",
              (("both", 1.0), ("dropout", -1.0), ("l2", -1.0), ("none", 1.0)), "less",
              kind="interaction", agreement_margin=ACC_MARGIN),
    ),
    profiles={
        # CI: minutes for everything. 2000 train / 1000 test images, 1 epoch (16 steps). 8 seeds
        # (one vectorized group): enough for the gate to catch a regression on another CPU
        # type (bench/publish/check.py, tests/test_gate.py).
        "smoke": Profile(seeds=8, epochs=1, train_subsample=2000, test_subsample=1000,
                         notes="2000 train / 1000 test images, 1 epoch, 8 seeds"),
        # CPU: all data, 3 of 10 epochs (1407 steps), 10 seeds; the claims concern the end of
        # training, so this checks whether the ordering has appeared by 30% of the budget.
        "quick": Profile(seeds=10, epochs=3, notes="3 epochs instead of 10 (1407 of 4690 steps)"),
        # The post's budget; 20 seeds per arm and framework (vectorized seeds make them cheap) so
        # that the TF <-> PyTorch agreement, at a 0.005 accuracy margin, can be decided.
        "full": Profile(seeds=20, notes="the post's exact budget: 10 epochs, 4690 steps, 20 seeds"),
    },
)]
