"""``Frozen(layer)``: a pretrained layer inside a trainable block, that cannot change.

A block is the unit of freezing (``tlkit/nn/network.py``): every parameter of a trainable block
goes to the optimizer. Parameter-efficient methods need a trainable block that still holds
pretrained layers: LoRA's block trains the low-rank factors while its BatchNorm stays as it was
pretrained. ``Frozen`` wraps such a layer with the Keras semantics of a frozen layer:

* it shows no parameters (``params`` is empty), so no optimizer can reach its weights;
* it always runs in inference mode (BatchNorm normalises with its running statistics and never
  updates them);
* its backward passes the gradient to its input and computes no weight gradient.

The wrapped layer is the very object the pretrained base holds (not a copy): the base predicts
with the same weights, which stay bit-for-bit what they were.
"""

from __future__ import annotations

import numpy as np

from tlkit.nn.layer import Layer

__all__ = ["Frozen"]


class Frozen(Layer):
    """``layer`` with no trainable parameters and always in inference mode."""

    def __init__(self, layer: Layer) -> None:
        super().__init__()
        if not isinstance(layer, Layer):
            raise TypeError(f"layer must be a tlkit.nn Layer; got {type(layer).__name__}")
        self.layer = layer

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        return self.layer.forward(x, training=False)

    def infer(self, x: np.ndarray) -> np.ndarray:
        return self.layer.infer(x)

    def backward(
        self,
        grad_out: np.ndarray,
        need_input_grad: bool = True,
        need_param_grads: bool = True,
    ) -> np.ndarray | None:
        return self.layer.backward(grad_out, need_input_grad=need_input_grad, need_param_grads=False)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        return self.layer.output_shape(input_shape)

    def __repr__(self) -> str:
        return f"Frozen({self.layer!r})"
