"""PyTorch as a peer: `peer_torch.py CASE BACKEND THREADS INPUTS` (see peer_common.py).

Eager mode and a plain training loop, as a PyTorch user writes one: per batch `zero_grad`,
forward, loss, `backward`, `optimizer.step()` with `torch.optim.SGD`. float32 on the CPU. The
networks and their initialization follow ferronet's (bench/spec.ts, ts/layers): He-normal
weights for relu layers, Glorot-uniform for the output layer, normal(0, 0.01) for planar, zero
biases. Softmax and sigmoid outputs are folded into the loss (`cross_entropy` on logits,
`binary_cross_entropy_with_logits`), PyTorch's own idiom for the same function.

Threads: `torch.set_num_threads(THREADS)`; the row's environment also sets OMP_NUM_THREADS and
MKL_NUM_THREADS (bench/rows.ts).
"""

import itertools
import math
import sys

from peer_common import Peer, emit_epochs, run_case, time_runs

peer = Peer(sys.argv)
try:
    import numpy as np
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError as error:
    peer.missing(error.name or "torch", error)
    sys.exit(0)

torch.set_num_threads(peer.threads)
torch.manual_seed(1)
peer.threads = torch.get_num_threads()
VERSION = f"torch {torch.__version__}"


def init_layer(layer, scheme):
    """ferronet's initializers: 'he' (normal, std sqrt(2 / fanIn)), 'glorot' (uniform) or 'normal0.01'."""
    weight = layer.weight
    fan_in = weight[0].numel()
    with torch.no_grad():
        if scheme == "he":
            weight.normal_(0.0, math.sqrt(2.0 / fan_in))
        elif scheme == "glorot":
            nn.init.xavier_uniform_(weight)
        else:
            weight.normal_(0.0, 0.01)
        layer.bias.zero_()
    return layer


def mlp_model(spec):
    mlp = spec["mlp"]
    sizes = [mlp["inputs"], *mlp["hidden"]]
    layers = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        layers += [init_layer(nn.Linear(fan_in, fan_out), "he"), nn.ReLU()]
    layers.append(init_layer(nn.Linear(sizes[-1], mlp["classes"]), "glorot"))
    return nn.Sequential(*layers)


def cnn_model(spec):
    cnn = spec["cnn"]
    first, second = cnn["filters"]
    size, pool = cnn["kernelSize"], cnn["poolSize"]
    height, width, channels = cnn["inputShape"]
    flat = second * (height // pool // pool) * (width // pool // pool)
    return nn.Sequential(
        init_layer(nn.Conv2d(channels, first, size, padding="same"), "he"),
        nn.ReLU(),
        nn.MaxPool2d(pool),
        init_layer(nn.Conv2d(first, second, size, padding="same"), "he"),
        nn.ReLU(),
        nn.MaxPool2d(pool),
        nn.Flatten(),
        init_layer(nn.Linear(flat, cnn["hidden"]), "he"),
        nn.ReLU(),
        init_layer(nn.Linear(cnn["hidden"], cnn["classes"]), "glorot"),
    )


def classifier_epochs(peer, model, x, labels, batch, learning_rate, epochs, note):
    """Times `epochs` epochs (after a warmup one) of shuffled mini-batch SGD on (x, labels)."""
    x = torch.from_numpy(x)
    labels = torch.from_numpy(labels.astype(np.int64))
    samples = len(labels)
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    generator = torch.Generator().manual_seed(1)
    model.train()

    def epoch():
        order = torch.randperm(samples, generator=generator)
        total = torch.zeros(())
        for start in range(0, samples - batch + 1, batch):
            index = order[start : start + batch]
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x[index]), labels[index])
            loss.backward()
            optimizer.step()
            total += loss.detach()
        return total.item() / (samples // batch)

    emit_epochs(peer, epoch, epochs, batch, samples, note)


def mlp_case(peer, spec, arrays):
    mlp, pace = spec["mlp"], spec["pace"]
    note = f"{VERSION}, eager loop with torch.optim.SGD; softmax folded into F.cross_entropy"
    classifier_epochs(peer, mlp_model(spec), arrays["x"], arrays["labels"], mlp["batch"], mlp["learningRate"], pace["mlpEpochs"], note)


def cnn_case(peer, spec, arrays):
    cnn, pace = spec["cnn"], spec["pace"]
    # The inputs are NHWC; PyTorch's convolutions take NCHW: transposed once, untimed.
    x = np.ascontiguousarray(arrays["x"].transpose(0, 3, 1, 2))
    note = f"{VERSION}, eager loop with torch.optim.SGD, NCHW; softmax folded into F.cross_entropy"
    classifier_epochs(peer, cnn_model(spec), x, arrays["labels"], cnn["batch"], cnn["learningRate"], pace["cnnEpochs"], note)


def planar_case(peer, spec, arrays):
    planar, pace = spec["planar"], spec["pace"]
    x, y = torch.from_numpy(arrays["x"]), torch.from_numpy(arrays["y"])
    state = {}

    def setup():
        torch.manual_seed(2)
        model = nn.Sequential(
            init_layer(nn.Linear(2, planar["hidden"]), "normal0.01"),
            nn.Tanh(),
            init_layer(nn.Linear(planar["hidden"], 1), "normal0.01"),
        )
        state["model"] = model
        state["optimizer"] = torch.optim.SGD(model.parameters(), lr=planar["learningRate"])
        state["first"] = loss_now()

    def loss_now():
        with torch.no_grad():
            return F.binary_cross_entropy_with_logits(state["model"](x), y).item()

    def run():
        model, optimizer = state["model"], state["optimizer"]
        for _ in range(planar["steps"]):
            optimizer.zero_grad(set_to_none=True)
            F.binary_cross_entropy_with_logits(model(x), y).backward()
            optimizer.step()

    ms, cpu = time_runs(run, pace["runs"], setup=setup)
    note = f"{VERSION}, eager loop with torch.optim.SGD; sigmoid folded into F.binary_cross_entropy_with_logits"
    peer.emit(steps=planar["steps"], ms=ms, firstLoss=state["first"], lastLoss=loss_now(), cpuPerWall=cpu, note=note)


def inference_case(peer, spec, arrays):
    model = mlp_model(spec).eval()
    for batch in spec["inferenceBatches"]:
        inputs = arrays["x"][:batch]

        def run(inputs=inputs):
            with torch.inference_mode():
                return torch.softmax(model(torch.from_numpy(inputs)), dim=1).numpy()

        ms, cpu = time_runs(run, spec["pace"]["runs"])
        peer.emit(batch=batch, latencyMs=ms, samplesPerSec=batch * 1000 / ms, cpuPerWall=cpu, note=f"{VERSION}, eager, inference_mode")


run_case(peer, {"mlp": mlp_case, "cnn": cnn_case, "planar": planar_case, "inference": inference_case})
