"""ferronet networks in PyTorch, through the safetensors files ferronet writes and reads.

    from ferronet_torch import load_safetensors, save_safetensors

    net = load_safetensors("model.safetensors")   # net.toSafetensors() in ferronet
    y = net.eval()(x)                             # x: [N, features] or [N, H, W, C]; y == net.predict(x)
    ...train net in PyTorch...
    save_safetensors(net, "trained.safetensors")  # Network.fromSafetensors() in ferronet

The file is a standard safetensors file of float32 tensors named and laid out as PyTorch's own
modules name them (`layers.{i}.weight`, `layers.{i}.bias`, `layers.{i}.running_mean`, ...), so the
module built here is plain PyTorch: `net.layers` is an `nn.ModuleList` with one entry per ferronet
layer, and `load_state_dict(strict=True)` takes the file's tensors as they are (batch norm's
`num_batches_tracked`, which ferronet does not keep, is supplied as 0 when the file has none, and
left out on saving). Its `__metadata__` describes the network: `format` ("ferronet"), `ferronet`
(the version that wrote it), `inputShape` (JSON, per sample), `layers` (JSON layer configs) and
`metadata` (JSON user metadata).

What the module does so that its outputs are ferronet's:
- ferronet's images are NHWC; the module takes them so and permutes to NCHW once. An image output
  is permuted back to NHWC.
- The file stores the parameters that follow a flatten (up to the first dense) in PyTorch's
  channels-first flatten order, so `nn.Flatten` over NCHW needs no permutation. A network whose
  output is such a flatten (no dense after it) gets its output reordered to ferronet's NHWC order.
- 'same' padding is TensorFlow's (the smaller half before), padded explicitly, since PyTorch's
  own padding='same' is symmetric and refuses strides. Max pooling never takes padding; average
  pooling divides by the real elements of each window.
- Batch norm uses ferronet's epsilon and, in training, Keras's moving statistics: PyTorch's
  momentum is 1 - ferronet's, and the moving variance is updated with the biased batch variance
  (ferronet's and Keras's; PyTorch's own BatchNorm would use the unbiased one).
- The output is the last layer's activation applied, as ferronet's predict gives it
  (probabilities after sigmoid or softmax; softmax is over the feature axis, channels for images).

Needs numpy, torch and safetensors.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

ACTIVATIONS = ("linear", "relu", "leakyRelu", "tanh", "sigmoid", "softmax")
METADATA_KEYS = ("format", "ferronet", "inputShape", "layers", "metadata")
LAYER_KEYS = {
    "dense": ("units", "activation", "alpha", "useBias"),
    "conv2d": ("filters", "kernelSize", "strides", "padding", "activation", "alpha", "useBias"),
    "maxPool2d": ("poolSize", "strides", "padding"),
    "avgPool2d": ("poolSize", "strides", "padding"),
    "batchNorm": ("momentum", "epsilon"),
    "dropout": ("rate",),
    "flatten": (),
    "activation": ("activation", "alpha"),
}


def load_safetensors(path: str | Path) -> FerronetNet:
    """The network in the ferronet safetensors file `path`, with its weights, in training mode
    (as every fresh nn.Module; call .eval() to predict)."""
    with safe_open(str(path), framework="pt") as file:
        metadata = file.metadata()
        if metadata is None:
            raise ValueError(f"{path}: no __metadata__; not a ferronet safetensors file")
        tensors = {name: file.get_tensor(name) for name in file.keys()}
    net = FerronetNet(metadata)
    state = net.state_dict()
    for name in sorted(state.keys() | tensors.keys()):
        if name not in state:
            raise ValueError(f"{path}: tensor {name} is not a parameter of the network its metadata describes")
        if name.endswith("num_batches_tracked"):
            # ferronet keeps no such count, so its files leave it out; strict loading needs one.
            tensors[name] = tensors.get(name, torch.tensor(0)).to(torch.long).reshape(())
        elif name not in tensors:
            raise ValueError(f"{path}: tensor {name} {list(state[name].shape)} is missing")
        elif tensors[name].dtype != torch.float32 or tensors[name].shape != state[name].shape:
            raise ValueError(f"{path}: tensor {name} is {tensors[name].dtype} {list(tensors[name].shape)}, expected float32 {list(state[name].shape)}")
    net.load_state_dict(tensors, strict=True)
    return net


def save_safetensors(net: FerronetNet, path: str | Path) -> None:
    """Writes `net` (built by load_safetensors, maybe trained since) to `path` in the format
    ferronet reads: its metadata as loaded, every parameter and moving statistic as contiguous
    float32, num_batches_tracked left out."""
    if not isinstance(net, FerronetNet):
        raise TypeError(f"save_safetensors takes a module built by load_safetensors (unwrap DDP with .module), got {type(net).__name__}")
    tensors = {
        name: t.detach().to(device="cpu", dtype=torch.float32).contiguous() for name, t in net.state_dict().items() if not name.endswith("num_batches_tracked")
    }
    save_file(tensors, str(path), metadata=dict(net.file_metadata))


class FerronetNet(nn.Module):
    """A ferronet network as a PyTorch module, built from a file's `__metadata__`.

    `forward` takes ferronet's input layout and returns what ferronet's predict returns.
    `file_metadata` is the metadata as read, written back unchanged by save_safetensors (edit
    its `metadata` entry, a JSON object, to change the user metadata saved)."""

    def __init__(self, metadata: Mapping[str, str]) -> None:
        super().__init__()
        unknown = [key for key in metadata if key not in METADATA_KEYS]
        if unknown:
            raise ValueError(f"__metadata__.{unknown[0]}: unknown key; expected only {', '.join(METADATA_KEYS)}")
        if metadata.get("format") != "ferronet":
            raise ValueError(f'__metadata__.format: expected "ferronet", got {metadata.get("format")!r}')
        if not isinstance(metadata.get("ferronet"), str):
            raise ValueError("__metadata__.ferronet: missing (the ferronet version that wrote the file)")
        shape = _json(metadata, "inputShape")
        if not isinstance(shape, list) or len(shape) not in (1, 3) or not all(_is_positive_int(e) for e in shape):
            raise ValueError(f"__metadata__.inputShape: expected [features] or [height, width, channels] of positive integers, got {shape!r}")
        if "metadata" in metadata and not isinstance(_json(metadata, "metadata"), dict):
            raise ValueError("__metadata__.metadata: expected a JSON object")
        configs = _json(metadata, "layers")
        if not isinstance(configs, list) or not configs:
            raise ValueError("__metadata__.layers: expected a non-empty JSON array of layer configs")
        self.file_metadata = dict(metadata)
        self.input_shape = tuple(shape)
        modules: list[nn.Module] = []
        # Channels-first (c, h, w) of a flatten whose order no dense has consumed yet.
        self.pending_flatten: tuple[int, int, int] | None = None
        for i, config in enumerate(configs):
            module, shape = _build(f"layers[{i}]", config, shape)
            if isinstance(module, Flatten) and module.image_shape is not None:
                self.pending_flatten = module.image_shape
            elif isinstance(module, Dense):
                self.pending_flatten = None
            modules.append(module)
        self.layers = nn.ModuleList(modules)
        self.output_shape = tuple(shape)
        # What ferronet's default loss follows: the last layer's own activation, else linear.
        last = modules[-1]
        self.output_activation: str = last.activation if isinstance(last, (Dense, Conv2d, Activation)) else "linear"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`x` as ferronet takes it, [N, features] or [N, H, W, C]; the output as predict gives it."""
        if tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"input of shape {list(x.shape)}, expected [N, {', '.join(map(str, self.input_shape))}]")
        if x.dim() == 4:
            x = x.permute(0, 3, 1, 2)
        for layer in self.layers:
            x = layer(x)
        if x.dim() == 4:
            return x.permute(0, 2, 3, 1)
        if self.pending_flatten is not None:
            return x.reshape(-1, *self.pending_flatten).permute(0, 2, 3, 1).reshape(x.shape[0], -1)
        return x


