"""Exercise 04.1: the reference solution and the hidden cases (instructor side, never shipped)."""

from __future__ import annotations

import numpy as np

from tlkit.exercises.ex04_recommend_strategy import _case
from tlkit.exercises.registry import Case


def recommend_strategy(dataset_size: int, task_similarity: str) -> str:
    """Reference: "feature_extraction", "fine_tuning" or "from_scratch"."""
    if dataset_size < 1_000:  # small
        return "feature_extraction" if task_similarity == "high" else "fine_tuning"
    if dataset_size < 10_000:  # medium
        return "fine_tuning"
    return "from_scratch" if task_similarity == "low" else "fine_tuning"  # large


def make_hidden_cases(rng: np.random.Generator) -> tuple[Case, ...]:
    ranges = [(1, 1_000), (1_000, 10_000), (10_000, 2_000_000), (1, 50_000)]
    cases = [_case(f"hidden {i + 1}: sizes in [{lo:,}, {hi:,})",
                   rng.integers(lo, hi, size=3).tolist(), True)
             for i, (lo, hi) in enumerate(ranges)]
    cases.append(_case("hidden 5: around the boundaries",
                       (rng.choice([999, 1_000, 9_999, 10_000], size=2, replace=False)
                        + rng.integers(-2, 3, size=2)).tolist(), True))
    return tuple(cases)


reference = recommend_strategy
