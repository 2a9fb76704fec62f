"""Parameter-efficient fine-tuning: the pretrained base stays frozen, a few new weights adapt it.

Fine-tuning moves the pretrained weights themselves; with 100 examples that is tens of
thousands of numbers to fit. The parameter-efficient methods (PEFT, how large pretrained models
are adapted today) keep **every** pretrained weight frozen and train small new modules with the
head instead:

* **adapters** (``tlkit/nn/adapter.py``): a residual 1x1-convolution bottleneck after a block,
  the identity at the start (Rebuffi et al. 2017, Houlsby et al. 2019);
* **LoRA** (``tlkit/nn/lora.py``): a low-rank update ``s * A @ B`` of a block's conv or dense
  weight (Hu et al. 2021); the block's BatchNorm stays frozen (``tlkit/nn/frozen.py``);
* an **input stem** (``tlkit/nn/stem.py``): a 3x3 filter in front of the base, the identity at
  the start, that can learn to map the target's look toward the source's.

``AdapterTuner(base, num_classes, adapters="all", *, bottleneck=None, lora_rank=None,
lora_blocks="all", input_stem=False, hidden_units=None, dropout=0.0, feature_dropout=0.0,
seed=0)``. Its network is ``[stem] + base blocks (LoRA-wrapped where asked) with an adapter after
each named block + head``; the base's own blocks are frozen at construction and again at every
``train``, so training never changes a pretrained weight or a BatchNorm statistic by a single
bit (Keras semantics: frozen blocks run in inference mode). ``layout()`` lists each block with
its trainable and frozen parameter counts (``tlkit.plots.plot_adapter_layout`` draws it).
"""

from __future__ import annotations

import numpy as np

from ..argcheck import check_int
from ..config import TrainingConfig, as_config
from ..history import TrainingHistory
from ..nn import engine as nn_engine
from ..nn.adapter import Adapter
from ..nn.conv import Conv2D
from ..nn.dense import Dense
from ..nn.frozen import Frozen
from ..nn.lora import LoRA
from ..nn.network import Block, Network
from ..nn.stem import input_stem as make_input_stem
from .strategy import StrategyBase

DEFAULT_REDUCTION = 4  # bottleneck = channels // 4 (at least 2), Houlsby et al.'s order of size


def resolve_blocks(blocks, valid: list[str], name: str) -> list[str]:
    """None -> []; "all" -> every block; a name or a list of names, checked, in network order."""
    if blocks is None:
        return []
    if isinstance(blocks, str):
        blocks = valid if blocks == "all" else [blocks]
    try:
        names = list(blocks)
    except TypeError:
        raise ValueError(f"{name} must be None, 'all' or a list of block names from {valid}; got {blocks!r}") from None
    unknown = [b for b in names if b not in valid]
    if unknown:
        raise ValueError(f"{name} contains unknown block name(s) {unknown}; valid names are {valid}")
    return [b for b in valid if b in names]


def block_channels(block: Block) -> int:
    """The channels (or features) a block outputs: those of its last conv or dense layer."""
    for _, layer in reversed(block.layers):
        if isinstance(layer, Conv2D):
            return layer.out_channels
        if isinstance(layer, Dense):
            return layer.out_features
    raise ValueError(f"block {block.name!r} has no conv or dense layer to size an adapter from")


def lora_block(block: Block, rank: int, rng: np.random.Generator, engine: str) -> Block:
    """A trainable copy of ``block``'s structure: its conv/dense layers LoRA-wrapped, the layers with
    weights or statistics (BatchNorm) ``Frozen``, the others (ReLU, pooling) as they are. Every layer
    object of ``block`` is reused, never copied: the pretrained weights stay where they are."""
    layers = []
    for layer_name, layer in block.layers:
        if isinstance(layer, Dense | Conv2D):
            layer = LoRA(layer, rank, rng)
        elif layer.params or layer.buffers:
            layer = Frozen(layer)
        layers.append((layer_name, layer))
    return nn_engine.layers(engine).Block(f"{block.name}+lora", layers)


