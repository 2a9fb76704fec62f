"""The recipe registry: the one place that says how each strategy is trained.

A :class:`Recipe` names a strategy, its learning rate, its minibatch size, its budget
counted in **minibatch updates** (not epochs: with 25 examples an epoch is one update,
with 1,000 it is 32) and whatever else its config and constructor need. Every comparison
the course makes (the manager, the notebooks, the widgets, the study scripts) builds and
trains its strategies through :func:`build_strategy` / :func:`fit`, so each arm gets the
same budget and the same seeds.

Budget rule: an epoch over ``n`` examples at batch size ``b`` runs ``ceil(n / b)`` updates
(balanced minibatches, see :func:`tlkit.training.minibatch_sizes`), and a recipe trains for
``epochs_for_updates(updates, n, b) = max(1, ceil(updates / ceil(n / b)))`` epochs, so it
runs exactly ``epochs * ceil(n / b)`` updates: the budget, rounded up to whole epochs.
Arms with the same batch size therefore always run the same number of updates.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from ..argcheck import check_choice, check_int, check_positive
from ..config import FineTuningConfig, TrainingConfig
from ..history import TrainingHistory
from ..pretrained import check_base
from ..strategies import AdapterTuner, FeatureExtractor, FineTuner, FromScratch
from ..strategy_rule import STRATEGIES

#: what a recipe may train: the course's three strategies, and Part 5's parameter-efficient tuner
RECIPE_STRATEGIES: tuple[str, ...] = (*STRATEGIES, "adapters")


@dataclass(frozen=True)
class Recipe:
    """How to train one strategy: rate, batch size, budget in updates, config and constructor extras."""

    name: str
    strategy: str
    learning_rate: float
    batch_size: int
    updates: int
    config: Mapping[str, Any] = field(default_factory=dict)
    strategy_kwargs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_choice(self.strategy, "strategy", RECIPE_STRATEGIES)
        check_positive(self.learning_rate, "learning_rate")
        check_int(self.batch_size, "batch_size", 1)
        check_int(self.updates, "updates", 1)
        reserved = {"epochs", "learning_rate", "batch_size", "seed"} & set(self.config)
        if reserved:
            raise ValueError(
                f"config must not set {sorted(reserved)}: the recipe's own fields (learning_rate, "
                "batch_size, updates) and make_config's seed decide them"
            )
        object.__setattr__(self, "config", MappingProxyType(dict(self.config)))
        object.__setattr__(self, "strategy_kwargs", MappingProxyType(dict(self.strategy_kwargs)))

    def replace(self, **changes) -> Recipe:
        """A copy with some fields changed, e.g. ``recipe.replace(learning_rate=1e-3)``."""
        valid = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(valid))
        if unknown:
            raise ValueError(f"Recipe.replace got unknown field(s) {unknown}; valid fields are {valid}")
        return dataclasses.replace(self, **changes)


#: The default recipes. Rates are Adam's; fine-tuning's is lower because the blocks below
#: its new head are already good and must not be wrecked. All share batch 32 and 300
#: updates, the budget the course's study measured the strategies at.
RECIPES: Mapping[str, Recipe] = MappingProxyType({
    "feature_extraction": Recipe("feature_extraction", "feature_extraction",
                                 learning_rate=1e-2, batch_size=32, updates=300),
    "fine_tuning": Recipe("fine_tuning", "fine_tuning", learning_rate=3e-3, batch_size=32,
                          updates=300, strategy_kwargs={"layers_to_unfreeze": "top_half"}),
    "from_scratch": Recipe("from_scratch", "from_scratch", learning_rate=1e-2, batch_size=32,
                           updates=300),
})


def get_recipe(name: str) -> Recipe:
    """The registered recipe ``name`` (ValueError listing the valid names)."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; valid recipe names are {sorted(RECIPES)}")
    return RECIPES[name]


def _recipe(recipe) -> Recipe:
    if isinstance(recipe, str):
        return get_recipe(recipe)
    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a Recipe or a recipe name from {sorted(RECIPES)}; got {recipe!r}")
    return recipe


def epochs_for_updates(updates: int, n_train: int, batch_size: int) -> int:
    """Whole epochs that give at least ``updates`` minibatch updates (>= 1)."""
    updates = check_int(updates, "updates", 1)
    n_train = check_int(n_train, "n_train", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    return max(1, math.ceil(updates / math.ceil(n_train / batch_size)))


def make_config(recipe, n_train: int, *, seed: int) -> TrainingConfig | FineTuningConfig:
    """The recipe's config for ``n_train`` examples: epochs from the update budget.

    Fine-tuning's warm-up (head only) is the config's default
    (:func:`tlkit.config.default_warmup_epochs`) unless the recipe's config sets ``warmup_epochs``.
    """
    recipe = _recipe(recipe)
    epochs = epochs_for_updates(recipe.updates, n_train, recipe.batch_size)
    settings = {"epochs": epochs, "learning_rate": recipe.learning_rate,
                "batch_size": recipe.batch_size, "seed": check_int(seed, "seed", 0), **recipe.config}
    if recipe.strategy == "fine_tuning":
        return FineTuningConfig(**settings)
    return TrainingConfig(**settings)


def build_strategy(recipe, base, num_classes: int, *, seed: int = 0):
    """The recipe's strategy on (a copy of) ``base``, a PretrainedModel; ``base`` itself is untouched.

    For ``from_scratch`` only the base's architecture and input shape are used: the
    weights are random (``seed``).
    """
    recipe = _recipe(recipe)
    check_base(base)
    kwargs = dict(recipe.strategy_kwargs)
    if recipe.strategy == "feature_extraction":
        return FeatureExtractor(base.copy(), num_classes, seed=seed, **kwargs)
    if recipe.strategy == "fine_tuning":
        layers = kwargs.pop("layers_to_unfreeze", None)
        return FineTuner(base.copy(), num_classes, layers, seed=seed, **kwargs)
    if recipe.strategy == "adapters":  # adapters, LoRA or an input stem on a frozen base (Part 5)
        return AdapterTuner(base.copy(), num_classes, seed=seed, **kwargs)
    return FromScratch(base, num_classes, seed=seed, **kwargs)


def fit(recipe, base, X, y, *, seed: int, validation_data=None, num_classes: int | None = None):
    """Build the recipe's strategy (seed ``seed``) and train it on ``(X, y)``: ``(strategy, history)``.

    ``num_classes`` defaults to ``max(2, max(y) + 1)``.
    """
    recipe = _recipe(recipe)
    labels = np.asarray(y).reshape(-1)
    if num_classes is None:
        num_classes = max(2, int(labels.max()) + 1) if labels.size else 2
    strategy = build_strategy(recipe, base, num_classes, seed=seed)
    n_train = len(labels)
    history = strategy.train(X, y, make_config(recipe, max(n_train, 1), seed=seed),
                             validation_data=validation_data)
    return strategy, history


def updates_done(history: TrainingHistory) -> int:
    """The number of minibatch updates the Trainer really ran for ``history``."""
    if not isinstance(history, TrainingHistory):
        raise TypeError(f"history must be a TrainingHistory; got {type(history).__name__}")
    return int(history.updates)
