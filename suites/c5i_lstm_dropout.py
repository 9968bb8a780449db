"""C5i: dropout on an LSTM's outputs and recurrent dropout reduce overfitting (seeds 001, 000).

The seeds' example is ``LSTM(50, dropout=0.2, recurrent_dropout=0.2)``: Keras's input dropout
(on x, per gate) and recurrent dropout (on h, per gate), each one mask per sequence fixed over
the time steps (Gal & Ghahramani 2016; ``bench.spec.LSTM``). "Dropout on LSTM outputs" is a
``Dropout`` layer on the LSTM's last output, before the classifier.

The task must run offline, so it is MNIST read row by row: 28 time steps of 28 pixels (x/255),
``LSTM(50)`` then ``Dense(10)`` logits, mean softmax cross-entropy. Choices the posts leave
open, and why:
- A small training set, the first 3,000 images, so the net overfits within the budget (the
  regime the claim is about); every one of the 10,000 test images is scored.
- Adam at each framework's defaults (lr 1e-3) and batch 32, ``fit``'s default: the seeds give
  neither. Initial weights are each framework's own (``bench.spec.LSTM``: Keras glorot-uniform
  kernel, orthogonal recurrent kernel, forget-gate bias 1; PyTorch U(+-1/sqrt(50)) everywhere).
- Rates 0.2, the example's, for every kind of dropout, so the arms differ only in where it acts.
- "Reduce overfitting" is read on ``test_loss``: the held-out loss is what rises as a net
  overfits, while accuracy moves less; ``test_accuracy`` and ``train_loss`` are reported too.
The LSTM trains on the per-seed path only (no vectorized group path: ``LSTM.vectorized``).
"""
from bench.spec import LSTM, Arm, Case, Claim, Data, Dense, Dropout, Loss, Metric, Optimizer, Profile

RATE = 0.2   # the seeds' example: LSTM(50, dropout=0.2, recurrent_dropout=0.2)
LOSS = "test_loss"

CASES = [Case(
    id="c5i", title="Output and recurrent dropout reduce overfitting in an LSTM", source="seeds 001, 000 (TF2)",
    input_shape=(28, 28),   # read row by row: 28 steps of 28 features
    data=Data("mnist", batch_size=32, epochs=30, scale=1 / 255,
              train_subsample=3000),   # 94 steps an epoch, 2,820 in all: long enough to overfit 3,000 images
    loss=Loss("softmax_cross_entropy"),
    optimizer=Optimizer("adam"),
    arms=(Arm("none", (LSTM(50), Dense(10))),
          Arm("output", (LSTM(50), Dropout(RATE), Dense(10))),                  # dropout on the LSTM's output
          Arm("recurrent", (LSTM(50, recurrent_dropout=RATE), Dense(10))),      # on h, inside the recurrence
          Arm("both", (LSTM(50, dropout=RATE, recurrent_dropout=RATE), Dense(10)))),  # the seeds' example
    metrics=(Metric(LOSS, higher_is_better=False), Metric("test_accuracy", higher_is_better=True),
             Metric("train_loss", higher_is_better=False)),
    claims=(
        Claim("c5i1", "Dropout on the LSTM's outputs reduces overfitting: lower test loss than no dropout.", LOSS,
              (("output", 1.0), ("none", -1.0)), "less"),
        Claim("c5i2", "Recurrent dropout reduces overfitting: lower test loss than no dropout.", LOSS,
              (("recurrent", 1.0), ("none", -1.0)), "less"),
        Claim("c5i3", "LSTM(50, dropout=0.2, recurrent_dropout=0.2) reduces overfitting: lower test loss than "
              "no dropout.", LOSS, (("both", 1.0), ("none", -1.0)), "less"),
    ),
    profiles={
        "smoke": Profile(seeds=2, epochs=1, train_subsample=500, test_subsample=500,
                         notes="500 train / 500 test images, 1 epoch, 2 seeds"),
        # CPU (~30 min for both frameworks by `bench plan`): fewer images rather than fewer epochs, so the
        # net still overfits, the regime the claim is about: 1,000 images x 20 epochs = 640 steps.
        "quick": Profile(seeds=6, epochs=20, train_subsample=1000,
                         notes="the first 1,000 training images, 20 epochs (640 steps), 6 seeds"),
        "full": Profile(seeds=10, notes="3,000 training images, 30 epochs, 10 seeds"),
    },
)]
