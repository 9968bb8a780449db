"""C5c: dropout mitigates vanishing gradients in a deep sigmoid or tanh MLP (seed 001).

Seed 001 (Keras snippets, Chinese) says that dropout, besides regularizing, "helps relieve
vanishing gradients" in deep networks whose sigmoid/tanh derivatives shrink the gradient
layer by layer; it trains no network for this. The suite defines one: MNIST x/255 flattened,
8 x Dense(64, act) [-> Dropout(0.2) after each hidden layer in the dropout arms] -> Dense(10)
logits, softmax cross-entropy, plain SGD at lr 0.01 (Keras's default, momentum 0; PyTorch's
SGD has no default lr, so it is stated), batch 128, framework-default initializers
(Keras glorot-uniform, bound 0.22 for 64x64; PyTorch's kaiming-uniform(a=sqrt 5), bound
0.125: PyTorch's net starts deeper in the vanishing regime). Why these values: 8 sigmoid
layers at lr 0.01 barely move in a few epochs (sigmoid' <= 1/4 per layer), the regime
the post describes; tanh (tanh' <= 1) is the post's other activation; 0.2 is the post's
LSTM example's rate (its CNN example uses 0.5, which 8 stacked layers would not train through).

Metrics (``bench.spec.gradients``): at every step the L2 norm of each Dense kernel's gradient
(dropout active, before the update). ``grad_norm_first``: the first layer's mean norm over
all steps, the post's reading. ``grad_ratio_first_last``: log10(first-layer mean / last-layer
mean), scale-free. Inverted dropout still moves it mechanically: each mask scales the
backward signal's squared norm by 1/keep on average, so with 8 Dropout layers the first
kernel's gradient gains sqrt(1.25)^8 and the last's sqrt(1.25) (its input is dropped): +7 x
log10(1.25) / 2 = 0.34 in the ratio from the scaling alone. The ratio claims declare that as
their smallest effect that matters: a rise whose CI lies below it is "smaller than claimed".
"""
from bench.spec import Arm, Case, Claim, Data, Dense, Dropout, Loss, Metric, Optimizer, Profile

DEPTH, WIDTH, RATE = 8, 64, 0.2
SCALING = (DEPTH - 1) * 0.0969 / 2   # log10(1 / (1 - RATE)) = 0.0969 per mask, halved for a norm


def _net(act: str, dropout: bool) -> tuple:
    hidden = (Dense(WIDTH, act), *((Dropout(RATE),) if dropout else ()))
    return (*hidden * DEPTH, Dense(10))


FIRST, RATIO = "grad_norm_first", "grad_ratio_first_last"


def _claims(act: str, n: int) -> tuple:
    pair = ((f"{act}_dropout", 1.0), (act, -1.0))
    return (Claim(f"c5c{n}", f"With {act}, dropout raises the first layer's gradient norm.", FIRST, pair, "greater"),
            Claim(f"c5c{n + 1}", f"With {act}, dropout raises the first layer's gradient relative to the last's.",
                  RATIO, pair, "greater", min_effect=round(SCALING, 3)))


CASES = [Case(
    id="c5c", title="Dropout mitigates vanishing gradients in a deep sigmoid/tanh MLP", source="seed 001 (Keras)",
    input_shape=(784,),
    data=Data("mnist", batch_size=128, epochs=5, scale=1 / 255),
    loss=Loss("softmax_cross_entropy"),
    optimizer=Optimizer("sgd", lr=0.01),   # Keras's SGD default, stated for PyTorch
    arms=tuple(Arm(f"{act}{'_dropout' if d else ''}", _net(act, d)) for act in ("sigmoid", "tanh") for d in (0, 1)),
    metrics=(Metric(FIRST, higher_is_better=True),    # "better" in the claims' sense: less vanishing
             Metric(RATIO, higher_is_better=True),
             Metric("test_accuracy", higher_is_better=True),
             Metric("train_loss", higher_is_better=False)),
    claims=(*_claims("sigmoid", 1), *_claims("tanh", 3)),
    profiles={
        "smoke": Profile(seeds=2, epochs=1, train_subsample=2000, test_subsample=1000,
                         notes="2000 train / 1000 test images, 1 epoch, 2 seeds"),
        # CPU: all 60,000 images, 5 epochs (2,345 steps), 10 seeds (the net is small: ~4 min planned).
        "quick": Profile(seeds=10, notes="all data, 5 epochs (2,345 steps), 10 seeds"),
        # twice the steps, so a net that starts to learn late (sigmoid) is seen doing so; 20 seeds
        "full": Profile(seeds=20, epochs=10, notes="all data, 10 epochs (4,690 steps), 20 seeds"),
    },
)]
