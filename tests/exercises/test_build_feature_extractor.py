"""Exercise 02.2, build Part 2: the student's FeatureExtractor against the course's contract.

The reference and the class written in solutions/02 pass the public and hidden cases, the
latter with tlkit's strategies and training loop disabled (only the engine, tlkit.parts and
the base's own methods stand behind it); the untouched stub is NOT DONE; each typical
mistake (features recomputed every epoch, a base left trainable, ...) gets a failure kind
and a hint of its own.
"""

from __future__ import annotations

import ast
import time
from pathlib import Path

import numpy as np
import pytest

import tlkit
from instructor import exercises as answer_key
from tests.exercises.test_notebook_exercises import exercise_cells
from tlkit import TrainingConfig, TrainingHistory
from tlkit.exercises import check, get_exercise, run_cases, solution_or_fallback
from tlkit.nn import losses
from tlkit.nn.network import Network
from tlkit.nn.optimizers import Adam
from tlkit.parts import new_head

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = get_exercise("02.2")


def exercise_cell(folder: str) -> str:
    return exercise_cells(folder)["02.2"][1]


def defined(source: str):
    namespace = {"__name__": "__main__"}
    exec(compile(source, "<exercise cell>", "exec"), namespace)
    return namespace["FeatureExtractor"]


SOLVED = defined(exercise_cell("solutions"))
ALL_CASES = EXERCISE.public_cases + answer_key.hidden_cases("02.2", 20261201)


def score(cls, cases=ALL_CASES):
    return answer_key.score("02.2", cases, run_cases(EXERCISE, cls, cases))


def test_the_reference_passes_public_and_hidden_cases():
    for cases in (ALL_CASES, answer_key.hidden_cases("02.2", 3)):
        result = score(answer_key.reference("02.2"), cases)
        assert result.status == "passed", result.messages
    assert len(EXERCISE.public_cases) >= 5
    assert len(answer_key.hidden_cases("02.2", 0)) >= 5


def test_the_notebook_class_passes_with_tlkits_strategies_disabled(monkeypatch):
    def disabled(*args, **kwargs):
        raise AssertionError("the student's class used tlkit's strategies or training loop")

    monkeypatch.setattr(tlkit.strategies.strategy.StrategyBase, "train", disabled)
    monkeypatch.setattr(tlkit.strategies.strategy.StrategyBase, "predict_proba", disabled)
    monkeypatch.setattr(tlkit.training.Trainer, "fit", disabled)
    assert SOLVED.__mro__ == (SOLVED, object)
    result = score(SOLVED)
    assert result.status == "passed", result.messages


def test_the_notebook_class_imports_only_the_engine_parts():
    tree = ast.parse(exercise_cell("solutions"))
    imported = {(node.module, alias.name) for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) for alias in node.names}
    imported |= {(alias.name, None) for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}
    assert imported == {("time", None), ("numpy", None), ("tlkit", "TrainingConfig"),
                        ("tlkit", "TrainingHistory"), ("tlkit.nn", "losses"),
                        ("tlkit.nn.network", "Network"), ("tlkit.nn.optimizers", "Adam"),
                        ("tlkit.parts", "new_head")}


def test_the_stub_is_not_done_and_the_notebook_falls_back_to_tlkit(capsys):
    stub = defined(exercise_cell("notebooks"))
    assert "BEGIN SOLUTION" not in exercise_cell("notebooks")
    assert score(stub).status == "not_done"
    check("02.2", stub)
    assert "NOT DONE" in capsys.readouterr().out
    assert solution_or_fallback("02.2", stub) is tlkit.FeatureExtractor


def test_the_fallback_itself_meets_the_contract():
    """tlkit.FeatureExtractor, which the notebook uses while the exercise is not done."""
    result = score(tlkit.FeatureExtractor)
    assert result.status == "passed", result.messages


# --- typical mistakes: each gets its own kind and hint ----------------------------------------


def _epochs(model, X, y, config, features_of_epoch, update=True, per_batch=False):
    """A training loop for the mutants: features_of_epoch() gives each epoch's features."""
    start = time.perf_counter()
    if isinstance(config, dict):
        config = TrainingConfig(**config)
    labels = np.asarray(y)
    rng = np.random.default_rng(config.seed)
    optimizer = Adam(lr=config.learning_rate)
    history = TrainingHistory()
    for _ in range(config.epochs):
        features = features_of_epoch()
        order = rng.permutation(len(features))
        batch_losses = []
        for first in range(0, len(order), config.batch_size):
            batch = order[first:first + config.batch_size]
            logits = model.head.forward(features[batch], training=True)
            loss, grad = losses.softmax_cross_entropy(logits, labels[batch])
            model.head.backward(grad)
            if update:
                optimizer.step(model.head.param_groups())
            batch_losses.append(loss)
        accuracy = float(np.mean(np.argmax(model.head.infer(features), axis=1) == labels))
        if per_batch:
            history.loss.extend(batch_losses)
            history.accuracy.extend([accuracy] * len(batch_losses))
        else:
            history.loss.append(float(np.mean(batch_losses)))
            history.accuracy.append(accuracy)
    history.train_time = time.perf_counter() - start
    return history


def _features(model, X):
    return model.base.extract_features(np.asarray(X, dtype=np.float32))


class RecomputesEveryEpoch(SOLVED):
    def train(self, X, y, config):
        return _epochs(self, X, y, config, lambda: _features(self, X))


class LeavesTheBaseTrainable(SOLVED):
    def __init__(self, base, num_classes, seed=0):
        super().__init__(base, num_classes, seed)
        base.unfreeze()


