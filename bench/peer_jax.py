"""JAX as a peer: `peer_jax.py CASE BACKEND THREADS INPUTS` (see peer_common.py).

jit-compiled on XLA's CPU backend, float32. The MLP row times one jitted call per epoch: a
shuffle (`jax.random.permutation` and a gather) and a `lax.scan` of SGD steps over the epoch's
batches, returning the new parameters and the epoch's mean loss. The CNN row jits one SGD step
(gathering its batch) and calls it per batch, since XLA ran the convolutions far slower inside a
scan (see cnn_case). The planar row times one jitted `lax.fori_loop` of all 10,000 steps. Compilation happens in the warmup epoch or run, untimed.
Networks and initialization follow ferronet's (He-normal for relu layers, Glorot-uniform for the
output, normal(0, 0.01) for planar, zero biases); softmax and sigmoid are folded into the loss.

Threads: the 1-thread row's environment has XLA_FLAGS="--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1" (bench/rows.ts), and the script pins the process to the least busy
CPU before importing JAX (XLA sizes its pools from the affinity; with the flags alone the CNN's
convolutions still ran on about 1.5 cores). The all-cores row leaves XLA its default pools.
"""

import math
import sys
from functools import partial

from peer_common import Peer, emit_epochs, pin_to_one_cpu, run_case, time_runs

peer = Peer(sys.argv)
if peer.threads == 1:
    # XLA_FLAGS (set by bench/rows.ts) keep Eigen and XLA's intra-op work on one thread, but
    # its convolutions still used about 1.5 cores: the process's affinity holds it to one.
    pin_to_one_cpu()
try:
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax import lax
except ImportError as error:
    peer.missing(error.name or "jax", error)
    sys.exit(0)

VERSION = f"jax {jax.__version__}"


def init_weights(key, shape, fan_in, fan_out, scheme):
    if scheme == "he":
        return jax.random.normal(key, shape, jnp.float32) * math.sqrt(2.0 / fan_in)
    if scheme == "glorot":
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return jax.random.uniform(key, shape, jnp.float32, -limit, limit)
    return jax.random.normal(key, shape, jnp.float32) * 0.01


def dense(key, fan_in, fan_out, scheme):
    return {"w": init_weights(key, (fan_in, fan_out), fan_in, fan_out, scheme), "b": jnp.zeros((fan_out,), jnp.float32)}


def mlp_params(spec, key):
    mlp = spec["mlp"]
    sizes = [mlp["inputs"], *mlp["hidden"], mlp["classes"]]
    keys = jax.random.split(key, len(sizes) - 1)
    last = len(sizes) - 2
    return [dense(k, i, o, "glorot" if n == last else "he") for n, (k, i, o) in enumerate(zip(keys, sizes, sizes[1:]))]


def mlp_logits(params, x):
    for layer in params[:-1]:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


