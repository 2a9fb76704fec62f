"""Exercise 03.1: the reference solution and the hidden cases (instructor side, never shipped)."""

from __future__ import annotations

import numpy as np

from tlkit.exercises.ex03_per_layer_update import _case
from tlkit.exercises.registry import Case


def per_layer_sgd_update(
    weights: dict[str, np.ndarray],
    grads: dict[str, np.ndarray],
    base_lr: float,
    multipliers: dict[str, float],
    frozen: set[str],
) -> dict[str, np.ndarray]:
    """Reference: a new dict of updated weights; frozen ones copied unchanged."""
    new_weights = {}
    for name, w in weights.items():
        if name in frozen:
            new_weights[name] = w.copy()
        else:
            step = base_lr * multipliers.get(name, 1.0) * grads[name]
            new_weights[name] = (w - step).astype(w.dtype, copy=False)
    return new_weights


def make_hidden_cases(rng: np.random.Generator) -> tuple[Case, ...]:
    cases = []
    for index in range(6):
        k = int(rng.integers(1, 6))
        names = [f"layer{i}" for i in range(1, k + 1)] + ["head"]
        frozen = [n for n in names[:-1] if rng.random() < 0.4]
        multipliers = {n: float(rng.choice([0.01, 0.1, 0.5, 1.0, 2.0])) for n in names
                       if rng.random() < 0.7}
        base_lr = float(rng.choice([0.001, 0.01, 0.1, 0.3]))
        cases.append(_case(f"hidden {index + 1}: {len(names)} blocks, {len(frozen)} frozen",
                           names, base_lr, multipliers, frozen, int(rng.integers(2**31)),
                           drop_frozen_grads=bool(index % 2), hidden=True))
    return tuple(cases)


reference = per_layer_sgd_update
