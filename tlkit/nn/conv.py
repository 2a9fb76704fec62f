"""2-D convolution (stride 1, NHWC) by im2col and one matrix product."""

from __future__ import annotations

import numpy as np

from tlkit.nn.dense import grad_buffer
from tlkit.nn.init import he_normal
from tlkit.nn.layer import Layer

_sliding_window_view = np.lib.stride_tricks.sliding_window_view


def _positive_int(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _kernel_pair(value: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(value, tuple | list) and len(value) == 2:
        return _positive_int("kernel_size", value[0]), _positive_int("kernel_size", value[1])
    k = _positive_int("kernel_size", value)  # type: ignore[arg-type]
    return k, k


def _padding_amounts(padding: str | int, kh: int, kw: int) -> tuple[int, int, int, int]:
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


class Conv2D(Layer):
    """Convolution with stride 1 on NHWC images.

    params ``W`` (kh, kw, Cin, Cout) and ``b`` (Cout,). Forward builds the
    im2col matrix (N*Ho*Wo, kh*kw*Cin) in a buffer reused between calls and
    does one matrix product; backward does ``dW = cols.T @ dout`` and a col2im
    with one product per filter tap.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] = 3,
        padding: str | int = "same",
        rng: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = _positive_int("in_channels", in_channels)
        self.out_channels = _positive_int("out_channels", out_channels)
        self.kernel_size = _kernel_pair(kernel_size)
        self.padding = padding
        kh, kw = self.kernel_size
        self._pads = _padding_amounts(padding, kh, kw)
        fan_in = kh * kw * self.in_channels
        self.params["W"] = he_normal((kh, kw, self.in_channels, self.out_channels), fan_in, rng)
        self.params["b"] = np.zeros(self.out_channels, dtype=np.float32)
        self.grads["W"] = np.zeros_like(self.params["W"])
        self.grads["b"] = np.zeros_like(self.params["b"])
        self._xpad: np.ndarray | None = None   # zero-bordered copy of the input
        self._cols: np.ndarray | None = None   # im2col matrix of the last forward
        self._dxpad: np.ndarray | None = None  # padded input-gradient accumulator
        self._in_shape: tuple[int, ...] | None = None

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

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if x.ndim != 4 or x.shape[3] != self.in_channels:
            raise ValueError(
                f"Conv2D expected NHWC input with {self.in_channels} channels, got shape {x.shape}"
            )
        n, h, w, c = x.shape
        kh, kw = self.kernel_size
        top, bottom, left, right = self._pads
        ho, wo = self._out_hw(h, w)
        pshape = (n, h + top + bottom, w + left + right, c)
        if self._xpad is None or self._xpad.shape != pshape or self._xpad.dtype != x.dtype:
            self._xpad = np.zeros(pshape, dtype=x.dtype)  # borders stay zero for good
        self._xpad[:, top:top + h, left:left + w, :] = x
        # (N, Ho, Wo, C, kh, kw) view -> (N, Ho, Wo, kh, kw, C) copied into the cols buffer
        windows = _sliding_window_view(self._xpad, (kh, kw), axis=(1, 2))
        cshape = (n * ho * wo, kh * kw * c)
        if self._cols is None or self._cols.shape != cshape or self._cols.dtype != x.dtype:
            self._cols = np.empty(cshape, dtype=x.dtype)
        np.copyto(self._cols.reshape(n, ho, wo, kh, kw, c), windows.transpose(0, 1, 2, 4, 5, 3))
        self._in_shape = x.shape
        out = self._cols @ self.params["W"].reshape(kh * kw * c, self.out_channels)
        out += self.params["b"]
        return out.reshape(n, ho, wo, self.out_channels)

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        if self._in_shape is None or self._cols is None:
            raise RuntimeError("Conv2D.backward called before forward")
        n, h, w, c = self._in_shape
        kh, kw = self.kernel_size
        ho, wo = grad_out.shape[1:3]
        dout = grad_out.reshape(-1, self.out_channels)
        if need_param_grads:
            dw = grad_buffer(self, "W").reshape(kh * kw * c, self.out_channels)  # a view
            np.matmul(self._cols.T, dout, out=dw)
            np.sum(dout, axis=0, out=grad_buffer(self, "b"))
        if not need_input_grad:
            return None
        # col2im: each tap's contribution is one GEMM, added into a shifted window.
        top, _, left, _ = self._pads
        pshape = (n, h + sum(self._pads[:2]), w + sum(self._pads[2:]), c)
        dtype = np.result_type(grad_out, self.params["W"])
        if self._dxpad is None or self._dxpad.shape != pshape or self._dxpad.dtype != dtype:
            self._dxpad = np.zeros(pshape, dtype=dtype)
        else:
            self._dxpad.fill(0)
        weights = self.params["W"]
        for i in range(kh):
            for j in range(kw):
                tap = (dout @ weights[i, j].T).reshape(n, ho, wo, c)
                self._dxpad[:, i:i + ho, j:j + wo, :] += tap
        return self._dxpad[:, top:top + h, left:left + w, :].copy()

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        h, w = input_shape[0], input_shape[1]
        return (*self._out_hw(h, w), self.out_channels)

    def __repr__(self) -> str:
        return (
            f"Conv2D({self.in_channels}, {self.out_channels}, "
            f"kernel_size={self.kernel_size}, padding={self.padding!r})"
        )
