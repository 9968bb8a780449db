"""C4's two convolutions alone in TensorFlow (1 thread, random inputs, NHWC as Keras runs them, inside
``tf.function``), beside one whole training step of a plain Keras C4 `fc` model: median ms and
GFLOP/s by work done, forward and forward + backward (conv1: kernel gradient only, as in
training). Shows what share of TensorFlow's step the convolutions take.
Usage: python tf_conv_layers_probe.py"""
import statistics, time

import tensorflow as tf

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
tf.config.experimental.enable_op_determinism()   # as the suite's trainers run
REPS, ROUNDS = 10, 7
x1, w1 = tf.random.normal([128, 28, 28, 1], seed=1), tf.Variable(tf.random.normal([3, 3, 1, 32], seed=2))
x2, w2 = tf.Variable(tf.random.normal([128, 13, 13, 32], seed=3)), tf.Variable(tf.random.normal([3, 3, 32, 64], seed=4))


def conv(x, w):
    return tf.nn.conv2d(x, w, 1, "VALID")


def forward(x, w):
    @tf.function
    def run():   # each result feeds the returned sum, so the graph cannot drop the work
        total = tf.constant(0.0)
        for _ in tf.range(REPS):
            total += tf.reduce_sum(conv(x, w))
        return total
    return run


def backward(x, w, wrt):
    @tf.function
    def run():
        total = tf.constant(0.0)
        for _ in tf.range(REPS):
            with tf.GradientTape() as tape:
                y = tf.reduce_sum(conv(x, w))
            total += y + tf.add_n([tf.reduce_sum(g) for g in tape.gradient(y, wrt)])
        return total
    return run


f1, fb1 = forward(x1, w1), backward(x1, w1, [w1])
f2, fb2 = forward(x2, w2), backward(x2, w2, [x2, w2])


L = tf.keras.layers
model = tf.keras.Sequential([tf.keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(),
                             L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(), L.Flatten(), L.Dropout(0.5),
                             L.Dense(10)])
opt, loss = tf.keras.optimizers.Adam(), tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
labels = tf.zeros([128], tf.int64)


@tf.function
def step():
    for _ in tf.range(REPS):
        with tf.GradientTape() as tape:
            value = loss(labels, model(x1, training=True))
        opt.apply_gradients(zip(tape.gradient(value, model.trainable_variables), model.trainable_variables))


work = {"conv1 fwd": 128 * 26 * 26 * 32 * 9 * 2, "conv1 fwd+bwd(w)": 2 * 128 * 26 * 26 * 32 * 9 * 2,
        "conv2 fwd": 128 * 11 * 11 * 64 * 288 * 2, "conv2 fwd+bwd": 3 * 128 * 11 * 11 * 64 * 288 * 2,
        "whole training step": 1.971e9}
fns = dict(zip(work, (f1, fb1, f2, fb2, step)))
for f in fns.values():
    f()
times = {k: [] for k in fns}
for r in range(ROUNDS):
    for k in (list(fns) if r % 2 == 0 else list(fns)[::-1]):
        t0 = time.perf_counter()
        fns[k]()
        times[k].append((time.perf_counter() - t0) / REPS)
for k, ts in times.items():
    m = statistics.median(ts)
    print(f"{k}: {m * 1e3:.2f} ms  {work[k] / m / 1e9:.1f} GFLOP/s")
