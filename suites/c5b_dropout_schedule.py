"""C5b: a dynamic dropout schedule helps: a high rate early in training, a lower one later (seeds 000, 002).

Seed 002 suggests letting the keep probability rise from 0.5 towards 1 during training; the
net and training are that post's (C1): MNIST x/255, MLP 784-256-128-64-32-10 with Dropout
after the first two Dense layers, Adam(lr=0.01), batch 128, 10 epochs, no L2. C1's net rather
than seed 000's one-hidden-layer net because seed 002 is the post that proposes the schedule
and its constant Dropout(0.5) is the baseline it would replace.

Schedules are per epoch (``bench.spec.Schedule``; each replaces every Dropout layer's rate):

* ``constant``: the post's Dropout(0.5) throughout.
* ``decreasing``: seed 002's rising keep probability, read as "early dropout" (Liu et al. 2023):
  rate 0.5 at the first epoch falling linearly to 0 at the last.
* ``increasing``: "curriculum dropout" (Morerio et al. 2017): no dropout at first, the rate
  rising linearly to 0.5 at the last epoch (the paper's keep probability falls exponentially
  towards its final value; linear is the per-epoch stand-in, the same endpoints).
* ``none``: no dropout, to see whether dropout matters at all here.

The claims: the decreasing schedule beats the constant rate (the claim as written), and beats
the increasing one (that the direction matters: high early, low later, not the reverse).
"""
from bench.spec import (Arm, Case, Claim, Data, Dense, Dropout, Loss, Metric, Optimizer, Profile,
                        Schedule)


def _mlp(rate=None) -> tuple:
    drop = (Dropout(rate),) if rate is not None else ()
    return (Dense(256, "relu"), *drop, Dense(128, "relu"), *drop,
            Dense(64, "relu"), Dense(32, "relu"), Dense(10))


ACC = "test_accuracy"

CASES = [Case(
    id="c5b", title="A decreasing dropout schedule (high early, low later) beats a constant rate",
    source="seeds 000, 002 (TF2)",
    input_shape=(784,),
    data=Data("mnist", batch_size=128, epochs=10, scale=1 / 255),  # C1's budget: 4,690 steps
    loss=Loss("softmax_cross_entropy"),
    optimizer=Optimizer("adam", lr=0.01),  # the post's Adam(lr=0.01)
    arms=(Arm("none", _mlp()),
          Arm("constant", _mlp(0.5)),   # the post's rate, no schedule
          # layers declared at the schedule's epoch-0 rate (Arm.dropout_schedule)
          Arm("decreasing", _mlp(0.5), dropout_schedule=Schedule("linear", 0.5, 0.0)),
          Arm("increasing", _mlp(0.0), dropout_schedule=Schedule("linear", 0.0, 0.5))),
    metrics=(Metric(ACC, higher_is_better=True), Metric("test_loss", higher_is_better=False),
             Metric("train_loss", higher_is_better=False)),
    claims=(
        Claim("c5b1", "A dropout rate falling from 0.5 to 0 during training beats a constant 0.5.", ACC,
              (("decreasing", 1.0), ("constant", -1.0)), "greater"),
        Claim("c5b2", "A dropout rate falling from 0.5 to 0 beats one rising from 0 to 0.5 (curriculum).",
              ACC, (("decreasing", 1.0), ("increasing", -1.0)), "greater"),
    ),
    profiles={
        # CI: 2000 train / 1000 test images, 2 epochs (the least in which a schedule changes), 2 seeds.
        "smoke": Profile(seeds=2, epochs=2, train_subsample=2000, test_subsample=1000,
                         notes="2000 train / 1000 test images, 2 epochs, 2 seeds"),
        # CPU: all 10 epochs, so every schedule runs its full course (a 3-epoch cut would leave
        # three rates), on the first 12,000 training images (940 steps), where dropout matters more.
        "quick": Profile(seeds=10, train_subsample=12000,
                         notes="first 12,000 of 60,000 training images, all 10 epochs (940 of 4,690 steps)"),
        "full": Profile(seeds=20, notes="C1's budget: 10 epochs, 4,690 steps, 20 seeds"),
    },
)]
