"""Pooling and reshaping layers for NHWC images."""

from __future__ import annotations

import math

import numpy as np

from tlkit.nn.layer import Layer


class MaxPool2D(Layer):
    """Max pooling with stride = ``pool_size``, floor mode (trailing rows/cols dropped).

    Backward sends each window's gradient to exactly one element: the first
    maximum in row-major window order (PyTorch's choice), so ties on flat
    regions are not double counted.
    """

    def __init__(self, pool_size: int = 2) -> None:
        super().__init__()
        if isinstance(pool_size, bool) or not isinstance(pool_size, int | np.integer) \
                or pool_size < 1:
            raise ValueError(f"pool_size must be a positive integer, got {pool_size!r}")
        self.pool_size = int(pool_size)
        self._in_shape: tuple[int, ...] | None = None
        self._winner: np.ndarray | None = None  # (p*p, N, Ho, Wo, C) one-hot over taps

    def _taps(self, x: np.ndarray, ho: int, wo: int) -> list[np.ndarray]:
        p = self.pool_size
        return [x[:, i:ho * p:p, j:wo * p:p, :] for i in range(p) for j in range(p)]

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if x.ndim != 4:
            raise ValueError(f"MaxPool2D expected NHWC input, got shape {x.shape}")
        p = self.pool_size
        ho, wo = x.shape[1] // p, x.shape[2] // p
        if ho < 1 or wo < 1:
            raise ValueError(
                f"MaxPool2D(pool_size={p}) needs inputs of at least {p}x{p}, got shape {x.shape}"
            )
        taps = self._taps(x, ho, wo)  # strided views, one per window position
        out = taps[0].copy()
        for t in taps[1:]:
            np.maximum(out, t, out=out)
        # First maximum wins: a tap is the winner if it equals the max and no earlier tap did.
        winner = np.empty((len(taps), *out.shape), dtype=bool)
        taken = np.zeros(out.shape, dtype=bool)
        for k, t in enumerate(taps):
            np.equal(t, out, out=winner[k])
            winner[k] &= ~taken
            taken |= winner[k]
        self._winner = winner
        self._in_shape = x.shape
        return out

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        if self._winner is None or self._in_shape is None:
            raise RuntimeError("MaxPool2D.backward called before forward")
        if not need_input_grad:
            return None
        n, h, w, c = self._in_shape
        ho, wo = grad_out.shape[1:3]
        dx = np.zeros(self._in_shape, dtype=grad_out.dtype)
        for k, dtap in enumerate(self._taps(dx, ho, wo)):  # disjoint windows: plain writes
            np.multiply(grad_out, self._winner[k], out=dtap)
        return dx

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
