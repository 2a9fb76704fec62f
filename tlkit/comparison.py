"""Comparing the three strategies on data, with the experiment protocol (course Part 4).

``compare(dataset, ...)``, which ``TransferLearningManager.compare_strategies`` calls, runs in
three steps a reader can follow one by one:

1. :func:`split`: the training and test data (the task's own split, or a stratified hold-out);
2. :func:`budget`: one number of minibatch updates for every arm (from the recipes, or
   ``updates``, or whole ``epochs``);
3. :func:`run_arm`: one strategy built from its recipe (:mod:`tlkit.protocol`), trained with
   that budget and seed, and scored on the test data.

Every arm gets the same split, the same seed (so the same minibatch order) and the same number
of updates; :class:`StrategyComparison` holds the results, the tie band and the rule's verdict.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .argcheck import as_float_array, as_labels, check_int, check_positive, warn_if_single_class
from .history import TrainingHistory
from .pretrained import PretrainedModel, check_base
from .protocol import RECIPES, Recipe, build_strategy, make_config, stratified_indices, updates_done
from .protocol.rule_check import RuleVerdict, judge_rule
from .protocol.stats import ties_within
from .strategy_rule import STRATEGIES

#: Two strategies whose accuracies differ by at most this much count as tied (a fraction).
TIE_BAND = 0.01


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


@dataclass
class Split:
    """The data every arm trains and is scored on."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    evaluated_on: str  # "test", or "train" when nothing could be held out

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.X_train.shape[1:])


def split(dataset, test_fraction: float = 0.25, seed: int = 0) -> Split:
    """The training and test data of ``dataset``: a task's own split, or a stratified hold-out of
    ``test_fraction`` of every class (``seed``). When nothing can be held out (too few examples),
    the accuracy is measured on the training data, with a warning."""
    seed = check_int(seed, "seed", 0)
    test_fraction = check_positive(test_fraction, "test_fraction")
    if test_fraction >= 1:
        raise ValueError(f"test_fraction must be in (0, 1); got {test_fraction}")
    X, y, X_test, y_test, task_classes = _unpack(dataset)
    X, y = _samples(X, y)
    if X_test is not None:
        X_test, y_test = _samples(X_test, y_test, "X_test", "y_test")
        if X_test.shape[1:] != X.shape[1:]:
            raise ValueError(f"X_test samples have shape {X_test.shape[1:]}; X's have {X.shape[1:]}")
        X_train, y_train = X, y
    else:
        train_idx, test_idx = stratified_indices(y, test_fraction, np.random.default_rng(seed))
        X_train, y_train = X[train_idx], y[train_idx]
        X_test, y_test = (X[test_idx], y[test_idx]) if len(test_idx) else (None, None)
    evaluated_on = "test"
    if X_test is None:
        warnings.warn(
            f"compare_strategies: the dataset ({len(X)} examples) is too small to hold any "
            "example out, so accuracy is measured on the TRAINING data: it shows how well "
            "each strategy fits, not how well it generalises.",
            UserWarning, stacklevel=3,
        )
        X_test, y_test, evaluated_on = X_train, y_train, "train"
    all_labels = np.concatenate([y_train, y_test])
    num_classes = max(2, int(all_labels.max()) + 1, int(task_classes or 0))
    warn_if_single_class(all_labels, "compare_strategies", stacklevel=4)
    return Split(X_train, y_train, X_test, y_test, num_classes, evaluated_on)


def check_recipes(recipes: Mapping[str, Recipe] | None) -> dict[str, Recipe]:
    """The recipe of each strategy: the registry's, replaced by any given in ``recipes``
    (a mapping from strategy name to :class:`~tlkit.protocol.Recipe`). Every arm must share one
    batch size, so that one budget in updates is also one number of epochs."""
    chosen = {name: RECIPES[name] for name in STRATEGIES}
    if recipes is None:
        return chosen
    if not isinstance(recipes, Mapping):
        raise TypeError(f"recipes must be a dict strategy name -> Recipe or None; got {type(recipes).__name__}")
    for name, recipe in recipes.items():
        if name not in chosen:
            raise ValueError(f"recipes has unknown strategy {name!r}; valid: {list(chosen)}")
        if not isinstance(recipe, Recipe) or recipe.strategy != name:
            raise ValueError(f"recipes[{name!r}] must be a Recipe for strategy {name!r} "
                             f"(e.g. RECIPES[{name!r}].replace(learning_rate=1e-3)); got {recipe!r}")
        chosen[name] = recipe
    sizes = {recipe.batch_size for recipe in chosen.values()}
    if len(sizes) != 1:
        raise ValueError(f"recipes must share one batch_size (one budget in updates for every arm); "
                         f"got {({name: r.batch_size for name, r in chosen.items()})}")
    return chosen


