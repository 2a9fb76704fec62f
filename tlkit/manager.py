"""The strategy manager (course Part 4): which strategy, how much to freeze, and proof.

* :meth:`TransferLearningManager.recommend_strategy` applies the course's size x
  similarity rule (:mod:`tlkit.strategy_rule`, the single source of truth) and explains
  it. Size boundaries: small < 1,000 examples <= medium < 10,000 <= large.
* :meth:`TransferLearningManager.compare_strategies` checks a rule on real data with the
  experiment protocol: :mod:`tlkit.comparison` trains feature extraction, fine-tuning and
  from-scratch from the recipe registry on the same split, with the same seed and the same
  number of minibatch updates, and reports held-out accuracy, wall time, the training curves,
  and which strategies tie with the best.
* :meth:`TransferLearningManager.estimate_transferability` scores a model's features
  for a task with LogME, before any training; :meth:`recommend_from_data` replaces the
  guessed similarity with that measurement.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

from . import strategy_rule
from .architectures import block_names, check_architecture
from .argcheck import as_labels, check_int
from .comparison import TIE_BAND, StrategyComparison, StrategyResult, compare
from .config import TrainingConfig
from .logme import logme
from .pretrained import base_of
from .protocol import Recipe, build_strategy, get_recipe, make_config
from .strategies import random_base
from .strategy_rule import STRATEGY_LABELS

__all__ = ["TIE_BAND", "Recommendation", "StrategyComparison", "StrategyResult", "TransferLearningManager"]

#: LogME margin (pretrained features minus the same network's random features, per
#: sample) from which a task counts as "high" similarity, and below which it counts as
#: "low" (see ``recommend_from_data``). Calibrated on the course's tasks at 100 examples.
SIMILARITY_MARGINS = {"high": 0.05, "low": 0.0}

_SIZE_TEXT = {
    "small": "a small dataset (fewer than 1,000 labelled examples)",
    "medium": "a medium dataset (1,000 to 9,999 labelled examples)",
    "large": "a large dataset (10,000 labelled examples or more)",
}
#: What the recommendation tells the student to do, in words (fine-tuning names its blocks instead).
_WHAT_TO_DO = {
    "feature_extraction": f"{STRATEGY_LABELS['feature_extraction']} (freeze the whole base, train a new head)",
    "from_scratch": f"training {STRATEGY_LABELS['from_scratch']} (random weights, every block trains)",
}
_WATCH_OUT = {
    "feature_extraction": (
        "Watch out: frozen features are only as good as the source task. If the accuracy "
        "plateaus low, the task is less similar than assumed: unfreeze the top block and "
        "fine-tune it. The features are computed once, so trying several heads is cheap."
    ),
    "fine_tuning": (
        "Watch out: warm up the new head first (its random gradients would wreck the "
        "pretrained blocks), keep the learning rate low with lower blocks slower "
        "(discriminative rates), keep BatchNorm in inference mode with small batches, and "
        "watch the validation loss: fine-tuned blocks over-fit a small dataset quickly."
    ),
    "from_scratch": (
        "Watch out: from scratch needs many epochs, a normal (higher) learning rate, data "
        "augmentation and regularisation; compare it with fine-tuning, which often still "
        "wins or gets there sooner."
    ),
}


@dataclass
class Recommendation:
    """What to do, which blocks to freeze, at which learning rate, and why."""

    strategy: str
    layers_to_freeze: list[str]
    layers_to_train: list[str]
    recommended_lr: float
    reasoning: str
    size_category: str
    dataset_size: int
    task_similarity: str
    architecture: str
    transferability: float | None = None
    baseline_transferability: float | None = None

    @property
    def recipe(self):
        """The registry's recipe for the strategy, with this recommendation's blocks to train."""
        recipe = get_recipe(self.strategy)
        if self.strategy == "fine_tuning":
            trainable = [name for name in self.layers_to_train if name != "head"]
            recipe = recipe.replace(strategy_kwargs={**recipe.strategy_kwargs,
                                                     "layers_to_unfreeze": trainable})
        return recipe

    def build(self, base, num_classes: int, seed: int = 0):
        """The recommended strategy, ready to ``train``, on a copy of ``base`` (a PretrainedModel)."""
        if self.strategy == "fine_tuning" and base.get_layer_names() != self.layers_to_freeze + [
                n for n in self.layers_to_train if n != "head"]:
            raise ValueError(
                f"base has blocks {base.get_layer_names()}, but this recommendation was made for "
                f"{self.architecture!r}; ask recommend_strategy(..., architecture={base.architecture!r})"
            )
        return build_strategy(self.recipe, base, num_classes, seed=seed)

    def config(self, n_train: int | None = None, *, seed: int = 0, **overrides) -> TrainingConfig:
        """The recipe's config for ``n_train`` examples (default: ``dataset_size``), epochs from
        its update budget, with any ``overrides`` (e.g. ``epochs=3``)."""
        config = make_config(self.recipe, n_train or self.dataset_size, seed=seed)
        return dataclasses.replace(config, **overrides) if overrides else config

    def __str__(self) -> str:
        frozen = ", ".join(self.layers_to_freeze) or "none"
        return (f"{self.strategy} (freeze: {frozen}; learning rate {self.recommended_lr:g})\n"
                f"{self.reasoning}")


class TransferLearningManager:
    """Recommends a strategy, compares the three on data, and measures transferability."""

    @staticmethod
    def recommend_strategy(dataset_size: int, task_similarity: str,
                           architecture: str = "medium") -> Recommendation:
        """The course rule for ``dataset_size`` labelled examples and a task similarity.

        ``task_similarity`` is "high" (same domain, new classes), "medium" (a shifted
        domain) or "low" (a different task). ``layers_to_freeze`` uses the real block names
        of ``architecture``: all of them for feature extraction, the lower part for
        fine-tuning, none for from-scratch.
        """
        check_architecture(architecture)
        strategy_rule.check_similarity(task_similarity)
        category = strategy_rule.size_category(dataset_size)
        strategy = strategy_rule.choose_strategy(dataset_size, task_similarity)
        names = block_names(architecture)
        if strategy == "feature_extraction":
            frozen = list(names)
        elif strategy == "fine_tuning":
            fraction = strategy_rule.fraction_to_freeze(dataset_size, task_similarity)
            frozen = names[: int(math.floor(fraction * len(names) + 0.5))]
        else:
            frozen = []
        trained = [n for n in names if n not in frozen] + ["head"]
        lr = get_recipe(strategy).learning_rate
        if strategy == "fine_tuning":
            what = (f"fine-tuning: keep {', '.join(frozen)} frozen and train "
                    f"{', '.join(trained)}" if frozen else
                    f"fine-tuning every block ({', '.join(trained)})")
        else:
            what = _WHAT_TO_DO[strategy]
        reasoning = (
            f"Case: {_SIZE_TEXT[category]} ({dataset_size:,} here) and {task_similarity} "
            f"similarity to the source task. {strategy_rule.explain(dataset_size, task_similarity)} "
            f"So: {what}, starting from a learning rate of {lr:g}. {_WATCH_OUT[strategy]}"
        )
        return Recommendation(
            strategy=strategy, layers_to_freeze=frozen, layers_to_train=trained,
            recommended_lr=lr, reasoning=reasoning, size_category=category,
            dataset_size=int(dataset_size), task_similarity=task_similarity,
            architecture=architecture,
        )

    @staticmethod
    def compare_strategies(dataset, architecture: str = "medium", epochs: int | None = None, seed: int = 0,
                           test_fraction: float = 0.25, base=None, *, updates: int | None = None,
                           recipes: Mapping[str, Recipe] | None = None, arms=None) -> StrategyComparison:
        """Train the three strategies on the same split, with the same budget, and compare them.

        ``dataset``: ``{"X": X, "y": y}``, ``(X, y)`` or a task with ``X_train``, ``y_train``,
        ``X_test``, ``y_test`` (its split is used as is). X holds vectors (N, d) or
        grayscale images (N, H, W); the number of classes is ``max(y) + 1``, at least 2. A
        stratified ``test_fraction`` is held out; when nothing can be held out (too few
        examples), accuracy is measured on the training data, with a warning.

        The protocol (:mod:`tlkit.comparison`): each strategy is built and configured from its
        recipe in :data:`tlkit.protocol.RECIPES`, or from ``recipes`` (a dict strategy name ->
        ``Recipe``, e.g. ``{"fine_tuning": RECIPES["fine_tuning"].replace(learning_rate=1e-3)}``),
        with the same ``seed`` (same split, same minibatch order) and the same number of
        minibatch updates: ``updates`` (default: the recipes' budget, 300), rounded up to whole
        epochs, or exactly ``epochs`` epochs when given. ``base`` is a PretrainedModel to compare
        with (default: ``PretrainedModel(architecture, input_shape)``); each strategy gets its own copy.

        ``arms`` replaces the recipes' strategies with your own: a dict with the three names, each
        mapped to ``make_model(num_classes)`` returning a model with ``train(X, y, config)`` and
        ``predict(X)`` (tlkit's strategies, or the classes you wrote in Parts 2 and 3). The split,
        the budget, the seed and the recipes' configs stay the same; each arm's time covers
        building and training it.
        """
        return compare(dataset, architecture, epochs, seed, test_fraction, base, updates=updates,
                       recipes=recipes, arms=arms)

    @staticmethod
    def estimate_transferability(model, X, y) -> float:
        """LogME of ``model``'s frozen features for labels ``y`` (higher: transfers better).

        No training involved. ``model`` is a PretrainedModel (or a strategy: its base).
        """
        base = base_of(model)
        batch, _ = base.to_network_input(X, "X")
        labels = as_labels(y, len(batch), None, "y")
        return logme(base.features_of_batch(batch), labels)

    @classmethod
    def recommend_from_data(cls, model, X, y, seed: int = 0) -> Recommendation:
        """A recommendation from a labelled target sample instead of a guessed similarity.

        The similarity is measured as what pretraining adds: LogME of the pretrained
        features minus LogME of the features of the same network with random weights
        (``seed``). A margin of at least 0.05 per sample counts as "high" (the frozen
        features already fit the task), a margin >= 0 as "medium", a negative one as "low"
        (pretraining made the features worse for this task than random ones).
        """
        base = base_of(model)
        batch, _ = base.to_network_input(X, "X")
        labels = as_labels(y, len(batch), None, "y")
        score = logme(base.features_of_batch(batch), labels)
        untrained = random_base(base.architecture, base.input_shape, check_int(seed, "seed", 0), base.network.engine)
        baseline = logme(untrained.features_of_batch(batch), labels)
        margin = score - baseline
        if margin >= SIMILARITY_MARGINS["high"]:
            similarity = "high"
        elif margin >= SIMILARITY_MARGINS["low"]:
            similarity = "medium"
        else:
            similarity = "low"
        rec = cls.recommend_strategy(len(batch), similarity, base.architecture)
        rec.transferability, rec.baseline_transferability = score, baseline
        rec.reasoning = (
            f"Measured, not guessed: LogME of the pretrained features is {score:.3f} per sample, "
            f"against {baseline:.3f} for the same network with random weights (margin "
            f"{margin:+.3f}), which counts as {similarity} similarity. " + rec.reasoning
        )
        return rec
