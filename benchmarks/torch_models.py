"""PyTorch twins of tlkit networks, with the same initial weights (bench-only; needs torch).

``to_torch(network)`` walks the tlkit blocks layer by layer and builds the same
architecture in PyTorch (NCHW), copying every parameter and BatchNorm buffer.
Two layout facts are handled here, not in tlkit:

* conv weights are (kh, kw, Cin, Cout) in tlkit and (Cout, Cin, kh, kw) in torch;
* tlkit flattens NHWC maps in (h, w, c) order, torch flattens NCHW in (c, h, w)
  order, so the rows of the first Dense after a Flatten are permuted (no extra
  op in the torch model, so its speed is untouched).

``param_pairs`` gives, for every tlkit parameter, the torch parameter and the
function mapping the tlkit array into torch's layout (used to compare gradients).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from tlkit.nn import BatchNorm, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU
from tlkit.nn.network import Network

Layout = Callable[[np.ndarray], np.ndarray]


def _conv_layout(w: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(w.transpose(3, 2, 0, 1))


def _dense_layout(hwc: tuple[int, int, int] | None) -> Layout:
    def layout(w: np.ndarray) -> np.ndarray:
        if w.ndim == 1:
            return w
        if hwc is None:
            return np.ascontiguousarray(w.T)
        h, wd, c = hwc
        return np.ascontiguousarray(w.reshape(h, wd, c, -1).transpose(3, 2, 0, 1).reshape(w.shape[1], -1))
    return layout


class TorchTwin(nn.Module):
    """Blocks as an ``nn.ModuleList`` of ``nn.Sequential`` (names as in tlkit)."""

    def __init__(self, blocks: list[tuple[str, nn.Sequential]]) -> None:
        super().__init__()
        self.names = [name for name, _ in blocks]
        self.blocks = nn.ModuleList([seq for _, seq in blocks])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            x = block(x)
        return x

    def base(self, x: torch.Tensor) -> torch.Tensor:
        """Every block but the last (the head): the features."""
        for block in self.blocks[:-1]:
            x = block(x)
        return x

    @property
    def head(self) -> nn.Module:
        return self.blocks[-1]


def to_torch(network: Network, sample_shape: tuple[int, ...]) -> tuple[TorchTwin, list]:
    """(torch model, param pairs) for ``network`` fed with samples of ``sample_shape`` (NHWC)."""
    shape = tuple(sample_shape)
    flattened_from: tuple[int, int, int] | None = None
    blocks, pairs = [], []
    for block in network.blocks:
        modules = []
        for lname, layer in block.layers:
            if isinstance(layer, Conv2D):
                top, bottom, left, right = layer._pads
                if top != bottom or left != right:
                    raise NotImplementedError("asymmetric padding")
                kh, kw = layer.kernel_size
                m = nn.Conv2d(layer.in_channels, layer.out_channels, (kh, kw), padding=(top, left))
                pairs += [(f"{block.name}.{lname}.W", layer, "W", m.weight, _conv_layout),
                          (f"{block.name}.{lname}.b", layer, "b", m.bias, lambda a: a)]
            elif isinstance(layer, BatchNorm):
                cls = nn.BatchNorm2d if len(shape) == 3 else nn.BatchNorm1d
                m = cls(layer.num_features, eps=layer.eps, momentum=layer.momentum)
                with torch.no_grad():
                    m.running_mean.copy_(torch.from_numpy(layer.buffers["running_mean"]))
                    m.running_var.copy_(torch.from_numpy(layer.buffers["running_var"]))
                pairs += [(f"{block.name}.{lname}.gamma", layer, "gamma", m.weight, lambda a: a),
                          (f"{block.name}.{lname}.beta", layer, "beta", m.bias, lambda a: a)]
            elif isinstance(layer, ReLU):
                m = nn.ReLU(inplace=layer.inplace)
            elif isinstance(layer, MaxPool2D):
                m = nn.MaxPool2d(layer.pool_size)
            elif isinstance(layer, Flatten):
                if len(shape) == 3:
                    flattened_from = shape
                m = nn.Flatten()
            elif isinstance(layer, Dense):
                m = nn.Linear(layer.in_features, layer.out_features)
                layout = _dense_layout(flattened_from)
                flattened_from = None
                pairs += [(f"{block.name}.{lname}.W", layer, "W", m.weight, layout),
                          (f"{block.name}.{lname}.b", layer, "b", m.bias, lambda a: a)]
            elif isinstance(layer, Dropout):
                m = nn.Dropout(layer.rate)
            else:
                raise NotImplementedError(type(layer).__name__)
            modules.append(m)
            shape = layer.output_shape(shape)
        blocks.append((block.name, nn.Sequential(*modules)))
    model = TorchTwin(blocks)
    copy_weights(pairs)
    return model, pairs


def copy_weights(pairs: list) -> None:
    with torch.no_grad():
        for _, layer, key, tparam, layout in pairs:
            tparam.copy_(torch.from_numpy(layout(layer.params[key])))


def nchw(x: np.ndarray) -> torch.Tensor:
    """A tlkit NHWC batch as a contiguous NCHW tensor (vectors unchanged)."""
    if x.ndim == 4:
        return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    return torch.from_numpy(x)


def features_to_tlkit(feats: torch.Tensor, network: Network, sample_shape: tuple[int, ...]) -> np.ndarray:
    """torch features (c, h, w)-flattened, reordered to tlkit's (h, w, c) order."""
    shape, flattened_from = tuple(sample_shape), None
    for block in network.blocks[:-1]:
        for _, layer in block.layers:
            flattened_from = shape if isinstance(layer, Flatten) and len(shape) == 3 else None
            shape = layer.output_shape(shape)
    out = feats.numpy()
    if flattened_from is None:
        return out
    h, w, c = flattened_from
    return out.reshape(-1, c, h, w).transpose(0, 2, 3, 1).reshape(len(out), -1)
