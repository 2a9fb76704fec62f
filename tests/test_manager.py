"""TransferLearningManager: the rule with real layer names, comparisons, transferability."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from tlkit import PretrainedModel, TransferLearningManager
from tlkit.manager import Recommendation, StrategyComparison, stratified_holdout
from tlkit.strategies import FeatureExtractor, FineTuner, FromScratch
from tlkit.strategy_rule import SIMILARITIES, choose_strategy, size_category

M = TransferLearningManager
SIZES = (1, 999, 1_000, 9_999, 10_000, 99_999, 100_000, 10**6)


def blobs(n=40, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    centres = rng.normal(0, 3, (k, d)).astype(np.float32)
    return (centres[y] + rng.normal(0, 0.5, (n, d))).astype(np.float32), y


# -- recommend_strategy --------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("similarity", SIMILARITIES)
def test_follows_the_course_rule(size, similarity):
    rec = M.recommend_strategy(size, similarity)
    assert isinstance(rec, Recommendation)
    assert rec.strategy == choose_strategy(size, similarity)
    assert rec.size_category == size_category(size) == M.size_category(size)
    assert rec.recommended_lr > 0
    assert isinstance(rec.reasoning, str) and "Watch out" in rec.reasoning
    assert similarity in rec.reasoning and f"{size:,}" in rec.reasoning


@pytest.mark.parametrize(("arch", "n"), [("simple", 2), ("medium", 4), ("deep", 8)])
def test_layers_to_freeze_use_the_architectures_real_names(arch, n):
    names = PretrainedModel(arch, 6).get_layer_names()
    assert len(names) == n
    fe = M.recommend_strategy(100, "high", arch)
    assert fe.strategy == "feature_extraction" and fe.layers_to_freeze == names
    ft = M.recommend_strategy(100, "low", arch)
    assert ft.strategy == "fine_tuning"
    assert ft.layers_to_freeze == names[: n // 2]  # the lower half, as the rule says
    assert ft.layers_to_train == names[n // 2:] + ["head"]
    assert ft.recommended_lr < fe.recommended_lr
    all_ft = M.recommend_strategy(50_000, "high", arch)
    assert all_ft.layers_to_freeze == []
    scratch = M.recommend_strategy(500_000, "low", arch)
    assert scratch.strategy == "from_scratch" and scratch.layers_to_freeze == []


def test_recommendation_builds_the_strategy():
    base = PretrainedModel("medium", 6)
    rec = M.recommend_strategy(100, "medium")
    strategy = rec.build(base, 3)
    assert isinstance(strategy, FineTuner)
    assert strategy.unfrozen_layers() == ["layer3", "layer4"]
    assert rec.config(epochs=3).learning_rate == rec.recommended_lr
    assert isinstance(M.recommend_strategy(10, "high").build(base, 3), FeatureExtractor)
    assert isinstance(M.recommend_strategy(10**6, "low").build(base, 3), FromScratch)
    assert "freeze" in str(rec)


@pytest.mark.parametrize(("args", "match"), [
    ((0, "high"), "dataset_size.*at least 1.*0"),
    ((-5, "high"), "dataset_size"),
    ((10.5, "high"), "dataset_size.*integer"),
    ((100, "very"), r"task_similarity.*'high', 'medium', 'low'.*'very'"),
    ((100, None), "task_similarity"),
    ((100, "high", "huge"), "architecture.*'simple'"),
])
def test_recommend_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        M.recommend_strategy(*args)


# -- compare_strategies ----------------------------------------------------------------------

def test_compare_on_vectors():
    X, y = blobs(n=40)
    cmp = M.compare_strategies({"X": X, "y": y}, architecture="simple", epochs=4)
    assert isinstance(cmp, StrategyComparison)
    assert cmp.n_train + cmp.n_test == 40 and cmp.n_test == 10  # 4 + 3 + 3 of 14, 13, 13
    assert cmp.num_classes == 3 and cmp.input_shape == (6,) and cmp.evaluated_on == "test"
    for name in ("feature_extraction", "fine_tuning", "from_scratch"):
        result = getattr(cmp, name)
        assert 0 <= result.accuracy <= 1 and result.time > 0
        assert result.history.epochs == 4 and result.name == name
    assert cmp.best in cmp.results.values()
    # feature extraction trains the fewest weights
    params = {n: r.trainable_parameters for n, r in cmp.results.items()}
    assert params["feature_extraction"] < params["fine_tuning"] < params["from_scratch"]
    table = cmp.table()
    assert all(n in table for n in cmp.results) and "best" in table and repr(cmp) == table


def test_compare_is_deterministic_and_takes_pairs_and_lists():
    X, y = blobs(n=24)
    a = M.compare_strategies((X.tolist(), y.tolist()), architecture="simple", epochs=2, seed=1)
    b = M.compare_strategies((X, y), architecture="simple", epochs=2, seed=1)
    assert all(a.results[n].accuracy == b.results[n].accuracy for n in a.results)
    assert all(a.results[n].history.loss == b.results[n].history.loss for n in a.results)


def test_compare_on_images_and_a_task_object():
    rng = np.random.default_rng(0)
    task = SimpleNamespace(X_train=rng.random((12, 8, 8)), y_train=np.arange(12) % 4,
                           X_test=rng.random((5, 8, 8)), y_test=np.arange(5) % 4, num_classes=4)
    cmp = M.compare_strategies(task, architecture="simple", epochs=1)
    assert cmp.n_train == 12 and cmp.n_test == 5 and cmp.input_shape == (8, 8)
    assert cmp.num_classes == 4


def test_compare_one_example_and_all_zero_labels_warns_it_scores_training_data():
    with pytest.warns(UserWarning, match="too small.*TRAINING"):
        cmp = M.compare_strategies({"X": [[0.5] * 6], "y": [0]}, architecture="simple", epochs=1)
    assert cmp.num_classes == 2 and cmp.evaluated_on == "train" and cmp.n_train == 1
    assert "TRAINING" in cmp.table()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cmp = M.compare_strategies({"X": np.ones((8, 6)), "y": np.zeros(8, int)},
                                   architecture="simple", epochs=1)
    assert cmp.num_classes == 2 and cmp.evaluated_on == "test"


def test_stratified_holdout_keeps_every_class_in_training():
    y = np.array([0] * 10 + [1] * 4 + [2])
    train, test = stratified_holdout(y, 0.25, np.random.default_rng(0))
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(15))
    assert set(y[train]) == {0, 1, 2}
    assert np.bincount(y[test], minlength=3).tolist() == [3, 1, 0]


@pytest.mark.parametrize(("dataset", "kwargs", "error", "match"), [
    ({"X": np.zeros((4, 6)), "y": [0, 1, 0]}, {}, ValueError, "different lengths"),
    ({"X": np.zeros((0, 6)), "y": []}, {}, ValueError, "empty"),
    ({"X": np.zeros((3, 6)), "y": [0, -1, 1]}, {}, ValueError, "label -1"),
    ({"X": np.full((3, 6), np.inf), "y": [0, 1, 1]}, {}, ValueError, "NaN or infinite"),
    ({"X": np.zeros((3, 6))}, {}, ValueError, "keys 'X' and 'y'"),
    ("digits", {}, TypeError, "dataset must be"),
    ({"X": np.zeros((3, 6)), "y": [0, 1, 1]}, {"epochs": 0}, ValueError, "epochs"),
    ({"X": np.zeros((3, 6)), "y": [0, 1, 1]}, {"test_fraction": 1.0}, ValueError, "test_fraction"),
    ({"X": np.zeros((3, 6)), "y": [0, 1, 1]}, {"learning_rates": {"fine_tuning": 0}},
     ValueError, "learning_rates"),
    ({"X": np.zeros((3, 6)), "y": [0, 1, 1]}, {"architecture": "big"}, ValueError, "architecture"),
    ({"X": np.zeros((3, 2, 2, 2)), "y": [0, 1, 1]}, {}, ValueError, "shape"),
])
def test_compare_bad_input(dataset, kwargs, error, match):
    with pytest.raises(error, match=match):
        M.compare_strategies(dataset, **kwargs)


# -- transferability -------------------------------------------------------------------------

def test_transferability_and_recommendation_from_data():
    X, y = blobs(n=30)
    model = PretrainedModel("medium", 6)
    score = M.estimate_transferability(model, X, y)
    assert isinstance(score, float) and np.isfinite(score)
    shuffled = M.estimate_transferability(model, X, np.random.default_rng(0).permutation(y))
    assert score > shuffled  # features predict the real labels better than shuffled ones
    rec = M.recommend_from_data(model, X, y)
    assert rec.strategy in ("feature_extraction", "fine_tuning", "from_scratch")
    assert rec.transferability == pytest.approx(score)
    assert rec.dataset_size == 30 and rec.task_similarity in SIMILARITIES
    assert "LogME" in rec.reasoning and rec.architecture == "medium"
    with pytest.raises(ValueError, match="different lengths"):
        M.estimate_transferability(model, X, y[:-1])


def test_compare_default_epochs_follow_a_step_budget():
    X, y = blobs(n=30)
    cmp = M.compare_strategies((X, y), architecture="simple")
    assert cmp.epochs == 50  # 23 training examples: one minibatch per epoch, capped at 50
    assert cmp.fine_tuning.history.epochs == 50