class Activation(nn.Module):
    """ferronet's activation layer (leaky ReLU's slope `alpha`); softmax over dim 1, the
    features of flat data and the channels of NCHW images (ferronet's last axis)."""

    def __init__(self, activation: str, alpha: float) -> None:
        super().__init__()
        self.activation, self.alpha = activation, alpha

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_activation(x, self.activation, self.alpha)


def apply_activation(x: torch.Tensor, name: str, alpha: float) -> torch.Tensor:
    """`x` through ferronet's activation `name`."""
    if name == "relu":
        return torch.relu(x)
    if name == "leakyRelu":
        return F.leaky_relu(x, alpha)
    if name == "tanh":
        return torch.tanh(x)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "softmax":
        return torch.softmax(x, dim=1)
    return x


class Dense(nn.Linear):
    """ferronet's dense layer: nn.Linear (so its tensors are `weight` and `bias`) then its activation."""

    def __init__(self, inputs: int, units: int, use_bias: bool, activation: str, alpha: float) -> None:
        super().__init__(inputs, units, bias=use_bias)
        self.activation, self.alpha = activation, alpha

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_activation(super().forward(x), self.activation, self.alpha)


class Conv2d(nn.Conv2d):
    """ferronet's conv2d over NCHW: TensorFlow's 'same' padding added explicitly, then nn.Conv2d
    without padding, then the activation."""

    def __init__(
        self,
        channels: int,
        filters: int,
        kernel: tuple[int, int],
        strides: tuple[int, int],
        pad: tuple[int, int, int, int],
        use_bias: bool,
        activation: str,
        alpha: float,
    ) -> None:
        super().__init__(channels, filters, kernel, stride=strides, bias=use_bias)
        self.pad, self.activation, self.alpha = pad, activation, alpha

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_activation(super().forward(F.pad(x, self.pad)), self.activation, self.alpha)


