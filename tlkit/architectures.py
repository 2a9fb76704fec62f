"""The three model sizes of the course: simple (2 blocks), medium (4) and deep (8).

Image inputs get convolutional blocks (conv 3x3, BatchNorm, ReLU, sometimes a
2x2 max-pool); vector inputs get dense blocks (dense, BatchNorm, ReLU). The last
block ends with a flatten, so the features are a vector whose entries are
outputs of a ReLU (or of a max over them): never negative.

``engine`` names the engine that runs the blocks (``tlkit.nn.engine``): ``"readable"``
builds them from ``tlkit.nn``, ``"fast"`` from ``tlkit.nn.fast``; None takes the default.
"""

from __future__ import annotations

import numpy as np

from .nn import engine as nn_engine
from .nn.network import Block

ARCHITECTURES = ("simple", "medium", "deep")

# Each image block: (output channels, pool after it?).
IMAGE_PLANS: dict[str, list[tuple[int, bool]]] = {
    "simple": [(16, True), (32, True)],
    "medium": [(16, False), (32, True), (64, False), (64, True)],
    "deep": [(16, False), (16, True), (32, False), (32, True),
             (64, False), (64, False), (64, False), (64, False)],
}
# Each vector block: its width.
VECTOR_PLANS: dict[str, list[int]] = {
    "simple": [64, 64],
    "medium": [128, 128, 64, 64],
    "deep": [64] * 8,
}


def check_architecture(architecture) -> str:
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"architecture must be one of {', '.join(map(repr, ARCHITECTURES))}; got {architecture!r}"
        )
    return architecture


def block_names(architecture: str) -> list[str]:
    """The block names ``layer1 ... layerN`` of an architecture (the same for images and vectors).

    The public API calls them layers (``get_layer_names()``); each is a block of the engine's
    layers (``tlkit.nn.network.Block``).
    """
    return [f"layer{i}" for i in range(1, len(IMAGE_PLANS[check_architecture(architecture)]) + 1)]


def image_blocks(architecture: str, height: int, width: int, rng: np.random.Generator,
                 engine: str | None = None) -> list[Block]:
    """Conv blocks for (height, width) grayscale images; a pool is skipped once the map is 1 pixel."""
    nn = nn_engine.layers(engine)
    plan = IMAGE_PLANS[architecture]
    blocks, channels = [], 1
    for name, (out_channels, pool) in zip(block_names(architecture), plan, strict=True):
        layers = [
            ("conv", nn.Conv2D(channels, out_channels, kernel_size=3, padding="same", rng=rng)),
            ("bn", nn.BatchNorm(out_channels)),
            ("relu", nn.ReLU()),
        ]
        if pool and height >= 2 and width >= 2:
            layers.append(("pool", nn.MaxPool2D(2)))
            height, width = height // 2, width // 2
        if len(blocks) == len(plan) - 1:
            layers.append(("flatten", nn.Flatten()))
        blocks.append(nn.Block(name, layers))
        channels = out_channels
    return blocks


def vector_blocks(architecture: str, n_features: int, rng: np.random.Generator,
                  engine: str | None = None) -> list[Block]:
    nn = nn_engine.layers(engine)
    blocks, width_in = [], n_features
    for name, width in zip(block_names(architecture), VECTOR_PLANS[architecture], strict=True):
        layers = [
            ("dense", nn.Dense(width_in, width, rng=rng)),
            ("bn", nn.BatchNorm(width)),
            ("relu", nn.ReLU()),
        ]
        blocks.append(nn.Block(name, layers))
        width_in = width
    return blocks


def build_base(architecture: str, input_shape: tuple[int, ...], rng: np.random.Generator,
               engine: str | None = None) -> list[Block]:
    """The pretrainable base for ``input_shape``: (d,) vectors or (H, W) images, on ``engine``."""
    check_architecture(architecture)
    if len(input_shape) == 1:
        return vector_blocks(architecture, input_shape[0], rng, engine)
    return image_blocks(architecture, input_shape[0], input_shape[1], rng, engine)


def build_network(architecture: str, input_shape: tuple[int, ...], rng: np.random.Generator,
                  engine: str | None = None):
    """``build_base``'s blocks in a network of the same engine (``tlkit.nn.Network`` or ``tlkit.nn.fast.Network``)."""
    return nn_engine.layers(engine).Network(build_base(architecture, input_shape, rng, engine))


def network_sample_shape(input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """One sample as the network sees it: (d,) vectors, (H, W, 1) images (NHWC, one channel)."""
    return tuple(input_shape) + (1,) if len(input_shape) == 2 else tuple(input_shape)


def feature_size(blocks: list[Block], input_shape: tuple[int, ...]) -> int:
    """Length of the feature vector the blocks produce for one input of ``input_shape``."""
    shape = network_sample_shape(input_shape)
    for block in blocks:
        shape = block.output_shape(shape)
    return int(np.prod(shape))


def build_head(
    in_features: int,
    num_classes: int,
    rng: np.random.Generator,
    hidden_units: int | None = None,
    dropout: float = 0.0,
    feature_dropout: float = 0.0,
    engine: str | None = None,
) -> Block:
    """The new classifier: softmax regression, or one hidden ReLU layer.

    ``dropout`` acts on the hidden layer's output (it needs ``hidden_units``: a ValueError
    otherwise); ``feature_dropout`` on the features coming in, only when asked for.
    """
    if dropout > 0 and not hidden_units:
        raise ValueError(
            f"dropout={dropout} applies to the head's hidden layer, and there is none: give "
            "hidden_units (e.g. hidden_units=64), or feature_dropout for dropout on the features"
        )
    nn = nn_engine.layers(engine)
    layers = []
    if feature_dropout > 0:
        layers.append(("dropout_in", nn.Dropout(feature_dropout, rng=rng)))
    if hidden_units:
        layers += [("hidden", nn.Dense(in_features, hidden_units, rng=rng)), ("relu", nn.ReLU())]
        if dropout > 0:
            layers.append(("dropout", nn.Dropout(dropout, rng=rng)))
        in_features = hidden_units
    layers.append(("fc", nn.Dense(in_features, num_classes, rng=rng)))
    return nn.Block("head", layers)
