"""Batch normalisation over every axis but the last (features / channels).

Forward, per channel, on the M = N*H*W values of a batch (training):

    1. mean = sum(x) / M,  var = sum((x - mean)^2) / M
    2. x_hat = (x - mean) / sqrt(var + eps)
    3. y = gamma * x_hat + beta
    4. running = (1 - momentum) * running + momentum * batch statistic (unbiased variance)

In inference mode steps 2 and 3 use the running mean and variance and nothing is updated:
the layer is then a fixed affine map (how a frozen BatchNorm behaves).

Backward, with g = dL/dy and std = sqrt(var + eps):

    dgamma = sum(g * x_hat),  dbeta = sum(g)
    dx_hat = g * gamma
    dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / std   (batch statistics)
    dx = dx_hat / std                                                    (running statistics)

The tuned twin (``tlkit/nn/fast/batchnorm.py``) computes the same numbers with fewer passes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np

from tlkit.argcheck import check_int
from tlkit.nn.layer import Layer


class BatchNorm(Layer):
    """BatchNorm for (N, C) or (N, H, W, C) inputs (PyTorch's momentum convention).

    ``use_running_stats = True`` makes training normalise with the running statistics, as
    inference does, while ``gamma`` and ``beta`` still learn (Keras's fine-tuning recipe).
    """

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        num_features = check_int(num_features, "num_features", 1)
        if not (isinstance(momentum, int | float) and 0.0 <= momentum <= 1.0):
            raise ValueError(f"momentum must be a number in [0, 1], got {momentum!r}")
        if not (isinstance(eps, int | float) and eps > 0 and math.isfinite(eps)):
            raise ValueError(f"eps must be a positive number, got {eps!r}")
        self.num_features = int(num_features)
        self.momentum = float(momentum)
        self.eps = float(eps)
        self.params["gamma"] = np.ones(self.num_features, dtype=np.float32)
        self.params["beta"] = np.zeros(self.num_features, dtype=np.float32)
        self.grads["gamma"] = np.zeros_like(self.params["gamma"])
        self.grads["beta"] = np.zeros_like(self.params["beta"])
        self.buffers["running_mean"] = np.zeros(self.num_features, dtype=np.float32)
        self.buffers["running_var"] = np.ones(self.num_features, dtype=np.float32)
        self.use_running_stats = False
        self._cache: tuple | None = None  # for backward: (x_hat, std, whether batch statistics were used)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        x2 = self._as_rows(x)  # (M, C): one row per value of each channel
        batch_stats = training and not self.use_running_stats
        if batch_stats:
            mean = x2.mean(axis=0)                                     # 1.
            var = x2.var(axis=0)
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        x_hat = (x2 - mean) / np.sqrt(var + self.eps)                  # 2.
        out = self.params["gamma"] * x_hat + self.params["beta"]       # 3.
        if batch_stats:                                                # 4.
            m = len(x2)
            unbiased_var = var * m / max(m - 1, 1)  # a batch of one has var 0 either way
            self._update_running("running_mean", mean)
            self._update_running("running_var", unbiased_var)
        self._cache = (x_hat, np.sqrt(var + self.eps), batch_stats)
        return out.reshape(x.shape)

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        if self._cache is None:
            raise RuntimeError("BatchNorm.backward called before forward")
        x_hat, std, batch_stats = self._cache
        g = grad_out.reshape(x_hat.shape)
        if need_param_grads:
            self.store_grad("gamma", (g * x_hat).sum(axis=0))
            self.store_grad("beta", g.sum(axis=0))
        if not need_input_grad:
            return None
        dx_hat = g * self.params["gamma"]
        if batch_stats:  # mean and var depend on x too
            dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std
        else:
            dx = dx_hat / std
        return dx.astype(x_hat.dtype, copy=False).reshape(grad_out.shape)

    def _update_running(self, key: str, batch_value: np.ndarray) -> None:
        running = self.buffers[key]  # in place: the array is the one state_dict and checkpoints see
        running *= 1.0 - self.momentum
        running += self.momentum * batch_value

    def _as_rows(self, x: np.ndarray) -> np.ndarray:
        if x.ndim < 2 or x.shape[-1] != self.num_features:
            raise ValueError(
                f"BatchNorm expected inputs with last dimension {self.num_features}, "
                f"got shape {x.shape}"
            )
        return x.reshape(-1, self.num_features)

    def __repr__(self) -> str:
        return f"BatchNorm({self.num_features}, momentum={self.momentum}, eps={self.eps})"


@contextmanager
def batchnorm_inference_mode(blocks: Iterable) -> Iterator[None]:
    """Within the ``with``: every BatchNorm of ``blocks`` normalises with its running statistics."""
    layers = [layer for block in blocks for _, layer in block.layers if isinstance(layer, BatchNorm)]
    previous = [layer.use_running_stats for layer in layers]
    for layer in layers:
        layer.use_running_stats = True
    try:
        yield
    finally:
        for layer, value in zip(layers, previous, strict=True):
            layer.use_running_stats = value
