"""A frozen BatchNorm folds into the layer before it.

In inference mode BatchNorm is the per-channel affine map ``s * (z - mean) + beta`` with
``s = gamma / sqrt(var + eps)`` (running statistics) of its input ``z = x @ W + b``. So the two
layers are one affine layer with ``W' = W * s`` and ``b' = (b - mean) * s + beta``: the same
function with one pass over the data fewer. (This is how deployed networks run BatchNorm; the
fast engine's inference path, ``tlkit/nn/fast/inference.py``, does it for every such pair.)
"""

from __future__ import annotations

import copy

import numpy as np

from tlkit.nn.batchnorm import BatchNorm
from tlkit.nn.layer import Layer


def fold_batchnorm(weight: np.ndarray, bias: np.ndarray, bn: BatchNorm) -> tuple[np.ndarray, np.ndarray]:
    """Weights and bias of ``bn(layer(x))`` as one affine layer (output channels on the last axis)."""
    scale = bn.params["gamma"] / np.sqrt(bn.buffers["running_var"] + bn.eps)
    folded_weight = (weight * scale).astype(weight.dtype, copy=False)
    folded_bias = ((bias - bn.buffers["running_mean"]) * scale + bn.params["beta"]).astype(bias.dtype, copy=False)
    return folded_weight, folded_bias


def folded(layer: Layer, bn: BatchNorm) -> Layer:
    """A copy of ``layer`` (a Conv2D or Dense, params ``W`` and ``b``) that computes ``bn(layer(x))``
    in inference mode."""
    if set(layer.params) != {"W", "b"}:
        raise TypeError(f"layer must have params 'W' and 'b' (a Conv2D or Dense), got {layer!r}")
    if not isinstance(bn, BatchNorm):
        raise TypeError(f"bn must be a BatchNorm, got {type(bn).__name__}")
    weight, bias = fold_batchnorm(layer.params["W"], layer.params["b"], bn)
    out = copy.deepcopy(layer)
    out.params["W"][...], out.params["b"][...] = weight, bias
    return out
