"""The inference fast path: what a frozen layer does not need to do.

Training keeps, in every layer, what its backward will need (im2col matrices, ReLU masks,
the winners of each max-pool window, BatchNorm's normalised inputs). A layer that will
never be backpropagated through (a frozen block below every trainable one, prediction,
feature extraction) needs none of it, and two rewrites make it cheaper still:

* **BatchNorm folding.** In inference mode BatchNorm is the affine map
  ``gamma * (z - mean) / sqrt(var + eps) + beta`` of its input ``z = x @ W + b``. Folding
  it into the layer before it gives one layer with ``W' = W * s`` and
  ``b' = (b - mean) * s + beta``, ``s = gamma / sqrt(var + eps)``: the same function with
  one pass over the data fewer. (This is how deployed networks run BatchNorm.)
* **Pool before ReLU.** ``max`` and ``ReLU`` commute (``max(relu(a), relu(b)) =
  relu(max(a, b))``), so ReLU after a 2x2 max-pool touches 4x fewer numbers.

The results equal the training-mode layers' inference outputs up to float32 rounding
(folding multiplies in another order); tests/nn/test_nn_inference.py checks both.
"""

from __future__ import annotations

import functools

import numpy as np

from tlkit.nn.activations import ReLU
from tlkit.nn.batchnorm import BatchNorm
from tlkit.nn.conv import Conv2D
from tlkit.nn.dense import Dense
from tlkit.nn.layer import Layer
from tlkit.nn.pooling import MaxPool2D


def fold_batchnorm(weight: np.ndarray, bias: np.ndarray, bn: BatchNorm) -> tuple[np.ndarray, np.ndarray]:
    """Weights and bias of ``bn(layer(x))`` as one affine layer (output channels on the last axis)."""
    scale = bn.params["gamma"] / np.sqrt(bn.buffers["running_var"] + bn.eps)
    folded_weight = (weight * scale).astype(weight.dtype, copy=False)
    folded_bias = ((bias - bn.buffers["running_mean"]) * scale + bn.params["beta"]).astype(bias.dtype, copy=False)
    return folded_weight, folded_bias


class InferencePlan:
    """``layers`` as inference steps, the BatchNorms folded once: a plan serves every chunk of one
    ``Network.infer`` call (the weights cannot change in between), and is made anew for the next."""

    def __init__(self, layers: list[Layer]) -> None:
        self.steps: list = []  # callables, or RELU for a ReLU that may work in place
        index = 0
        while index < len(layers):
            layer = layers[index]
            following = layers[index + 1] if index + 1 < len(layers) else None
            if isinstance(layer, Conv2D | Dense) and isinstance(following, BatchNorm):
                weight, bias = fold_batchnorm(layer.params["W"], layer.params["b"], following)
                self.steps.append(functools.partial(layer.infer, weight=weight, bias=bias))
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
                x = np.maximum(x, 0) if np.may_share_memory(x, inputs) else np.maximum(x, 0, out=x)
            else:
                x = step(x)
        return x


RELU = object()  # marks a ReLU step in an InferencePlan

