"""Inverted dropout."""

from __future__ import annotations

import numpy as np

from tlkit.nn.layer import Layer


class Dropout(Layer):
    """Zero each activation with probability ``rate`` in training, scale the rest by 1/(1-rate).

    Identity when ``training=False`` or ``rate == 0``. ``rng`` (a Generator) may
    be replaced by the training loop to seed the masks; when None a Generator
    seeded with 0 is used, so results are reproducible.
    """

    def __init__(self, rate: float, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        if isinstance(rate, bool) or not isinstance(rate, int | float | np.floating) \
                or not 0.0 <= rate < 1.0:
            raise ValueError(f"rate must be a number with 0 <= rate < 1, got {rate!r}")
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(
                f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}"
            )
        self.rate = float(rate)
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self._mask: np.ndarray | None = None  # scaled keep-mask, or None for identity

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.rate == 0.0:
            self._mask = None
            return x
        keep = self.rng.random(x.shape, dtype=np.float32) >= np.float32(self.rate)
        self._mask = keep.astype(x.dtype)
        self._mask *= 1.0 / (1.0 - self.rate)
        return x * self._mask

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        if not need_input_grad:
            return None
        if self._mask is None:
            return grad_out
        return grad_out * self._mask

    def __repr__(self) -> str:
        return f"Dropout(rate={self.rate})"
