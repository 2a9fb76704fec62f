"""The strategy manager (course Part 4): which strategy, how much to freeze, and proof.

* :meth:`TransferLearningManager.recommend_strategy` applies the course's size x
  similarity rule (:mod:`tlkit.strategy_rule`, the single source of truth) and explains
  it. Size boundaries: small < 1,000 examples <= medium < 10,000 <= large.
* :meth:`TransferLearningManager.compare_strategies` checks a rule on real data with the
  experiment protocol (:mod:`tlkit.protocol`): feature extraction, fine-tuning and
  from-scratch are built from the recipe registry and trained on the same split with the
  same seed and the same number of minibatch updates; it reports held-out accuracy, wall
  time, the training curves, and which strategies tie with the best.
* :meth:`TransferLearningManager.estimate_transferability` scores a model's features
  for a task with LogME, before any training; :meth:`recommend_from_data` replaces the
  guessed similarity with that measurement.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import strategy_rule
from .architectures import IMAGE_PLANS, check_architecture
from .config import TrainingConfig
from .history import TrainingHistory
from .logme import logme
from .protocol import build_strategy, get_recipe, make_config, updates_done
from .protocol.rule_check import RuleVerdict, judge_rule
from .protocol.stats import ties_within
from .validation import as_float_array, as_labels, check_int, check_positive, warn_if_single_class

#: LogME margin (pretrained features minus the same network's random features, per
#: sample) from which a task counts as "high" similarity, and below which it counts as
#: "low" (see ``recommend_from_data``). Calibrated on the course's tasks at 100 examples.
SIMILARITY_MARGINS = {"high": 0.05, "low": 0.0}

#: Two strategies whose accuracies differ by at most this much count as tied (a fraction).
TIE_BAND = 0.01

_SIZE_TEXT = {
    "small": "a small dataset (fewer than 1,000 labelled examples)",
    "medium": "a medium dataset (1,000 to 9,999 labelled examples)",
    "large": "a large dataset (10,000 labelled examples or more)",
}
_STRATEGY_TEXT = {
    "feature_extraction": "feature extraction (freeze the whole base, train a new head)",
    "fine_tuning": "fine-tuning",
    "from_scratch": "training from scratch (random weights, every block trains)",
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


def layer_names_of(architecture: str) -> list[str]:
    """The block names ``layer1 ... layerN`` of an architecture (the same for images and vectors)."""
    check_architecture(architecture)
    return [f"layer{i}" for i in range(1, len(IMAGE_PLANS[architecture]) + 1)]


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


@dataclass
class StrategyResult:
    """One strategy's run in a comparison."""

    name: str
    accuracy: float
    time: float
    history: TrainingHistory
    train_accuracy: float
    evaluated_on: str
    trainable_parameters: int
    model: object = field(repr=False, default=None)
    updates: int = 0

    def __repr__(self) -> str:
        return (f"StrategyResult({self.name}: accuracy {self.accuracy:.3f} on {self.evaluated_on}, "
                f"{self.time:.2f} s)")


