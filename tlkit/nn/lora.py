"""LoRA (Hu et al. 2021): train a low-rank update of a frozen weight matrix, not the matrix.

A pretrained Dense layer computes ``y = x @ W + b`` with ``W`` of shape (in, out). LoRA keeps
``W`` frozen and learns a correction of rank ``r``, a product of two thin matrices:

    W_eff = W + s * A @ B         A: (in, r), drawn at random      B: (r, out), zero at the start
    y     = x @ W_eff + b         s = alpha / r (a fixed scale)

``r * (in + out)`` numbers train instead of ``in * out``: with in = out = 576 and r = 4, 1.4% of
them. ``B = 0`` at the start makes the layer compute exactly what the pretrained one did.

The same holds for a convolution, whose kernel (kh, kw, C_in, C_out) is the matrix
(kh*kw*C_in, C_out) of im2col (``tlkit/nn/conv.py``): ``A`` is (kh*kw*C_in, r), ``B`` (r, C_out).

Backward: the loss depends on ``A`` and ``B`` only through ``W_eff``. The wrapped layer's own
backward gives ``G = dL/dW_eff`` (and ``dL/dx``); the chain rule through ``W_eff = W + s A B``:

    dA = s * G @ B.T          dB = s * A.T @ G

``W`` and ``b`` are not parameters of the LoRA layer: no optimizer can reach them. The forward
runs a private copy of the wrapped layer (``inner``) with ``W_eff`` in place of ``W``, so the
pretrained layer itself is never written to, not even for a moment.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from tlkit.argcheck import check_int, check_rng
from tlkit.nn.conv import Conv2D
from tlkit.nn.dense import Dense
from tlkit.nn.layer import Layer

__all__ = ["LoRA"]


def _matrix_shape(weight: np.ndarray) -> tuple[int, int]:
    """(fan_in, out) of a Dense (in, out) or Conv2D (kh, kw, in, out) weight."""
    return int(np.prod(weight.shape[:-1])), int(weight.shape[-1])


class LoRA(Layer):
    """A frozen Dense or Conv2D ``layer`` plus a trainable rank-``rank`` update ``(alpha / rank) A @ B``.

    ``LoRA(layer, rank, rng, alpha=None)``: ``alpha`` defaults to ``rank`` (scale 1). Params ``A``
    (fan_in, rank), drawn N(0, 1 / fan_in), and ``B`` (rank, out), zeros. ``merged_weight()`` is
    ``W_eff``: after training, a plain layer with that weight computes the same function.
    """

    def __init__(self, layer: Layer, rank: int, rng: np.random.Generator, alpha: float | None = None) -> None:
        super().__init__()
        if not isinstance(layer, Dense | Conv2D):
            raise TypeError(f"layer must be a Dense or Conv2D layer to take a LoRA update; got {type(layer).__name__}")
        self.layer = layer
        fan_in, out = _matrix_shape(layer.params["W"])
        self.rank = check_int(rank, "rank", 1)
        if self.rank > min(fan_in, out):
            raise ValueError(f"rank must be at most min(fan_in, out) = {min(fan_in, out)} for {layer!r}; got {rank}")
        if alpha is None:
            alpha = float(self.rank)
        if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not (alpha > 0 and math.isfinite(alpha)):
            raise ValueError(f"alpha must be a positive number; got {alpha!r}")
        self.alpha = float(alpha)
        self.scale = self.alpha / self.rank
        rng = check_rng(rng)
        self.params["A"] = (rng.standard_normal((fan_in, self.rank), dtype=np.float32)
                            * np.float32(1.0 / math.sqrt(fan_in)))
        self.params["B"] = np.zeros((self.rank, out), dtype=np.float32)
        for name, value in self.params.items():
            self.grads[name] = np.zeros_like(value)
        self.inner = copy.deepcopy(layer)  # runs with W_eff; the pretrained layer is never written

    def merged_weight(self) -> np.ndarray:
        """``W + (alpha / rank) * A @ B`` in the shape of the wrapped layer's ``W``."""
        weight = self.layer.params["W"]
        delta = self.scale * (self.params["A"] @ self.params["B"])
        return weight + delta.reshape(weight.shape)  # float32 unless A and B are float64 (gradient checks)

    def _load_inner(self) -> Layer:
        self.inner.params["W"] = self.merged_weight()
        self.inner.params["b"] = self.layer.params["b"].copy()
        return self.inner

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return self._load_inner().forward(x, training)

    def infer(self, x: np.ndarray) -> np.ndarray:
        return self._load_inner().infer(x)

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        dx = self.inner.backward(grad_out, need_input_grad=need_input_grad, need_param_grads=need_param_grads)
        if need_param_grads:
            fan_in, out = _matrix_shape(self.inner.grads["W"])
            g = self.inner.grads["W"].reshape(fan_in, out)  # dL/dW_eff as a matrix
            self.store_grad("A", self.scale * (g @ self.params["B"].T))
            self.store_grad("B", self.scale * (self.params["A"].T @ g))
        return dx

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return self.layer.output_shape(input_shape)

    def __repr__(self) -> str:
        return f"LoRA({self.layer!r}, rank={self.rank}, alpha={self.alpha:g})"
