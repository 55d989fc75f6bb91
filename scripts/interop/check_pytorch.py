#!/usr/bin/env python3
"""Checks interop/pytorch/ferronet_torch.py and continue_training.py with real PyTorch, on your own
machine (PyTorch is gigabytes, so neither setup nor CI installs it):

    python3 -m venv ~/torchvenv && ~/torchvenv/bin/pip install numpy safetensors torch
    ~/torchvenv/bin/python scripts/interop/check_pytorch.py MANIFEST.json...
    ~/torchvenv/bin/python scripts/interop/check_pytorch.py --self-test DIR
    ~/torchvenv/bin/python scripts/interop/check_pytorch.py --ddp DIR

MANIFEST.json: files ferronet wrote (scripts/interop/export-cases.ts writes one for every network of
test/interop/networks.ts), as a JSON list of
  {"name": ..., "model": "m.safetensors", "input": "x.f32", "rows": N, "expected": "y.f32"}
(raw little-endian float32: the inputs, N samples row-major NHWC, and net.predict's output).
Each model is loaded with load_safetensors, run in eval mode and compared with the expected
output (max abs difference, at most --tolerance), then written with save_safetensors and read
back: every tensor's bytes and the metadata must be the file's.

--self-test DIR writes random files of every layer kind, activation, padding and stride into DIR
(no ferronet needed), takes test/interop/numpy_forward.py's outputs as the expected ones, adds
TensorFlow-'same' cases whose outputs are worked out by hand (checking numpy_forward.py against
them too), and runs the same checks: two independent readers of the format must agree.

--ddp DIR trains two small random networks (dense + batch norm + sigmoid on a CSV; conv + pool +
batch norm + softmax on an .npz) with continue_training.py under
`torchrun --standalone --nproc_per_node=2`, and checks that the saved file loads, keeps the
metadata, has changed weights and that the loss over the data set decreased.

Prints a table (its diff column: max abs difference of outputs; for --ddp, the loss's change)
and "N passed, N failed"; exits 1 when any check fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open
from safetensors.numpy import save_file

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "interop" / "pytorch"))
from ferronet_torch import FerronetNet, load_safetensors, save_safetensors  # noqa: E402 (after the path it is found on)


def check(entry: dict[str, Any], tolerance: float) -> tuple[str, float, str, bool]:
    """(name, max |torch - expected|, round-trip verdict, passed) for one manifest entry."""
    net = load_safetensors(entry["model"]).eval()
    x = np.fromfile(entry["input"], dtype="<f4").reshape(entry["rows"], *net.input_shape)
    with torch.no_grad():
        y = net(torch.from_numpy(x)).numpy()
    expected = np.fromfile(entry["expected"], dtype="<f4")
    diff = float(np.max(np.abs(y.ravel().astype(np.float64) - expected))) if y.size == expected.size else float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "copy.safetensors"
        save_safetensors(net, copy)
        same = read_raw(entry["model"]) == read_raw(copy)
    return entry["name"], diff, "identical" if same else "DIFFERENT", diff <= tolerance and same


def read_raw(path: str | Path) -> tuple[dict[str, str], dict[str, tuple[str, tuple[int, ...], bytes]]]:
    """A safetensors file's metadata and each tensor's dtype, shape and bytes."""
    with safe_open(str(path), framework="numpy") as file:
        tensors = {name: file.get_tensor(name) for name in file.keys()}
        return file.metadata(), {name: (str(t.dtype), t.shape, t.tobytes()) for name, t in tensors.items()}


def write_model(path: Path, input_shape: list[int], layers: list[dict[str, Any]], rng: np.random.Generator, given: dict[str, np.ndarray] | None = None) -> None:
    """A ferronet safetensors file: `given` tensors, or random ones of the shapes the layers need."""
    metadata = {
        "format": "ferronet",
        "ferronet": "0.1.0",
        "inputShape": json.dumps(input_shape),
        "layers": json.dumps(layers),
        "metadata": json.dumps({"check": "pytorch"}),
    }
    tensors = given
    if tensors is None:
        shapes = {name: tuple(t.shape) for name, t in FerronetNet(metadata).state_dict().items() if not name.endswith("num_batches_tracked")}
        tensors = {
            name: (rng.uniform(0.5, 1.5, shape) if name.endswith("running_var") else rng.normal(0, 0.6, shape)).astype(np.float32)
            for name, shape in shapes.items()
        }
    save_file(tensors, str(path), metadata=metadata)


RANDOM_MODELS: list[tuple[str, list[int], list[dict[str, Any]]]] = [
    (
        "dense relu softmax",
        [5],
        [{"type": "dense", "units": 7, "activation": "relu", "useBias": True}, {"type": "dense", "units": 3, "activation": "softmax", "useBias": True}],
    ),
    (
        "dense no bias, bn1d, tanh, sigmoid",
        [4],
        [
            {"type": "dense", "units": 6, "activation": "leakyRelu", "alpha": 0.2, "useBias": False},
            {"type": "batchNorm", "momentum": 0.9, "epsilon": 0.001},
            {"type": "activation", "activation": "tanh"},
            {"type": "dropout", "rate": 0.3},
            {"type": "dense", "units": 1, "activation": "sigmoid", "useBias": True},
        ],
    ),
    ("defaults, leakyRelu activation", [6], [{"type": "dense", "units": 4}, {"type": "activation", "activation": "leakyRelu"}]),
    (
        "conv same stride 2x1, maxpool same, bn2d, flatten bn1d",
        [7, 6, 3],
        [
            {"type": "conv2d", "filters": 4, "kernelSize": [3, 3], "strides": [2, 1], "padding": "same", "activation": "relu", "useBias": True},
            {"type": "maxPool2d", "poolSize": [2, 2], "strides": [2, 2], "padding": "same"},
            {"type": "batchNorm", "momentum": 0.99, "epsilon": 0.01},
            {"type": "flatten"},
            {"type": "batchNorm", "momentum": 0.99, "epsilon": 0.001},
            {"type": "dropout", "rate": 0.5},
            {"type": "dense", "units": 5, "activation": "softmax", "useBias": True},
        ],
    ),
    (
        "conv valid 2x3 stride 2, avgpool same and valid",
        [9, 8, 2],
        [
            {"type": "conv2d", "filters": 3, "kernelSize": [2, 3], "strides": [2, 2], "padding": "valid", "activation": "tanh", "useBias": False},
            {"type": "avgPool2d", "poolSize": [3, 3], "strides": [2, 1], "padding": "same"},
            {"type": "avgPool2d", "poolSize": [2, 2], "padding": "valid"},
            {"type": "flatten"},
            {"type": "dense", "units": 4, "activation": "sigmoid", "useBias": True},
        ],
    ),
    (
        "conv 4x4 stride 3 same, softmax over channels (image out)",
        [5, 5, 2],
        [
            {"type": "conv2d", "filters": 3, "kernelSize": 4, "strides": 3, "padding": "same", "activation": "leakyRelu", "alpha": 0.1},
            {"type": "activation", "activation": "softmax"},
        ],
    ),
    (
        "maxpool 3x2 stride 1x2 same, ends in flatten",
        [4, 5, 3],
        [
            {"type": "maxPool2d", "poolSize": [3, 2], "strides": [1, 2], "padding": "same"},
            {"type": "flatten"},
            {"type": "activation", "activation": "sigmoid"},
        ],
    ),
    (
        "bn2d first, 1x1 conv, avgpool stride 1, dense, flatten of flat",
        [6, 6, 2],
        [
            {"type": "batchNorm"},
            {"type": "activation", "activation": "softmax"},
            {"type": "conv2d", "filters": 2, "kernelSize": [1, 1], "padding": "valid", "activation": "linear", "useBias": True},
            {"type": "avgPool2d", "poolSize": [2, 2], "strides": [1, 1], "padding": "valid"},
            {"type": "flatten"},
            {"type": "dense", "units": 3, "activation": "linear", "useBias": True},
            {"type": "flatten"},
            {"type": "dense", "units": 2, "activation": "tanh", "useBias": True},
        ],
    ),
    ("conv kernel larger than input, same", [2, 3, 1], [{"type": "conv2d", "filters": 2, "kernelSize": [5, 5], "padding": "same", "activation": "sigmoid"}]),
]

# x[r][c] = 4r + c + 1 on a 4x4 image; 3x3 windows, stride 2, 'same': out 2x2, total padding 1,
# none before and one after (PyTorch's symmetric padding would put it before). Window sums:
# rows 0-2 x cols 0-2 = 54, rows 0-2 x cols 2-3 = 45, rows 2-3 x cols 0-2 = 72, rows 2-3 x cols 2-3 = 54,
# over 9, 6, 6 and 4 real elements; the maximum of -x in each window is -x at its top-left corner.
SAME_IMAGE = np.arange(1, 17, dtype=np.float32)
SAME_WINDOW = {"kernelSize": [3, 3], "strides": [2, 2], "padding": "same"}
SAME_POOL = {"poolSize": [3, 3], "strides": [2, 2], "padding": "same"}
HAND_MODELS: list[tuple[str, list[dict[str, Any]], dict[str, np.ndarray], np.ndarray, list[float]]] = [
    (
        "hand: conv 3x3 stride 2 same",
        [{"type": "conv2d", "filters": 1, **SAME_WINDOW, "activation": "linear", "useBias": False}],
        {"layers.0.weight": np.ones((1, 1, 3, 3), np.float32)},
        SAME_IMAGE,
        [54, 45, 72, 54],
    ),
    ("hand: avgPool 3x3 stride 2 same", [{"type": "avgPool2d", **SAME_POOL}], {}, SAME_IMAGE, [6, 7.5, 12, 13.5]),
    ("hand: maxPool 3x3 stride 2 same", [{"type": "maxPool2d", **SAME_POOL}], {}, -SAME_IMAGE, [-1, -3, -9, -11]),
]


def self_test(directory: Path, tolerance: float) -> list[tuple[str, float, str, bool]]:
    """Rows of the table for the random and hand-computed models written into `directory`."""
    rng = np.random.default_rng(7)
    manifest, hand = [], {}
    cases = [(name, shape, layers, None, rng.normal(0, 1, (3, *shape)).astype(np.float32), None) for name, shape, layers in RANDOM_MODELS]
    cases += [(name, [4, 4, 1], layers, tensors, x, expected) for name, layers, tensors, x, expected in HAND_MODELS]
    for i, (name, shape, layers, tensors, x, expected) in enumerate(cases):
        stem = directory / f"model{i}"
        write_model(stem.with_suffix(".safetensors"), shape, layers, rng, tensors)
        x.astype("<f4").tofile(stem.with_suffix(".in.f32"))
        manifest.append(
            {
                "name": name,
                "model": str(stem.with_suffix(".safetensors")),
                "input": str(stem.with_suffix(".in.f32")),
                "rows": len(x) if x.ndim > 1 else 1,
                "expected": str(stem.with_suffix(".out.f32")),
            }
        )
        if expected is not None:
            hand[name] = np.asarray(expected, np.float32)
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1))
    run = subprocess.run(
        [sys.executable, str(ROOT / "test" / "interop" / "numpy_forward.py"), str(directory / "manifest.json")], capture_output=True, text=True, check=True
    )
    rows = []
    for line, entry in zip(run.stdout.splitlines(), manifest, strict=True):
        result = json.loads(line)
        if "error" in result:
            rows.append((f"{entry['name']} [numpy_forward]", float("inf"), result["error"], False))
            continue
        output = np.asarray(result["output"], np.float64)
        if entry["name"] in hand:
            diff = float(np.max(np.abs(output - hand[entry["name"]])))
            rows.append((f"{entry['name']} [numpy_forward vs hand]", diff, "-", diff <= tolerance))
        hand.get(entry["name"], output.astype(np.float32)).astype("<f4").tofile(entry["expected"])
        rows.append(check(entry, tolerance))
    return rows


def ddp_test(directory: Path) -> list[tuple[str, float, str, bool]]:
    """Rows for continue_training.py under torchrun on two small random networks."""
    rng = np.random.default_rng(3)
    rows = []
    centers = rng.normal(0, 2, (2, 2))
    labels = rng.integers(0, 2, 256)
    points = centers[labels] + rng.normal(0, 0.7, (256, 2))
    csv_path = directory / "blobs.csv"
    csv_path.write_text("a,b,y\n" + "".join(f"{p[0]:.6f},{p[1]:.6f},{k}\n" for p, k in zip(points, labels, strict=True)))
    images = rng.normal(0, 1, (192, 6, 6, 1)).astype(np.float32)
    classes = rng.integers(0, 3, 192)
    images[np.arange(192), classes * 2, classes * 2, 0] += 4  # the class marks one pixel
    np.savez(directory / "images.npz", x=images, y=classes)
    runs = [
        (
            "ddp: dense bn1d sigmoid, csv",
            [2],
            [
                {"type": "dense", "units": 8, "activation": "tanh", "useBias": True},
                {"type": "batchNorm", "momentum": 0.9, "epsilon": 0.001},
                {"type": "dense", "units": 1, "activation": "sigmoid", "useBias": True},
            ],
            csv_path,
            ["--label", "y"],
        ),
        (
            "ddp: conv pool bn2d softmax, npz",
            [6, 6, 1],
            [
                {"type": "conv2d", "filters": 4, "kernelSize": [3, 3], "strides": [1, 1], "padding": "same", "activation": "relu", "useBias": True},
                {"type": "maxPool2d", "poolSize": [2, 2], "strides": [2, 2], "padding": "valid"},
                {"type": "batchNorm", "momentum": 0.9, "epsilon": 0.001},
                {"type": "flatten"},
                {"type": "dense", "units": 3, "activation": "softmax", "useBias": True},
            ],
            directory / "images.npz",
            [],
        ),
    ]
    for i, (name, shape, layers, data, extra) in enumerate(runs):
        model, out = directory / f"ddp{i}.safetensors", directory / f"ddp{i}.trained.safetensors"
        write_model(model, shape, layers, rng)
        script = ROOT / "interop" / "pytorch" / "continue_training.py"
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script)]
        options = ["--epochs", "15", "--lr", "0.1", "--batch-size", "16", "--out", str(out)]
        run = subprocess.run([*torchrun, str(model), str(data), *extra, *options], capture_output=True, text=True)
        if run.returncode != 0:
            rows.append((name, float("inf"), (run.stderr.strip().splitlines() or [f"exit {run.returncode}"])[-1], False))
            continue
        result = json.loads(run.stdout.strip().splitlines()[-1])
        load_safetensors(out)
        (meta_before, before), (meta_after, after) = read_raw(model), read_raw(out)
        kept, changed = meta_before == meta_after, any(before[k][2] != after[k][2] for k in before)
        loss_before, loss_after = result["lossBefore"], result["lossAfter"]
        verdict = f"loss {loss_before:.4f} -> {loss_after:.4f}, metadata {'kept' if kept else 'CHANGED'}, weights {'changed' if changed else 'UNCHANGED'}"
        rows.append((name, loss_after - loss_before, verdict, loss_after < loss_before and kept and changed))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("manifests", nargs="*", metavar="MANIFEST", help="JSON list of {name, model, input, rows, expected}")
    parser.add_argument("--self-test", metavar="DIR", type=Path, help="random and hand-computed files, numpy_forward.py vs PyTorch")
    parser.add_argument("--ddp", metavar="DIR", type=Path, help="continue_training.py under torchrun with 2 processes")
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    if not (args.manifests or args.self_test or args.ddp):
        parser.error("give a manifest, --self-test DIR or --ddp DIR")
    rows = []
    for manifest in args.manifests:
        rows += [check(entry, args.tolerance) for entry in json.loads(Path(manifest).read_text())]
    for directory, test in ((args.self_test, self_test), (args.ddp, ddp_test)):
        if directory:
            directory.mkdir(parents=True, exist_ok=True)
            rows += test(directory, args.tolerance) if test is self_test else test(directory)
    print(f"torch {torch.__version__}")
    width = max(len(row[0]) for row in rows)
    print(f"{'model':<{width}}  {'diff':>12}  {'result':<6}  details")
    for name, diff, details, passed in rows:
        print(f"{name:<{width}}  {diff:>12.3e}  {'ok' if passed else 'FAIL':<6}  {details}")
    print(f"{sum(row[3] for row in rows)} passed, {sum(not row[3] for row in rows)} failed")
    sys.exit(0 if all(row[3] for row in rows) else 1)


if __name__ == "__main__":
    main()
