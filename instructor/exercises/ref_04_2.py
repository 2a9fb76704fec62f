"""Exercise 04.2: the reference solution and the hidden cases (instructor side, never shipped)."""

from __future__ import annotations

import math
import time

import numpy as np

from tlkit.exercises.ex04_compare_strategies import _case
from tlkit.exercises.registry import Case


def compare_strategies(arms: dict, X, y, update_budget: int) -> dict[str, dict]:
    """Reference: train every arm with the same number of updates; time each call."""
    results = {}
    for name, (train_fn, batch_size) in arms.items():
        steps = math.ceil(len(X) / batch_size)
        epochs = max(1, math.ceil(update_budget / steps))
        start = time.perf_counter()
        accuracy = train_fn(X, y, epochs, batch_size)
        seconds = time.perf_counter() - start
        results[name] = {"epochs": epochs, "updates": epochs * steps, "seconds": seconds,
                         "accuracy": accuracy}
    return results


def make_hidden_cases(rng: np.random.Generator) -> tuple[Case, ...]:
    names = ["feature_extraction", "fine_tuning", "from_scratch"]
    cases = []
    for index in range(4):
        n, budget = int(rng.integers(1, 300)), int(rng.integers(1, 120))
        chosen = [name for name in names if rng.random() < 0.8] or ["fine_tuning"]
        arms = [(name, int(rng.choice([4, 8, 16, 32, 64, 100])),
                 float(rng.integers(0, 17)) / 16) for name in chosen]
        cases.append(_case(f"hidden {index + 1}: N={n}, budget {budget}", n, budget, arms, True))
    return tuple(cases)


reference = compare_strategies
