"""The tuned twin of ``tlkit/nn/pooling.py``'s MaxPool2D: the same outputs and the same tie rule
(gradient to the first maximum of each window) on contiguous copies of each window tap.
``tests/nn/test_nn_fast_equals_readable.py`` proves it equal."""

from __future__ import annotations

import math

import numpy as np

from tlkit.nn import pooling as readable


class MaxPool2D(readable.MaxPool2D):
    """Max pooling with stride = ``pool_size``, floor mode (trailing rows/cols dropped).

    Backward sends each window's gradient to exactly one element: the first
    maximum in row-major window order (PyTorch's choice), so ties on flat
    regions are not double counted.

    Why it is fast: in NHWC a window tap (say the top-left pixel of every window) is a
    strided view made of C-long runs, and NumPy ufuncs crawl over such views run by run.
    So forward first gathers each tap into a contiguous array, with one copy that moves
    a pixel's C channels as a single element (a void dtype of C * itemsize bytes); the
    max and the first-maximum bookkeeping are then a few passes over contiguous arrays,
    and ``infer`` skips the bookkeeping. The batch goes through in chunks of about
    ``chunk_bytes`` so that the gathered taps are still in cache when they are used.
    Backward multiplies the gradient by each tap's one-hot mask straight into strided
    views of dx, as before: gathering there too was faster alone but not inside a
    training step, where its extra scratch array costs more in cache misses than it saves.
    """

    chunk_bytes = 2 << 20

    def __init__(self, pool_size: int = 2) -> None:
        super().__init__(pool_size)
        self.reset_scratch()

    def reset_scratch(self) -> None:
        """Forget the last forward and the work arrays (at construction, and in a converted layer)."""
        self._in_shape: tuple[int, ...] | None = None
        self._winner: np.ndarray | None = None  # (p*p, N, Ho*Wo*C) bool, one-hot over the taps
        self._scratch: dict[str, np.ndarray] = {}  # reused between calls, never returned

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        x, ho, wo = self._prepare(x)
        n, taps = x.shape[0], self.pool_size ** 2
        out = np.empty((n, ho, wo, x.shape[3]), dtype=x.dtype)
        winner = self._buffer("winner", (taps, n, ho * wo * x.shape[3]), np.dtype(bool))
        for rows in self._chunks(x):
            _first_max(self._gather_taps(x[rows], ho, wo), out[rows].reshape(-1),
                       winner[:, rows].reshape(taps, -1))
        self._winner, self._in_shape = winner, x.shape
        return out

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Same output as ``forward``, without the winner masks that only backward needs."""
        x, ho, wo = self._prepare(x)
        out = np.empty((x.shape[0], ho, wo, x.shape[3]), dtype=x.dtype)
        for rows in self._chunks(x):
            np.maximum.reduce(self._gather_taps(x[rows], ho, wo), axis=0, out=out[rows].reshape(-1))
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
        p, (n, h, w, c) = self.pool_size, self._in_shape
        ho, wo = h // p, w // p
        if grad_out.shape != (n, ho, wo, c):
            raise ValueError(f"MaxPool2D.backward expected grad_out of shape {(n, ho, wo, c)}, got {grad_out.shape}")
        dx = np.zeros(self._in_shape, dtype=grad_out.dtype)  # floor mode: dropped rows/cols stay 0
        windows = dx[:, :ho * p, :wo * p].reshape(n, ho, p, wo, p, c)
        winner = self._winner.reshape(p * p, n, ho, wo, c)
        for k in range(p * p):  # disjoint windows: plain writes; a loser gets g * False, a zero
            np.multiply(grad_out, winner[k], out=windows[:, :, k // p, :, k % p])
        return dx

    def _prepare(self, x: np.ndarray) -> tuple[np.ndarray, int, int]:
        """Validated C-contiguous input (the pixel views need it) and the output height and width."""
        if x.ndim != 4:
            raise ValueError(f"MaxPool2D expected NHWC input, got shape {x.shape}")
        p = self.pool_size
        ho, wo = x.shape[1] // p, x.shape[2] // p
        if ho < 1 or wo < 1:
            raise ValueError(
                f"MaxPool2D(pool_size={p}) needs inputs of at least {p}x{p}, got shape {x.shape}"
            )
        return np.ascontiguousarray(x), ho, wo

    def _chunks(self, x: np.ndarray) -> list[slice]:
        """Slices of the batch holding about ``chunk_bytes`` of ``x`` each (none if ``x`` is empty)."""
        if x.size == 0:
            return []
        step = max(1, self.chunk_bytes // x[0].nbytes)
        return [slice(lo, lo + step) for lo in range(0, x.shape[0], step)]

    def _buffer(self, name: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """Scratch array of ``shape``, cut from a buffer kept between calls (grown when too small)."""
        size = math.prod(shape)
        buf = self._scratch.get(name)
        if buf is None or buf.dtype != dtype or buf.size < size:
            buf = self._scratch[name] = np.empty(size, dtype=dtype)
        return buf[:size].reshape(shape)

    def _gather_taps(self, x: np.ndarray, ho: int, wo: int) -> np.ndarray:
        """(p*p, n*Ho*Wo*C) contiguous copy of ``x``: row k is tap (k // p, k % p) of every window."""
        p, (n, c) = self.pool_size, (x.shape[0], x.shape[3])
        taps = self._buffer("taps", (p, p, n, ho, wo, c), x.dtype)
        windows = _pixels(x)[:, :ho * p, :wo * p].reshape(n, ho, p, wo, p)
        np.copyto(_pixels(taps), windows.transpose(2, 4, 0, 1, 3))
        return taps.reshape(p * p, -1)


def _pixels(a: np.ndarray) -> np.ndarray:
    """View of a C-contiguous (..., C) array as (...) pixels, each pixel's C values one void element."""
    return a.view(np.dtype((np.void, a.shape[-1] * a.itemsize)))[..., 0]


def _first_max(taps: np.ndarray, out: np.ndarray, winner: np.ndarray) -> None:
    """``out`` = max over the rows of ``taps``, ``winner`` = one-hot (over the rows) of the FIRST maximum.

    The running max is replaced only by a tap that is strictly greater, so the first
    maximum is the last tap that beat the running max (tap 0 if none did). ``winner[k]``
    first records "tap k beat the running max"; a pass from the last tap down then keeps
    only the last such tap, with ``winner[0]`` serving as "a later tap already won".
    """
    running = taps[0]
    for k in range(1, len(taps)):
        np.greater(taps[k], running, out=winner[k])
        running = np.maximum(running, taps[k], out=out)
    if len(taps) == 1:
        np.copyto(out, running)
    later = winner[0]
    later[...] = winner[-1] if len(taps) > 1 else False
    for k in range(len(taps) - 2, 0, -1):
        np.greater(winner[k], later, out=winner[k])  # tap k beat the running max, no later tap did
        later |= winner[k]
    np.logical_not(later, out=winner[0])
