"""C5a: tune the dropout rate on validation data; accuracy against rate is an inverted U (seed 000).

As written (seed 000's Keras example): MNIST x/255 flattened, Dense 512 relu, Dropout(rate),
Dense 10 softmax; Adam at Keras defaults; sparse categorical cross-entropy; 5 epochs;
``fit(..., validation_split=0.2)`` with Keras's default batch of 32. The post's softmax layer
plus cross-entropy on probabilities is, up to rounding, our Dense(10) logits with softmax
cross-entropy from logits. The post tunes on the validation split, so the claim is on
``val_accuracy`` (the last 12,000 training images, never trained on); test accuracy is kept beside it.

The arms are the rate axis, in order (``trend`` tests them in declared order): 0 (no
dropout: "too low overfits"), the post's 0.2, then up to 0.9, which keeps 51 of 512 units on
average ("too high underfits"). Five rates: the trend test corrects for k - 2 candidate
peaks, so every extra rate costs power.
"""
from bench.spec import Arm, Case, Claim, Data, Dense, Dropout, Loss, Metric, Optimizer, Profile

RATES = (0.0, 0.2, 0.4, 0.6, 0.9)


def _arm(rate: float) -> Arm:
    drop = (Dropout(rate),) if rate else ()
    return Arm(f"rate{round(rate * 100):02d}", (Dense(512, "relu"), *drop, Dense(10)))


ARMS = tuple(_arm(r) for r in RATES)

CASES = [Case(
    id="c5a", title="Dropout rate sweep: validation accuracy is an inverted U in the rate",
    source="seed 000 (Keras)",
    input_shape=(784,),
    # fit()'s default batch of 32, the post's 5 epochs and validation_split=0.2
    data=Data("mnist", batch_size=32, epochs=5, scale=1 / 255, validation_split=0.2),
    loss=Loss("softmax_cross_entropy"),
    optimizer=Optimizer("adam"),  # compile(optimizer=Adam()): every value the default
    arms=ARMS,
    metrics=(Metric("val_accuracy", higher_is_better=True),
             Metric("test_accuracy", higher_is_better=True),
             Metric("val_loss", higher_is_better=False),
             Metric("train_loss", higher_is_better=False)),
    claims=(
        Claim("c5a", "Validation accuracy against the dropout rate is an inverted U: some interior rate "
              "beats both no dropout and the highest rate.", "val_accuracy",
              tuple((a.name, 1.0) for a in ARMS), "greater", kind="trend",
              reported_note="rate20 example only; no sweep reported"),
    ),
    profiles={
        # CI: 1000 images (800 train / 200 validation), 1 epoch (25 steps of 32), 2 seeds.
        "smoke": Profile(seeds=2, epochs=1, train_subsample=1000, test_subsample=1000,
                         notes="1000 images (800 train / 200 validation), 1 epoch, 2 seeds"),
        # CPU: the first 12,000 images (9,600 / 2,400), all 5 epochs (1,500 steps); a smaller
        # training set overfits sooner, the regime where the rate matters. 8 seeds.
        "quick": Profile(seeds=8, train_subsample=12000,
                         notes="first 12,000 of 60,000 training images (9,600 train / 2,400 validation)"),
        "full": Profile(seeds=10, notes="the post's exact budget: 48,000 / 12,000, 5 epochs (7,500 steps)"),
    },
)]
