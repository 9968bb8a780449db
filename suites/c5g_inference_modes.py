"""C5g: test-time weight scaling (classic, non-inverted dropout) matches inverted dropout, and
approximates averaging over sampled sub-networks (Monte Carlo dropout) (seeds 003, 004).

Both posts say a dropout net multiplies its units by the keep probability at test; both
frameworks instead scale by 1/keep in training and do nothing at test (inverted dropout). The
net is seed 004's ``DropoutNet`` (fc1, relu, Dropout, fc2) with seed 000's 512 hidden units
and MNIST, as in C5j; dropout 0.5 (the post's ``dropout_keep_prob=0.5``, taken as the keep
probability it meant), SGD lr 0.01 (the post's optimizer line, no momentum), batch 128 and 10
epochs (seed 000's fit), no weight decay (so the arms differ in dropout alone).

Arms (``bench.spec.inference``): ``inverted`` is the frameworks' default; ``weight_scaling``
trains with the same masks unscaled and multiplies by keep at test; ``mc`` trains exactly as
``inverted`` (the same masks, bit for bit) and predicts the mean softmax over k = 50 sampled
masks (Srivastava et al. 2014, sec. 7.5 and fig. 11: on MNIST, MC averaging matches weight
scaling from about k = 50 on; the MC error of a class probability is then at most
0.5 / sqrt(50) = 0.07 per image, far less once averaged over the test set).

Claims, all ``equivalence`` (TOST) with a margin of 0.005 test accuracy, as C5e: half a point,
about one seed-to-seed SD of such a net, below which no one would prefer one form. c5g1 is the
posts' claim (classic vs inverted: trained differently, so under plain SGD the 1/keep moves the
effective step size of fc2). c5g2 is the approximation on the same trained nets: inverted
dropout's identity at test *is* the weight-scaling rule with the keep folded into training, so
``mc`` against ``inverted`` isolates the inference rule, paired seed by seed. c5g3 compares the
two named forms directly.
"""
from bench.spec import (Arm, Case, Claim, Data, Dense, Dropout, Inference, Loss, Metric, Optimizer,
                        Profile)

NET = (Dense(512, "relu"), Dropout(0.5), Dense(10))   # seed 004's DropoutNet, 512 hidden (seed 000)
K = 50      # MC samples (see above)
ACC = "test_accuracy"
MARGIN = 0.005

CASES = [Case(
    id="c5g", title="Weight scaling at test matches inverted dropout and MC averaging", source="seeds 003, 004",
    input_shape=(784,),
    data=Data("mnist", batch_size=128, epochs=10, scale=1 / 255),
    loss=Loss("softmax_cross_entropy"),
    optimizer=Optimizer("sgd", lr=0.01),   # seed 004's SGD(lr=0.01); stated, as PyTorch's SGD has no default
    arms=(Arm("inverted", NET),
          Arm("weight_scaling", NET, inference=Inference("weight_scaling")),
          Arm("mc", NET, inference=Inference("mc", samples=K))),
    metrics=(Metric(ACC, higher_is_better=True), Metric("test_loss", higher_is_better=False),
             Metric("train_loss", higher_is_better=False)),
    claims=(
        Claim("c5g1", "Scaling by the keep probability at test (non-inverted dropout) matches inverted dropout.",
              ACC, (("weight_scaling", 1.0), ("inverted", -1.0)), "greater", kind="equivalence", margin=MARGIN),
        Claim("c5g2", "The deterministic weight-scaled net approximates the MC average over sampled masks "
              "(the same trained nets).", ACC, (("mc", 1.0), ("inverted", -1.0)), "greater",
              kind="equivalence", margin=MARGIN),
        Claim("c5g3", "Weight-scaling inference matches MC averaging over sampled masks.",
              ACC, (("weight_scaling", 1.0), ("mc", -1.0)), "greater", kind="equivalence", margin=MARGIN),
    ),
    profiles={
        "smoke": Profile(seeds=2, epochs=1, train_subsample=2000, test_subsample=1000,
                         notes="2000 train / 1000 test images, 1 epoch, 2 seeds"),
        # CPU: all data, 3 of 10 epochs (1,407 steps), 8 seeds. ``bench plan`` counts training steps
        # only: the mc arm's evaluations (50 masks per test image, every epoch) come on top.
        "quick": Profile(seeds=8, epochs=3, notes="3 epochs instead of 10 (1,407 of 4,690 steps), 8 seeds"),
        "full": Profile(seeds=10, notes="10 epochs, 4,690 steps, 10 seeds"),
    },
)]