def cnn_params(spec, key):
    cnn = spec["cnn"]
    first, second = cnn["filters"]
    size, pool = cnn["kernelSize"], cnn["poolSize"]
    height, width, channels = cnn["inputShape"]
    flat = second * (height // pool // pool) * (width // pool // pool)
    k1, k2, k3, k4 = jax.random.split(key, 4)

    def conv(k, cin, cout):
        fan_in, fan_out = size * size * cin, size * size * cout
        return {"w": init_weights(k, (size, size, cin, cout), fan_in, fan_out, "he"), "b": jnp.zeros((cout,), jnp.float32)}

    return {
        "conv1": conv(k1, channels, first),
        "conv2": conv(k2, first, second),
        "dense1": dense(k3, flat, cnn["hidden"], "he"),
        "dense2": dense(k4, cnn["hidden"], cnn["classes"], "glorot"),
    }


def cnn_logits(pool, params, x):
    def conv_relu_pool(layer, x):
        y = lax.conv_general_dilated(x, layer["w"], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        y = jax.nn.relu(y + layer["b"])
        return lax.reduce_window(y, -jnp.inf, lax.max, (1, pool, pool, 1), (1, pool, pool, 1), "VALID")

    x = conv_relu_pool(params["conv2"], conv_relu_pool(params["conv1"], x))
    x = x.reshape(x.shape[0], -1)
    x = jax.nn.relu(x @ params["dense1"]["w"] + params["dense1"]["b"])
    return x @ params["dense2"]["w"] + params["dense2"]["b"]


def cross_entropy(logits, labels):
    """Mean categorical cross-entropy of softmax(logits) against class indices."""
    log_probs = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(log_probs, labels[:, None], axis=1))


def classifier_epochs(peer, params, logits, x, labels, batch, learning_rate, epochs, note):
    """Times `epochs` jitted epochs (after a warmup one that compiles) of shuffled mini-batch SGD."""
    samples = len(labels)
    batches = samples // batch
    x = jnp.asarray(x)
    labels = jnp.asarray(labels.astype(np.int32))
    key = jax.random.key(1)

    def loss_fn(params, xb, yb):
        return cross_entropy(logits(params, xb), yb)

    @partial(jax.jit, donate_argnums=0)
    def epoch(params, index, x, labels):
        order = jax.random.permutation(jax.random.fold_in(key, index), samples)[: batches * batch]
        xs = x[order].reshape(batches, batch, *x.shape[1:])
        ys = labels[order].reshape(batches, batch)

        def step(params, data):
            loss, grads = jax.value_and_grad(loss_fn)(params, *data)
            return jax.tree.map(lambda p, g: p - learning_rate * g, params, grads), loss

        params, losses = lax.scan(step, params, (xs, ys))
        return params, jnp.mean(losses)

    state = {"params": params, "epoch": 0}

    def run_epoch():
        state["params"], loss = epoch(state["params"], state["epoch"], x, labels)
        state["epoch"] += 1
        return float(loss)

    emit_epochs(peer, run_epoch, epochs, batch, samples, note)


def classifier_steps(peer, params, logits, x, labels, batch, learning_rate, epochs, note):
    """As `classifier_epochs`, but a Python loop of one jitted SGD step per batch (the batch gathered inside it)."""
    samples = len(labels)
    batches = samples // batch
    x = jnp.asarray(x)
    labels = jnp.asarray(labels.astype(np.int32))
    rng = np.random.default_rng(1)

    def loss_fn(params, xb, yb):
        return cross_entropy(logits(params, xb), yb)

    @partial(jax.jit, donate_argnums=0)
    def step(params, x, labels, index):
        loss, grads = jax.value_and_grad(loss_fn)(params, x[index], labels[index])
        return jax.tree.map(lambda p, g: p - learning_rate * g, params, grads), loss

    state = {"params": params}

    def run_epoch():
        order = rng.permutation(samples).astype(np.int32)
        losses = []
        for start in range(0, batches * batch, batch):
            state["params"], loss = step(state["params"], x, labels, order[start : start + batch])
            losses.append(loss)
        return float(jnp.mean(jnp.stack(losses)))

    emit_epochs(peer, run_epoch, epochs, batch, samples, note)


def mlp_case(peer, spec, arrays):
    mlp, pace = spec["mlp"], spec["pace"]
    note = f"{VERSION}, one jit of shuffle + lax.scan per epoch; softmax folded into the loss"
    params = mlp_params(spec, jax.random.key(1))
    classifier_epochs(peer, params, mlp_logits, arrays["x"], arrays["labels"], mlp["batch"], mlp["learningRate"], pace["mlpEpochs"], note)


def cnn_case(peer, spec, arrays):
    cnn, pace = spec["cnn"], spec["pace"]
    # One jitted step per batch, not a lax.scan per epoch: inside the scan's loop XLA's CPU
    # backend ran this network about 10x slower (jax 0.10.2 on a 2-core Zen 2: 69 samples/s,
    # against 630 on one pinned core and 920 on two for the same step jitted alone).
    note = f"{VERSION}, one jitted step per batch (gather, SGD step), NHWC; softmax folded into the loss"
    params = cnn_params(spec, jax.random.key(1))
    logits = partial(cnn_logits, cnn["poolSize"])
    classifier_steps(peer, params, logits, arrays["x"], arrays["labels"], cnn["batch"], cnn["learningRate"], pace["cnnEpochs"], note)


def planar_case(peer, spec, arrays):
    planar, pace = spec["planar"], spec["pace"]
    x, y = jnp.asarray(arrays["x"]), jnp.asarray(arrays["y"])
    steps, learning_rate, hidden = planar["steps"], planar["learningRate"], planar["hidden"]

    def loss_fn(params, x, y):
        h = jnp.tanh(x @ params[0]["w"] + params[0]["b"])
        z = h @ params[1]["w"] + params[1]["b"]
        # Binary cross-entropy of sigmoid(z): log(1 + e^z) - y z, in a stable form.
        return jnp.mean(jax.nn.softplus(z) - y * z)

    @jax.jit
    def train(params, x, y):
        def body(_, params):
            grads = jax.grad(loss_fn)(params, x, y)
            return jax.tree.map(lambda p, g: p - learning_rate * g, params, grads)

        return lax.fori_loop(0, steps, body, params)

    loss_now = jax.jit(loss_fn)
    k1, k2 = jax.random.split(jax.random.key(2))
    fresh = jax.block_until_ready([dense(k1, 2, hidden, "normal0.01"), dense(k2, hidden, 1, "normal0.01")])
    state = {}

    def run():
        state["trained"] = jax.block_until_ready(train(fresh, x, y))

    ms, cpu = time_runs(run, pace["runs"])
    note = f"{VERSION}, one jit of lax.fori_loop over all steps; sigmoid folded into the loss"
    first, last = float(loss_now(fresh, x, y)), float(loss_now(state["trained"], x, y))
    peer.emit(steps=steps, ms=ms, firstLoss=first, lastLoss=last, cpuPerWall=cpu, note=note)


def inference_case(peer, spec, arrays):
    params = mlp_params(spec, jax.random.key(1))
    forward = jax.jit(lambda params, x: jax.nn.softmax(mlp_logits(params, x)))
    for batch in spec["inferenceBatches"]:
        inputs = arrays["x"][:batch]

        def run(inputs=inputs):
            # From a host array to a host array, as ferronet's predict takes and returns them.
            return np.asarray(forward(params, inputs))

        ms, cpu = time_runs(run, spec["pace"]["runs"])
        peer.emit(batch=batch, latencyMs=ms, samplesPerSec=batch * 1000 / ms, cpuPerWall=cpu, note=f"{VERSION}, jit")


run_case(peer, {"mlp": mlp_case, "cnn": cnn_case, "planar": planar_case, "inference": inference_case})
