"""Exercise 04.2: the reference TransferLearningManager and the hidden cases (instructor side)."""

from __future__ import annotations

import math
import time
from types import SimpleNamespace

import numpy as np

from tlkit.exercises.ex04_transfer_learning_manager import ARMS, compare_case, recommend_case
from tlkit.exercises.registry import Case


class TransferLearningManager:
    """The course's rule as a recommendation, and a fair, timed comparison of the three strategies."""

    LAYERS = ["layer1", "layer2", "layer3", "layer4"]  # the blocks of the medium base, from the input
    LEARNING_RATES = {"feature_extraction": 0.01, "fine_tuning": 0.003, "from_scratch": 0.01}

    @classmethod
    def recommend_strategy(cls, dataset_size, task_similarity):
        """An object with strategy, layers_to_freeze, recommended_lr and reasoning, by the course's rule."""
        if dataset_size < 1_000:
            size = "small"
        elif dataset_size < 10_000:
            size = "medium"
        else:
            size = "large"
        rule = {  # (size, similarity) -> (strategy, how many blocks stay frozen)
            ("small", "high"): ("feature_extraction", 4),
            ("small", "medium"): ("fine_tuning", 2),
            ("small", "low"): ("fine_tuning", 2),
            ("medium", "high"): ("fine_tuning", 2),
            ("medium", "medium"): ("fine_tuning", 1),
            ("medium", "low"): ("fine_tuning", 1),
            ("large", "high"): ("fine_tuning", 0),
            ("large", "medium"): ("fine_tuning", 0),
            ("large", "low"): ("from_scratch", 0),
        }
        advice = {
            "feature_extraction": "extract features: the pretrained features already fit, and a new "
                                  "head alone cannot over-fit the few examples",
            "fine_tuning": "fine-tune: the top blocks adapt to the new task, while the early, generic "
                           "blocks stay as they are",
            "from_scratch": "train from scratch: there is enough data to learn features of its own, "
                            "and the source's features may mislead",
        }
        strategy, frozen = rule[(size, task_similarity)]
        reasoning = (f"{dataset_size:,} labelled examples make a {size} dataset, and the task's "
                     f"similarity to the source is {task_similarity}, so {advice[strategy]}.")
        return SimpleNamespace(strategy=strategy, layers_to_freeze=cls.LAYERS[:frozen],
                               recommended_lr=cls.LEARNING_RATES[strategy], reasoning=reasoning)

    @classmethod
    def compare_strategies(cls, dataset, arms, updates=300, batch_size=32, seed=0, test_fraction=0.25):
        """Every arm on the same split with the same number of updates, each timed on its own."""
        X, y = (dataset["X"], dataset["y"]) if isinstance(dataset, dict) else dataset
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y).astype(np.int64)
        num_classes = max(2, int(y.max()) + 1)
        order = np.random.default_rng(seed).permutation(len(X))
        n_test = int(test_fraction * len(X))
        test, train = order[:n_test], order[n_test:]
        if n_test == 0:  # too few examples to hold any out: score on the training examples
            test = train
        steps = math.ceil(len(train) / batch_size)
        epochs = max(1, math.ceil(updates / steps))
        results = {}
        for name, make_model in arms.items():
            config = {"epochs": epochs, "learning_rate": cls.LEARNING_RATES.get(name, 0.01),
                      "batch_size": batch_size, "seed": seed}
            start = time.perf_counter()
            model = make_model(num_classes)
            model.train(X[train], y[train], config)
            seconds = time.perf_counter() - start
            accuracy = float(np.mean(model.predict(X[test]) == y[test]))
            results[name] = SimpleNamespace(accuracy=accuracy, time=seconds, epochs=epochs,
                                            updates=epochs * steps)
        return SimpleNamespace(**results)


def make_hidden_cases(rng: np.random.Generator) -> tuple[Case, ...]:
    cases = [
        recommend_case("hidden 1: sizes around the boundaries",
                       (rng.choice([1_000, 10_000], size=2, replace=False)
                        + rng.integers(-2, 3, size=2)).tolist(), True),
        recommend_case("hidden 2: random sizes", [int(rng.integers(1, 1_000)), int(rng.integers(1_000, 10_000)),
                                                  int(rng.integers(10_000, 5_000_000))], True),
    ]
    for index in range(3):
        n = int(rng.integers(2, 60)) if index else int(rng.integers(1, 4))
        k = int(rng.integers(1, 5))
        specs = {arm: (float(rng.choice([0.001, 0.002, 0.003])), float(rng.choice([0.003, 0.006, 0.01])),
                       float(rng.choice([0.004, 0.006])), float(rng.integers(0, 9)) / 8) for arm in ARMS}
        order = list(ARMS) if rng.random() < 0.5 else list(ARMS)[::-1]
        cases.append(compare_case(
            f"hidden {index + 3}: N={n}, {k} label(s)", n, k, int(rng.integers(1, 40)),
            int(rng.choice([4, 8, 16, 32])), int(rng.integers(0, 100)), {arm: specs[arm] for arm in order},
            labels="zeros" if k == 1 else "cycle", dataset="pair" if rng.random() < 0.5 else "dict",
            hidden=True))
    return tuple(cases)


reference = TransferLearningManager
