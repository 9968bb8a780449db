"""C4: where dropout belongs in a CNN (seed posts 000, 001, 002, 004).

The base net (seed 000's example with a second conv block): Conv 32 3x3 relu -> MaxPool 2
-> Conv 64 3x3 relu -> MaxPool 2 -> Flatten -> Dense 128 relu -> Dense 10 (logits). Adam at each
framework's defaults (lr 1e-3; eps Keras 1e-7, PyTorch 1e-8), batch 128, mean softmax cross-entropy,
x/255. Initializers are each framework's own (Keras glorot_uniform + zero bias; PyTorch
kaiming_uniform(a=sqrt 5) + uniform bias), drawn per seed with numpy (bench/run/seeds.py).

Fashion-MNIST is the main dataset (case ``c4``); MNIST (case ``c4_mnist``) is the second one and
the sanity anchor: keras-io's ``mnist_convnet`` (the same two conv blocks, Dropout 0.5 before the
output, Adam, batch 128, 15 epochs) reports about 99 % test accuracy, so our ``fc`` arm must land
there in both frameworks under ``full``. That is all ``c4_mnist``'s ``full`` profile runs: the ``fc``
arm, 5 seeds (``Profile.arms``); its other arms and claims run under ``smoke``, ``quick`` and ``mid``.

Choices the posts leave open, and why:
- ``full`` trains 15 epochs, keras-io's budget for this net, so the anchor compares like with like.
- ``quick`` (sized so a 2-core CPU runs the whole case for both frameworks in a session): the first
  12,000 training images, 6 epochs (564 steps), 8 seeds; every one of the 10,000 test images. Fewer
  images rather than fewer steps: a smaller training set overfits sooner, which is the regime
  dropout is for.
- ``mid`` (a CPU's stand-in for ``full``, which is a GPU workload; docs/results.md has the estimate
  and what each run took): all 60,000 training images for 5 of the 15 epochs (2,345 steps),
  ``full``'s 10 seeds. On a CPU the per-seed path (``--group-size 1``) is the cheaper one for this
  net, since grouped convolutions make vectorized groups cost more per seed. What it leaves out:
  epochs 6-15, the late training where a net overfits most and dropout matters most, so its
  verdicts are about a 5-epoch budget, not keras-io's.
- "At least as well" (c4a3, c4a4) is a non-inferiority claim with a margin of 0.005 accuracy: half
  a point, below which no practitioner would pick one dropout variant over another, and about one
  seed-to-seed SD of this net's test accuracy.
"""
from bench.spec import (Arm, Case, Claim, Conv2D, Data, Dense, DropBlock, Dropout, Flatten, Loss, MaxPool2D, Metric,
                        Optimizer, Profile, SpatialDropout2D)


def _net(input_drop=(), after_pool1=(), after_pool2=(), fc=False) -> tuple:
    """The base net with dropout layers inserted at the four places the arms use."""
    fc_drop = (Dropout(0.5),) if fc else ()
    return (*input_drop, Conv2D(32, 3, "relu"), MaxPool2D(2), *after_pool1,
            Conv2D(64, 3, "relu"), MaxPool2D(2), *after_pool2,
            Flatten(), *fc_drop, Dense(128, "relu"), *fc_drop, Dense(10))


def _both(layer) -> dict:
    return {"after_pool1": (layer,), "after_pool2": (layer,)}


ARMS = (
    Arm("none", _net()),
    Arm("fc", _net(fc=True)),                                  # Dropout 0.5 after Flatten and after Dense 128
    Arm("conv25", _net(**_both(Dropout(0.25)))),               # elementwise, after each pool
    Arm("conv50", _net(**_both(Dropout(0.5)))),
    Arm("spatial", _net(**_both(SpatialDropout2D(0.25)))),     # Tompson et al. 2015: whole feature maps
    Arm("dropblock", _net(**_both(DropBlock(keep_prob=0.9, block_size=3)))),  # Ghiasi et al. 2018
    Arm("conv_fc", _net(fc=True, **_both(Dropout(0.25)))),
    Arm("input", _net(input_drop=(Dropout(0.2),))),            # on the pixels, before the conv stack
    Arm("middle", _net(after_pool1=(Dropout(0.25),))),         # between the two conv blocks only
    Arm("end", _net(after_pool2=(Dropout(0.25),))),            # after the last pool only
)

