"""A network of named blocks: the unit of freezing and of per-layer learning rates.

``Network`` is a stack of :class:`Block` objects (``layer1 ... layerN`` for a
pretrained base, then ``head``). The public API calls these blocks "layers"
(``get_layer_names()``, ``freeze(["layer2"])``); inside the engine a block is a named
sequence of layers (conv, batchnorm, relu, ...), listed in ``Block.layers``. A block is
either trainable or frozen, with the Keras semantics:

* a frozen block gets no weight gradient and no update;
* a frozen block runs in inference mode even while the network trains, so its
  BatchNorm uses (and never changes) its running statistics;
* backward stops at the lowest trainable block: nothing below it is computed.

This is the readable engine; ``tlkit/nn/fast/network.py`` runs the same blocks faster.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .layer import Layer
from .optimizers import ParamGroup
from .state import check_state_dict


class Block:
    """A named, freezable sequence of layers, e.g. ``layer3`` = conv, batchnorm, relu, pool."""

    engine = "readable"

    def __init__(self, name: str, layers: list[tuple[str, Layer]]) -> None:
        self.name = name
        self.layers = list(layers)
        self.trainable = True
        self._ran: list[Layer] = []  # the layers in the order the last forward ran them

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        """Every layer in order; in training mode only if the block is trainable (else inference mode)."""
        layer_training = training and self.trainable
        self._ran = [layer for _, layer in self.layers]
        for layer in self._ran:
            x = layer.forward(x, layer_training)
        return x

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Inference-mode output when no backward will follow (prediction, features, frozen blocks
        below every trainable one): each layer's ``infer``, nothing kept for a backward."""
        self._ran = []  # what the layers keep will belong to an older forward: no backward from here
        for _, layer in self.layers:
            x = layer.infer(x)
        return x

    def backward(self, grad: np.ndarray, need_input_grad: bool) -> np.ndarray | None:
        """The layers of the last forward in reverse order; parameter gradients only if trainable."""
        ran = self._ran
        if not ran:
            raise RuntimeError(f"block {self.name!r}: backward needs a forward first (its last pass was inference)")
        for index in range(len(ran) - 1, -1, -1):
            grad = ran[index].backward(
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

    engine = "readable"

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

    def extended(self, *blocks: Block) -> Network:
        """A network of the same kind (same engine) running these blocks, then ``blocks``:
        the same block objects, so freezing or training one changes it in both."""
        return type(self)(self.blocks + list(blocks))

    def upto(self, name: str) -> Network:
        """A network of the same kind running the blocks up to and including block ``name``."""
        return type(self)(self.blocks[: self.block_names.index(name) + 1])

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Output of every block. In training, the frozen blocks below the lowest trainable one run
        in inference mode (``Block.infer``): backward never reaches them, so they keep nothing."""
        below = self.frozen_below(training)
        for index, block in enumerate(self.blocks):
            x = block.infer(x) if index < below else block.forward(x, training)
        return x

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Inference-mode output with nothing kept for backward: prediction and features."""
        for block in self.blocks:
            x = block.infer(x)
        return x

    def frozen_below(self, training: bool) -> int:
        """How many blocks a forward may run in inference mode: in training, those below the lowest
        trainable block (all of them if none trains); outside training, none."""
        if not training:
            return 0
        lowest = self.lowest_trainable_index()
        return len(self.blocks) if lowest is None else lowest

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

    def named_arrays(self) -> dict[str, np.ndarray]:
        """Every parameter and buffer by its state-dict key ``"<block>.<layer>.<name>"`` (no copies)."""
        return {f"{block.name}.{key}": value for block in self.blocks for key, value in block.named_arrays()}

    def state_dict(self) -> dict[str, np.ndarray]:
        return {key: value.copy() for key, value in self.named_arrays().items()}

    def load_state_dict(self, state: dict[str, np.ndarray], strict: bool = True) -> None:
        """Load parameters and buffers, all or nothing: every entry is checked first
        (:func:`tlkit.nn.state.check_state_dict`), so a failed load changes nothing."""
        own = self.named_arrays()
        for key, value in check_state_dict(state, self, strict).items():
            own[key][...] = value  # in place: optimizers and views keep pointing at the same arrays
