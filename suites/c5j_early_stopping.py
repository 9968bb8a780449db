"""C5j: early stopping (patience 5) with dropout and weight decay beats either alone (seed 004).

Seed 004 (PyTorch) shows the pieces, not a run: ``optim.SGD(model.parameters(), lr=0.01,
weight_decay=1e-5)`` (coupled weight decay, i.e. ``L2(1e-5)`` with biases in our convention),
dropout 0.5, and an early-stopping loop on the validation loss with patience 5 that resets on
a strict improvement and breaks without restoring the best weights
(``EarlyStopping(5, "val_loss", restore_best_weights=False)`` is that loop). The post names no
data or net, so: seed 000's MNIST MLP (Dense 512 relu, Dropout 0.5, Dense 10), x/255, batch 64,
Keras-style ``validation_split=0.2`` (C5a's) for the monitored loss, test accuracy at the end.

Arms: ``es`` early stopping alone; ``reg`` dropout + weight decay for every epoch; ``all`` the
three together. Up to 50 epochs: a bound the no-stopping arm runs in full and the stopping arms
rarely reach. Decoupled decay (``Optimizer("adamw")``) exists too, but the post's decay is SGD's.
"""
from bench.spec import (L2, Arm, Case, Claim, Data, Dense, Dropout, EarlyStopping, Loss, Metric, Optimizer,
                        Profile)

STOP = EarlyStopping(5, "val_loss", restore_best_weights=False)   # the post's loop
DECAY = L2(1e-5, include_bias=True)   # SGD's weight_decay=1e-5 over model.parameters()


def _net(dropout: bool) -> tuple:
    return (Dense(512, "relu"), *((Dropout(0.5),) if dropout else ()), Dense(10))


ACC = "test_accuracy"

CASES = [Case(
    id="c5j", title="Early stopping with dropout and weight decay beats either alone", source="seed 004 (PyTorch)",
    input_shape=(784,),
    data=Data("mnist", batch_size=64, epochs=50, scale=1 / 255, validation_split=0.2),
    loss=Loss("softmax_cross_entropy"),
    optimizer=Optimizer("sgd", lr=0.01),   # the post's SGD(lr=0.01); its weight_decay is the arms' L2
    arms=(Arm("es", _net(dropout=False), early_stopping=STOP),
          Arm("reg", _net(dropout=True), l2=DECAY),
          Arm("all", _net(dropout=True), l2=DECAY, early_stopping=STOP)),
    metrics=(Metric(ACC, higher_is_better=True), Metric("val_loss", higher_is_better=False),
             Metric("test_loss", higher_is_better=False), Metric("train_loss", higher_is_better=False)),
    claims=(
        Claim("c5j1", "Early stopping with dropout and weight decay beats early stopping alone.", ACC,
              (("all", 1.0), ("es", -1.0)), "greater"),
        Claim("c5j2", "Early stopping with dropout and weight decay beats dropout and weight decay alone.", ACC,
              (("all", 1.0), ("reg", -1.0)), "greater"),
    ),
    profiles={
        # CI: 2000 images (1600 / 400), 2 epochs (50 steps), 2 seeds: too short to stop, but every arm trains.
        "smoke": Profile(seeds=2, epochs=2, train_subsample=2000, test_subsample=1000,
                         notes="2000 images (1600 train / 400 validation), 2 epochs, 2 seeds"),
        # CPU: the first 12,000 images (9,600 / 2,400), up to 30 epochs (4,500 steps); a smaller
        # set overfits sooner, so stopping has something to stop. 8 seeds.
        "quick": Profile(seeds=8, epochs=30, train_subsample=12000,
                         notes="first 12,000 images (9,600 train / 2,400 validation), up to 30 of 50 epochs"),
        "full": Profile(seeds=10, notes="48,000 / 12,000 images, up to 50 epochs (37,500 steps)"),
    },
)]
