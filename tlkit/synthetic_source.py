"""Pretraining on the spot for input shapes that have no shipped checkpoint.

Vectors of length d: a synthetic classification task whose labels come from a
random "teacher" network. Images of another size: the glyph alphabet rendered
at that size. Either way the pretraining is small (a couple of thousand
examples, a few epochs), deterministic given the seed, and cached per
(architecture, input shape, seed) for the rest of the session.
"""

from __future__ import annotations

import numpy as np

from .architectures import build_base, build_head, feature_size
from .checkpoints import pack_model
from .config import TrainingConfig
from .datasets import make_glyphs
from .nn import engine as nn_engine
from .training import Trainer, evaluate

N_CLASSES = 16
N_SAMPLES = 1536
EPOCHS = 3
_CACHE: dict[tuple, tuple[dict[str, np.ndarray], dict]] = {}


def teacher_vectors(n_features: int, n_samples: int, n_classes: int, rng: np.random.Generator):
    """Gaussian inputs labelled by a random two-layer tanh network: a task with real structure."""
    X = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    hidden = np.tanh(X @ (rng.standard_normal((n_features, 32), dtype=np.float32) / np.sqrt(n_features)))
    y = np.argmax(hidden @ rng.standard_normal((32, n_classes), dtype=np.float32), axis=1)
    return X, y.astype(np.int64)


def glyph_images(height: int, width: int, n_samples: int, n_classes: int, seed: int):
    """The glyph alphabet rendered square, then resampled (nearest) to height x width."""
    size = int(np.clip(max(height, width), 4, 64))
    X, y = make_glyphs(n_classes=n_classes, n_per_class=-(-n_samples // n_classes), image_size=size, seed=seed)
    rows = (np.arange(height) * size // height).astype(np.intp)
    cols = (np.arange(width) * size // width).astype(np.intp)
    return np.ascontiguousarray(X[:, rows][:, :, cols]), y


def pretrain_on_synthetic_source(architecture: str, input_shape: tuple[int, ...], seed: int):
    """Return ``(arrays, source)``: trained base + source head weights, and what they saw."""
    key = (architecture, input_shape, seed)
    if key not in _CACHE:
        _CACHE[key] = _pretrain(architecture, input_shape, seed)
    arrays, source = _CACHE[key]
    return {k: v.copy() for k, v in arrays.items()}, dict(source)


def _pretrain(architecture: str, input_shape: tuple[int, ...], seed: int):
    rng = np.random.default_rng(seed)
    if len(input_shape) == 1:
        X, y = teacher_vectors(input_shape[0], N_SAMPLES, N_CLASSES, rng)
        task = f"{N_CLASSES} classes of Gaussian vectors labelled by a random two-layer tanh network"
    else:
        X, y = glyph_images(*input_shape, N_SAMPLES, N_CLASSES, seed)
        task = f"{N_CLASSES} classes of the procedural glyph alphabet rendered at {input_shape[0]}x{input_shape[1]}"
        X = X[..., None]
    nn = nn_engine.layers()  # the default engine: the weights are the same function on either
    base = build_base(architecture, input_shape, rng, nn.Block.engine)
    head = build_head(feature_size(base, input_shape), N_CLASSES, rng, engine=nn.Block.engine)
    network = nn.Network(base + [head])
    config = TrainingConfig(epochs=EPOCHS, learning_rate=3e-3, batch_size=64, seed=seed)
    Trainer(network, config).fit(X, y)
    _, accuracy = evaluate(network, X, y)
    arrays = pack_model(nn.Network(base), head)
    source = {
        "kind": "synthetic",
        "task": task,
        "n_samples": int(len(X)),
        "n_classes": N_CLASSES,
        "recipe": f"Adam, learning rate 3e-3, batch 64, {EPOCHS} epochs, seed {seed}",
        "source_train_accuracy": round(float(accuracy), 4),
        "note": "no checkpoint ships for this input shape, so the model was pretrained when it was built",
    }
    return arrays, source

