"""Residual adapter: a small bottleneck added after a frozen block, the identity at the start.

An adapter (Rebuffi et al. 2017, Houlsby et al. 2019) lets a frozen pretrained network adapt to
a new domain by training a few new weights between its blocks. On every pixel's channel vector
``x`` (C numbers) it adds a learned correction through a bottleneck of ``r < C`` units:

    z = x @ W_down + b_down          (C -> r: a 1x1 convolution)
    h = relu(z)
    y = x + h @ W_up + b_up          (r -> C: a 1x1 convolution, then the skip connection)

``W_up`` and ``b_up`` start at zero, so at the start ``y = x``: the adapted network computes
exactly what the pretrained one did, and training moves it away only as far as the data asks.

Backward, with g = dL/dy (the chain rule through the three lines, bottom to top):

    dW_up = h.T @ g        db_up = sum(g)        dh = g @ W_up.T
    dz = dh * (z > 0)
    dW_down = x.T @ dz     db_down = sum(dz)     dx = g + dz @ W_down.T    (the skip adds g)

A 1x1 convolution is a matrix product on the channel axis at every pixel, so the adapter works
on any input whose last axis holds the channels: (N, C) vectors, (N, H, W, C) maps, or a
flattened (N, H*W*C) map, which is the same pixels in a row (it is viewed as (N*H*W, C)).
"""

from __future__ import annotations

import numpy as np

from tlkit.argcheck import check_int
from tlkit.nn.init import he_normal
from tlkit.nn.layer import Layer

__all__ = ["Adapter", "adapter_backward", "adapter_forward", "adapter_forward_backward"]

PARAM_NAMES = ("W_down", "b_down", "W_up", "b_up")


def _rows(x: np.ndarray, channels: int) -> np.ndarray:
    """``x`` as one row of ``channels`` numbers per pixel (a view when possible)."""
    if x.ndim < 1 or x.shape[-1] % channels != 0:
        raise ValueError(
            f"the adapter expected inputs whose last axis holds {channels} channels (or a flattened "
            f"map of {channels}-channel pixels); got shape {x.shape}"
        )
    return x.reshape(-1, channels)


def adapter_forward(x: np.ndarray, W_down: np.ndarray, b_down: np.ndarray, W_up: np.ndarray,
                    b_up: np.ndarray) -> tuple[np.ndarray, tuple]:
    """``(y, cache)``: ``y = x + relu(x @ W_down + b_down) @ W_up + b_up`` on the channel axis."""
    x2 = _rows(x, W_down.shape[0])
    z = x2 @ W_down + b_down
    h = np.maximum(z, 0)
    y2 = x2 + h @ W_up + b_up
    cache = (x2, z, h, W_down, W_up, x.shape)
    return y2.reshape(x.shape), cache


def adapter_backward(grad_out: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
    """Gradients ``{"x", "W_down", "b_down", "W_up", "b_up"}`` of the loss, given ``g = dL/dy``."""
    x2, z, h, W_down, W_up, x_shape = cache
    g = grad_out.reshape(x2.shape)
    dh = g @ W_up.T
    dz = dh * (z > 0)
    return {
        "x": (g + dz @ W_down.T).reshape(x_shape),
        "W_down": x2.T @ dz,
        "b_down": dz.sum(axis=0),
        "W_up": h.T @ g,
        "b_up": g.sum(axis=0),
    }


def adapter_forward_backward(x: np.ndarray, params: dict[str, np.ndarray],
                             grad_out: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The adapter's output for ``x`` and the gradients for ``grad_out``: ``(y, grads)``.

    ``params`` holds ``W_down`` (C, r), ``b_down`` (r,), ``W_up`` (r, C), ``b_up`` (C,);
    ``grads`` has the keys ``"x"`` and those four, each the shape of what it differentiates.
    (Exercise 05.1 asks for this function; the :class:`Adapter` layer uses the same two steps.)
    """
    y, cache = adapter_forward(x, *(params[name] for name in PARAM_NAMES))
    return y, adapter_backward(grad_out, cache)


class Adapter(Layer):
    """A residual bottleneck adapter on the last (channel) axis; the identity at construction.

    ``Adapter(channels, bottleneck, rng)``: params ``W_down`` (channels, bottleneck) drawn He-normal,
    ``b_down``, and ``W_up`` (bottleneck, channels), ``b_up`` at zero. ``2 * channels * bottleneck
    + bottleneck + channels`` trainable numbers.
    """

    def __init__(self, channels: int, bottleneck: int, rng: np.random.Generator) -> None:
        super().__init__()
        self.channels = check_int(channels, "channels", 1)
        self.bottleneck = check_int(bottleneck, "bottleneck", 1)
        self.params["W_down"] = he_normal((self.channels, self.bottleneck), self.channels, rng)
        self.params["b_down"] = np.zeros(self.bottleneck, dtype=np.float32)
        self.params["W_up"] = np.zeros((self.bottleneck, self.channels), dtype=np.float32)
        self.params["b_up"] = np.zeros(self.channels, dtype=np.float32)
        for name, value in self.params.items():
            self.grads[name] = np.zeros_like(value)
        self._cache: tuple | None = None  # for backward: adapter_forward's cache

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        y, self._cache = adapter_forward(x, *(self.params[name] for name in PARAM_NAMES))
        return y

    def infer(self, x: np.ndarray) -> np.ndarray:
        y, _ = adapter_forward(x, *(self.params[name] for name in PARAM_NAMES))
        return y

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        if self._cache is None:
            raise RuntimeError("Adapter.backward called before forward")
        grads = adapter_backward(grad_out, self._cache)
        if need_param_grads:
            for name in PARAM_NAMES:
                self.store_grad(name, grads[name])
        return grads["x"] if need_input_grad else None

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if not input_shape or input_shape[-1] % self.channels != 0:
            raise ValueError(f"the adapter expected a last axis of {self.channels} channels; got {input_shape}")
        return tuple(input_shape)

    def __repr__(self) -> str:
        return f"Adapter({self.channels}, bottleneck={self.bottleneck})"