class TrainsTheBaseToo(SOLVED):
    """Unfreezes the base in train and backpropagates through it (fine-tuning, not extraction)."""

    def train(self, X, y, config):
        start = time.perf_counter()
        config = TrainingConfig(**config) if isinstance(config, dict) else config
        self.base.unfreeze()
        network = Network(self.base.network.blocks + self.head.blocks)
        x = np.asarray(X, dtype=np.float32)[..., None]
        labels = np.asarray(y)
        optimizer = Adam(lr=config.learning_rate)
        history = TrainingHistory()
        for _ in range(config.epochs):
            loss, grad = losses.softmax_cross_entropy(network.forward(x, training=True), labels)
            network.backward(grad)
            optimizer.step(network.param_groups())
            history.loss.append(loss)
            history.accuracy.append(0.5)
        history.train_time = time.perf_counter() - start
        return history


class OneLossPerMinibatch(SOLVED):
    def train(self, X, y, config):
        features = _features(self, X)
        return _epochs(self, X, y, config, lambda: features, per_batch=True)


class NoOptimizerStep(SOLVED):
    def train(self, X, y, config):
        features = _features(self, X)
        return _epochs(self, X, y, config, lambda: features, update=False)


class Unseeded(SOLVED):
    def train(self, X, y, config):
        config = TrainingConfig(**config) if isinstance(config, dict) else config
        config.seed = int(np.random.default_rng().integers(1_000_000))
        features = _features(self, X)
        return _epochs(self, X, y, config, lambda: features)


class NoTrainTime(SOLVED):
    def train(self, X, y, config):
        history = super().train(X, y, config)
        history.train_time = 0.0
        return history


class AttributesOfTheConfigOnly(SOLVED):
    def train(self, X, y, config):
        config.epochs  # noqa: B018 - a dict has no attribute epochs
        return super().train(X, y, config)


class LogitsAsProbabilities(SOLVED):
    def predict_proba(self, x):
        features = _features(self, x)
        single = features.ndim == 1
        logits = self.head.infer(features[None] if single else features)
        return logits[0] if single else logits


class ArrayForOneSample(SOLVED):
    def predict(self, x):
        probabilities = self.predict_proba(x)
        return np.argmax(np.atleast_2d(probabilities), axis=1)


class HeadSizedByTheLabelsSeen(SOLVED):
    def train(self, X, y, config):
        seen = len(np.unique(np.asarray(y)))
        self.head = Network([new_head(self.base.get_feature_size(), max(seen, 2))])
        return super().train(X, y, config)


class PercentAccuracy(SOLVED):
    def train(self, X, y, config):
        history = super().train(X, y, config)
        history.accuracy = [100 * a for a in history.accuracy]
        return history


@pytest.mark.parametrize("cls, kind", [
    (RecomputesEveryEpoch, "features_recomputed"),
    (LeavesTheBaseTrainable, "base_not_frozen"),
    (TrainsTheBaseToo, "base_changed"),
    (OneLossPerMinibatch, "history_length"),
    (NoOptimizerStep, "not_learning"),
    (Unseeded, "not_deterministic"),
    (NoTrainTime, "train_time"),
    (AttributesOfTheConfigOnly, "dict_config"),
    (LogitsAsProbabilities, "proba_not_normalised"),
    (ArrayForOneSample, "predict_single"),
    (HeadSizedByTheLabelsSeen, "proba_shape"),
    (PercentAccuracy, "accuracy_range"),
])
def test_a_typical_mistake_gets_its_own_kind_and_hint(cls, kind, capsys):
    result = check("02.2", cls)
    out = capsys.readouterr().out
    assert result.status == "failed", result.messages
    assert kind in result.kinds, result.messages
    assert f"Hint: {EXERCISE.hints[kind]}" in out


def test_recomputing_the_features_is_reported_with_the_counts(capsys):
    check("02.2", RecomputesEveryEpoch)
    out = capsys.readouterr().out
    # 24 samples, 10 epochs: 240 samples through the base instead of 24
    assert "the base processed 240 samples; computing the features once takes 24" in out


def test_every_kind_the_checks_raise_has_a_hint():
    source = (ROOT / "tlkit" / "exercises" / "ex02_feature_extractor.py").read_text(encoding="utf-8")
    kinds = {node.args[0].value for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "CheckFailure"
             and isinstance(node.args[0], ast.Constant)}
    assert "features_recomputed" in kinds
    assert kinds - {"no_return"} <= set(EXERCISE.hints)


def _flags(source: str) -> list[str]:
    from instructor.grading.submissions import library_use
    from tlkit.exercises.cells import Cell, extract_exercises

    found, _ = extract_exercises([Cell("nb.ipynb", 1, source)], ["02.2"])
    return library_use(found["02.2"], EXERCISE.name, EXERCISE.library_names)


def test_a_class_that_wraps_tlkits_is_flagged_and_the_solution_is_not():
    assert _flags(exercise_cell("solutions")) == []
    wrapped = ("### EXERCISE 02.2\nfrom tlkit.strategies import FeatureExtractor as Strategy\n\n\n"
               "class FeatureExtractor(Strategy):\n    pass\n")
    assert any("FeatureExtractor" in reason for reason in _flags(wrapped))
    trainer = ("### EXERCISE 02.2\nfrom tlkit.training import Trainer\n\n\n"
               "class FeatureExtractor:\n    def train(self, X, y, config):\n"
               "        return Trainer(self.head, config).fit(X, y)\n")
    assert any("Trainer" in reason for reason in _flags(trainer))
