"""The parts the course's own classes are built from: pretrained blocks and a new head.

In notebooks 01-04 a student writes ``PretrainedModel``, ``FeatureExtractor``,
``FineTuner`` and ``TransferLearningManager`` themselves, on tlkit's engine
(:mod:`tlkit.nn`). These two functions hand them what they cannot make in a cell: the
shipped pretrained weights, loaded into a :class:`~tlkit.nn.network.Network` of named
blocks ``layer1 ... layerN``, and a freshly initialised classifier block ``head``.

>>> network = pretrained_network("simple")          # doctest: +SKIP
>>> network.block_names                              # doctest: +SKIP
['layer1', 'layer2']
>>> head = new_head(network_features, 10, seed=0)   # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from .architectures import build_head
from .argcheck import check_int
from .nn.network import Block, Network
from .pretrained import PretrainedModel

__all__ = ["pretrained_network", "new_head"]


def pretrained_network(architecture: str = "medium", input_shape=None, *, seed: int = 0) -> Network:
    """The pretrained base of ``architecture`` ("simple", "medium" or "deep") as a fresh Network.

    ``input_shape`` as for :class:`tlkit.PretrainedModel` (None: the shipped 8x8 images).
    Images go in as ``(N, H, W, 1)`` float32 (channels last: add the axis to an ``(N, H, W)``
    batch), vectors as ``(N, d)``; ``network.infer(x)`` returns the ``(N, F)`` features.
    Every block starts trainable; ``network[name].trainable = False`` freezes one.
    An unknown architecture raises ValueError naming the valid ones.
    """
    return PretrainedModel(architecture, input_shape, seed=seed).network


def new_head(num_features: int, num_classes: int, *, seed: int = 0) -> Block:
    """A new softmax-regression classifier block named "head": ``num_features`` in, ``num_classes`` out."""
    num_features = check_int(num_features, "num_features", 1)
    num_classes = check_int(num_classes, "num_classes", 2)
    return build_head(num_features, num_classes, np.random.default_rng(check_int(seed, "seed", 0)))
