"""``PretrainedModel``: a base network whose weights were learned on a source task."""

from __future__ import annotations

import copy
import numbers
from pathlib import Path

import numpy as np

from . import checkpoints
from .architectures import block_names, build_head, build_network, check_architecture, feature_size
from .argcheck import (
    as_batch,
    as_labels,
    check_batch_size,
    check_finite_output,
    check_int,
    check_layer_name,
    resolve_layer_names,
    shape_text,
)
from .nn.network import Block, Network
from .synthetic_source import pretrain_on_synthetic_source
from .training import predict_logits

DEFAULT_INPUT_SHAPE = (8, 8)


def check_base(base, name: str = "base") -> PretrainedModel:
    """``base`` if it is a PretrainedModel (anything with ``network``, ``to_network_input`` and
    ``get_layer_names``), else a TypeError naming ``name``."""
    if not (hasattr(base, "network") and hasattr(base, "to_network_input") and hasattr(base, "get_layer_names")):
        raise TypeError(
            f"{name} must be a tlkit.PretrainedModel (e.g. PretrainedModel('medium')); got {type(base).__name__}"
        )
    return base


def base_of(model, name: str = "model") -> PretrainedModel:
    """The PretrainedModel behind ``model``: the model itself, or a strategy's ``base``
    (FeatureExtractor, FineTuner, FromScratch); a TypeError naming ``name`` otherwise."""
    base = model if hasattr(model, "to_network_input") else getattr(model, "base", model)
    if not (hasattr(base, "network") and hasattr(base, "to_network_input") and hasattr(base, "get_layer_names")):
        raise TypeError(
            f"{name} must be a tlkit.PretrainedModel or a strategy built on one (FeatureExtractor, "
            f"FineTuner, FromScratch); got {type(model).__name__}"
        )
    return base


def normalise_input_shape(input_shape) -> tuple[int, ...]:
    """None -> the shipped (8, 8) images; d or (d,) -> vectors; (H, W) -> grayscale images."""
    if input_shape is None:
        return DEFAULT_INPUT_SHAPE
    if isinstance(input_shape, numbers.Integral) and not isinstance(input_shape, bool):
        input_shape = (int(input_shape),)
    valid = "None, an int d or (d,) for vectors, or (H, W) for grayscale images"
    try:
        shape = tuple(input_shape)
    except TypeError:
        raise ValueError(f"input_shape must be {valid}; got {input_shape!r}") from None
    if len(shape) not in (1, 2) or not all(
        isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1 for s in shape
    ):
        raise ValueError(f"input_shape must be {valid}, with positive sizes; got {input_shape!r}")
    return tuple(int(s) for s in shape)


def _pretrained_arrays(architecture: str, input_shape: tuple[int, ...], seed: int):
    """``(arrays, source, origin)`` a new model starts from: the shipped checkpoint for its
    shape, else weights pretrained now on a synthetic source task (cached)."""
    entry = checkpoints.shipped_entry(architecture, input_shape)
    if entry is None:
        arrays, source = pretrain_on_synthetic_source(architecture, input_shape, seed)
        return arrays, source, "synthetic pretraining"
    path = checkpoints.WEIGHTS_DIR / entry["file"]
    arrays = checkpoints.load_arrays(path, expected_sha256=entry["sha256"])
    source = {"kind": "shipped checkpoint", "file": entry["file"], **entry["source"],
              "source_test_accuracy": entry["source_test_accuracy"]}
    return arrays, source, path


def _load_checkpoint(network: Network, input_shape: tuple[int, ...], arrays: dict[str, np.ndarray],
                     origin: object) -> Block | None:
    """Load a checkpoint's base weights into ``network``; return its source head (or None)."""
    base, head = checkpoints.unpack_model(arrays)
    try:
        network.load_state_dict(base)
        if not head:
            return None
        n_classes = np.shape(head.get("head.fc.b"))[0]
        source_head = build_head(feature_size(network.blocks, input_shape), n_classes, np.random.default_rng(0),
                                 engine=network.engine)
        Network([source_head]).load_state_dict(head)
        return source_head
    except (ValueError, TypeError, IndexError) as exc:
        raise checkpoints.CheckpointError(f"checkpoint {origin} does not fit this model: {exc}") from exc


