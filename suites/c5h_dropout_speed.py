"""C5h: "adding dropout layers makes training run slightly faster" (seed 002).

The post says so in passing, of its MNIST MLP. A speed claim is judged on training-step
throughput (``bench.spec.Throughput``): each seed is one repetition that builds both arms from
that seed's weights and times their training steps in one process, in interleaved ABBA blocks
(10 blocks of 50 steps per arm after 20 untimed warm-up steps), on the per-seed path, the
model as the post trains it. The paired test runs over repetitions.

The net and training are C1's (the same post): MNIST x/255, MLP 784-256-128-64-32-10,
Dropout(0.5) after the first two Dense layers, Adam(lr=0.01), batch 128. Dropout only adds
work to a step (a mask draw and a multiply per unit, forward and backward), so the expected
answer is "slower"; the size of the cost is the useful number. On a GPU the answer may
differ in size, not sign: an MLP this small is bound by kernel launches there, and each
dropout layer adds kernels to every step.
"""
from bench.spec import Arm, Case, Claim, Data, Dense, Dropout, Loss, Metric, Optimizer, Profile, Throughput


def _mlp(dropout: bool) -> tuple:
    drop = (Dropout(0.5),) if dropout else ()
    return (Dense(256, "relu"), *drop, Dense(128, "relu"), *drop,
            Dense(64, "relu"), Dense(32, "relu"), Dense(10))


CASES = [Case(
    id="c5h", title="Adding dropout makes training faster", source="seed 002 (TF2)",
    input_shape=(784,),
    data=Data("mnist", batch_size=128, epochs=1, scale=1 / 255),   # epochs unused: a repetition times steps
    loss=Loss("softmax_cross_entropy"),
    optimizer=Optimizer("adam", lr=0.01),  # the post's Adam(lr=0.01)
    arms=(Arm("none", _mlp(dropout=False)), Arm("dropout", _mlp(dropout=True))),
    metrics=(Metric("steps_per_second", higher_is_better=True), Metric("train_loss", higher_is_better=False)),
    claims=(
        Claim("c5h", "Adding dropout layers makes training run slightly faster.", "steps_per_second",
              (("dropout", 1.0), ("none", -1.0)), "greater"),
    ),
    # 10 x 50 timed steps per arm: a block of 50 steps lasts about 0.2 s on a CPU, long against
    # the clock's resolution and short enough that ten of them sample the machine's drift.
    throughput=Throughput(rounds=10, steps=50, warmup=20),
    profiles={
        "smoke": Profile(seeds=2, train_subsample=2000, test_subsample=1000, notes="2 repetitions on 2000 images"),
        "quick": Profile(seeds=10, notes="10 repetitions"),
        "full": Profile(seeds=20, notes="20 repetitions"),
    },
)]
