"""C5f: L1 regularization gives sparse weights, L2 does not (seed 004).

Seed 004 (PyTorch) adds ``sum(p.abs().sum() for p in model.parameters())`` to the loss for L1
(biases included) and uses ``optim.SGD(..., lr=0.01, weight_decay=...)`` for L2; it trains no
model with them. The net is seed 000's MNIST MLP (Dense 512 relu, Dense 10), x/255, batch 128,
10 epochs, SGD lr 0.01 without momentum (the post's optimizer line).

Sparsity (``weight_sparsity``): the fraction of Dense kernel entries with |w| < 1e-3 after
training, the post's "sparse weights" made a number. Plain SGD matters here: under L1 a weight
the data does not hold crosses zero and then oscillates around it by lr x coef = 1e-5, far below
1e-3; Adam's normalized steps would make it oscillate by ~lr instead.

Both penalties use coef 1e-3 (convention in ``bench.spec``: L1 coef x sum|p|, L2 coef x
sum(p^2)/2, biases included as the post sums over all parameters). Why 1e-3: over 4,690 steps
L1 alone moves a weight by at most lr x coef x steps = 0.047, about the initial magnitude
(Keras's glorot bound 0.068, PyTorch's kaiming 0.036), so it can zero weights the data does not
need; a tenth of that could not. L2 at the same coef shrinks by (1 - 1e-5) per step, 5 % in all.
``l2`` vs ``none`` "not sparser" is an equivalence claim with a margin of 0.01 (one point of
the fraction).
"""
from bench.spec import L1, L2, Arm, Case, Claim, Data, Dense, Loss, Metric, Optimizer, Profile

NET = (Dense(512, "relu"), Dense(10))
SPARSE = "weight_sparsity"

CASES = [Case(
    id="c5f", title="L1 gives sparse weights, L2 does not", source="seed 004 (PyTorch)",
    input_shape=(784,),
    data=Data("mnist", batch_size=128, epochs=10, scale=1 / 255),
    loss=Loss("softmax_cross_entropy"),
    optimizer=Optimizer("sgd", lr=0.01),  # the post's SGD(lr=0.01); stated, as PyTorch's SGD has no default
    arms=(Arm("none", NET),
          Arm("l1", NET, l1=L1(1e-3, include_bias=True)),
          Arm("l2", NET, l2=L2(1e-3, include_bias=True))),
    metrics=(Metric(SPARSE, higher_is_better=True),   # "better" only in the claims' sense: sparser
             Metric("test_accuracy", higher_is_better=True),
             Metric("train_loss", higher_is_better=False)),
    claims=(
        Claim("c5f1", "L1 gives sparser weights than no regularization.", SPARSE,
              (("l1", 1.0), ("none", -1.0)), "greater"),
        Claim("c5f2", "L1 gives sparser weights than L2.", SPARSE,
              (("l1", 1.0), ("l2", -1.0)), "greater"),
        Claim("c5f3", "L2 does not give sparse weights: its sparsity equals no regularization's.", SPARSE,
              (("l2", 1.0), ("none", -1.0)), "greater", kind="equivalence", margin=0.01),
    ),
    profiles={
        "smoke": Profile(seeds=2, epochs=1, train_subsample=2000, test_subsample=1000,
                         notes="2000 train / 1000 test images, 1 epoch, 2 seeds"),
        # CPU: all data, 10 epochs: sparsity needs the whole shrinkage budget (see above). 8 seeds.
        "quick": Profile(seeds=8, notes="the full budget (10 epochs, 4,690 steps), 8 seeds"),
        "full": Profile(seeds=10, notes="10 epochs, 4,690 steps, 10 seeds"),
    },
)]