class PretrainedModel:
    """A pretrained base of named blocks ``layer1 ... layerN`` (2, 4 or 8 of them).

    ``PretrainedModel("medium")`` loads the shipped checkpoint for 8x8 images,
    trained on a procedural alphabet of 100 glyph classes (see ``m.source``).
    Any other ``input_shape`` is pretrained here and now on a synthetic source
    task generated for that shape (deterministic given ``seed``, and cached).
    """

    def __init__(self, architecture: str = "medium", input_shape=None, *, seed: int = 0) -> None:
        architecture = check_architecture(architecture)
        input_shape = normalise_input_shape(input_shape)
        seed = check_int(seed, "seed", 0)
        arrays, source, origin = _pretrained_arrays(architecture, input_shape, seed)
        self._set_parts(architecture, input_shape, source, seed=seed, arrays=arrays, origin=origin)

    # -- construction: every model (new, loaded, copied, random) goes through _set_parts ----
    @classmethod
    def _from_parts(cls, architecture: str, input_shape, source: dict, **parts) -> PretrainedModel:
        """A model built from its parts, without ``__init__``'s pretraining (see :meth:`_set_parts`).

        How :meth:`load`, :meth:`copy` and ``tlkit.strategies.random_base`` build one.
        """
        model = cls.__new__(cls)
        model._set_parts(architecture, input_shape, source, **parts)
        return model

    def _set_parts(self, architecture: str, input_shape, source: dict, *, seed: int = 0,
                   init_seed=None, network: Network | None = None, source_head: Block | None = None,
                   arrays: dict[str, np.ndarray] | None = None, origin: object = "checkpoint",
                   engine: str | None = None) -> None:
        """The one place a model's state is set, so each way of building one keeps the invariants.

        ``network`` is used as given (a copy keeps its frozen flags); without one a fresh,
        all-trainable base is built on ``engine`` (None: ``tlkit.nn.engine``'s default) from
        ``np.random.default_rng(init_seed)`` (``seed`` if None). ``arrays`` (a checkpoint's base
        and optional source head, read from ``origin``) are then loaded into it. Afterwards: the
        blocks are ``layer1 ... layerN`` for ``architecture``, the source head (if any) is frozen,
        ``source`` is an own dict with a ``"kind"``, and the model belongs to no strategy.
        """
        architecture = check_architecture(architecture)
        input_shape = normalise_input_shape(input_shape)
        seed = check_int(seed, "seed", 0)
        if not isinstance(source, dict) or "kind" not in source:
            raise ValueError(f"source must be a dict with a 'kind' saying where the weights came from; got {source!r}")
        if network is None:
            rng = np.random.default_rng(seed if init_seed is None else init_seed)
            network = build_network(architecture, input_shape, rng, engine)
        expected = block_names(architecture)
        if network.block_names != expected:
            raise ValueError(f"a {architecture!r} base has blocks {expected}; got {network.block_names}")
        if arrays is not None:
            source_head = _load_checkpoint(network, input_shape, arrays, origin)
        if source_head is not None:
            source_head.trainable = False
        self.architecture, self.input_shape, self.seed = architecture, input_shape, seed
        self.network = network
        self.source_head = source_head
        self.source = copy.deepcopy(source)

    # -- structure ----------------------------------------------------------------------
    @property
    def blocks(self) -> list[Block]:
        return self.network.blocks

    @property
    def engine(self) -> str:
        """The engine the model runs on: ``"readable"`` (the layers of ``tlkit/nn/*.py``) or ``"fast"``."""
        return self.network.engine

    def get_layer_names(self) -> list[str]:
        return self.network.block_names

    def get_num_layers(self) -> int:
        return len(self.network.blocks)

    def get_feature_size(self) -> int:
        return feature_size(self.network.blocks, self.input_shape)

    def count_parameters(self, trainable_only: bool = False) -> int:
        return self.network.count_parameters(trainable_only)

    def layer_parameter_counts(self) -> dict[str, int]:
        return {block.name: block.count_parameters() for block in self.network.blocks}

    def to_network_input(self, x, name: str = "x") -> tuple[np.ndarray, bool]:
        """Validate ``x`` (one sample or a batch) and add the channel axis images need."""
        batch, single = as_batch(x, self.input_shape, name)
        if len(self.input_shape) == 2:
            batch = batch[..., None]
        return batch, single

    # -- features -------------------------------------------------------------------------
    def extract_features(self, x, batch_size: int = 256, layer: str | None = None) -> np.ndarray:
        """Features of the last block (or of ``layer``), in inference mode, flattened.

        One sample gives (F,), a batch (N, F). ``layer="layer2"`` stops after that block:
        how the notebooks probe what early and late blocks know. ``batch_size`` (>= 1)
        bounds the samples per forward pass. Inputs so large that the network overflows
        float32 are refused (ValueError naming ``x``) rather than returning inf/NaN.
        """
        batch_size = check_batch_size(batch_size)
        names = self.get_layer_names()
        if layer is not None:
            check_layer_name(layer, names, "layer")
        batch, single = self.to_network_input(x)
        if layer is None:
            features = self.features_of_batch(batch, batch_size)
        else:
            features = check_finite_output(predict_logits(self.network.upto(layer), batch, batch_size), batch)
            features = features.reshape(len(batch), -1)
        return features[0] if single else features

    def source_accuracy(self, X, y) -> float:
        """Accuracy on the source task of the base (as it is now) with its source classifier.

        Fine-tuning changes the base; this measures how much of the source task survives
        (catastrophic forgetting). Use ``studies.pretrain.source_data`` for the source test split.
        """
        if self.source_head is None:
            raise ValueError("this model has no source classifier (source_head); it was loaded without one")
        batch, _ = self.to_network_input(X, "X")
        n_classes = self.source_head.layers[-1][1].params["b"].shape[0]
        labels = as_labels(y, len(batch), n_classes, "y")
        logits = predict_logits(self.network.extended(self.source_head), batch)
        check_finite_output(logits, batch, "X", "logits")
        return float(np.mean(np.argmax(logits, axis=1) == labels))

    def features_of_batch(self, batch: np.ndarray, batch_size: int = 256, name: str = "x") -> np.ndarray:
        """Features of an already validated network input (N, ...), computed in batches.

        Features that overflow float32 are refused (ValueError naming ``name``)."""
        features = predict_logits(self.network, batch, check_batch_size(batch_size))
        return check_finite_output(features, batch, name)

    # -- freezing -------------------------------------------------------------------------
    def freeze(self, layer_names=None) -> None:
        """Freeze every block (None) or the named ones: no gradient, no update, BatchNorm in
        inference mode. An unknown name warns, naming the valid ones, and changes nothing;
        a name that is not a str is a TypeError."""
        for name in resolve_layer_names(layer_names, self.get_layer_names(), "freeze"):
            self.network[name].trainable = False

    def unfreeze(self, layer_names=None) -> None:
        """Make every block (None) or the named ones trainable again (names as in ``freeze``)."""
        for name in resolve_layer_names(layer_names, self.get_layer_names(), "unfreeze"):
            self.network[name].trainable = True

    def is_frozen(self, name: str) -> bool:
        """Whether block ``name`` is frozen; an unknown name is False, a non-str a TypeError."""
        check_layer_name(name, None, "name")
        if name not in self.get_layer_names():
            return False
        return not self.network[name].trainable

    def frozen_layers(self) -> list[str]:
        return [b.name for b in self.network.blocks if not b.trainable]

    # -- state ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, keyed ``"layer1.conv.W"``, ..."""
        return self.network.state_dict()

    def load_state_dict(self, state: dict[str, np.ndarray], strict: bool = True) -> None:
        """Load parameters and buffers (keys as in :meth:`state_dict`), all or nothing.

        Every entry is checked first (keys, shapes, dtypes, finite values, ``running_var >= 0``:
        :func:`tlkit.nn.state.check_state_dict`); only then is anything assigned, so a
        failed load leaves the model as it was. ``strict=False`` loads the matching keys only.
        """
        self.network.load_state_dict(state, strict)

    def save(self, path) -> Path:
        """Save the base (and the source head) to ``path`` (.npz), written atomically."""
        arrays = checkpoints.pack_model(self.network, self.source_head)
        arrays["__meta__.architecture"] = np.array(self.architecture)
        arrays["__meta__.input_shape"] = np.array(self.input_shape, dtype=np.int64)
        return checkpoints.save_arrays(path, arrays)

    @classmethod
    def load(cls, path) -> PretrainedModel:
        """A model saved with :meth:`save`."""
        arrays = checkpoints.load_arrays(path)
        try:
            architecture = str(arrays.pop("__meta__.architecture"))
            input_shape = tuple(int(s) for s in arrays.pop("__meta__.input_shape"))
        except KeyError:
            raise checkpoints.CheckpointError(
                f"checkpoint file {path} was not written by PretrainedModel.save (no metadata)"
            ) from None
        try:
            architecture = check_architecture(architecture)
            input_shape = normalise_input_shape(input_shape)
        except ValueError as exc:
            raise checkpoints.CheckpointError(f"checkpoint file {path} has bad metadata: {exc}") from None
        return cls._from_parts(architecture, input_shape, {"kind": "loaded from file", "file": str(path)},
                               arrays=arrays, origin=path)

    def copy(self) -> PretrainedModel:
        """An independent deep copy (weights, frozen flags and all), owned by no strategy yet."""
        return self._from_parts(self.architecture, self.input_shape, self.source, seed=self.seed,
                                network=copy.deepcopy(self.network),
                                source_head=copy.deepcopy(self.source_head))

    # -- display --------------------------------------------------------------------------
    def summary(self) -> str:
        lines = [f"PretrainedModel({self.architecture!r}, input_shape={shape_text(self.input_shape)})"]
        for block in self.network.blocks:
            state = "frozen" if not block.trainable else "trainable"
            kinds = ", ".join(type(layer).__name__ for _, layer in block.layers)
            lines.append(f"  {block.name:<8} {block.count_parameters():>8,d} params  {state:<9}  {kinds}")
        lines.append(f"  features: {self.get_feature_size()}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"PretrainedModel({self.architecture!r}, input_shape={shape_text(self.input_shape)}, "
                f"layers={self.get_num_layers()}, features={self.get_feature_size()})")
