"""Exercise 01.1: the reference solution and the hidden cases (instructor side, never shipped)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tlkit.exercises.ex01_batched_features import _case
from tlkit.exercises.registry import Case


def extract_in_batches(extract_fn: Callable, X: np.ndarray, batch_size: int) -> np.ndarray:
    """Reference: ``extract_fn`` on slices ``X[i:i + batch_size]``, stacked as float32."""
    X = np.asarray(X)
    parts = [
        np.asarray(extract_fn(X[start:start + batch_size]), dtype=np.float32)
        for start in range(0, len(X), batch_size)
    ]
    return np.concatenate(parts, axis=0)


def make_hidden_cases(rng: np.random.Generator) -> tuple[Case, ...]:
    cases = []
    for index in range(6):
        n = int(rng.integers(1, 41))
        batch_size = int(rng.integers(1, 17))
        in_shape = (int(rng.integers(2, 7)),) if index % 2 == 0 else (
            int(rng.integers(2, 5)), int(rng.integers(2, 5)))
        dtype = np.float64 if index == 5 else np.float32
        cases.append(_case(f"hidden {index + 1}: N={n}, batch_size={batch_size}", n,
                           batch_size, in_shape, int(rng.integers(2**31)), dtype,
                           n_features=int(rng.integers(2, 9)), hidden=True))
    return tuple(cases)


reference = extract_in_batches
