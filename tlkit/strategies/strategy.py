"""What every transfer strategy shares: a base and a new head, input checks, prediction, scoring, the training run.

A strategy couples a base (a :class:`~tlkit.pretrained.PretrainedModel`, or a randomly
initialised one for the from-scratch baseline) with a new classifier ``head``. Its
``network`` is the base's blocks followed by the head, so prediction is the same for
every strategy; what differs is how ``train`` uses the base:

* :class:`~tlkit.strategies.FeatureExtractor`: the base stays frozen, its features are
  computed once, and only the head learns;
* :class:`~tlkit.strategies.FineTuner`: the head and the top blocks learn, with a warm-up
  and per-block learning rates;
* :class:`~tlkit.strategies.FromScratch`: every block learns from a random start.

A strategy works on the base object it is given (the course's contract: it freezes and
unfreezes *that* model). Two strategies sharing one base therefore change each other's
predictions; ``train`` warns, naming both, when the base was already trained by another
strategy (:mod:`tlkit.strategies.ownership`). Give each strategy its own ``base.copy()``.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..architectures import build_head
from ..argcheck import (
    as_labels,
    check_batch_size,
    check_dropout,
    check_finite_output,
    check_hidden_units,
    check_int,
    check_num_classes,
)
from ..config import TrainingConfig, check_budget
from ..datasets.augment import channel_adapter, checked_augment
from ..divergence import DivergenceGuard
from ..history import TrainingHistory
from ..nn.batchnorm import batchnorm_inference_mode
from ..nn.losses import softmax
from ..nn.network import Block, Network
from ..pretrained import check_base
from ..training import Trainer, evaluate, minibatch_sizes, predict_logits
from .ownership import claim_base


class StrategyBase:
    """Shared by all strategies: a base, a new head, ``predict``/``predict_proba``/``score``.

    Constructor: ``(base, num_classes, *, hidden_units=None, dropout=0.0,
    feature_dropout=0.0, seed=0)``. ``hidden_units`` adds one hidden ReLU layer to the
    head; ``dropout`` acts on that hidden layer (so it needs ``hidden_units``);
    ``feature_dropout`` acts on the features entering the head, only when asked for.
    ``seed`` fixes the head's initial weights.
    """

    #: the strategy's name as the manager reports it
    name = "strategy"

    def __init__(self, base, num_classes: int, *, hidden_units: int | None = None,
                 dropout: float = 0.0, feature_dropout: float = 0.0, seed: int = 0) -> None:
        self.base = check_base(base)
        self.num_classes = check_num_classes(num_classes)
        self.hidden_units = check_hidden_units(hidden_units)
        self.dropout = check_dropout(dropout)
        self.feature_dropout = check_dropout(feature_dropout, "feature_dropout")
        self.seed = check_int(seed, "seed", 0)
        rng = np.random.default_rng(self.seed)
        self.head: Block = build_head(base.get_feature_size(), self.num_classes, rng,
                                      hidden_units=self.hidden_units, dropout=self.dropout,
                                      feature_dropout=self.feature_dropout, engine=base.network.engine)
        self.history: TrainingHistory | None = None

    # -- structure ------------------------------------------------------------------------
    @property
    def network(self) -> Network:
        """The base's blocks followed by the head (built on demand, sharing the same blocks)."""
        return self.base.network.extended(self.head)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.base.input_shape

    def get_layer_names(self) -> list[str]:
        """The base's block names and ``"head"``."""
        return list(self.base.get_layer_names()) + ["head"]

    def trainable_layers(self) -> list[str]:
        return [b.name for b in self.network.blocks if b.trainable]

    def count_parameters(self, trainable_only: bool = False) -> int:
        return self.network.count_parameters(trainable_only)

    # -- input checks ---------------------------------------------------------------------
    def _inputs(self, X, name: str = "X") -> tuple[np.ndarray, bool]:
        return self.base.to_network_input(X, name)

    def _training_data(self, X, y, x_name: str = "X", y_name: str = "y"):
        batch, _ = self._inputs(X, x_name)
        labels = as_labels(y, len(batch), self.num_classes, y_name)
        return batch, labels

    def _validation_data(self, validation_data):
        if validation_data is None:
            return None, None
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise ValueError(
                "validation_data must be a pair (X_val, y_val); "
                f"got {type(validation_data).__name__}"
            )
        return self._training_data(validation_data[0], validation_data[1], "X_val", "y_val")

    # -- training -------------------------------------------------------------------------
    def _config(self, config) -> TrainingConfig:
        raise NotImplementedError

    def _run(self, network: Network, X, y, X_val, y_val, config: TrainingConfig,
             multipliers=None, callbacks=None) -> TrainingHistory:
        """One Trainer run with the divergence guard and an augmenter fitted to the input."""
        if config.augment is not None:
            config = dataclasses.replace(
                config, augment=checked_augment(channel_adapter(config.augment, len(self.input_shape) == 2))
            )
        scale = float(np.max(np.abs(X))) if len(X) else 0.0
        guard = DivergenceGuard(self.num_classes, input_scale=scale)
        trainer = Trainer(network, config, multipliers, [guard] + list(callbacks or []))
        if network.blocks[0] is self.head:  # feature extraction: the head trains on features
            trainer.input_name = "the base's features of X"
        if min(minibatch_sizes(len(X), config.batch_size)) > 1:
            return trainer.fit(X, y, X_val, y_val)
        # A minibatch of one example has no batch statistics: BatchNorm would subtract the
        # example from itself and erase it. Such runs normalise with the running statistics.
        with batchnorm_inference_mode(network.blocks):
            return trainer.fit(X, y, X_val, y_val)

    def train(self, X, y, config=None, validation_data=None) -> TrainingHistory:
        """Train on ``(X, y)``; ``config`` is a config object, a plain dict or None (defaults).

        ``validation_data=(X_val, y_val)`` fills ``history.val_loss``/``val_accuracy``.
        Returns the :class:`~tlkit.history.TrainingHistory`; ``train_time`` is the
        wall time of the whole call.

        Every argument is checked first (the config again, even if it was edited after it was
        built); a call asking for more than ``tlkit.config.MAX_UPDATES`` minibatch updates is
        refused. The strategy trains the base it was given, in place: when that base already
        belongs to another trained strategy, a warning names both (give each strategy its own
        ``base.copy()``).
        """
        start = time.perf_counter()
        config = self._config(config)
        X, y = self._training_data(X, y)
        X_val, y_val = self._validation_data(validation_data)
        check_budget(config, len(X))
        claim_base(self)
        history = self._train(X, y, X_val, y_val, config)
        history.train_time = time.perf_counter() - start
        self.history = history
        return history

    def _train(self, X, y, X_val, y_val, config) -> TrainingHistory:
        raise NotImplementedError

    # -- prediction -----------------------------------------------------------------------
    def predict_logits(self, x, batch_size: int = 256) -> np.ndarray:
        """Raw class scores: (num_classes,) for one sample, (N, num_classes) for a batch.

        ``batch_size`` (>= 1) bounds the samples per forward pass; inputs that overflow
        float32 inside the network are refused (ValueError naming ``x``).
        """
        batch_size = check_batch_size(batch_size)
        batch, single = self._inputs(x, "x")
        logits = check_finite_output(predict_logits(self.network, batch, batch_size), batch, "x", "logits")
        return logits[0] if single else logits

    def predict_proba(self, x) -> np.ndarray:
        """Class probabilities: (num_classes,) for one sample, (N, num_classes) for a batch."""
        return softmax(self.predict_logits(x))

    def predict(self, x):
        """The most likely class: an int for one sample, an (N,) int array for a batch."""
        logits = self.predict_logits(x)
        if logits.ndim == 1:
            return int(np.argmax(logits))
        return np.argmax(logits, axis=1).astype(np.int64)

    def evaluate(self, X, y) -> dict[str, float]:
        """``{"loss": mean cross-entropy, "accuracy": fraction correct}`` on ``(X, y)``."""
        batch, labels = self._training_data(X, y)
        loss, accuracy = evaluate(self.network, batch, labels)
        if not np.isfinite(loss):
            check_finite_output(predict_logits(self.network, batch), batch, "X", "logits")
        return {"loss": loss, "accuracy": accuracy}

    def score(self, X, y) -> float:
        """Accuracy on ``(X, y)`` (scikit-learn's name for it)."""
        return self.evaluate(X, y)["accuracy"]

    def __repr__(self) -> str:
        trainable = ", ".join(self.trainable_layers()) or "nothing"
        return (f"{type(self).__name__}({self.base.architecture!r}, num_classes={self.num_classes}, "
                f"trainable: {trainable})")
