"""The fast engine's block-level rewrites: what a layer that no backward will reach need not do.

Training keeps, in every layer, what its backward will need (im2col matrices, ReLU masks,
the winners of each max-pool window, BatchNorm's normalised inputs). A layer that will
never be backpropagated through (a frozen block below every trainable one, prediction,
feature extraction) needs none of it, and two rewrites make it cheaper still:

* **BatchNorm folding** into the conv or dense layer before it (``tlkit/nn/inference.py``):
  the same function with one pass over the data fewer.
* **Pool before ReLU.** ``max`` and ``ReLU`` commute (``max(relu(a), relu(b)) =
  relu(max(a, b))``), so ReLU after a 2x2 max-pool touches 4x fewer numbers. The gradients
  agree too (both route a window's gradient to its first maximum, and to nothing when that
  maximum is not positive), so training uses the same order (``execution_order``).

The results equal the readable layers' inference outputs up to float32 rounding (folding
multiplies in another order); tests/nn/test_nn_inference.py checks it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tlkit.nn.activations import ReLU
from tlkit.nn.batchnorm import BatchNorm
from tlkit.nn.dense import Dense
from tlkit.nn.fast.activations import relu
from tlkit.nn.fast.conv import Conv2D
from tlkit.nn.inference import fold_batchnorm
from tlkit.nn.layer import Layer
from tlkit.nn.pooling import MaxPool2D


def execution_order(layers: list[Layer]) -> list[Layer]:
    """``layers`` in the order to run them: a ReLU right before a max-pool runs after it."""
    order = list(layers)
    for index in range(len(order) - 1):
        if isinstance(order[index], ReLU) and isinstance(order[index + 1], MaxPool2D):
            order[index], order[index + 1] = order[index + 1], order[index]
    return order


def _folded_step(layer: Layer, bn: BatchNorm) -> Callable[[np.ndarray], np.ndarray] | None:
    """One inference step computing ``bn(layer(x))``, or None when ``layer`` cannot take folded weights."""
    if isinstance(layer, Conv2D):
        weight, bias = fold_batchnorm(layer.params["W"], layer.params["b"], bn)
        return lambda x: layer.infer_with(x, weight, bias)
    if isinstance(layer, Dense):
        weight, bias = fold_batchnorm(layer.params["W"], layer.params["b"], bn)

        def dense(x: np.ndarray) -> np.ndarray:
            if x.shape[-1] != layer.in_features:
                raise ValueError(
                    f"Dense expected inputs with last dimension {layer.in_features}, got shape {x.shape}"
                )
            out = x @ weight
            out += bias
            return out

        return dense
    return None


class InferencePlan:
    """``layers`` as inference steps, the BatchNorms folded once: a plan serves every chunk of one
    ``Network.infer`` call (the weights cannot change in between), and is made anew for the next."""

    def __init__(self, layers: list[Layer]) -> None:
        self.steps: list = []  # callables, or RELU for a ReLU that may work in place
        index = 0
        while index < len(layers):
            layer = layers[index]
            following = layers[index + 1] if index + 1 < len(layers) else None
            step = _folded_step(layer, following) if isinstance(following, BatchNorm) else None
            if step is not None:
                self.steps.append(step)
                index += 2
            elif isinstance(layer, ReLU) and isinstance(following, MaxPool2D):
                self.steps += [following.infer, RELU]  # the pool's output is new: ReLU in place
                index += 2
            else:
                self.steps.append(RELU if isinstance(layer, ReLU) else layer.infer)
                index += 1

    def __call__(self, x: np.ndarray) -> np.ndarray:
        inputs = x
        for step in self.steps:
            if step is RELU:  # in place, unless x is still the caller's array
                x = relu(x) if np.may_share_memory(x, inputs) else relu(x, out=x)
            else:
                x = step(x)
        return x


RELU = object()  # marks a ReLU step in an InferencePlan
