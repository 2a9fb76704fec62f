"""2-D convolution (stride 1, NHWC) as im2col and one matrix product.

Forward: copy every kh x kw window of the (zero-padded) input into one row of a matrix
``cols`` (N*Ho*Wo, kh*kw*Cin); then the convolution is ``out = cols @ W + b`` with ``W``
reshaped to (kh*kw*Cin, Cout). Backward is the chain rule through that product:

    dW = cols.T @ dout          db = sum of dout over every output pixel
    dcols = dout @ W.T          dx = col2im(dcols): each window gives back what it read

The tuned twin (``tlkit/nn/fast/conv.py``) computes the same numbers with reused buffers,
the bias folded into the product and a padding-free path for tiny maps.
"""

from __future__ import annotations

import numpy as np

from tlkit.argcheck import check_int
from tlkit.nn.init import he_normal
from tlkit.nn.layer import Layer


class Conv2D(Layer):
    """Convolution with stride 1 on NHWC images; params ``W`` (kh, kw, Cin, Cout) and ``b`` (Cout,)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] = 3,
        padding: str | int = "same",
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", 1)
        self.out_channels = check_int(out_channels, "out_channels", 1)
        self.kernel_size = kernel_pair(kernel_size)
        self.padding = padding
        kh, kw = self.kernel_size
        self._pads = padding_amounts(padding, kh, kw)
        fan_in = kh * kw * self.in_channels
        self.params["W"] = he_normal((kh, kw, self.in_channels, self.out_channels), fan_in, rng)
        self.params["b"] = np.zeros(self.out_channels, dtype=np.float32)
        self.grads["W"] = np.zeros_like(self.params["W"])
        self.grads["b"] = np.zeros_like(self.params["b"])
        self._x_shape: tuple[int, ...] | None = None  # for backward: the input's shape
        self._cols: np.ndarray | None = None          # and the im2col matrix

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._check_input(x)
        n, h, w, c = x.shape
        kh, kw = self.kernel_size
        ho, wo = self._out_hw(h, w)
        top, bottom, left, right = self._pads
        x_pad = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
        windows = np.lib.stride_tricks.sliding_window_view(x_pad, (kh, kw), axis=(1, 2))  # (N,Ho,Wo,C,kh,kw)
        cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(n * ho * wo, kh * kw * c)  # rows in W's order
        out = cols @ self.params["W"].reshape(kh * kw * c, self.out_channels) + self.params["b"]
        self._x_shape, self._cols = x.shape, cols
        return out.reshape(n, ho, wo, self.out_channels)

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        if self._cols is None or self._x_shape is None:
            raise RuntimeError("Conv2D.backward called before forward")
        n, h, w, c = self._x_shape
        kh, kw = self.kernel_size
        ho, wo = grad_out.shape[1:3]
        dout = grad_out.reshape(n * ho * wo, self.out_channels)  # one row per window
        weights = self.params["W"].reshape(kh * kw * c, self.out_channels)
        if need_param_grads:
            self.store_grad("W", (self._cols.T @ dout).reshape(self.params["W"].shape))
            self.store_grad("b", dout.sum(axis=0))
        if not need_input_grad:
            return None
        dcols = (dout @ weights.T).reshape(n, ho, wo, kh, kw, c)
        top, bottom, left, right = self._pads
        dx_pad = np.zeros((n, h + top + bottom, w + left + right, c), dtype=dcols.dtype)
        for i in range(kh):  # col2im: tap (i, j) of window (y, x) read pixel (y + i, x + j)
            for j in range(kw):
                dx_pad[:, i:i + ho, j:j + wo, :] += dcols[:, :, :, i, j, :]
        return dx_pad[:, top:top + h, left:left + w, :]

    def _check_input(self, x: np.ndarray) -> None:
        if x.ndim != 4 or x.shape[3] != self.in_channels:
            raise ValueError(
                f"Conv2D expected NHWC input with {self.in_channels} channels, got shape {x.shape}"
            )

    def _out_hw(self, h: int, w: int) -> tuple[int, int]:
        top, bottom, left, right = self._pads
        kh, kw = self.kernel_size
        ho, wo = h + top + bottom - kh + 1, w + left + right - kw + 1
        if ho < 1 or wo < 1:
            raise ValueError(
                f"Conv2D input of spatial size {(h, w)} is too small for kernel "
                f"{self.kernel_size} with padding {self.padding!r}"
            )
        return ho, wo

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        h, w = input_shape[0], input_shape[1]
        return (*self._out_hw(h, w), self.out_channels)

    def __repr__(self) -> str:
        return (
            f"Conv2D({self.in_channels}, {self.out_channels}, "
            f"kernel_size={self.kernel_size}, padding={self.padding!r})"
        )


def kernel_pair(value: int | tuple[int, int]) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; a pair is checked and kept."""
    if isinstance(value, tuple | list) and len(value) == 2:
        return check_int(value[0], "kernel_size", 1), check_int(value[1], "kernel_size", 1)
    k = check_int(value, "kernel_size", 1)
    return k, k


def padding_amounts(padding: str | int, kh: int, kw: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right); 'same' puts any odd extra on the bottom/right."""
    if isinstance(padding, str):
        if padding == "same":
            top, left = (kh - 1) // 2, (kw - 1) // 2
            return top, kh - 1 - top, left, kw - 1 - left
        if padding == "valid":
            return 0, 0, 0, 0
    elif isinstance(padding, int | np.integer) and not isinstance(padding, bool) and padding >= 0:
        p = int(padding)
        return p, p, p, p
    raise ValueError(
        f"padding must be 'same', 'valid' or a non-negative integer, got {padding!r}"
    )
