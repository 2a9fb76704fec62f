"""The from-scratch baseline: the same architecture, random weights, everything trains.

Transfer learning is only worth its complexity if it beats this. With little data a
network trained from scratch has to learn generic features and the task at once, from
the few examples there are; with a lot of data it catches up, and on a very different
task it can win (negative transfer).
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np

from ..architectures import build_base, check_architecture
from ..config import TrainingConfig, as_config
from ..history import TrainingHistory
from ..nn.network import Network
from ..pretrained import PretrainedModel, normalise_input_shape
from ..validation import check_int
from .classifier import StrategyBase


def random_base(architecture: str = "medium", input_shape=None, seed: int = 0) -> PretrainedModel:
    """A model with the blocks of ``PretrainedModel(architecture, input_shape)``, randomly initialised.

    Nothing is pretrained (``model.source["kind"] == "random initialisation"``).
    """
    model = PretrainedModel.__new__(PretrainedModel)
    model.architecture = check_architecture(architecture)
    model.input_shape = normalise_input_shape(input_shape)
    model.seed = check_int(seed, "seed", 0)
    rng = np.random.default_rng([model.seed, 1])
    model.network = Network(build_base(model.architecture, model.input_shape, rng))
    model.source_head = None
    model.source = {"kind": "random initialisation", "note": "no pretraining: the baseline"}
    return model


class FromScratch(StrategyBase):
    """Train ``architecture`` for ``input_shape`` from a random start (every block trains).

    Same API as the transfer strategies: ``train``, ``predict``, ``predict_proba``, ``score``.
    Every block starts trainable; freezing one (``model.base.freeze(["layer1"])``) keeps
    its *random* weights fixed, the "random features" experiment.
    BatchNorm trains normally (batch statistics, updated running statistics): a random
    network has no pretrained statistics to keep.
    """

    name = "from_scratch"

    def __init__(self, architecture: str = "medium", input_shape=None, num_classes: int = 2,
                 seed: int = 0, hidden_units: int | None = None, dropout: float = 0.0) -> None:
        super().__init__(random_base(architecture, input_shape, seed), num_classes,
                         hidden_units, dropout, seed)

    @classmethod
    def like(cls, model, num_classes: int, seed: int = 0, **kwargs) -> FromScratch:
        """A from-scratch baseline with the architecture and input shape of ``model``."""
        return cls(model.architecture, model.input_shape, num_classes, seed=seed, **kwargs)

    @property
    def architecture(self) -> str:
        return self.base.architecture

    def _config(self, config) -> TrainingConfig:
        return as_config(config, TrainingConfig)

    def _train(self, X, y, X_val, y_val, config) -> TrainingHistory:
        return self._run(self.network, X, y, X_val, y_val, config)

    def _training_setup(self, X: np.ndarray, config: TrainingConfig):
        return self.network, X, {}, nullcontext()
