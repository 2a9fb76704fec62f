"""Exercise 02.2 (build Part 2): the reference FeatureExtractor and the hidden cases (instructor side)."""

from __future__ import annotations

import time

import numpy as np

from tlkit import TrainingConfig, TrainingHistory
from tlkit.exercises.ex02_feature_extractor import _case
from tlkit.exercises.registry import Case
from tlkit.nn import losses
from tlkit.nn.network import Network
from tlkit.nn.optimizers import Adam
from tlkit.parts import new_head


class FeatureExtractor:
    """Reference: a frozen base, its features computed once per train, a new head trained on them."""

    def __init__(self, base, num_classes, seed=0):
        """Freeze every block of base; build the new head (seed fixes its first weights)."""
        self.base = base
        self.num_classes = num_classes
        self.base.freeze()
        self.head = Network([new_head(base.get_feature_size(), num_classes, seed=seed)])

    def train(self, X, y, config):
        """Train the head on the base's features of X (computed once); return a TrainingHistory."""
        start = time.perf_counter()
        if isinstance(config, dict):
            config = TrainingConfig(**config)
        features = self.base.extract_features(np.asarray(X, dtype=np.float32))  # once
        labels = np.asarray(y, dtype=np.int64)
        rng = np.random.default_rng(config.seed)
        optimizer = Adam(lr=config.learning_rate)
        history = TrainingHistory()
        n = len(features)
        for _ in range(config.epochs):
            order = rng.permutation(n)
            total_loss, correct = 0.0, 0
            for first in range(0, n, config.batch_size):
                batch = order[first:first + config.batch_size]
                logits = self.head.forward(features[batch], training=True)
                loss, grad = losses.softmax_cross_entropy(logits, labels[batch])
                self.head.backward(grad)
                optimizer.step(self.head.param_groups())
                total_loss += loss * len(batch)
                correct += int(np.sum(np.argmax(logits, axis=1) == labels[batch]))
            history.loss.append(total_loss / n)
            history.accuracy.append(correct / n)
        history.train_time = time.perf_counter() - start
        return history

    def predict_proba(self, x):
        """Class probabilities: one sample -> (num_classes,), a batch -> (N, num_classes)."""
        features = self.base.extract_features(np.asarray(x, dtype=np.float32))
        single = features.ndim == 1
        probabilities = losses.softmax(self.head.infer(features[None] if single else features))
        return probabilities[0] if single else probabilities

    def predict(self, x):
        """The most probable class: one sample -> an int, a batch -> an (N,) int array."""
        probabilities = self.predict_proba(x)
        if probabilities.ndim == 1:
            return int(np.argmax(probabilities))
        return np.argmax(probabilities, axis=1)


def make_hidden_cases(rng: np.random.Generator) -> tuple[Case, ...]:
    cases = []
    for index in range(6):
        num_classes = int(rng.integers(2, 6))
        vectors = index % 2 == 1
        n = int(rng.integers(num_classes * 3, 41))
        batch_size = int(rng.integers(2, 17))
        cases.append(_case(
            f"hidden {index + 1}: {'vectors' if vectors else 'images'}, {num_classes} classes, "
            f"N={n}, batch_size={batch_size}",
            seed=int(rng.integers(2**31)), input_shape=int(rng.integers(4, 10)) if vectors else None,
            num_classes=num_classes, n=n, n_test=30, epochs=int(rng.integers(8, 13)),
            batch_size=batch_size, config_kind=str(rng.choice(["dict", "TrainingConfig"])),
            as_lists=index == 4, twice=index == 0, min_accuracy=0.7, hidden=True))
    return tuple(cases)


reference = FeatureExtractor
