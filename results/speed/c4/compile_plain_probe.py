"""What the frameworks' graph compilers could give C4's net at best, outside the suite: a plain
C4 `fc` model (Conv 32, pool, Conv 64, pool, Flatten, Dropout 0.5, Dense 10; Adam; batches of
128 random images), eager against compiled, timed interleaved on one thread. ``torch``:
``torch.compile`` (inductor) of the model; ``tf``: the step's ``tf.function`` with and without
``jit_compile=True`` (XLA), without op determinism, which refuses XLA's MaxPool gradient.
Median ms per step over 7 rounds of 20 steps, after warm-up. Usage: python compile_plain_probe.py torch|tf"""
import statistics, sys, time

FRAMEWORK, STEPS, ROUNDS = sys.argv[1], 20, 7


def torch_steps():
    import torch
    from torch import nn
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x, y = torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))

    def make(compiled):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        run = torch.compile(model) if compiled else model

        def step():
            for _ in range(STEPS):
                opt.zero_grad(set_to_none=True)
                nn.functional.cross_entropy(run(x), y).backward()
                opt.step()
        return step
    return {"eager": make(False), "compiled": make(True)}


def tf_steps():
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    x, y = tf.random.normal([128, 28, 28, 1], seed=0), tf.zeros([128], tf.int64)
    loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def make(jit):
        tf.random.set_seed(0)
        L = tf.keras.layers
        model = tf.keras.Sequential([tf.keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(),
                                     L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(), L.Flatten(),
                                     L.Dropout(0.5), L.Dense(10)])
        opt = tf.keras.optimizers.Adam()

        @tf.function(jit_compile=jit)
        def one():
            with tf.GradientTape() as tape:
                value = loss(y, model(x, training=True))
            opt.apply_gradients(zip(tape.gradient(value, model.trainable_variables), model.trainable_variables))

        def step():
            for _ in range(STEPS):
                one()
        return step
    return {"tf.function": make(False), "jit_compile": make(True)}


steps = torch_steps() if FRAMEWORK == "torch" else tf_steps()
t0 = time.perf_counter()
for step in steps.values():
    step()
print(f"warm-up (compiling included): {time.perf_counter() - t0:.1f} s")
times = {way: [] for way in steps}
for r in range(ROUNDS):
    for way in (list(steps) if r % 2 == 0 else list(steps)[::-1]):
        t0 = time.perf_counter()
        steps[way]()
        times[way].append((time.perf_counter() - t0) / STEPS)
first = statistics.median(times[list(steps)[0]])
for way, ts in times.items():
    m = statistics.median(ts)
    print(f"{FRAMEWORK} {way:12s} median {m * 1e3:7.2f} ms/step  min {min(ts) * 1e3:7.2f}  x{m / first:.2f}")
