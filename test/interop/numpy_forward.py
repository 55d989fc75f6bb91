"""An independent forward pass over ferronet safetensors files, in numpy alone: a second reader
of what net.toSafetensors() writes, for the interop tests to compare with net.predict.

Usage: numpy_forward.py MANIFEST.json, the manifest being a JSON list of
  {"name": ..., "model": "model.safetensors", "input": "x.f32", "rows": N}
(paths as given, relative to the working directory; the input raw little-endian float32, N
samples of the model's inputShape, row-major NHWC for images). Prints one JSON line per model:
  {"name": ..., "output": [flat floats], "shape": [N, ...]}   or   {"name": ..., "error": "..."}
so that one broken model is reported without hiding the others.

Written from the format's description, not from ferronet_torch.py or the TypeScript: tensors
`layers.{i}.weight` / `bias` / `running_mean` / `running_var` in PyTorch's layouts (conv weights
[out, in, kh, kw]), parameters after a flatten in channels-first flatten order, 'same' padding
TensorFlow's. Activations stay NHWC here, so a flatten of an image takes them in (c, h, w) order
to meet those parameters, and an output that is still such a flatten is put back in NHWC order.
Computes in float64, so float32 rounding in ferronet is the only difference expected.
"""

import json
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
from safetensors import safe_open

DEFAULTS = {"useBias": True, "padding": "valid", "alpha": 0.01, "momentum": 0.99, "epsilon": 0.001}


def read(path: str) -> tuple[dict[str, np.ndarray], list[int], list[dict[str, Any]]]:
    """The file's float64 tensors by name and its decoded metadata."""
    with safe_open(path, framework="numpy") as file:
        metadata = file.metadata() or {}
        tensors = {}
        for name in file.keys():
            tensor = file.get_tensor(name)
            if tensor.dtype != np.float32:
                raise ValueError(f"tensor {name} is {tensor.dtype}, expected float32")
            tensors[name] = tensor.astype(np.float64)
    if metadata.get("format") != "ferronet":
        raise ValueError(f"__metadata__.format is {metadata.get('format')!r}, expected 'ferronet'")
    return tensors, json.loads(metadata["inputShape"]), json.loads(metadata["layers"])


def activate(x: np.ndarray, name: str, alpha: float) -> np.ndarray:
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0)
    if name == "leakyRelu":
        return np.where(x < 0, alpha * x, x)
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(f"unknown activation {name!r}")


def pad_amounts(extent: int, k: int, stride: int, padding: str) -> tuple[int, int, int]:
    """(out, before, after) along one axis: 'valid' no padding, 'same' TensorFlow's."""
    if padding == "valid":
        if k > extent:
            raise ValueError(f"a window of {k} does not fit {extent} positions with 'valid' padding")
        return (extent - k) // stride + 1, 0, 0
    if padding != "same":
        raise ValueError(f"unknown padding {padding!r}")
    out = -(-extent // stride)
    total = max((out - 1) * stride + k - extent, 0)
    return out, total // 2, total - total // 2


def windows(x: np.ndarray, size: list[int], strides: list[int], padding: str, fill: float) -> Iterator[tuple[int, int, np.ndarray]]:
    """Every window offset's strided view of x [N, H, W, C] padded with `fill`: yields
    (ky, kx, view [N, outH, outW, C])."""
    (kh, kw), (sh, sw) = size, strides
    oh, top, bottom = pad_amounts(x.shape[1], kh, sh, padding)
    ow, left, right = pad_amounts(x.shape[2], kw, sw, padding)
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    for ky in range(kh):
        for kx in range(kw):
            yield ky, kx, padded[:, ky : ky + (oh - 1) * sh + 1 : sh, kx : kx + (ow - 1) * sw + 1 : sw, :]


def pair(value: int | list[int]) -> list[int]:
    """A window or stride: n for both axes, or [height, width]."""
    return list(value) if isinstance(value, list) else [value, value]


def forward(tensors: dict[str, np.ndarray], layers: list[dict[str, Any]], x: np.ndarray) -> np.ndarray:
    """The network's output for x [N, *input_shape], as ferronet's predict gives it."""
    pending = None  # (h, w, c) of a flatten whose channels-first order no dense has consumed
    for i, layer in enumerate(layers):
        config, prefix = {**DEFAULTS, **layer}, f"layers.{i}."
        kind = layer["type"]
        if kind == "dense":
            x = x @ tensors[prefix + "weight"].T
            if config["useBias"]:
                x = x + tensors[prefix + "bias"]
            x = activate(x, layer.get("activation", "linear"), config["alpha"])
            pending = None
        elif kind == "conv2d":
            weight = tensors[prefix + "weight"]  # [out, in, kh, kw]
            size, strides = pair(layer["kernelSize"]), pair(layer.get("strides", 1))
            out = 0
            for ky, kx, view in windows(x, size, strides, config["padding"], 0.0):
                out = out + view @ weight[:, :, ky, kx].T
            if config["useBias"]:
                out = out + tensors[prefix + "bias"]
            x = activate(out, layer.get("activation", "linear"), config["alpha"])
        elif kind in ("maxPool2d", "avgPool2d"):
            size = pair(layer["poolSize"])
            strides = pair(layer.get("strides", layer["poolSize"]))
            if kind == "maxPool2d":
                x = np.max([view for _, _, view in windows(x, size, strides, config["padding"], -np.inf)], axis=0)
            else:
                sums = sum(view for _, _, view in windows(x, size, strides, config["padding"], 0.0))
                counts = sum(view for _, _, view in windows(np.ones_like(x[:1, :, :, :1]), size, strides, config["padding"], 0.0))
                x = sums / counts
        elif kind == "batchNorm":
            mean, var = tensors[prefix + "running_mean"], tensors[prefix + "running_var"]
            x = (x - mean) / np.sqrt(var + config["epsilon"]) * tensors[prefix + "weight"] + tensors[prefix + "bias"]
        elif kind == "flatten":
            if x.ndim == 4:
                pending = x.shape[1:]
                x = x.transpose(0, 3, 1, 2)
            x = x.reshape(x.shape[0], -1)
        elif kind == "activation":
            x = activate(x, layer["activation"], config["alpha"])
        elif kind != "dropout":
            raise ValueError(f"layers[{i}]: unknown type {kind!r}")
    if pending is not None:
        h, w, c = pending
        x = x.reshape(-1, c, h, w).transpose(0, 2, 3, 1).reshape(x.shape[0], -1)
    return x


def run(entry: dict[str, Any]) -> dict[str, Any]:
    tensors, input_shape, layers = read(entry["model"])
    x = np.fromfile(entry["input"], dtype="<f4").astype(np.float64).reshape([entry["rows"], *input_shape])
    y = forward(tensors, layers, x)
    return {"output": y.ravel().tolist(), "shape": list(y.shape)}


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as file:
        manifest = json.load(file)
    for entry in manifest:
        try:
            result = run(entry)
        except Exception as error:  # reported to the test, which names the model
            result = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps({"name": entry["name"], **result}), flush=True)


if __name__ == "__main__":
    main()
