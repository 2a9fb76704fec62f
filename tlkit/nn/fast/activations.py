"""The tuned twin of ``tlkit/nn/activations.py``'s ReLU: the same outputs and gradients, bit for bit.

Why it exists: NumPy's ``maximum`` with a scalar operand (``np.maximum(x, 0)``) runs a loop about
2.7x slower than the same ufunc on two arrays (benchmarks/README.md), so the zero comes from a
shared read-only array of zeros.
"""

from __future__ import annotations

import numpy as np

from tlkit.nn import activations as readable

# Up to this many elements the zero comes from the shared buffer; larger arrays (a whole dataset
# in one call) take the scalar path, so the buffer never grows past 16 MB per dtype.
ZEROS_LIMIT = 1 << 22
_zeros: dict[np.dtype, np.ndarray] = {}


def zeros_like(x: np.ndarray) -> np.ndarray | float:
    """A read-only array of zeros shaped like ``x`` (a view of one shared buffer), or ``0.0`` if ``x``
    is too large for the buffer."""
    if x.size > ZEROS_LIMIT or x.dtype.kind != "f":
        return 0.0
    buffer = _zeros.get(x.dtype)
    if buffer is None or buffer.size < x.size:
        buffer = np.zeros(max(x.size, 1 << 16), dtype=x.dtype)
        buffer.flags.writeable = False
        _zeros[x.dtype] = buffer
    return buffer[:x.size].reshape(x.shape)


def relu(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``max(x, 0)`` elementwise, into ``out`` if given (may be ``x`` itself)."""
    return np.maximum(x, zeros_like(x), out=out)


class ReLU(readable.ReLU):
    """``y = max(x, 0)``; backward ``dx = g * (x > 0)``, as the readable layer."""

    def reset_scratch(self) -> None:
        """Forget the last forward's mask (in a layer converted to this twin)."""
        self._mask = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._mask = x > 0
        return relu(x, out=x if self.inplace else None)
