"""Exercise 03.2: the reference FineTuner and the hidden cases (instructor side, never shipped)."""

from __future__ import annotations

import time

import numpy as np

from tlkit import TrainingHistory
from tlkit.exercises.ex03_fine_tuner import ARCHITECTURES, _case
from tlkit.exercises.registry import Case
from tlkit.nn.losses import softmax, softmax_cross_entropy
from tlkit.nn.network import Network
from tlkit.parts import new_head


class FineTuner:
    """Reference: freeze the base, unfreeze the chosen blocks, train them with per-block rates."""

    def __init__(self, base, num_classes, layers_to_unfreeze=None):
        self.base = base
        self.num_classes = int(num_classes)
        names = base.get_layer_names()
        if layers_to_unfreeze is None:
            chosen = []
        elif layers_to_unfreeze == "all":
            chosen = list(names)
        elif isinstance(layers_to_unfreeze, str):
            chosen = [layers_to_unfreeze]
        else:
            chosen = list(layers_to_unfreeze)
        unknown = [name for name in chosen if name not in names]
        if unknown:
            raise ValueError(f"layers_to_unfreeze has unknown names {unknown}; valid names are {names}")
        base.freeze()
        if chosen:
            base.unfreeze(chosen)
        self.head = None  # built by the first train(), when the feature size is known
        self.rates = {}

    def set_layer_learning_rate(self, name, lr):
        valid = self.base.get_layer_names() + ["head"]
        if name not in valid:
            raise ValueError(f"unknown layer name {name!r}; valid names are {valid}")
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        self.rates[name] = float(lr)

    def train(self, X, y, config=None):
        settings = {"epochs": 10, "learning_rate": 0.01, "batch_size": 32, "seed": 0,
                    "warmup_epochs": None}
        for key in settings:
            if isinstance(config, dict) and key in config:
                settings[key] = config[key]
            elif config is not None and not isinstance(config, dict):
                settings[key] = getattr(config, key, settings[key])
        epochs, lr = settings["epochs"], settings["learning_rate"]
        batch_size, warmup = settings["batch_size"], settings["warmup_epochs"]
        if warmup is None:  # 10% of the epochs, at least 1, but never the whole run
            warmup = 0 if epochs <= 1 else max(1, round(0.1 * epochs))
        start = time.perf_counter()
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y).astype(np.int64)
        if self.head is None:
            self.head = new_head(self.base.extract_features(X[:1]).shape[-1], self.num_classes, seed=0)
        inputs = X[..., None] if X.ndim == 3 else X  # images (N, H, W) -> (N, H, W, 1)
        chosen = [block for block in self.base.network.blocks if block.trainable]
        network = Network(self.base.network.blocks + [self.head])
        rng = np.random.default_rng(settings["seed"])
        history = TrainingHistory()
        try:
            for epoch in range(epochs):
                for block in chosen:  # during the warm-up the chosen blocks are frozen too
                    block.trainable = epoch >= warmup
                total_loss, correct = 0.0, 0
                order = rng.permutation(len(X))
                for begin in range(0, len(X), batch_size):
                    rows = order[begin:begin + batch_size]
                    logits = network.forward(inputs[rows], training=True)
                    loss, grad = softmax_cross_entropy(logits, y[rows])
                    network.backward(grad)
                    for block in network.blocks:
                        if block.trainable:
                            rate = self.rates.get(block.name, lr)
                            group = block.param_group(1.0)
                            for key, param in group.params.items():
                                param -= rate * group.grads[key]
                    history.updates += 1
                    total_loss += loss * len(rows)
                    correct += int(np.sum(np.argmax(logits, axis=1) == y[rows]))
                history.loss.append(total_loss / len(X))
                history.accuracy.append(correct / len(X))
                for block in network.blocks:
                    rate = self.rates.get(block.name, lr) if block.trainable else 0.0
                    history.learning_rates.setdefault(block.name, []).append(rate)
        finally:
            for block in chosen:
                block.trainable = True
        history.train_time = time.perf_counter() - start
        return history

    def predict_proba(self, x):
        features = np.asarray(self.base.extract_features(x), dtype=np.float32)
        probabilities = softmax(self.head.forward(np.atleast_2d(features), training=False))
        return probabilities[0] if features.ndim == 1 else probabilities

    def predict(self, x):
        probabilities = self.predict_proba(x)
        if probabilities.ndim == 1:
            return int(np.argmax(probabilities))
        return np.argmax(probabilities, axis=1)


def make_hidden_cases(rng: np.random.Generator) -> tuple[Case, ...]:
    def draw(options):
        return options[int(rng.integers(len(options)))]

    cases = []
    for index in range(6):
        arch = draw(ARCHITECTURES)
        names = [f"layer{i}" for i in range(1, {"simple": 2, "medium": 4}[arch] + 1)]
        d, k = int(rng.integers(3, 9)), int(rng.integers(2, 5))
        n = int(rng.integers(4, 9)) * k
        seed = int(rng.integers(2**31))
        top = names[int(rng.integers(len(names))):]
        label = f"hidden {index + 1}"
        if index == 0:  # per-block rates, one step
            lr = float(draw([0.02, 0.05, 0.1]))
            rates_a = {top[0]: lr * float(draw([0.1, 0.25, 0.5]))}
            rates_b = {top[-1]: lr * float(draw([0.2, 2.0]))}
            cases.append(_case(f"{label}: per-block rates, {arch}", arch, d, k, n, seed, "all", "rates",
                               {"epochs": 1, "learning_rate": lr, "batch_size": n, "warmup_epochs": 0},
                               rates=rates_a, second={"learning_rate": lr * 2, "rates": rates_b},
                               hidden=True))
        elif index == 1:  # the warm-up is the whole run
            epochs = int(rng.integers(1, 4))
            cases.append(_case(f"{label}: a warm-up of all {epochs} epoch(s)", arch, d, k, n, seed, top,
                               "train", {"epochs": epochs, "learning_rate": 0.05, "batch_size": 8,
                                         "warmup_epochs": epochs}, hidden=True))
        elif index == 2:  # one epoch, default warm-up
            cases.append(_case(f"{label}: one epoch, default warm-up", arch, d, k, n, seed, top, "train",
                               {"epochs": 1, "learning_rate": 0.05, "batch_size": n}, config_type="object",
                               hidden=True))
        elif index == 3:  # warm-up length
            cases.append(_case(f"{label}: a 1-epoch warm-up then {len(top)} block(s)", arch, d, k, n, seed,
                               top, "warmup_split", {"epochs": int(rng.integers(2, 4)), "learning_rate": 0.05,
                                                     "batch_size": n, "warmup_epochs": 1}, hidden=True))
        elif index == 4:  # a frozen block between trainable ones, an unknown name
            middle = names[1:2] if len(names) > 2 else names[-1:]
            cases.append(_case(f"{label}: only {middle[0]} unfrozen", arch, d, k, n, seed, middle, "train",
                               {"epochs": 3, "learning_rate": 0.05, "batch_size": 8, "warmup_epochs": 1},
                               unknown=draw(["layer9", "head2", "Layer1"]), hidden=True))
        else:  # learning on separable data
            cases.append(_case(f"{label}: it learns, {arch}", arch, d, k, 10 * k, seed,
                               draw([None, "all", top]), "train",
                               {"epochs": 12, "learning_rate": 0.1, "batch_size": 8},
                               rates={names[0]: 0.01}, hidden=True))
    return tuple(cases)


reference = FineTuner
