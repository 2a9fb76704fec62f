"""Exercise 03.2: the reference solution and the hidden cases (instructor side, never shipped)."""

from __future__ import annotations

import numpy as np

from tlkit.exercises.ex03_unfreezing_schedule import _case
from tlkit.exercises.registry import Case


def blocks_training_at(epoch: int, blocks: list[str], warmup_epochs: int,
                       unfreeze_every: int | None) -> list[str]:
    """Reference: the blocks (bottom to top) and the head that train in ``epoch``."""
    if epoch < warmup_epochs:
        return ["head"]
    if unfreeze_every is None:
        return list(blocks) + ["head"]
    count = 1 + (epoch - warmup_epochs) // unfreeze_every
    return list(blocks[max(len(blocks) - count, 0):]) + ["head"]


def make_hidden_cases(rng: np.random.Generator) -> tuple[Case, ...]:
    cases = []
    for index in range(5):
        k = int(rng.integers(1, 7))
        warmup = int(rng.integers(0, 4))
        every = None if index == 0 else int(rng.integers(1, 4))
        epochs = int(rng.integers(3, 13))
        cases.append(_case(f"hidden {index + 1}: {k} blocks, warm-up {warmup}, every {every}",
                           k, warmup, every, epochs, first=int(rng.integers(1, 4)), hidden=True))
    return tuple(cases)


reference = blocks_training_at
