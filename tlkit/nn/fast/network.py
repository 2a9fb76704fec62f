"""The fast engine's blocks and networks: the readable ones, with the rewrites a tuned run allows.

* :class:`Block` runs a ReLU that comes right before a max-pool after it (``execution_order``:
  the two commute, and ReLU then touches 4x fewer numbers), and infers through an
  :class:`~tlkit.nn.fast.inference.InferencePlan` (BatchNorm folded into the layer before it).
* :class:`Network` infers chunk by chunk: a chunk's activations and im2col matrices stay in the
  CPU cache from one layer to the next, where a batch of 256 would go out to memory at every
  layer (benchmarks/README.md). The frozen blocks below the trainable ones take the same path.
* :func:`convert` gives the fast twin of a readable network: the same weights, buffers and
  frozen flags, in fast layers, blocks and network.

``tests/nn/test_nn_fast_equals_readable.py`` proves a converted network computes what the
readable one computes.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import numpy as np

from .. import network as readable
from ..layer import Layer
from .inference import InferencePlan, execution_order

# Layer outputs per inference chunk: small enough that a chunk's activations stay in the CPU
# cache from one layer to the next (the timings: benchmarks/README.md).
INFER_CHUNK_FLOATS = 1 << 19


class Block(readable.Block):
    """A readable block's layers, run in ``execution_order`` and inferred through a plan."""

    engine = "fast"

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        layer_training = training and self.trainable
        self._ran = execution_order([layer for _, layer in self.layers])
        for layer in self._ran:
            x = layer.forward(x, layer_training)
        return x

    def infer(self, x: np.ndarray) -> np.ndarray:
        return self.inference_plan()(x)

    def inference_plan(self) -> Callable[[np.ndarray], np.ndarray]:
        """The block's inference steps with the current weights (BatchNorms folded, ReLUs after the pools)."""
        self._ran = []  # what the layers keep will belong to an older forward: no backward from here
        return InferencePlan([layer for _, layer in self.layers])


class Network(readable.Network):
    """A readable network's blocks, inferred chunk by chunk with each block's inference plan."""

    engine = "fast"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        below = self.frozen_below(training)
        if below:
            x = self._infer_blocks(self.blocks[:below], x)
        for block in self.blocks[below:]:
            x = block.forward(x, training)
        return x

    def infer(self, x: np.ndarray) -> np.ndarray:
        return self._infer_blocks(self.blocks, x)

    def _infer_blocks(self, blocks: list[readable.Block], x: np.ndarray) -> np.ndarray:
        """``blocks`` in inference mode, one cache-sized chunk of ``x`` at a time."""
        chunk_size = self.inference_chunk_size(x.shape[1:], blocks)
        plans = [plan_of(block) for block in blocks]  # BatchNorms folded once per call
        if len(x) <= chunk_size:
            return _run(plans, x)
        first = _run(plans, x[:chunk_size])
        out = np.empty((len(x), *first.shape[1:]), dtype=first.dtype)
        out[:chunk_size] = first
        for start in range(chunk_size, len(x), chunk_size):
            out[start:start + chunk_size] = _run(plans, x[start:start + chunk_size])
        return out

    def inference_chunk_size(self, sample_shape: tuple[int, ...], blocks: list[readable.Block] | None = None) -> int:
        """A power of two (16 to 1024) of samples whose layer outputs (in ``blocks``, by default all)
        add up to about ``INFER_CHUNK_FLOATS``."""
        floats_per_sample = 0
        try:
            for block in self.blocks if blocks is None else blocks:
                for _, layer in block.layers:
                    sample_shape = layer.output_shape(sample_shape)
                    floats_per_sample += math.prod(sample_shape)
        except (ValueError, IndexError, TypeError):
            return 64  # a shape the layers reject: the forward will say what is wrong
        fitting = INFER_CHUNK_FLOATS // max(floats_per_sample, 1)
        return int(min(max(2 ** int(math.log2(max(fitting, 1))), 16), 1024))


def plan_of(block: readable.Block) -> Callable[[np.ndarray], np.ndarray]:
    """A block's inference steps: its plan if it is a fast block, else its own ``infer``."""
    return block.inference_plan() if isinstance(block, Block) else block.infer


def _run(plans: list[Callable[[np.ndarray], np.ndarray]], x: np.ndarray) -> np.ndarray:
    for plan in plans:
        x = plan(x)
    return x


def convert_layer(layer: Layer) -> Layer:
    """A copy of ``layer`` as its fast twin (same settings, parameters and buffers); a layer the fast
    engine runs as it is (Dense, Dropout, Flatten, GlobalAvgPool2D) comes back as a plain copy."""
    from . import TWINS  # the package imports this module

    twin_class = TWINS.get(type(layer))
    copied = copy.deepcopy(layer)
    if twin_class is None:
        return copied
    twin = twin_class.__new__(twin_class)
    twin.__dict__.update(copied.__dict__)
    twin.reset_scratch()
    return twin


def convert_block(block: readable.Block) -> Block:
    """A copy of ``block`` on the fast engine: its layers' twins, its name and frozen flag."""
    fast = Block(block.name, [(name, convert_layer(layer)) for name, layer in block.layers])
    fast.trainable = block.trainable
    return fast


def convert(network: readable.Network) -> Network:
    """A copy of ``network`` on the fast engine: the same function, weights, buffers and frozen flags.

    ``state_dict`` keys are the same, so ``fast_net.load_state_dict(net.state_dict())`` moves
    weights either way; the original network is left as it was.
    """
    return Network([convert_block(block) for block in network.blocks])
