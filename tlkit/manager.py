"""The strategy manager (course Part 4): which strategy, how much to freeze, and proof.

* :meth:`TransferLearningManager.recommend_strategy` applies the course's size x
  similarity rule (:mod:`tlkit.strategy_rule`, the single source of truth) and explains
  it. Size boundaries: small < 1,000 examples <= medium < 10,000 <= large < 100,000 <=
  very large.
* :meth:`TransferLearningManager.compare_strategies` checks a rule on real data: it
  trains feature extraction, fine-tuning and from-scratch on the same split and reports
  held-out accuracy, wall time and the training curves.
* :meth:`TransferLearningManager.estimate_transferability` scores a model's features
  for a task with LogME, before any training; :meth:`recommend_from_data` replaces the
  guessed similarity with that measurement.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import strategy_rule
from .architectures import IMAGE_PLANS, check_architecture
from .config import FineTuningConfig, TrainingConfig
from .history import TrainingHistory
from .logme import logme
from .validation import as_float_array, as_labels, check_int, check_positive

#: Starting learning rates (Adam) per strategy. Fine-tuning uses a lower one: its head
#: starts random, but the blocks below it are already good and must not be wrecked.
RECOMMENDED_LR = {"feature_extraction": 1e-2, "fine_tuning": 3e-3, "from_scratch": 1e-2}

#: LogME margin (pretrained features minus the same network's random features, per
#: sample) from which a task counts as "high" similarity, and below which it counts as
#: "low" (see ``recommend_from_data``). Calibrated on the course's tasks at 100 examples.
SIMILARITY_MARGINS = {"high": 0.05, "low": 0.0}

#: ``compare_strategies(epochs=None)``: about this many minibatch steps per strategy,
#: within these bounds on the number of epochs.
STEP_BUDGET = 300
AUTO_EPOCHS = (10, 50)

_SIZE_TEXT = {
    "small": "a small dataset (fewer than 1,000 labelled examples)",
    "medium": "a medium dataset (1,000 to 9,999 labelled examples)",
    "large": "a large dataset (10,000 to 99,999 labelled examples)",
    "very_large": "a very large dataset (100,000 labelled examples or more)",
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

    def build(self, base, num_classes: int, seed: int = 0):
        """The recommended strategy, ready to ``train``, on ``base`` (a PretrainedModel)."""
        from .strategies import FeatureExtractor, FineTuner, FromScratch

        if self.strategy == "feature_extraction":
            return FeatureExtractor(base, num_classes, seed=seed)
        if self.strategy == "fine_tuning":
            trainable = [n for n in base.get_layer_names() if n not in self.layers_to_freeze]
            return FineTuner(base, num_classes, layers_to_unfreeze=trainable, seed=seed)
        return FromScratch.like(base, num_classes, seed=seed)

    def config(self, **overrides) -> TrainingConfig:
        """A training config with the recommended learning rate (and any overrides)."""
        settings = {"learning_rate": self.recommended_lr, **overrides}
        cls = FineTuningConfig if self.strategy == "fine_tuning" else TrainingConfig
        return cls(**settings)

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

    def table(self) -> str:
        where = "held-out" if self.evaluated_on == "test" else "TRAINING (nothing held out)"
        lines = [
            f"{self.architecture} on {self.n_train} training examples, {self.num_classes} classes, "
            f"{self.epochs} epochs; accuracy on {self.n_test} {where} examples",
            f"{'strategy':<20}{'accuracy':>10}{'time (s)':>10}{'trainable params':>18}",
        ]
        for name, result in self.results.items():
            mark = "  <- best" if name == self.best.name else ""
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
        lr = RECOMMENDED_LR[strategy]
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
        """"small" (< 1,000), "medium" (< 10,000), "large" (< 100,000) or "very_large"."""
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
        batch_size: int = 32,
        base=None,
        layers_to_unfreeze=None,
        augment=None,
    ) -> StrategyComparison:
        """Train the three strategies on the same split and compare them.

        ``dataset``: ``{"X": X, "y": y}``, ``(X, y)`` or a task with ``X_train``, ``y_train``,
        ``X_test``, ``y_test`` (its split is used as is). X holds vectors (N, d) or
        grayscale images (N, H, W). A stratified ``test_fraction`` is held out; when
        nothing can be held out (too few examples), accuracy is measured on the training
        data, with a warning. ``base`` is a PretrainedModel to compare with (default:
        ``PretrainedModel(architecture, input_shape)``); each strategy gets its own copy.
        ``learning_rates`` overrides :data:`RECOMMENDED_LR` per strategy. ``epochs=None``
        gives every strategy about :data:`STEP_BUDGET` minibatch steps (10 to 50 epochs):
        small datasets get more epochs, and a run stays a few seconds.
        """
        from .pretrained import PretrainedModel
        from .strategies import FeatureExtractor, FineTuner, FromScratch

        if epochs is not None:
            epochs = check_int(epochs, "epochs", 1)
        batch_size = check_int(batch_size, "batch_size", 1)
        seed = check_int(seed, "seed", 0)
        test_fraction = check_positive(test_fraction, "test_fraction")
        if test_fraction >= 1:
            raise ValueError(f"test_fraction must be in (0, 1); got {test_fraction}")
        rates = dict(RECOMMENDED_LR)
        for name, rate in (learning_rates or {}).items():
            if name not in rates:
                raise ValueError(f"learning_rates has unknown strategy {name!r}; valid: {list(rates)}")
            rates[name] = check_positive(rate, f"learning_rates[{name!r}]")

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
        if epochs is None:
            steps_per_epoch = math.ceil(len(X_train) / batch_size)
            epochs = int(np.clip(math.ceil(STEP_BUDGET / steps_per_epoch), *AUTO_EPOCHS))
        all_labels = np.concatenate([y_train, y_test])
        num_classes = max(2, int(all_labels.max()) + 1, int(task_classes or 0))
        input_shape = tuple(X.shape[1:])

        if base is None:
            base = PretrainedModel(architecture, input_shape)
        elif tuple(base.input_shape) != input_shape:
            raise ValueError(f"base expects inputs of shape {base.input_shape}; the data has {input_shape}")
        architecture = base.architecture

        common = {"epochs": epochs, "batch_size": batch_size, "seed": seed, "augment": augment}
        plans = {
            "feature_extraction": (
                lambda: FeatureExtractor(base.copy(), num_classes, seed=seed),
                TrainingConfig(learning_rate=rates["feature_extraction"], **common)),
            "fine_tuning": (
                lambda: FineTuner(base.copy(), num_classes, layers_to_unfreeze or "top_half", seed=seed),
                FineTuningConfig(learning_rate=rates["fine_tuning"], **common)),
            "from_scratch": (
                lambda: FromScratch.like(base, num_classes, seed=seed),
                TrainingConfig(learning_rate=rates["from_scratch"], **common)),
        }
        results = {}
        for name, (build, config) in plans.items():
            start = time.perf_counter()
            strategy = build()
            history = strategy.train(X_train, y_train, config)
            elapsed = time.perf_counter() - start
            results[name] = StrategyResult(
                name=name, accuracy=strategy.score(X_test, y_test), time=elapsed,
                history=history, train_accuracy=strategy.score(X_train, y_train),
                evaluated_on=evaluated_on,
                trainable_parameters=strategy.count_parameters(trainable_only=True),
                model=strategy,
            )
        return StrategyComparison(**results, n_train=len(X_train), n_test=len(X_test),
                                  num_classes=num_classes, input_shape=input_shape,
                                  architecture=architecture, evaluated_on=evaluated_on,
                                  epochs=epochs)

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
        untrained = random_base(base.architecture, base.input_shape, check_int(seed, "seed", 0))
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