def budget(recipes: Mapping[str, Recipe], n_train: int, epochs: int | None = None,
           updates: int | None = None) -> int:
    """The number of minibatch updates every arm runs: ``epochs`` whole epochs, or ``updates``,
    or (neither given) the largest budget of the recipes. Arms with the same batch size run it
    rounded up to whole epochs, the same for all."""
    if epochs is not None and updates is not None:
        raise ValueError(f"give epochs or updates, not both; got epochs={epochs}, updates={updates}")
    if epochs is not None:
        batch_size = next(iter(recipes.values())).batch_size
        return check_int(epochs, "epochs", 1) * math.ceil(n_train / batch_size)
    if updates is not None:
        return check_int(updates, "updates", 1)
    return max(recipe.updates for recipe in recipes.values())


def check_arms(arms) -> dict | None:
    """None, or a dict mapping each strategy's name to ``make_model(num_classes)``."""
    if arms is None:
        return None
    if not isinstance(arms, Mapping) or sorted(arms) != sorted(STRATEGIES) or not all(
            callable(make) for make in arms.values()):
        raise ValueError(f"arms must be a dict mapping each of {list(STRATEGIES)} to a function "
                         f"make_model(num_classes); got {arms!r}")
    return dict(arms)


def _accuracy(model, X: np.ndarray, y: np.ndarray) -> float:
    """A model's accuracy: its ``score`` when it has one, else from ``predict``."""
    if callable(getattr(model, "score", None)):
        return model.score(X, y)
    return float(np.mean(np.asarray(model.predict(X)) == y))


def run_arm(recipe: Recipe, base: PretrainedModel, data: Split, updates: int, seed: int,
            make_model=None) -> StrategyResult:
    """The recipe's strategy on a copy of ``base`` (or ``make_model(num_classes)``'s model),
    trained for ``updates`` minibatch updates (rounded up to whole epochs) with ``seed``, and
    scored on the test data. The time covers building and training the arm."""
    recipe = recipe.replace(updates=updates)
    n_train = len(data.X_train)
    config = make_config(recipe, n_train, seed=seed)
    start = time.perf_counter()
    if make_model is None:
        strategy = build_strategy(recipe, base, data.num_classes, seed=seed)
    else:
        strategy = make_model(data.num_classes)
    history = strategy.train(data.X_train, data.y_train, config)
    elapsed = time.perf_counter() - start
    count = getattr(strategy, "count_parameters", None)
    ran = (updates_done(history) if isinstance(history, TrainingHistory) and history.updates
           else config.epochs * math.ceil(n_train / recipe.batch_size))
    return StrategyResult(
        name=recipe.strategy, accuracy=_accuracy(strategy, data.X_test, data.y_test), time=elapsed,
        history=history, train_accuracy=_accuracy(strategy, data.X_train, data.y_train),
        evaluated_on=data.evaluated_on,
        trainable_parameters=count(trainable_only=True) if callable(count) else 0,
        model=strategy, updates=ran,
    )


def compare(dataset, architecture: str = "medium", epochs: int | None = None, seed: int = 0,
            test_fraction: float = 0.25, base=None, *, updates: int | None = None,
            recipes: Mapping[str, Recipe] | None = None, arms=None) -> StrategyComparison:
    """The three strategies on the same split, with the same budget and seed (see the module
    docstring). ``arms`` (name -> ``make_model(num_classes)``) builds the arms' models instead
    of the recipes; their configs stay the recipes'."""
    recipes = check_recipes(recipes)
    arms = check_arms(arms)
    data = split(dataset, test_fraction, seed)
    n_updates = budget(recipes, len(data.X_train), epochs, updates)
    if base is None:
        base = PretrainedModel(architecture, data.input_shape)
    elif tuple(check_base(base).input_shape) != data.input_shape:
        raise ValueError(f"base expects inputs of shape {base.input_shape}; the data has {data.input_shape}")
    results = {name: run_arm(recipe, base, data, n_updates, seed, None if arms is None else arms[name])
               for name, recipe in recipes.items()}
    done = {r.updates for r in results.values()}
    if len(done) != 1:  # the protocol's promise; a failure here is a bug, not bad input
        raise RuntimeError(f"compare_strategies: the strategies ran different numbers of updates {done}")
    return StrategyComparison(**results, n_train=len(data.X_train), n_test=len(data.X_test),
                              num_classes=data.num_classes, input_shape=data.input_shape,
                              architecture=base.architecture, evaluated_on=data.evaluated_on,
                              epochs=make_config(recipes["feature_extraction"].replace(updates=n_updates),
                                                 len(data.X_train), seed=seed).epochs,
                              updates=done.pop())
