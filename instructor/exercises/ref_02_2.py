"""Exercise 02.2: the reference solution and the hidden cases (instructor side, never shipped)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tlkit.exercises.ex02_softmax_head import _fit_case, _predict_case
from tlkit.exercises.registry import Case


class SoftmaxHead:
    """Reference: a linear softmax classifier trained on cached features."""

    def __init__(self, num_features: int, num_classes: int, loss_fn: Callable,
                 seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.W = (0.01 * rng.normal(size=(num_features, num_classes))).astype(np.float32)
        self.b = np.zeros(num_classes, dtype=np.float32)
        self.loss_fn = loss_fn

    def fit(self, features: np.ndarray, labels: np.ndarray, epochs: int = 10,
            learning_rate: float = 0.1, batch_size: int = 32) -> list[float]:
        losses = []
        for _ in range(epochs):
            batch_losses = []
            for start in range(0, len(features), batch_size):
                fb = features[start:start + batch_size]
                yb = labels[start:start + batch_size]
                loss, grad = self.loss_fn(fb @ self.W + self.b, yb)
                self.W -= learning_rate * (fb.T @ grad)
                self.b -= learning_rate * grad.sum(axis=0)
                batch_losses.append(loss)
            losses.append(float(np.mean(batch_losses)))
        return losses

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        logits = features @ self.W + self.b
        shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)

    def predict(self, features: np.ndarray):
        proba = self.predict_proba(features)
        if proba.ndim == 1:
            return int(np.argmax(proba))
        return np.argmax(proba, axis=1)


def make_hidden_cases(rng: np.random.Generator) -> tuple[Case, ...]:
    cases = []
    for index in range(3):
        method = ["predict_proba", "predict", "predict"][index]
        cases.append(_predict_case(f"hidden {index + 1}: {method}", method,
                                   int(rng.integers(2**31)), int(rng.integers(1, 9)),
                                   int(rng.integers(2, 7)), int(rng.integers(2, 6)),
                                   single=index == 2, hidden=True))
    for index in range(3, 6):
        n, bs = int(rng.integers(3, 25)), int(rng.integers(1, 9))
        cases.append(_fit_case(f"hidden {index + 1}: fit, N={n}, batch_size={bs}",
                               int(rng.integers(2**31)), n, int(rng.integers(2, 7)),
                               int(rng.integers(2, 6)), int(rng.integers(1, 5)),
                               float(rng.choice([0.01, 0.05, 0.1])), bs, hidden=True))
    return tuple(cases)


reference = SoftmaxHead
