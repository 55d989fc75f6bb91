"""Continues training a ferronet network in PyTorch, data-parallel over processes on CPU.

    torchrun --standalone --nproc_per_node=2 interop/pytorch/continue_training.py \\
        model.safetensors data.csv --label y --epochs 20 --lr 0.05 --batch-size 32 --out trained.safetensors

`model.safetensors` is what ferronet's net.toSafetensors() writes; `trained.safetensors` (written
by rank 0) is read back by ferronet's Network.fromSafetensors(). Each process trains a
DistributedDataParallel copy (gloo backend) on its DistributedSampler share of each epoch, with
plain SGD; DDP averages the gradients, and batch norm's moving statistics are rank 0's (DDP
broadcasts buffers from it before each forward pass).

Data: a CSV file with a header row, whose --label columns (comma-separated names) are the
targets and every other column, in order, an input feature (an image's values row-major in
ferronet's NHWC order); or an .npz file with arrays `x` [N, *inputShape] and `y` [N, ...].

The loss follows the output activation, as ferronet's default loss does:
- sigmoid: binary cross-entropy on the probabilities; targets in [0, 1], one per output.
- softmax: cross-entropy -sum(t * log p) on the probabilities, log taken of p clamped to at least
  1e-7 (the module returns probabilities, as ferronet's predict does; the clamp keeps the log and
  its gradient finite where a probability underflows to 0). Targets: one column of class indices,
  or one column per class (one-hot or probabilities).
- anything else: mean squared error.

Rank 0 prints each epoch's mean training loss, then one JSON line
{"lossBefore": ..., "lossAfter": ..., "out": ...}: the loss over the whole data set in inference
mode before and after training.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ferronet_torch import load_safetensors, save_safetensors


def read_data(path: str, labels: list[str], input_shape: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs [N, *input_shape] and targets [N, targets] as float32."""
    if path.endswith(".npz"):
        arrays = np.load(path)
        x, y = arrays["x"], arrays["y"]
    else:
        with open(path, newline="", encoding="utf-8") as file:
            rows = list(csv.reader(file))
        header, values = rows[0], np.asarray(rows[1:], dtype=np.float64)
        missing = [name for name in labels if name not in header]
        if missing:
            raise SystemExit(f"{path}: no column {missing[0]!r} (columns: {', '.join(header)})")
        targets = [header.index(name) for name in labels]
        x = values[:, [i for i in range(len(header)) if i not in targets]]
        y = values[:, targets]
    x = torch.as_tensor(x, dtype=torch.float32).reshape(len(x), *input_shape)
    return x, torch.as_tensor(y, dtype=torch.float32).reshape(len(y), -1)


def loss_of(activation: str, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The mean loss of `output` (the network's, probabilities after sigmoid or softmax)."""
    output = output.reshape(len(output), -1)
    if activation == "sigmoid":
        return F.binary_cross_entropy(output, target)
    if activation == "softmax":
        if target.shape[1] == 1:
            target = F.one_hot(target[:, 0].long(), output.shape[1]).to(output.dtype)
        return -(target * torch.log(output.clamp_min(1e-7))).sum(dim=1).mean()
    return F.mse_loss(output, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="ferronet safetensors file")
    parser.add_argument("data", help=".csv (header row) or .npz (arrays x and y)")
    parser.add_argument("--label", default="label", help="CSV target column(s), comma-separated (default: label)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=32, help="per process")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, help="where rank 0 writes the trained model")
    args = parser.parse_args()

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    torch.manual_seed(args.seed)
    net = load_safetensors(args.model)
    activation = net.output_activation
    x, y = read_data(args.data, args.label.split(","), net.input_shape)
    data = TensorDataset(x, y)
    sampler = DistributedSampler(data, shuffle=True, seed=args.seed)
    loader = DataLoader(data, batch_size=args.batch_size, sampler=sampler)
    model = DistributedDataParallel(net)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)

    def full_loss() -> float:
        net.eval()
        with torch.no_grad():
            loss = loss_of(activation, net(x), y).item()
        net.train()
        return loss

    before = full_loss() if rank == 0 else None
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        total = torch.zeros(2, dtype=torch.float64)  # summed loss and samples on this rank
        for inputs, targets in loader:
            optimizer.zero_grad()
            loss = loss_of(activation, model(inputs), targets)
            loss.backward()
            optimizer.step()
            total += torch.tensor([loss.item() * len(inputs), len(inputs)], dtype=torch.float64)
        dist.all_reduce(total)
        if rank == 0:
            print(f"epoch {epoch + 1}/{args.epochs} loss {total[0] / total[1]:.6f}", flush=True)
    if rank == 0:
        save_safetensors(net, args.out)
        print(json.dumps({"lossBefore": before, "lossAfter": full_loss(), "out": args.out}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
