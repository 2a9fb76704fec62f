"""Activation layers."""

from __future__ import annotations

import numpy as np

from tlkit.nn.layer import Layer


class ReLU(Layer):
    """``y = max(x, 0)``; backward ``dx = g * (x > 0)`` (the gradient at exactly 0 is taken as 0).

    With ``inplace=True`` the input array is overwritten (saves an allocation);
    only use that when nothing else needs the input afterwards.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool(inplace)
        self._mask: np.ndarray | None = None  # for backward: where x > 0

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._mask = x > 0
        return np.maximum(x, 0, out=x) if self.inplace else np.maximum(x, 0)

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        if self._mask is None:
            raise RuntimeError("ReLU.backward called before forward")
        if not need_input_grad:
            return None
        return grad_out * self._mask

    def __repr__(self) -> str:
        return "ReLU(inplace=True)" if self.inplace else "ReLU()"
