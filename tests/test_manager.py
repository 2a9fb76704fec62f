"""TransferLearningManager: the rule with real layer names, comparisons, transferability."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from tlkit import PretrainedModel, TransferLearningManager
from tlkit.manager import Recommendation, StrategyComparison
from tlkit.protocol import RECIPES, get_recipe, stratified_indices
from tlkit.strategies import FeatureExtractor, FineTuner, FromScratch
from tlkit.strategy_rule import SIMILARITIES, size_category

M = TransferLearningManager
L = [f"layer{i}" for i in range(1, 9)]

# The course's rule, written out by hand from its text (Part 4), for the 4 blocks of "medium":
# small (< 1,000): similar -> feature extraction (freeze all); otherwise fine-tune the top half.
# medium (1,000-9,999): fine-tune; similar -> freeze the lower half, otherwise the first quarter.
# large (>= 10,000): very different -> from scratch; otherwise fine-tune every block.
EXPECTED_MEDIUM = [
    (1, "high", "feature_extraction", L[:4]),
    (1, "medium", "fine_tuning", L[:2]),
    (1, "low", "fine_tuning", L[:2]),
    (999, "high", "feature_extraction", L[:4]),
    (999, "medium", "fine_tuning", L[:2]),
    (999, "low", "fine_tuning", L[:2]),
    (1_000, "high", "fine_tuning", L[:2]),
    (1_000, "medium", "fine_tuning", L[:1]),
    (1_000, "low", "fine_tuning", L[:1]),
    (9_999, "high", "fine_tuning", L[:2]),
    (9_999, "medium", "fine_tuning", L[:1]),
    (9_999, "low", "fine_tuning", L[:1]),
    (10_000, "high", "fine_tuning", []),
    (10_000, "medium", "fine_tuning", []),
    (10_000, "low", "from_scratch", []),
    (50_000, "low", "from_scratch", []),  # the course's own test case
    (10**6, "high", "fine_tuning", []),
    (10**6, "medium", "fine_tuning", []),
    (10**6, "low", "from_scratch", []),
]
CATEGORY = {1: "small", 999: "small", 1_000: "medium", 9_999: "medium", 10_000: "large",
            50_000: "large", 10**6: "large"}


# -- recommend_strategy --------------------------------------------------------------------

@pytest.mark.parametrize(("size", "similarity", "strategy", "frozen"), EXPECTED_MEDIUM)
def test_follows_the_course_rule(size, similarity, strategy, frozen):
    rec = M.recommend_strategy(size, similarity)
    assert isinstance(rec, Recommendation)
    assert rec.strategy == strategy
    assert rec.layers_to_freeze == frozen
    assert rec.layers_to_train == [n for n in L[:4] if n not in frozen] + ["head"]
    assert rec.size_category == CATEGORY[size] == size_category(size)
    assert isinstance(rec.reasoning, str) and "Watch out" in rec.reasoning
    assert similarity in rec.reasoning and f"{size:,}" in rec.reasoning


def test_large_and_different_is_from_scratch_and_names_the_alternative():
    rec = M.recommend_strategy(50_000, "low")
    assert rec.strategy == "from_scratch" and rec.layers_to_freeze == []
    assert "fine-tuning" in rec.reasoning.lower()


def test_learning_rates_come_from_the_recipe_registry():
    assert M.recommend_strategy(100, "high").recommended_lr == get_recipe("feature_extraction").learning_rate
    assert M.recommend_strategy(100, "low").recommended_lr == get_recipe("fine_tuning").learning_rate
    assert M.recommend_strategy(10**5, "low").recommended_lr == get_recipe("from_scratch").learning_rate
    # fine-tuning starts lower than training a new head: the pretrained blocks must not be wrecked
    assert get_recipe("fine_tuning").learning_rate < get_recipe("feature_extraction").learning_rate


@pytest.mark.parametrize(("arch", "small_low", "medium_medium"), [
    ("medium", L[:2], L[:1]),
    ("deep", L[:4], L[:2]),
])
def test_layers_to_freeze_use_the_architectures_real_names(arch, small_low, medium_medium):
    names = PretrainedModel(arch, 6).get_layer_names()
    assert M.recommend_strategy(100, "high", arch).layers_to_freeze == names
    assert M.recommend_strategy(100, "low", arch).layers_to_freeze == small_low
    assert M.recommend_strategy(5_000, "medium", arch).layers_to_freeze == medium_medium
    assert M.recommend_strategy(50_000, "high", arch).layers_to_freeze == []


def test_recommendation_builds_the_strategy_on_a_copy():
    base = PretrainedModel("medium", 6)
    rec = M.recommend_strategy(100, "medium")
    strategy = rec.build(base, 3)
    assert isinstance(strategy, FineTuner)
    assert strategy.unfrozen_layers() == ["layer3", "layer4"]
    assert not any(base.is_frozen(n) for n in base.get_layer_names())  # the caller's base untouched
    config = rec.config(seed=2)  # 100 examples at batch 32: 4 updates per epoch, 300 updates
    assert (config.epochs, config.learning_rate, config.seed) == (75, rec.recommended_lr, 2)
    assert rec.config(epochs=3).epochs == 3
    assert isinstance(M.recommend_strategy(10, "high").build(base, 3), FeatureExtractor)
    assert isinstance(M.recommend_strategy(10**6, "low").build(base, 3), FromScratch)
    assert "freeze" in str(rec)
    with pytest.raises(ValueError, match="recommendation was made for 'medium'"):
        rec.build(PretrainedModel("deep", 6), 3)


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

def test_compare_on_vectors(blobs):
    X, y = blobs(n=40)
    cmp = M.compare_strategies({"X": X, "y": y}, architecture="simple", epochs=4)
    assert isinstance(cmp, StrategyComparison)
    assert cmp.n_train + cmp.n_test == 40 and cmp.n_test == 10  # 4 + 3 + 3 of 14, 13, 13
    assert cmp.num_classes == 3 and cmp.input_shape == (6,) and cmp.evaluated_on == "test"
    for name in ("feature_extraction", "fine_tuning", "from_scratch"):
        result = getattr(cmp, name)
        assert 0 <= result.accuracy <= 1
        assert result.history.epochs == 4 and result.name == name
        assert result.updates == 4  # 30 examples at batch 32: one update per epoch
    assert cmp.best in cmp.results.values()
    # feature extraction trains the fewest weights, fine-tuning (top half) more, from scratch all
    params = {n: r.trainable_parameters for n, r in cmp.results.items()}
    assert params["feature_extraction"] < params["fine_tuning"] < params["from_scratch"]
    table = cmp.table()
    assert all(n in table for n in cmp.results) and "best" in table and repr(cmp) == table


@pytest.mark.parametrize(("n", "updates", "expected"), [
    (40, None, 300),  # 30 training examples: 1 update per epoch, the recipes' 300 updates
    (100, 10, 12),    # 75 training examples: 3 balanced batches of 25 per epoch, 4 epochs
    (100, 12, 12),
])
def test_every_strategy_gets_the_same_number_of_updates(blobs, n, updates, expected):
    X, y = blobs(n=n)
    cmp = M.compare_strategies((X, y), architecture="simple", updates=updates)
    assert {r.updates for r in cmp.results.values()} == {expected}
    assert cmp.updates == expected and f"{expected} updates each" in cmp.table()


def test_every_strategy_fits_a_single_example():
    # The course's test: one example, label 0; from scratch used to score 0.0 (BatchNorm on a
    # batch of one erased the example).
    with pytest.warns(UserWarning, match="too small.*TRAINING"):
        cmp = M.compare_strategies({"X": [[1, 2, 3]], "y": [0]})
    assert cmp.num_classes == 2 and cmp.evaluated_on == "train" and cmp.n_train == 1
    assert {name: r.accuracy for name, r in cmp.results.items()} == {
        "feature_extraction": 1.0, "fine_tuning": 1.0, "from_scratch": 1.0}
    assert "TRAINING" in cmp.table()


def test_all_zero_labels_still_give_two_classes_and_warn_that_every_strategy_scores_one():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cmp = M.compare_strategies({"X": np.ones((8, 6)), "y": np.zeros(8, int)},
                                   architecture="simple", epochs=1)
    assert cmp.num_classes == 2 and cmp.evaluated_on == "test"
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "every strategy will score 1.0" in messages[0]


def test_compare_is_deterministic_and_takes_pairs_and_lists(blobs):
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


def test_ties_and_the_rule_are_judged_with_a_band(blobs):
    X, y = blobs(n=40, seed=3)
    cmp = M.compare_strategies((X, y), architecture="simple", epochs=3)
    scores = {name: r.accuracy for name, r in cmp.results.items()}
    best = max(scores.values())
    for band in (0.0, 0.05, 0.5):
        assert set(cmp.ties(band)) == {n for n, a in scores.items() if a >= best - band - 1e-12}
    verdict = cmp.judge_rule("high", band=1.0)  # 30 examples, similar: feature extraction
    assert verdict.chosen == "feature_extraction" and verdict.within_band
    assert verdict.regret == pytest.approx(best - scores["feature_extraction"])


def test_recipes_replace_the_registry_arm_by_arm(blobs):
    X, y = blobs(n=40)
    slow = RECIPES["fine_tuning"].replace(learning_rate=1e-4, strategy_kwargs={"layers_to_unfreeze": "all"})
    cmp = M.compare_strategies((X, y), architecture="simple", epochs=2, recipes={"fine_tuning": slow})
    rates = cmp.fine_tuning.history.learning_rates
    assert rates["head"] == pytest.approx([1e-4, 1e-4]) and rates["layer1"][-1] > 0  # every block joined
    assert cmp.feature_extraction.history.learning_rates["head"][0] == pytest.approx(
        RECIPES["feature_extraction"].learning_rate)  # the other arms keep the registry's recipe


def test_stratified_holdout_keeps_every_class_in_training():
    y = np.array([0] * 10 + [1] * 4 + [2])
    train, test = stratified_indices(y, 0.25, np.random.default_rng(0))
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(15))
    assert set(y[train]) == {0, 1, 2}
    assert np.bincount(y[test], minlength=3).tolist() == [3, 1, 0]


@pytest.mark.parametrize(("dataset", "kwargs", "error", "match"), [
    ({"X": np.zeros((4, 6)), "y": [0, 1, 0]}, {}, ValueError, "different lengths"),
    ({"X": np.zeros((0, 6)), "y": []}, {}, ValueError, "empty"),
    ({"X": np.zeros((3, 6)), "y": [0, -1, 1]}, {}, ValueError, "label -1"),
    ({"X": np.full((3, 6), np.inf), "y": [0, 1, 1]}, {}, ValueError, "infinite"),
    ({"X": np.zeros((3, 6))}, {}, ValueError, "keys 'X' and 'y'"),
    ("digits", {}, TypeError, "dataset must be"),
    ({"X": np.zeros((3, 6)), "y": [0, 1, 1]}, {"epochs": 0}, ValueError, "epochs"),
    ({"X": np.zeros((3, 6)), "y": [0, 1, 1]}, {"updates": 0}, ValueError, "updates"),
    ({"X": np.zeros((3, 6)), "y": [0, 1, 1]}, {"epochs": 2, "updates": 5}, ValueError, "not both"),
    ({"X": np.zeros((3, 6)), "y": [0, 1, 1]}, {"test_fraction": 1.0}, ValueError, "test_fraction"),
    ({"X": np.zeros((3, 6)), "y": [0, 1, 1]}, {"recipes": {"fine_tuning": 0.001}}, ValueError,
     r"recipes\['fine_tuning'\] must be a Recipe"),
    ({"X": np.zeros((3, 6)), "y": [0, 1, 1]}, {"recipes": {"transfer": RECIPES["fine_tuning"]}}, ValueError,
     "recipes has unknown strategy 'transfer'"),
    ({"X": np.zeros((3, 6)), "y": [0, 1, 1]}, {"recipes": {"fine_tuning": RECIPES["fine_tuning"].replace(
        batch_size=8)}}, ValueError, "recipes must share one batch_size"),
    ({"X": np.zeros((3, 6)), "y": [0, 1, 1]}, {"architecture": "big"}, ValueError, "architecture"),
    ({"X": np.zeros((3, 2, 2, 2)), "y": [0, 1, 1]}, {}, ValueError, "shape"),
])
def test_compare_bad_input(dataset, kwargs, error, match):
    with pytest.raises(error, match=match):
        M.compare_strategies(dataset, **kwargs)


# -- transferability -------------------------------------------------------------------------

def test_transferability_and_recommendation_from_data(blobs):
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


# -- compare_strategies with arms of your own ------------------------------------------------

def test_arms_that_build_the_recipes_strategies_give_the_recipes_comparison(blobs):
    from tlkit.protocol import build_strategy

    X, y = blobs(n=24)
    base = PretrainedModel("simple", 6)
    arms = {name: (lambda k, name=name: build_strategy(get_recipe(name), base, k, seed=1))
            for name in ("feature_extraction", "fine_tuning", "from_scratch")}
    mine = M.compare_strategies((X, y), base=base, epochs=2, seed=1, arms=arms)
    theirs = M.compare_strategies((X, y), base=base, epochs=2, seed=1)
    for name in arms:
        assert mine.results[name].accuracy == theirs.results[name].accuracy
        assert mine.results[name].history.loss == theirs.results[name].history.loss
        assert mine.results[name].updates == theirs.results[name].updates


def test_arms_may_be_any_model_with_train_and_predict(blobs):
    X, y = blobs(n=24)
    built = []

    class Majority:  # a model without score or count_parameters
        def __init__(self, num_classes):
            built.append(num_classes)

        def train(self, X, y, config):
            self.label = int(np.bincount(y).argmax())

        def predict(self, X):
            return np.full(len(X), self.label)

    cmp = M.compare_strategies((X, y), architecture="simple", epochs=2,
                               arms={name: Majority for name in ("feature_extraction", "fine_tuning",
                                                                 "from_scratch")})
    assert built == [3, 3, 3] and cmp.updates == 2  # 18 training examples: one batch per epoch
    assert all(0 <= r.accuracy <= 1 and r.time > 0 for r in cmp.results.values())


@pytest.mark.parametrize("arms", [{"fine_tuning": FineTuner}, {"feature_extraction": 1, "fine_tuning": 2,
                                                               "from_scratch": 3}, [FineTuner]])
def test_arms_must_name_the_three_strategies(arms):
    with pytest.raises(ValueError, match="arms must be a dict mapping each of"):
        M.compare_strategies({"X": np.zeros((4, 6)), "y": [0, 1, 0, 1]}, arms=arms)
