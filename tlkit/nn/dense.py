"""Fully connected layer: ``y = x @ W + b``; backward ``dW = x.T @ g``, ``db = sum(g)``, ``dx = g @ W.T``."""

from __future__ import annotations

import numpy as np

from tlkit.argcheck import check_int
from tlkit.nn.init import he_normal
from tlkit.nn.layer import Layer


class Dense(Layer):
    """Affine layer on the last axis; params ``W`` (in, out) and ``b`` (out,)."""

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.in_features = check_int(in_features, "in_features", 1)
        self.out_features = check_int(out_features, "out_features", 1)
        self.params["W"] = he_normal((self.in_features, self.out_features), self.in_features, rng)
        self.params["b"] = np.zeros(self.out_features, dtype=np.float32)
        self.grads["W"] = np.zeros_like(self.params["W"])
        self.grads["b"] = np.zeros_like(self.params["b"])
        self._x: np.ndarray | None = None  # for backward: the input

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"Dense expected inputs with last dimension {self.in_features}, got shape {x.shape}"
            )
        self._x = x
        out = x @ self.params["W"]
        out += self.params["b"]
        return out

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        if self._x is None:
            raise RuntimeError("Dense.backward called before forward")
        if need_param_grads:
            x2 = self._x.reshape(-1, self.in_features)  # every leading axis is a batch axis
            g2 = grad_out.reshape(-1, self.out_features)
            self.store_grad("W", x2.T @ g2)
            self.store_grad("b", g2.sum(axis=0))
        if not need_input_grad:
            return None
        return grad_out @ self.params["W"].T

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return (*tuple(input_shape)[:-1], self.out_features)

    def __repr__(self) -> str:
        return f"Dense({self.in_features}, {self.out_features})"
