"""The base class every layer of the engine follows.

A layer owns its parameters (``params``), their gradients (``grads``, same keys)
and any non-trainable state (``buffers``, e.g. BatchNorm's running statistics).
``forward`` keeps in ``self`` what ``backward`` needs; ``backward`` takes the
gradient of the loss with respect to the layer's output and returns the
gradient with respect to its input.
"""

from __future__ import annotations

import numpy as np


def grad_buffer(layer: Layer, key: str) -> np.ndarray:
    """``layer.grads[key]``, (re)allocated only if its shape or dtype no longer matches the param.

    Gradients are written into this array in place, so anything holding a reference
    to ``layer.grads[key]`` (an optimizer's parameter group) always sees the latest one.
    """
    param, grad = layer.params[key], layer.grads.get(key)
    if grad is None or grad.shape != param.shape or grad.dtype != param.dtype:
        grad = layer.grads[key] = np.empty_like(param)
    return grad


class Layer:
    """A forward/backward pair with the state it needs (CS231n style)."""

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Inference-mode output when no backward will follow (frozen blocks below the trainable
        ones, prediction, feature extraction). Equals ``forward(x, training=False)``; a tuned layer
        overrides it to skip what only backward needs."""
        return self.forward(x, training=False)

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        """Gradient w.r.t. the input (None when ``need_input_grad`` is False).

        With ``need_param_grads`` False the layer skips computing ``grads``:
        that is what makes a frozen layer cheap.
        """
        raise NotImplementedError

    def store_grad(self, key: str, value: np.ndarray) -> None:
        """Write ``value`` into ``grads[key]`` in place: an optimizer holds that very array."""
        grad_buffer(self, key)[...] = value

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one sample's output given one sample's input shape."""
        return input_shape

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
