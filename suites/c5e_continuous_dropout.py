"""C5e: Bernoulli, Gaussian and uniform ("continuous") dropout are interchangeable (seed 002).

Seed 002 lists Bernoulli dropout and, as "continuous dropout" (Shen et al. 2017), uniform and
Gaussian multiplicative noise, as alternatives. The net and training are C1's (the same post):
MNIST x/255, MLP 784-256-128-64-32-10 with the noise layer after the first two Dense layers,
Adam(lr=0.01), batch 128, 10 epochs, no L2.

The three noises are matched in variance, the one quantity the continuous-dropout paper ties
them by: Bernoulli Dropout(0.25) and GaussianDropout(0.25) multiply by noise of mean 1 and
variance rate / (1 - rate) = 1/3; UniformDropout(1.0) multiplies by U(0, 2), variance 1/3
(``bench.spec.UniformDropout``). Not the post's 0.5: variance 1 would need U(1 - a, 1 + a) with
a = sqrt(3), i.e. negative multipliers. ``none`` shows whether the noise matters at all here.

"Interchangeable" is an equivalence claim (TOST) with a margin of 0.005 accuracy: half a point,
about one seed-to-seed SD of this net (C1), below which no one would prefer one noise.
"""
from bench.spec import (Arm, Case, Claim, Data, Dense, Dropout, GaussianDropout, Loss, Metric, Optimizer, Profile,
                        UniformDropout)


def _mlp(noise=None) -> tuple:
    drop = (noise,) if noise is not None else ()
    return (Dense(256, "relu"), *drop, Dense(128, "relu"), *drop,
            Dense(64, "relu"), Dense(32, "relu"), Dense(10))


ACC = "test_accuracy"
MARGIN = 0.005

CASES = [Case(
    id="c5e", title="Bernoulli, Gaussian and uniform dropout are interchangeable", source="seed 002 (TF2)",
    input_shape=(784,),
    data=Data("mnist", batch_size=128, epochs=10, scale=1 / 255),  # C1's budget: 4,690 steps
    loss=Loss("softmax_cross_entropy"),
    optimizer=Optimizer("adam", lr=0.01),  # the post's Adam(lr=0.01)
    arms=(Arm("none", _mlp()),
          Arm("bernoulli", _mlp(Dropout(0.25))),
          Arm("gaussian", _mlp(GaussianDropout(0.25))),
          Arm("uniform", _mlp(UniformDropout(1.0)))),
    metrics=(Metric(ACC, higher_is_better=True), Metric("test_loss", higher_is_better=False),
             Metric("train_loss", higher_is_better=False)),
    claims=(
        Claim("c5e1", "Gaussian dropout is interchangeable with Bernoulli dropout of the same variance.", ACC,
              (("gaussian", 1.0), ("bernoulli", -1.0)), "greater", kind="equivalence", margin=MARGIN),
        Claim("c5e2", "Uniform dropout is interchangeable with Bernoulli dropout of the same variance.", ACC,
              (("uniform", 1.0), ("bernoulli", -1.0)), "greater", kind="equivalence", margin=MARGIN),
    ),
    profiles={
        "smoke": Profile(seeds=2, epochs=1, train_subsample=2000, test_subsample=1000,
                         notes="2000 train / 1000 test images, 1 epoch, 2 seeds"),
        # CPU: all data, 3 of 10 epochs (1,407 steps), 10 seeds, as C1's quick profile.
        "quick": Profile(seeds=10, epochs=3, notes="3 epochs instead of 10 (1,407 of 4,690 steps)"),
        "full": Profile(seeds=10, notes="C1's budget: 10 epochs, 4,690 steps"),
    },
)]