ACC = "test_accuracy"
MARGIN = 0.005  # non-inferiority and TF<->PyTorch agreement margin in accuracy; see the module docstring

CLAIMS = (
    Claim("c4a1", "Dropout after the FC layers beats dropout 0.5 after the conv layers.", ACC,
          (("fc", 1.0), ("conv50", -1.0)), "greater", agreement_margin=MARGIN),
    Claim("c4a2", "Dropout after the FC layers beats dropout 0.25 after the conv layers.", ACC,
          (("fc", 1.0), ("conv25", -1.0)), "greater", agreement_margin=MARGIN),
    Claim("c4a3", "SpatialDropout2D does at least as well as elementwise conv dropout (same rate).", ACC,
          (("spatial", 1.0), ("conv25", -1.0)), "greater", kind="noninferiority", margin=MARGIN),
    Claim("c4a4", "DropBlock does at least as well as elementwise conv dropout.", ACC,
          (("dropblock", 1.0), ("conv25", -1.0)), "greater", kind="noninferiority", margin=MARGIN),
    Claim("c4a5", "Adding dropout on the conv maps to FC dropout hurts (it 'destroys spatial structure').", ACC,
          (("conv_fc", 1.0), ("fc", -1.0)), "less", agreement_margin=MARGIN),
    Claim("c4b1", "Dropout before the conv stack beats dropout in the middle of it.", ACC,
          (("input", 1.0), ("middle", -1.0)), "greater", agreement_margin=MARGIN),
    Claim("c4b2", "Dropout after the conv stack beats dropout in the middle of it.", ACC,
          (("end", 1.0), ("middle", -1.0)), "greater", agreement_margin=MARGIN),
)

METRICS = (Metric(ACC, higher_is_better=True), Metric("test_loss", higher_is_better=False),
           Metric("train_loss", higher_is_better=False))


FULL = Profile(seeds=10, notes="15 epochs (keras-io mnist_convnet's budget), all 60,000 images")
# MNIST at full is the anchor only: keras-io's net is the fc arm, and 5 seeds in each framework show
# whether it lands at about 99 %; the placement claims are C4's, on Fashion-MNIST. Five, because
# bench compare judges an arm mean from at least 5 fresh seeds.
ANCHOR = Profile(seeds=5, arms=("fc",), notes="the anchor: the fc arm (keras-io mnist_convnet), 15 epochs, "
                                              "all 60,000 images, 5 seeds")


def _case(case_id: str, dataset: str, title: str, quick_seeds: int, full: Profile = FULL) -> Case:
    return Case(
        id=case_id, title=title, source="seeds 000, 001, 002, 004", input_shape=(28, 28),
        data=Data(dataset, batch_size=128, epochs=15, scale=1 / 255),
        loss=Loss("softmax_cross_entropy"), optimizer=Optimizer("adam"),  # every Adam value the default
        arms=ARMS, metrics=METRICS, claims=CLAIMS,
        profiles={
            # CI: 1 epoch of 1024 images (8 steps), 2 seeds: exercises every layer and claim kind.
            "smoke": Profile(seeds=2, epochs=1, train_subsample=1024, test_subsample=1000,
                             notes="1024 train / 1000 test images, 1 epoch, 2 seeds"),
            "quick": Profile(seeds=quick_seeds, epochs=6, train_subsample=12000,
                             notes="first 12,000 of 60,000 training images, 6 of 15 epochs (564 steps)"),
            "mid": Profile(seeds=10, epochs=5, notes="all 60,000 training images, 5 of 15 epochs (2,345 steps): "
                                                     "full's data and seeds, a third of its epochs"),
            "full": full,
        },
    )


CASES = [
    _case("c4", "fashion_mnist", "Where dropout belongs in a CNN (Fashion-MNIST)", quick_seeds=8),
    _case("c4_mnist", "mnist", "Where dropout belongs in a CNN (MNIST; the ~99 % anchor)", quick_seeds=3,
          full=ANCHOR),
]