class Pool2d(nn.Module):
    """ferronet's max or average pooling over NCHW, seeing only real elements: max pooling pads
    with -inf; average pooling divides the window sums of the zero-padded input by those of
    zero-padded ones (the count of real elements in each window)."""

    def __init__(self, kind: str, window: tuple[int, int], strides: tuple[int, int], pad: tuple[int, int, int, int]) -> None:
        super().__init__()
        self.kind, self.window, self.strides, self.pad = kind, window, strides, pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "maxPool2d":
            return F.max_pool2d(F.pad(x, self.pad, value=-math.inf), self.window, self.strides)
        sums = F.avg_pool2d(F.pad(x, self.pad), self.window, self.strides)
        counts = F.avg_pool2d(F.pad(torch.ones_like(x[:1, :1]), self.pad), self.window, self.strides)
        return sums / counts


class _KerasStatistics:
    """Training-mode batch norm whose moving variance takes the biased batch variance, as
    ferronet's and Keras's do (PyTorch's BatchNorm takes the unbiased one); inference is
    PyTorch's own, with the running statistics."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        axes = [0, *range(2, x.dim())]
        mean, var = x.mean(axes), x.var(axes, unbiased=False)
        with torch.no_grad():
            self.running_mean.lerp_(mean, self.momentum)
            self.running_var.lerp_(var, self.momentum)
            self.num_batches_tracked.add_(1)
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps) * self.weight.view(shape) + self.bias.view(shape)


class BatchNorm1d(_KerasStatistics, nn.BatchNorm1d):
    """Batch norm over flat features."""


class BatchNorm2d(_KerasStatistics, nn.BatchNorm2d):
    """Batch norm over the channels of NCHW images."""


class Flatten(nn.Flatten):
    """nn.Flatten, which flattens NCHW channels first (the order of the file's parameters after
    it); `image_shape` is the (c, h, w) it flattens, None for flat data (then the identity)."""

    def __init__(self, image_shape: tuple[int, int, int] | None) -> None:
        super().__init__()
        self.image_shape = image_shape


def _build(name: str, config: Any, shape: list[int]) -> tuple[nn.Module, list[int]]:
    """The module for the layer config `config` receiving samples of ferronet shape `shape`
    ([features] or [h, w, c]), and the shape it gives."""
    if not isinstance(config, dict):
        raise ValueError(f"{name}: expected a layer config object, got {config!r}")
    kind = config.get("type")
    if kind not in LAYER_KEYS:
        raise ValueError(f"{name}.type: expected one of {', '.join(LAYER_KEYS)}, got {kind!r}")
    for key in config:
        if key != "type" and key not in LAYER_KEYS[kind]:
            raise ValueError(f"{name}.{key}: unknown key for {kind}; expected {', '.join(LAYER_KEYS[kind]) or 'none'}")
    if kind == "dense":
        if len(shape) != 1:
            raise ValueError(f"{name}: dense needs a flat input, got {shape}")
        units = _positive_int(name, config, "units")
        activation, alpha = _activation(name, config, "linear")
        return Dense(shape[0], units, _bool(name, config, "useBias"), activation, alpha), [units]
    if kind in ("conv2d", "maxPool2d", "avgPool2d"):
        if len(shape) != 3:
            raise ValueError(f"{name}: {kind} needs an image input [height, width, channels], got {shape}")
        window_key = "kernelSize" if kind == "conv2d" else "poolSize"
        window = _pair(name, config, window_key, None)
        strides = _pair(name, config, "strides", (1, 1) if kind == "conv2d" else window)
        padding = config.get("padding", "valid")
        if padding not in ("valid", "same"):
            raise ValueError(f'{name}.padding: expected "valid" or "same", got {padding!r}')
        (out_h, top, bottom), (out_w, left, right) = (_window(name, window_key, shape[a], window[a], strides[a], padding) for a in (0, 1))
        pad = (left, right, top, bottom)
        if kind != "conv2d":
            return Pool2d(kind, window, strides, pad), [out_h, out_w, shape[2]]
        filters = _positive_int(name, config, "filters")
        activation, alpha = _activation(name, config, "linear")
        return Conv2d(shape[2], filters, window, strides, pad, _bool(name, config, "useBias"), activation, alpha), [out_h, out_w, filters]
    if kind == "batchNorm":
        momentum = _number(name, config, "momentum", 0.99)
        epsilon = _number(name, config, "epsilon", 0.001)
        if not 0 <= momentum <= 1:
            raise ValueError(f"{name}.momentum: expected a number in [0, 1], got {momentum!r}")
        if epsilon <= 0:
            raise ValueError(f"{name}.epsilon: expected a positive number, got {epsilon!r}")
        norm = BatchNorm1d if len(shape) == 1 else BatchNorm2d
        return norm(shape[-1], eps=epsilon, momentum=1 - momentum), shape
    if kind == "dropout":
        rate = _number(name, config, "rate", None)
        if not 0 <= rate < 1:
            raise ValueError(f"{name}.rate: expected a number in [0, 1), got {rate!r}")
        return nn.Dropout(rate), shape
    if kind == "flatten":
        image = (shape[2], shape[0], shape[1]) if len(shape) == 3 else None
        return Flatten(image), [math.prod(shape)]
    activation, alpha = _activation(name, config, None)
    return Activation(activation, alpha), shape


def _window(name: str, key: str, extent: int, k: int, stride: int, padding: str) -> tuple[int, int, int]:
    """Output extent and padding before and after along one axis: 'valid' none; 'same'
    TensorFlow's, out = ceil(in / stride), the smaller half of the padding before."""
    if padding == "valid":
        if k > extent:
            raise ValueError(f"{name}.{key}: a window of {k} does not fit an extent of {extent} with 'valid' padding")
        return (extent - k) // stride + 1, 0, 0
    out = -(-extent // stride)
    total = max((out - 1) * stride + k - extent, 0)
    return out, total // 2, total - total // 2


def _json(metadata: Mapping[str, str], key: str) -> Any:
    if key not in metadata:
        raise ValueError(f"__metadata__.{key}: missing")
    try:
        return json.loads(metadata[key])
    except json.JSONDecodeError as error:
        raise ValueError(f"__metadata__.{key}: not JSON ({error})") from None


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _positive_int(name: str, config: dict, key: str) -> int:
    value = _required(name, config, key, None)
    if not _is_positive_int(value):
        raise ValueError(f"{name}.{key}: expected a positive integer, got {value!r}")
    return value


def _pair(name: str, config: dict, key: str, default: tuple[int, int] | None) -> tuple[int, int]:
    """A window or stride: n (both axes) or [height, width] of positive integers."""
    value = _required(name, config, key, default)
    if _is_positive_int(value):
        return value, value
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(_is_positive_int(v) for v in value):
        return value[0], value[1]
    raise ValueError(f"{name}.{key}: expected a positive integer or [height, width], got {value!r}")


def _number(name: str, config: dict, key: str, default: float | None) -> float:
    value = _required(name, config, key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"{name}.{key}: expected a finite number, got {value!r}")
    return float(value)


def _required(name: str, config: dict, key: str, default: Any) -> Any:
    """config[key], else `default`; a ValueError when the key is missing and has no default."""
    if key not in config and default is None:
        raise ValueError(f"{name}.{key}: missing")
    return config.get(key, default)


def _bool(name: str, config: dict, key: str) -> bool:
    value = config.get(key, True)
    if not isinstance(value, bool):
        raise ValueError(f"{name}.{key}: expected true or false, got {value!r}")
    return value


def _activation(name: str, config: dict, default: str | None) -> tuple[str, float]:
    """The activation and leaky ReLU's slope (alpha: 0.01 by default, only with leakyRelu)."""
    activation = config.get("activation", default)
    if activation not in ACTIVATIONS:
        raise ValueError(f"{name}.activation: expected one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    if activation != "leakyRelu":
        if "alpha" in config:
            raise ValueError(f"{name}.alpha: only allowed with activation leakyRelu")
        return activation, 0.0
    alpha = _number(name, config, "alpha", 0.01)
    if alpha <= 0:
        raise ValueError(f"{name}.alpha: expected a positive number, got {alpha!r}")
    return activation, alpha
