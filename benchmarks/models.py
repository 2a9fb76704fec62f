"""The benchmarked models, built as tlkit networks (torch twins come from ``torch_models``).

* ``simple``, ``medium``, ``deep``: the workbook's bases (``tlkit.architectures``) at the
  default 8x8 grayscale input, plus a 10-class ``build_head``.
* ``cnn28``: conv16-pool-conv32-pool-dense64-dense10 on 28x28 grayscale images.
* ``mlp``: 64-128-64-10 on 64-dimensional vectors.

Every network is a list of named blocks whose last one is ``head``, so the same
object serves the full step, the head-only step and feature extraction (all
blocks but the head). They run on the fast engine unless ``engine="readable"`` is asked for.
"""

from __future__ import annotations

import numpy as np

from tlkit.architectures import build_base, build_head
from tlkit.nn import Conv2D, Dense
from tlkit.nn import engine as nn_engine
from tlkit.nn.network import Network

MODELS = ("simple", "medium", "deep", "cnn28", "mlp")
NUM_CLASSES = 10


def input_shape(model: str) -> tuple[int, ...]:
    """One sample's network input shape (NHWC without N)."""
    return {"cnn28": (28, 28, 1), "mlp": (64,)}.get(model, (8, 8, 1))


def build_network(model: str, seed: int = 0, engine: str = "fast") -> Network:
    rng = np.random.default_rng(seed)
    nn = nn_engine.layers(engine)
    if model in ("simple", "medium", "deep"):
        blocks = build_base(model, (8, 8), rng, engine)
    elif model == "cnn28":
        # ReLU after the pool: the same function (max and ReLU commute), 4x less ReLU work.
        blocks = [
            nn.Block("layer1", [("conv", nn.Conv2D(1, 16, 3, "same", rng)), ("pool", nn.MaxPool2D(2)),
                                ("relu", nn.ReLU())]),
            nn.Block("layer2", [("conv", nn.Conv2D(16, 32, 3, "same", rng)), ("pool", nn.MaxPool2D(2)),
                                ("relu", nn.ReLU()), ("flatten", nn.Flatten())]),
            nn.Block("layer3", [("dense", nn.Dense(7 * 7 * 32, 64, rng)), ("relu", nn.ReLU())]),
        ]
    elif model == "mlp":
        blocks = [
            nn.Block("layer1", [("dense", nn.Dense(64, 128, rng)), ("relu", nn.ReLU())]),
            nn.Block("layer2", [("dense", nn.Dense(128, 64, rng)), ("relu", nn.ReLU())]),
        ]
    else:
        raise ValueError(f"unknown model {model!r}; choose from {MODELS}")
    shape = input_shape(model)
    for block in blocks:
        shape = block.output_shape(shape)
    blocks.append(build_head(int(np.prod(shape)), NUM_CLASSES, rng, engine=engine))
    return nn.Network(blocks)


def make_batch(model: str, batch: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """float32 inputs with flat regions (ties for max-pool, as in the digits) and int64 labels."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch, *input_shape(model)), dtype=np.float32)
    if len(input_shape(model)) == 3:
        x[x < 0.3] = 0.0  # a dark background: many exact ties
    y = rng.integers(0, NUM_CLASSES, batch)
    return x, y


def gemm_flops(network: Network, batch: int, model: str) -> dict[str, float]:
    """Multiply-add FLOPs (2 per MAC) of the convolutions and dense layers.

    ``forward``: all of them; ``full_step``: forward + weight gradients + input gradients
    (none for the first layer); ``head_step``: base forward in inference + head forward and
    weight gradients.
    """
    shape = input_shape(model)
    fwd = []
    for block in network.blocks:
        for _, layer in block.layers:
            if isinstance(layer, Conv2D):
                ho, wo, _ = layer.output_shape(shape)
                kh, kw = layer.kernel_size
                f = 2.0 * batch * ho * wo * kh * kw * layer.in_channels * layer.out_channels
            elif isinstance(layer, Dense):
                f = 2.0 * batch * layer.in_features * layer.out_features
            else:
                f = 0.0
            fwd.append((block.name, f))
            shape = layer.output_shape(shape)
    total_fwd = sum(f for _, f in fwd)
    weighted = [f for _, f in fwd if f]
    full = total_fwd + sum(weighted) + sum(weighted[1:])
    head_fwd = sum(f for name, f in fwd if name == "head")
    head = total_fwd + head_fwd + _head_dx(fwd)
    base_fwd = sum(f for name, f in fwd if name != "head")
    return {"full_step": full, "head_step": head, "extract": base_fwd, "forward": total_fwd}


def _head_dx(fwd: list[tuple[str, float]]) -> float:
    """Input-gradient FLOPs inside the head: every weighted head layer but the first."""
    head = [f for name, f in fwd if name == "head" and f]
    return sum(head[1:])