@dataclass
class StrategyComparison:
    """Feature extraction, fine-tuning and from-scratch on the same split."""

    feature_extraction: StrategyResult
    fine_tuning: StrategyResult
    from_scratch: StrategyResult
    n_train: int
    n_test: int
    num_classes: int
    input_shape: tuple[int, ...]
    architecture: str
    evaluated_on: str
    epochs: int
    updates: int = 0
    tie_band: float = TIE_BAND

    @property
    def results(self) -> dict[str, StrategyResult]:
        return {"feature_extraction": self.feature_extraction, "fine_tuning": self.fine_tuning,
                "from_scratch": self.from_scratch}

    @property
    def best(self) -> StrategyResult:
        """The most accurate strategy (ties go to the faster one)."""
        return max(self.results.values(), key=lambda r: (r.accuracy, -r.time))

    @property
    def best_strategy(self) -> str:
        return self.best.name

    def ties(self, band: float | None = None) -> list[str]:
        """The strategies within ``band`` (default :data:`TIE_BAND`) of the best accuracy."""
        scores = {name: r.accuracy for name, r in self.results.items()}
        return ties_within(scores, self.tie_band if band is None else band)

    def judge_rule(self, task_similarity: str, band: float | None = None) -> RuleVerdict:
        """The course rule's choice for this training-set size, judged by its regret here."""
        scores = {name: r.accuracy for name, r in self.results.items()}
        return judge_rule(scores, self.n_train, task_similarity,
                          band=self.tie_band if band is None else band)

    def table(self) -> str:
        where = "held-out" if self.evaluated_on == "test" else "TRAINING (nothing held out)"
        lines = [
            f"{self.architecture} on {self.n_train} training examples, {self.num_classes} classes, "
            f"{self.updates} updates each ({self.epochs} epochs); accuracy on {self.n_test} "
            f"{where} examples",
            f"{'strategy':<20}{'accuracy':>10}{'time (s)':>10}{'trainable params':>18}",
        ]
        tied = self.ties()
        for name, result in self.results.items():
            if name == self.best.name:
                mark = "  <- best"
            elif name in tied:
                mark = f"  (tied: within the {100 * self.tie_band:g}-point band)"
            else:
                mark = ""
            lines.append(f"{name:<20}{result.accuracy:>10.3f}{result.time:>10.2f}"
                         f"{result.trainable_parameters:>18,d}{mark}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {name: {"accuracy": r.accuracy, "time": r.time} for name, r in self.results.items()}

    def __repr__(self) -> str:
        return self.table()


# -- data handling ------------------------------------------------------------------------

def _unpack(dataset):
    """(X, y, X_test, y_test, num_classes) from a dict, a pair or a task object."""
    if all(hasattr(dataset, a) for a in ("X_train", "y_train", "X_test", "y_test")):
        return (dataset.X_train, dataset.y_train, dataset.X_test, dataset.y_test,
                getattr(dataset, "num_classes", None))
    if isinstance(dataset, dict):
        if "X" not in dataset or "y" not in dataset:
            raise ValueError(f"dataset dict needs keys 'X' and 'y'; got keys {sorted(dataset)}")
        return dataset["X"], dataset["y"], None, None, None
    if isinstance(dataset, tuple | list) and len(dataset) == 2:
        return dataset[0], dataset[1], None, None, None
    raise TypeError(
        "dataset must be {'X': X, 'y': y}, a pair (X, y) or a task with X_train, y_train, "
        f"X_test, y_test; got {type(dataset).__name__}"
    )


def _samples(X, y, x_name: str = "X", y_name: str = "y"):
    """X as (N, *sample_shape) float32 with sample_shape (d,) or (H, W); y as int labels."""
    X = as_float_array(X, x_name)
    single = np.ndim(y) == 0
    if X.ndim == 1:
        X = X[None, :] if single else X[:, None]
    elif X.ndim == 2 and single:
        X = X[None]  # one (H, W) image
    elif X.ndim == 4 and X.shape[-1] == 1:
        X = X[..., 0]  # (N, H, W, 1) -> (N, H, W)
    if X.ndim not in (2, 3):
        raise ValueError(
            f"{x_name} has shape {X.shape}; expected vectors (N, d) or grayscale images (N, H, W)"
        )
    labels = as_labels(y, len(X), None, y_name)
    if labels.min() < 0:
        raise ValueError(f"{y_name} contains label {labels.min()}; valid labels are 0, 1, 2, ...")
    return X, labels


def stratified_holdout(y: np.ndarray, test_fraction: float, rng: np.random.Generator):
    """Train and test indices: about ``test_fraction`` of every class held out, at least one
    example of every class kept for training (a class with one example is never held out)."""
    train, test = [], []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        n_test = min(len(members) - 1, int(math.floor(test_fraction * len(members) + 0.5)))
        test.extend(members[:n_test])
        train.extend(members[n_test:])
    return np.sort(np.array(train, dtype=np.int64)), np.sort(np.array(test, dtype=np.int64))


def _check_similarity(task_similarity) -> str:
    if task_similarity not in strategy_rule.SIMILARITIES:
        valid = ", ".join(repr(s) for s in strategy_rule.SIMILARITIES)
        raise ValueError(f"task_similarity must be one of {valid}; got {task_similarity!r}")
    return task_similarity


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
        _check_similarity(task_similarity)
        category = strategy_rule.size_category(dataset_size)
        strategy = strategy_rule.choose_strategy(dataset_size, task_similarity)
        names = layer_names_of(architecture)
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
            what = _STRATEGY_TEXT[strategy]
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
    def size_category(dataset_size: int) -> str:
        """"small" (< 1,000), "medium" (1,000-9,999) or "large" (>= 10,000)."""
        return strategy_rule.size_category(dataset_size)

    @classmethod
    def compare_strategies(
        cls,
        dataset,
        architecture: str = "medium",
        epochs: int | None = None,
        seed: int = 0,
        test_fraction: float = 0.25,
        learning_rates: dict[str, float] | None = None,
        batch_size: int | None = None,
        base=None,
        layers_to_unfreeze=None,
        augment=None,
        *,
        updates: int | None = None,
    ) -> StrategyComparison:
        """Train the three strategies on the same split, with the same budget, and compare them.

        ``dataset``: ``{"X": X, "y": y}``, ``(X, y)`` or a task with ``X_train``, ``y_train``,
        ``X_test``, ``y_test`` (its split is used as is). X holds vectors (N, d) or
        grayscale images (N, H, W); the number of classes is ``max(y) + 1``, at least 2. A
        stratified ``test_fraction`` is held out; when nothing can be held out (too few
        examples), accuracy is measured on the training data, with a warning.

        The protocol: each strategy is built and configured from its recipe in
        :data:`tlkit.protocol.RECIPES` (``learning_rates`` and ``layers_to_unfreeze``
        override the recipes' values), with the same ``seed`` (same split, same minibatch
        order) and the same number of minibatch updates: ``updates`` (default: the recipes'
        budget, 300) at ``batch_size`` (default: the recipes', 32), rounded up to whole
        epochs; or exactly ``epochs`` epochs when given. ``base`` is a PretrainedModel to
        compare with (default: ``PretrainedModel(architecture, input_shape)``); each
        strategy gets its own copy.
        """
        from .pretrained import PretrainedModel
        from .strategies.classifier import check_base

        names = ("feature_extraction", "fine_tuning", "from_scratch")
        recipes = {name: get_recipe(name) for name in names}
        if epochs is not None:
            epochs = check_int(epochs, "epochs", 1)
        if updates is not None:
            updates = check_int(updates, "updates", 1)
            if epochs is not None:
                raise ValueError(f"give epochs or updates, not both; got epochs={epochs}, updates={updates}")
        batch_size = check_int(batch_size if batch_size is not None
                               else recipes["feature_extraction"].batch_size, "batch_size", 1)
        seed = check_int(seed, "seed", 0)
        test_fraction = check_positive(test_fraction, "test_fraction")
        if test_fraction >= 1:
            raise ValueError(f"test_fraction must be in (0, 1); got {test_fraction}")
        for name, rate in (learning_rates or {}).items():
            if name not in recipes:
                raise ValueError(f"learning_rates has unknown strategy {name!r}; valid: {list(recipes)}")
            recipes[name] = recipes[name].replace(
                learning_rate=check_positive(rate, f"learning_rates[{name!r}]"))

        X, y, X_test, y_test, task_classes = _unpack(dataset)
        X, y = _samples(X, y)
        if X_test is not None:
            X_test, y_test = _samples(X_test, y_test, "X_test", "y_test")
            if X_test.shape[1:] != X.shape[1:]:
                raise ValueError(f"X_test samples have shape {X_test.shape[1:]}; X's have {X.shape[1:]}")
            X_train, y_train = X, y
        else:
            train_idx, test_idx = stratified_holdout(y, test_fraction, np.random.default_rng(seed))
            X_train, y_train = X[train_idx], y[train_idx]
            X_test, y_test = (X[test_idx], y[test_idx]) if len(test_idx) else (None, None)
        evaluated_on = "test"
        if X_test is None:
            warnings.warn(
                f"compare_strategies: the dataset ({len(X)} examples) is too small to hold any "
                "example out, so accuracy is measured on the TRAINING data: it shows how well "
                "each strategy fits, not how well it generalises.",
                UserWarning, stacklevel=2,
            )
            X_test, y_test, evaluated_on = X_train, y_train, "train"
        n_train = len(X_train)
        steps_per_epoch = math.ceil(n_train / batch_size)
        if epochs is not None:
            budget = epochs * steps_per_epoch
        else:
            budget = updates if updates is not None else max(r.updates for r in recipes.values())
        all_labels = np.concatenate([y_train, y_test])
        num_classes = max(2, int(all_labels.max()) + 1, int(task_classes or 0))
        warn_if_single_class(all_labels, "compare_strategies")
        input_shape = tuple(X.shape[1:])

        if base is None:
            base = PretrainedModel(architecture, input_shape)
        elif tuple(check_base(base).input_shape) != input_shape:
            raise ValueError(f"base expects inputs of shape {base.input_shape}; the data has {input_shape}")
        architecture = base.architecture

        extra_config = {} if augment is None else {"augment": augment}
        results = {}
        for name, recipe in recipes.items():
            recipe = recipe.replace(batch_size=batch_size, updates=budget,
                                    config={**recipe.config, **extra_config})
            if name == "fine_tuning" and layers_to_unfreeze is not None:
                recipe = recipe.replace(strategy_kwargs={**recipe.strategy_kwargs,
                                                         "layers_to_unfreeze": layers_to_unfreeze})
            start = time.perf_counter()
            strategy = build_strategy(recipe, base, num_classes, seed=seed)
            history = strategy.train(X_train, y_train, make_config(recipe, n_train, seed=seed))
            elapsed = time.perf_counter() - start
            results[name] = StrategyResult(
                name=name, accuracy=strategy.score(X_test, y_test), time=elapsed,
                history=history, train_accuracy=strategy.score(X_train, y_train),
                evaluated_on=evaluated_on,
                trainable_parameters=strategy.count_parameters(trainable_only=True),
                model=strategy, updates=updates_done(history),
            )
        done = {r.updates for r in results.values()}
        if len(done) != 1:  # the protocol's promise; a failure here is a bug, not bad input
            raise RuntimeError(f"compare_strategies: the strategies ran different numbers of updates {done}")
        return StrategyComparison(**results, n_train=n_train, n_test=len(X_test),
                                  num_classes=num_classes, input_shape=input_shape,
                                  architecture=architecture, evaluated_on=evaluated_on,
                                  epochs=results["feature_extraction"].history.epochs,
                                  updates=done.pop())

    @staticmethod
    def estimate_transferability(model, X, y) -> float:
        """LogME of ``model``'s frozen features for labels ``y`` (higher: transfers better).

        No training involved. ``model`` is a PretrainedModel (or a strategy: its base).
        """
        base = getattr(model, "base", model)
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
        from .strategies import random_base

        base = getattr(model, "base", model)
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
