"""Exercise 02.1: the reference solution and the hidden cases (instructor side, never shipped)."""

from __future__ import annotations

import numpy as np

from tlkit.exercises.ex02_softmax_cross_entropy import _case
from tlkit.exercises.registry import Case


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Reference: mean cross-entropy of softmax(logits) and its gradient w.r.t. the logits."""
    logits = np.asarray(logits)
    labels = np.asarray(labels)
    n = logits.shape[0]
    rows = np.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)  # the largest logit becomes 0
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, labels].mean()
    grad = np.exp(log_probs)
    grad[rows, labels] -= 1.0
    grad /= n
    return float(loss), grad.astype(logits.dtype, copy=False)


def make_hidden_cases(rng: np.random.Generator) -> tuple[Case, ...]:
    cases = []
    for index in range(6):
        n, c = int(rng.integers(1, 9)), int(rng.integers(2, 7))
        scale = [1.0, 3.0, 50.0, 1.0, 1e3, 0.1][index]
        logits = rng.normal(scale=scale, size=(n, c))
        if index % 2:
            logits = logits.astype(np.float32)
        labels = rng.integers(0, c, size=n).tolist()
        cases.append(_case(f"hidden {index + 1}: N={n}, C={c}", logits, labels, True))
    return tuple(cases)


reference = softmax_cross_entropy
