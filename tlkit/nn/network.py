"""A network of named blocks: the unit of freezing and of per-layer learning rates.

``Network`` is a stack of :class:`Block` objects (``layer1 ... layerN`` for a
pretrained base, then ``head``). A block is either trainable or frozen, with
the Keras semantics:

* a frozen block gets no weight gradient and no update;
* a frozen block runs in inference mode even while the network trains, so its
  BatchNorm uses (and never changes) its running statistics;
* backward stops at the lowest trainable block: nothing below it is computed.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator

import numpy as np

from . import engine
from .fast.inference import InferencePlan, execution_order
from .layer import Layer
from .optimizers import ParamGroup

# Layer outputs per chunk in inference (Network.infer): small enough that a chunk's activations
# stay in the CPU cache from one layer to the next (the timings: benchmarks/README.md).
INFER_CHUNK_FLOATS = 1 << 19


def _run_infer(layers: list[Layer], x: np.ndarray) -> np.ndarray:
    for layer in layers:
        x = layer.infer(x)
    return x


class Block:
    """A named, freezable sequence of layers, e.g. ``layer3`` = conv, batchnorm, relu, pool."""

    def __init__(self, name: str, layers: list[tuple[str, Layer]]) -> None:
        self.name = name
        self.layers = list(layers)
        self.trainable = True
        self._ran: list[Layer] = []  # the layers in the order the last forward ran them

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        layer_training = training and self.trainable
        layers = [layer for _, layer in self.layers]
        self._ran = execution_order(layers) if engine.name() == "fast" else layers
        for layer in self._ran:
            x = layer.forward(x, layer_training)
        return x

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Inference-mode output when no backward will follow (see ``inference_plan``)."""
        return self.inference_plan()(x)

    def inference_plan(self) -> Callable[[np.ndarray], np.ndarray]:
        """The block's inference steps with the current weights: each layer's ``infer`` in order on
        the readable engine; on the fast engine, BatchNorms folded and ReLUs after the pools
        (tlkit/nn/fast/inference.py)."""
        self._ran = []  # what the layers keep will belong to an older forward: no backward from here
        layers = [layer for _, layer in self.layers]
        return InferencePlan(layers) if engine.name() == "fast" else functools.partial(_run_infer, layers)

    def backward(self, grad: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        ran = self._ran
        if not ran:
            raise RuntimeError(f"block {self.name!r}: backward needs a forward first (its last pass was inference)")
        for index in range(len(ran) - 1, -1, -1):
            layer = ran[index]
            grad = layer.backward(
                grad,
                need_input_grad=need_input_grad or index > 0,
                need_param_grads=self.trainable,
            )
        return grad

    def named_arrays(self) -> Iterator[tuple[str, np.ndarray]]:
        """Parameters and buffers as ``("<layer>.<name>", array)`` pairs."""
        for layer_name, layer in self.layers:
            for key, value in {**layer.params, **layer.buffers}.items():
                yield f"{layer_name}.{key}", value

    def param_group(self, lr_multiplier: float) -> ParamGroup:
        params, grads = {}, {}
        for layer_name, layer in self.layers:
            for key, value in layer.params.items():
                params[f"{layer_name}.{key}"] = value
                grads[f"{layer_name}.{key}"] = layer.grads[key]
        return ParamGroup(self.name, params, grads, lr_multiplier)

    def count_parameters(self) -> int:
        return int(sum(p.size for _, layer in self.layers for p in layer.params.values()))

    def output_shape(self, sample_shape: tuple[int, ...]) -> tuple[int, ...]:
        for _, layer in self.layers:
            sample_shape = layer.output_shape(sample_shape)
        return sample_shape

    def __repr__(self) -> str:
        state = "trainable" if self.trainable else "frozen"
        inner = ", ".join(type(layer).__name__ for _, layer in self.layers)
        return f"Block({self.name!r}, [{inner}], {state})"


class Network:
    """Blocks applied in order; ``backward`` stops at the lowest trainable block."""

    def __init__(self, blocks: list[Block]) -> None:
        names = [block.name for block in blocks]
        if len(set(names)) != len(names):
            raise ValueError(f"block names must be unique; got {names}")
        self.blocks = list(blocks)

    def __getitem__(self, name: str) -> Block:
        for block in self.blocks:
            if block.name == name:
                return block
        raise KeyError(name)

    @property
    def block_names(self) -> list[str]:
        return [block.name for block in self.blocks]

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Output of every block; in training, the frozen blocks below the lowest trainable one
        take the inference fast path, since backward never reaches them."""
        lowest = self.lowest_trainable_index() if training else 0
        frozen = len(self.blocks) if lowest is None else lowest
        if frozen:
            x = self._infer_blocks(self.blocks[:frozen], x)
        for block in self.blocks[frozen:]:
            x = block.forward(x, training)
        return x

    def infer(self, x: np.ndarray, chunk_size: int | None = None) -> np.ndarray:
        """Inference-mode output with nothing kept for backward: prediction and features.

        The batch goes through the whole network one chunk at a time: a chunk's activations
        and im2col matrices stay in the CPU cache from one layer to the next, where a batch of
        256 would go out to memory at every layer (benchmarks/README.md). ``chunk_size``
        defaults to what keeps about 2 MB of layer outputs per chunk.
        """
        return self._infer_blocks(self.blocks, x, chunk_size)

    def _infer_blocks(self, blocks: list[Block], x: np.ndarray, chunk_size: int | None = None) -> np.ndarray:
        """``blocks`` in inference mode, chunk by chunk (``infer``, and the frozen blocks of a training forward)."""
        chunk_size = chunk_size or self.inference_chunk_size(x.shape[1:], blocks)
        plans = [block.inference_plan() for block in blocks]  # BatchNorms folded once per call
        if len(x) <= chunk_size:
            return self._infer_chunk(plans, x)
        first = self._infer_chunk(plans, x[:chunk_size])
        out = np.empty((len(x), *first.shape[1:]), dtype=first.dtype)
        out[:chunk_size] = first
        for start in range(chunk_size, len(x), chunk_size):
            out[start:start + chunk_size] = self._infer_chunk(plans, x[start:start + chunk_size])
        return out

    def inference_chunk_size(self, sample_shape: tuple[int, ...], blocks: list[Block] | None = None) -> int:
        """A power of two (16 to 1024) of samples whose layer outputs (in ``blocks``, by default all)
        add up to ~512K floats."""
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

    @staticmethod
    def _infer_chunk(plans: list[Callable[[np.ndarray], np.ndarray]], x: np.ndarray) -> np.ndarray:
        for plan in plans:
            x = plan(x)
        return x

    def lowest_trainable_index(self) -> int | None:
        for index, block in enumerate(self.blocks):
            if block.trainable:
                return index
        return None

    def backward(self, grad: np.ndarray) -> None:
        """Backpropagate from the output down to the lowest trainable block, and no further."""
        lowest = self.lowest_trainable_index()
        if lowest is None:
            return
        for index in range(len(self.blocks) - 1, lowest - 1, -1):
            grad = self.blocks[index].backward(grad, need_input_grad=index > lowest)

    def param_groups(self, multipliers: dict[str, float] | None = None) -> list[ParamGroup]:
        """One optimizer group per trainable block, with its learning-rate multiplier."""
        multipliers = multipliers or {}
        return [
            block.param_group(multipliers.get(block.name, 1.0))
            for block in self.blocks
            if block.trainable
        ]

    def count_parameters(self, trainable_only: bool = False) -> int:
        return sum(
            block.count_parameters()
            for block in self.blocks
            if block.trainable or not trainable_only
        )

    def state_dict(self) -> dict[str, np.ndarray]:
        return {
            f"{block.name}.{key}": value.copy()
            for block in self.blocks
            for key, value in block.named_arrays()
        }

    def load_state_dict(self, state: dict[str, np.ndarray], strict: bool = True) -> None:
        own = {f"{block.name}.{key}": value for block in self.blocks for key, value in block.named_arrays()}
        if strict:
            missing = sorted(set(own) - set(state))
            unexpected = sorted(set(state) - set(own))
            if missing or unexpected:
                raise ValueError(
                    f"state dict does not match the network: missing keys {missing[:5]}, "
                    f"unexpected keys {unexpected[:5]}"
                )
        # Every entry is checked before any is assigned, so a failed load changes nothing.
        loaded = {}
        for key, target in own.items():
            if key not in state:
                continue
            value = np.asarray(state[key])
            if value.shape != target.shape:
                raise ValueError(
                    f"state dict entry {key!r} has shape {value.shape}; the network expects {target.shape}"
                )
            if not np.issubdtype(value.dtype, np.number) or np.iscomplexobj(value):
                raise ValueError(f"state dict entry {key!r} must hold real numbers; got dtype {value.dtype}")
            if not np.all(np.isfinite(value)):
                raise ValueError(f"state dict entry {key!r} holds NaN or infinite values; all must be finite")
            loaded[key] = value
        for key, value in loaded.items():
            own[key][...] = value  # in place: optimizers and views keep pointing at the same arrays
