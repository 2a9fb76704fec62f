"""The from-scratch baseline: the same architecture, random weights, everything trains.

Transfer learning is only worth its complexity if it beats this. With little data a
network trained from scratch has to learn generic features and the task at once, from
the few examples there are; with a lot of data it catches up, and on a very different
task it can win (negative transfer).
"""

from __future__ import annotations

from ..config import TrainingConfig, as_config
from ..history import TrainingHistory
from ..pretrained import PretrainedModel, check_base, normalise_input_shape
from .strategy import StrategyBase


def random_base(architecture: str = "medium", input_shape=None, seed: int = 0,
                engine: str | None = None) -> PretrainedModel:
    """A model with the blocks of ``PretrainedModel(architecture, input_shape)``, randomly initialised,
    on ``engine`` (None: ``tlkit.nn.engine``'s default).

    Nothing is pretrained (``model.source["kind"] == "random initialisation"``).
    """
    source = {"kind": "random initialisation", "note": "no pretraining: the baseline"}
    # _from_parts checks seed before the generator is made from it
    return PretrainedModel._from_parts(architecture, input_shape, source, seed=seed, init_seed=[seed, 1],
                                       engine=engine)


class FromScratch(StrategyBase):
    """Train an architecture from a random start (every block trains).

    ``FromScratch(base_or_architecture, num_classes, *, input_shape=None, seed=0,
    hidden_units=None, dropout=0.0, feature_dropout=0.0)``: the first argument is a
    ``PretrainedModel`` (its architecture and input shape are used, never its weights) or an
    architecture name with ``input_shape``.

    Same API as the transfer strategies: ``train``, ``predict``, ``predict_proba``, ``score``.
    Every block starts trainable; freezing one (``model.base.freeze(["layer1"])``) keeps
    its *random* weights fixed, the "random features" experiment.
    BatchNorm trains normally (batch statistics, updated running statistics): a random
    network has no pretrained statistics to keep.
    """

    name = "from_scratch"

    def __init__(self, base_or_architecture, num_classes: int, *, input_shape=None,
                 seed: int = 0, hidden_units: int | None = None, dropout: float = 0.0,
                 feature_dropout: float = 0.0) -> None:
        engine = None
        if isinstance(base_or_architecture, str):
            architecture = base_or_architecture
        else:
            model = check_base(base_or_architecture, "base_or_architecture")
            if input_shape is not None and normalise_input_shape(input_shape) != tuple(model.input_shape):
                raise ValueError(
                    f"input_shape {input_shape!r} contradicts the base's input shape {model.input_shape}; "
                    "give one or the other"
                )
            architecture, input_shape, engine = model.architecture, model.input_shape, model.network.engine
        super().__init__(random_base(architecture, input_shape, seed, engine), num_classes,
                         hidden_units=hidden_units, dropout=dropout,
                         feature_dropout=feature_dropout, seed=seed)

    @classmethod
    def like(cls, model, num_classes: int, seed: int = 0, **kwargs) -> FromScratch:
        """The same as ``FromScratch(model, num_classes, seed=seed, **kwargs)``."""
        return cls(model, num_classes, seed=seed, **kwargs)

    @property
    def architecture(self) -> str:
        return self.base.architecture

    def _config(self, config) -> TrainingConfig:
        return as_config(config, TrainingConfig)

    def _train(self, X, y, X_val, y_val, config) -> TrainingHistory:
        return self._run(self.network, X, y, X_val, y_val, config)
