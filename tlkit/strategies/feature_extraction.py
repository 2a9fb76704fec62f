"""Feature extraction (course Part 2): a frozen pretrained base and a new head on top.

The base never changes, so its output for a training example never changes either.
``train`` therefore runs the base once per call over the whole training set (in
batches of ``feature_batch_size``, so memory is bounded by that batch and not by the
dataset), keeps the features, and trains only the head on them, epoch after epoch.
That is why feature extraction is by far the cheapest strategy: an epoch costs a
softmax regression, not a pass through the network.

With data augmentation (``config.augment``) every epoch sees new images, so the
features cannot be cached: the frozen base then runs on every minibatch (still no
backward pass through it).
"""

from __future__ import annotations

import numpy as np

from ..argcheck import check_int
from ..config import TrainingConfig, as_config
from ..history import TrainingHistory
from ..nn.network import Network
from .strategy import StrategyBase


class FeatureExtractor(StrategyBase):
    """Freeze the whole base at construction; train a new head on its features.

    ``FeatureExtractor(base, num_classes, *, hidden_units=None, dropout=0.0,
    feature_dropout=0.0, seed=0, feature_batch_size=256)``. ``hidden_units`` adds one
    hidden ReLU layer to the head (None: softmax regression); ``dropout`` acts on that
    hidden layer, ``feature_dropout`` on the features (only when asked for). ``seed`` fixes
    the head's initial weights; the config's seed fixes the order of the minibatches.

    It freezes the base object it is given: another strategy trained on the same base
    changes what this one predicts (``train`` warns naming both); pass ``base.copy()``.

    >>> fe = FeatureExtractor(PretrainedModel("medium"), num_classes=10)   # doctest: +SKIP
    >>> history = fe.train(X, y, {"epochs": 20, "learning_rate": 0.01})    # doctest: +SKIP
    >>> fe.predict(X[0]), fe.score(X_test, y_test)                          # doctest: +SKIP
    """

    name = "feature_extraction"

    def __init__(self, base, num_classes: int, *, hidden_units: int | None = None,
                 dropout: float = 0.0, feature_dropout: float = 0.0, seed: int = 0,
                 feature_batch_size: int = 256) -> None:
        super().__init__(base, num_classes, hidden_units=hidden_units, dropout=dropout,
                         feature_dropout=feature_dropout, seed=seed)
        self.feature_batch_size = check_int(feature_batch_size, "feature_batch_size", 1)
        self.base.freeze()

    def _config(self, config) -> TrainingConfig:
        return as_config(config, TrainingConfig)

    def features(self, x) -> np.ndarray:
        """The frozen base's features of one sample (F,) or a batch (N, F)."""
        batch, single = self._inputs(x, "x")
        features = self.base.features_of_batch(batch, self.feature_batch_size)
        return features[0] if single else features

    def _train(self, X, y, X_val, y_val, config) -> TrainingHistory:
        self.base.freeze()  # whatever happened since construction, the base stays frozen
        if config.augment is not None:
            return self._run(self.network, X, y, X_val, y_val, config)
        features = self.base.features_of_batch(X, self.feature_batch_size)
        val_features = None
        if X_val is not None:
            val_features = self.base.features_of_batch(X_val, self.feature_batch_size)
        history = self._run(Network([self.head]), features, y, val_features, y_val, config)
        # Record the frozen blocks too (rate 0), so every strategy's history has every block.
        rates = {name: [0.0] * history.epochs for name in self.base.get_layer_names()}
        rates.update(history.learning_rates)
        history.learning_rates = rates
        return history
