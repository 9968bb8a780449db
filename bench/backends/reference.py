"""Reference training loops, written by us, used only to time the suite against them.

``post_tf`` is the C1 post's loop as written: an eager ``GradientTape`` step
over ``tf.data`` (``shuffle(60000).batch(128).repeat(epochs)``), no
``tf.function``. ``plain_torch`` is the loop a PyTorch user would write: a
``DataLoader`` over a ``TensorDataset``, one optimizer step per batch. Both
train the C1 "both" arm (dropout + L2) and return seconds and test accuracy.
"""
from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

LOOPS = ("post_tf", "plain_torch")


def post_tf(arrays, epochs: int, seed: int = 1) -> dict:
    import tensorflow as tf
    import keras

    x, y, x_test, y_test = arrays
    tf.random.set_seed(seed)
    db = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(128).repeat(epochs)
    net = keras.Sequential([keras.layers.Dense(256, activation="relu"), keras.layers.Dropout(0.5),
                            keras.layers.Dense(128, activation="relu"), keras.layers.Dropout(0.5),
                            keras.layers.Dense(64, activation="relu"), keras.layers.Dense(32, activation="relu"),
                            keras.layers.Dense(10)])
    net.build(input_shape=(None, x.shape[1]))
    opt = keras.optimizers.Adam(learning_rate=0.01)
    start, steps = time.perf_counter(), 0
    for xb, yb in db:
        with tf.GradientTape() as tape:
            out = net(xb, training=True)
            loss = tf.reduce_mean(tf.losses.categorical_crossentropy(tf.one_hot(yb, 10), out, from_logits=True))
            loss = loss + 1e-4 * tf.reduce_sum(tf.stack([tf.nn.l2_loss(p) for p in net.trainable_variables]))
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables))
        steps += 1
    seconds = time.perf_counter() - start
    acc = float(tf.reduce_mean(tf.cast(tf.argmax(net(x_test), 1) == y_test, tf.float32)))
    return {"loop": "post_tf", "seconds": seconds, "steps": steps, "test_accuracy": acc}


def plain_torch(arrays, epochs: int, seed: int = 1) -> dict:
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    x, y, x_test, y_test = arrays
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(x.shape[1], 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 128), nn.ReLU(),
                        nn.Dropout(0.5), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                        nn.Linear(32, 10))
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    loader = DataLoader(TensorDataset(torch.as_tensor(x), torch.as_tensor(y)), batch_size=128, shuffle=True)
    start, steps = time.perf_counter(), 0
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(xb), yb)
            loss = loss + 1e-4 * sum(p.pow(2).sum() / 2 for p in net.parameters())
            loss.backward()
            opt.step()
            steps += 1
    seconds = time.perf_counter() - start
    net.eval()
    with torch.no_grad():
        acc = float((net(torch.as_tensor(x_test)).argmax(1) == torch.as_tensor(y_test)).float().mean())
    return {"loop": "plain_torch", "seconds": seconds, "steps": steps, "test_accuracy": acc}
