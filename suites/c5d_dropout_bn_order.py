"""C5d: does dropout belong before or after batch norm? (seed 003 vs Li et al. 2019)

Seed 003's PyTorch example puts Dropout before a Linear that feeds BatchNorm1d and calls that
harmless. Li et al. 2019 ("Understanding the disharmony between dropout and batch
normalization by variance shift") find dropout before BN harmful: BN's moving variance is
learnt with dropout's extra variance, which is gone at inference. The post gives no data or
budget, so the net is an MNIST MLP with that order, x/255, Adam at defaults, batch 128:

    Dense 512 -> [Dropout, BN | BN, Dropout | BN] -> relu, twice, then Dense 10 (logits)

``drop_bn``: Dense -> Dropout -> BN (dropout's variance reaches BN's statistics);
``bn_drop``: Dense -> BN -> Dropout (BN never sees it; relu after commutes with the mask);
``none``: Dense -> BN, no dropout. Two rates: the post's 0.2, and 0.5, where Li et al.'s shift is
larger (it grows with rate / (1 - rate)). BN is each framework's default (Keras 0.99 / 1e-3,
PyTorch 0.9 / 1e-5 in Keras terms), as in C2 and C3.
"""
from bench.spec import Activation, Arm, BatchNorm, Case, Claim, Data, Dense, Dropout, Loss, Metric, Optimizer, Profile


def _net(order: str, rate: float = 0.0) -> tuple:
    middle = {"drop_bn": (Dropout(rate), BatchNorm()), "bn_drop": (BatchNorm(), Dropout(rate)),
              "none": (BatchNorm(),)}[order]
    block = (Dense(512), *middle, Activation("relu"))
    return block * 2 + (Dense(10),)


ARMS = (Arm("none", _net("none")),
        Arm("drop_bn20", _net("drop_bn", 0.2)), Arm("bn_drop20", _net("bn_drop", 0.2)),
        Arm("drop_bn50", _net("drop_bn", 0.5)), Arm("bn_drop50", _net("bn_drop", 0.5)))

ACC = "test_accuracy"
MARGIN = 0.005  # "harmless": at most half a point of accuracy worse, about one seed SD on MNIST (as C4)

CASES = [Case(
    id="c5d", title="Dropout before vs after batch norm (variance shift)",
    source="seed 003 (PyTorch example); Li et al. 2019",
    input_shape=(784,),
    data=Data("mnist", batch_size=128, epochs=10, scale=1 / 255),  # C1's data and budget
    loss=Loss("softmax_cross_entropy"),
    optimizer=Optimizer("adam"),  # defaults: the post states no optimizer
    arms=ARMS,
    metrics=(Metric(ACC, higher_is_better=True), Metric("test_loss", higher_is_better=False),
             Metric("train_loss", higher_is_better=False)),
    claims=(
        Claim("c5d1", "Dropout 0.2 before BN is harmless: it does at least as well as no dropout.", ACC,
              (("drop_bn20", 1.0), ("none", -1.0)), "greater", kind="noninferiority", margin=MARGIN),
        Claim("c5d2", "Dropout 0.2 after BN beats dropout 0.2 before BN (variance shift).", ACC,
              (("bn_drop20", 1.0), ("drop_bn20", -1.0)), "greater"),
        Claim("c5d3", "Dropout 0.5 after BN beats dropout 0.5 before BN (variance shift).", ACC,
              (("bn_drop50", 1.0), ("drop_bn50", -1.0)), "greater"),
    ),
    profiles={
        # CI: 2000 train / 1000 test images, 1 epoch (16 steps), 2 seeds.
        "smoke": Profile(seeds=2, epochs=1, train_subsample=2000, test_subsample=1000,
                         notes="2000 train / 1000 test images, 1 epoch, 2 seeds"),
        # CPU: the first 12,000 images, 5 epochs (470 steps), 8 seeds; all 10,000 test images.
        "quick": Profile(seeds=8, epochs=5, train_subsample=12000,
                         notes="first 12,000 training images, 5 of 10 epochs"),
        "full": Profile(seeds=10, notes="all 60,000 images, 10 epochs (4,690 steps)"),
    },
)]