class AdapterTuner(StrategyBase):
    """Train adapters, LoRA factors or an input stem (and the head) on a frozen pretrained base."""

    name = "adapters"

    def __init__(self, base, num_classes: int, adapters="all", *, bottleneck: int | None = None,
                 lora_rank: int | None = None, lora_blocks="all", input_stem: bool = False,
                 hidden_units: int | None = None, dropout: float = 0.0, feature_dropout: float = 0.0,
                 seed: int = 0) -> None:
        super().__init__(base, num_classes, hidden_units=hidden_units, dropout=dropout,
                         feature_dropout=feature_dropout, seed=seed)
        names = self.base.get_layer_names()
        self.adapter_after = resolve_blocks(adapters, names, "adapters")
        if bottleneck is not None:
            bottleneck = check_int(bottleneck, "bottleneck", 1)
        self.bottleneck = bottleneck
        if lora_rank is not None:
            lora_rank = check_int(lora_rank, "lora_rank", 1)
        self.lora_rank = lora_rank
        self.lora_on = resolve_blocks(lora_blocks, names, "lora_blocks") if lora_rank else []
        if not isinstance(input_stem, bool):
            raise TypeError(f"input_stem must be True or False; got {input_stem!r}")
        self.base.freeze()
        engine = self.base.network.engine  # the new blocks run on the base's engine
        nn = nn_engine.layers(engine)
        rng = np.random.default_rng([self.seed, 2])  # the head keeps default_rng(seed): paired with the others
        self.stem: Block | None = None
        if input_stem:
            if len(self.input_shape) != 2:
                raise ValueError(f"input_stem needs image inputs (H, W); this base takes {self.input_shape}")
            self.stem = nn.Block("stem", [("conv", make_input_stem(1, engine=engine))])
        self.adapters: dict[str, Block] = {}
        for name in self.adapter_after:
            channels = block_channels(self.base.network[name])
            width = bottleneck or max(2, channels // DEFAULT_REDUCTION)
            self.adapters[name] = nn.Block(f"adapter_{name}", [("adapter", Adapter(channels, width, rng))])
        self.lora: dict[str, Block] = {name: lora_block(self.base.network[name], lora_rank, rng, engine)
                                       for name in self.lora_on}
        if not (self.adapters or self.lora or self.stem):
            raise ValueError("AdapterTuner needs something to train besides the head: give adapters, "
                             "lora_rank or input_stem=True (for the head alone use FeatureExtractor)")

    # -- structure ------------------------------------------------------------------------
    @property
    def network(self) -> Network:
        """``[stem] + base blocks (LoRA-wrapped where asked), each followed by its adapter + head``."""
        blocks = [self.stem] if self.stem is not None else []
        for block in self.base.network.blocks:
            blocks.append(self.lora.get(block.name, block))
            if block.name in self.adapters:
                blocks.append(self.adapters[block.name])
        return type(self.base.network)(blocks + [self.head])  # the base's engine

    def layout(self) -> list[dict]:
        """One entry per block of the network, input to output: ``{"name", "kind", "trainable",
        "frozen"}`` (parameter counts); kind is "stem", "pretrained", "lora", "adapter" or "head"."""
        kinds = {id(self.head): "head", **{id(b): "adapter" for b in self.adapters.values()},
                 **{id(b): "lora" for b in self.lora.values()}}
        if self.stem is not None:
            kinds[id(self.stem)] = "stem"
        rows = []
        for block in self.network.blocks:
            kind = kinds.get(id(block), "pretrained")
            if kind == "pretrained":
                trainable, frozen = 0, block.count_parameters()
            elif kind == "lora":  # its own parameters are A and B; the wrapped layers stay frozen
                trainable = block.count_parameters()
                frozen = self.base.network[block.name.removesuffix("+lora")].count_parameters()
            else:
                trainable, frozen = block.count_parameters(), 0
            rows.append({"name": block.name, "kind": kind, "trainable": trainable, "frozen": frozen})
        return rows

    # -- training -------------------------------------------------------------------------
    def _config(self, config) -> TrainingConfig:
        return as_config(config, TrainingConfig)

    def _train(self, X, y, X_val, y_val, config) -> TrainingHistory:
        self.base.freeze()  # frozen means frozen, even if someone unfroze a block in between
        return self._run(self.network, X, y, X_val, y_val, config)

    def __repr__(self) -> str:
        parts = []
        if self.stem is not None:
            parts.append("input stem")
        if self.adapters:
            parts.append(f"adapters after {', '.join(self.adapters)}")
        if self.lora:
            parts.append(f"LoRA rank {self.lora_rank} on {', '.join(self.lora)}")
        return (f"AdapterTuner({self.base.architecture!r}, num_classes={self.num_classes}, "
                f"{'; '.join(parts)}; {self.count_parameters(trainable_only=True):,d} trainable parameters)")

