"""Batch normalisation over every axis but the last (features / channels)."""

from __future__ import annotations

import math

import numpy as np

from tlkit.nn.dense import grad_buffer
from tlkit.nn.layer import Layer


class BatchNorm(Layer):
    """BatchNorm for (N, C) or (N, H, W, C) inputs.

    ``training=True``: normalise with the batch statistics and update
    ``running = (1 - momentum) * running + momentum * batch`` (PyTorch
    convention; the running variance uses the unbiased batch variance).
    ``training=False``: normalise with the running statistics, update nothing;
    the layer is then an affine map (how a frozen BatchNorm behaves).
    """

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int | np.integer) \
                or num_features < 1:
            raise ValueError(f"num_features must be a positive integer, got {num_features!r}")
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
        self._cache: tuple | None = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if x.ndim < 2 or x.shape[-1] != self.num_features:
            raise ValueError(
                f"BatchNorm expected inputs with last dimension {self.num_features}, "
                f"got shape {x.shape}"
            )
        axes = tuple(range(x.ndim - 1))
        gamma, beta = self.params["gamma"], self.params["beta"]
        if training:
            count = x.size // self.num_features
            mean = x.mean(axis=axes)
            centred = x - mean
            var = np.mean(centred * centred, axis=axes)
            inv_std = 1.0 / np.sqrt(var + self.eps)
            x_hat = centred
            x_hat *= inv_std
            out = x_hat * gamma
            out += beta
            m = self.momentum
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            rm *= 1.0 - m
            rm += m * mean
            rv *= 1.0 - m
            rv += m * (var * (count / max(count - 1, 1)))  # unbiased; batch of 1 gives 0
            self._cache = (True, x_hat, inv_std, count)
        else:
            inv_std = 1.0 / np.sqrt(self.buffers["running_var"] + self.eps)
            scale = gamma * inv_std
            shift = beta - self.buffers["running_mean"] * scale
            out = x * scale
            out += shift
            self._cache = (False, x, inv_std, self.buffers["running_mean"].copy())
        return out

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        if self._cache is None:
            raise RuntimeError("BatchNorm.backward called before forward")
        axes = tuple(range(grad_out.ndim - 1))
        gamma = self.params["gamma"]
        if self._cache[0]:
            _, x_hat, inv_std, count = self._cache
            dbeta = grad_out.sum(axis=axes)
            dgamma = np.sum(grad_out * x_hat, axis=axes)
            if need_param_grads:
                grad_buffer(self, "gamma")[...] = dgamma
                grad_buffer(self, "beta")[...] = dbeta
            if not need_input_grad:
                return None
            # dx = gamma * inv_std / m * (m * dout - sum(dout) - x_hat * sum(dout * x_hat))
            dx = x_hat * (dgamma / count)
            dx += dbeta / count
            np.subtract(grad_out, dx, out=dx)
            dx *= gamma * inv_std
            return dx
        _, x, inv_std, mean = self._cache
        if need_param_grads:
            x_hat = (x - mean) * inv_std
            np.sum(grad_out * x_hat, axis=axes, out=grad_buffer(self, "gamma"))
            np.sum(grad_out, axis=axes, out=grad_buffer(self, "beta"))
        if not need_input_grad:
            return None
        return grad_out * (gamma * inv_std)

    def __repr__(self) -> str:
        return f"BatchNorm({self.num_features}, momentum={self.momentum}, eps={self.eps})"
