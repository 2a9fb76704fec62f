"""Pooling and reshaping layers for NHWC images (the tuned max-pool: tlkit/nn/fast/pooling.py)."""

from __future__ import annotations

import math

import numpy as np

from tlkit.nn.layer import Layer


class MaxPool2D(Layer):
    """Max pooling over non-overlapping ``pool_size`` x ``pool_size`` windows (stride = pool_size).

    Floor mode: rows and columns that do not fill a window are dropped (their gradient is 0).
    Tie rule: backward sends each window's gradient to ONE element, the FIRST maximum in
    row-major window order (``argmax``'s choice, and PyTorch's), so a flat window is not
    counted twice.
    """

    def __init__(self, pool_size: int = 2) -> None:
        super().__init__()
        if isinstance(pool_size, bool) or not isinstance(pool_size, int | np.integer) \
                or pool_size < 1:
            raise ValueError(f"pool_size must be a positive integer, got {pool_size!r}")
        self.pool_size = int(pool_size)
        self._x_shape: tuple[int, ...] | None = None  # for backward: the input's shape
        self._winner: np.ndarray | None = None        # and the index of each window's first maximum

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        windows = self._windows(x)                # (N, Ho, Wo, p*p, C): the p*p values of each window
        self._winner = windows.argmax(axis=3)     # argmax returns the first maximum
        self._x_shape = x.shape
        return windows.max(axis=3)

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        if self._winner is None or self._x_shape is None:
            raise RuntimeError("MaxPool2D.backward called before forward")
        if not need_input_grad:
            return None
        p, (n, h, w, c) = self.pool_size, self._x_shape
        ho, wo = h // p, w // p
        if grad_out.shape != (n, ho, wo, c):
            raise ValueError(f"MaxPool2D.backward expected grad_out of shape {(n, ho, wo, c)}, got {grad_out.shape}")
        is_winner = np.arange(p * p)[:, None] == self._winner[:, :, :, None, :]  # (N, Ho, Wo, p*p, C)
        dwindows = is_winner * grad_out[:, :, :, None, :]
        dx = np.zeros(self._x_shape, dtype=grad_out.dtype)
        dx[:, :ho * p, :wo * p] = dwindows.reshape(n, ho, wo, p, p, c).transpose(0, 1, 3, 2, 4, 5) \
            .reshape(n, ho * p, wo * p, c)
        return dx

    def _windows(self, x: np.ndarray) -> np.ndarray:
        """(N, Ho, Wo, p*p, C): the values of each window in row-major order."""
        if x.ndim != 4:
            raise ValueError(f"MaxPool2D expected NHWC input, got shape {x.shape}")
        p, (n, h, w, c) = self.pool_size, x.shape
        ho, wo = h // p, w // p
        if ho < 1 or wo < 1:
            raise ValueError(
                f"MaxPool2D(pool_size={p}) needs inputs of at least {p}x{p}, got shape {x.shape}"
            )
        cropped = x[:, :ho * p, :wo * p]
        return cropped.reshape(n, ho, p, wo, p, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, ho, wo, p * p, c)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        p = self.pool_size
        return (input_shape[0] // p, input_shape[1] // p, *tuple(input_shape)[2:])

    def __repr__(self) -> str:
        return f"MaxPool2D(pool_size={self.pool_size})"


class GlobalAvgPool2D(Layer):
    """Mean over height and width: (N, H, W, C) -> (N, C)."""

    def __init__(self) -> None:
        super().__init__()
        self._in_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if x.ndim != 4:
            raise ValueError(f"GlobalAvgPool2D expected NHWC input, got shape {x.shape}")
        self._in_shape = x.shape
        return x.mean(axis=(1, 2))

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        if self._in_shape is None:
            raise RuntimeError("GlobalAvgPool2D.backward called before forward")
        if not need_input_grad:
            return None
        n, h, w, c = self._in_shape
        dx = np.empty(self._in_shape, dtype=grad_out.dtype)
        dx[...] = (grad_out / (h * w))[:, None, None, :]
        return dx

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (input_shape[-1],)


class Flatten(Layer):
    """(N, ...) -> (N, prod(...)); a view when the input is contiguous."""

    def __init__(self) -> None:
        super().__init__()
        self._in_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._in_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        if self._in_shape is None:
            raise RuntimeError("Flatten.backward called before forward")
        if not need_input_grad:
            return None
        return grad_out.reshape(self._in_shape)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (math.prod(input_shape),)
