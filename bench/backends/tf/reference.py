"""The speed table's reference loop for TF: the C1 post's loop as written, used only to time
the suite against it (``bench speed``).

``post_tf``: an eager ``GradientTape`` step over ``tf.data``
(``shuffle(60000).batch(128).repeat(epochs)``), no ``tf.function``, training
the C1 "both" arm (dropout + L2); returns seconds and test accuracy.
"""
from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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


def keras_fit(arrays, epochs: int, seed: int = 1) -> dict:
    """``keras_fit``: C4's ``fc`` arm (two conv blocks, Dropout 0.5 around Dense 128) as a Keras
    user trains it: ``model.compile`` with default Adam, then ``model.fit(batch_size=128,
    shuffle=True)``. Returns seconds (of ``fit``), steps and test accuracy."""
    import tensorflow as tf
    import keras

    x, y, x_test, y_test = arrays
    tf.random.set_seed(seed)
    layers = keras.layers
    net = keras.Sequential([keras.Input(shape=(x.shape[1],)), layers.Reshape((28, 28, 1)),
                            layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                            layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
                            layers.Flatten(), layers.Dropout(0.5), layers.Dense(128, activation="relu"),
                            layers.Dropout(0.5), layers.Dense(10)])
    net.compile(optimizer=keras.optimizers.Adam(),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    start = time.perf_counter()
    history = net.fit(x, y, batch_size=128, epochs=epochs, shuffle=True, verbose=0)
    seconds = time.perf_counter() - start
    acc = float(net.evaluate(x_test, y_test, batch_size=2048, verbose=0)[1])
    steps = epochs * -(-len(x) // 128)
    return {"loop": "keras_fit", "seconds": seconds, "steps": steps, "test_accuracy": acc,
            "epochs_run": len(history.history["loss"])}
