"""The recipe registry: one place for rates, batch sizes and update budgets; equal budgets."""

from __future__ import annotations

import numpy as np
import pytest

from tlkit import FineTuningConfig, PretrainedModel, TrainingConfig
from tlkit.protocol import (
    RECIPES,
    Recipe,
    build_strategy,
    epochs_for_updates,
    fit,
    get_recipe,
    make_config,
    updates_done,
)
from tlkit.strategies import FeatureExtractor, FineTuner, FromScratch


def test_the_registry_holds_the_three_strategies():
    assert {"feature_extraction", "fine_tuning", "from_scratch"} <= set(RECIPES)
    for name, recipe in RECIPES.items():
        assert recipe.name == name and recipe.updates >= 1 and recipe.learning_rate > 0
    assert get_recipe("fine_tuning").strategy_kwargs["layers_to_unfreeze"] == "top_half"
    with pytest.raises(ValueError, match=r"unknown recipe 'fine_tune'; valid recipe names are \["
                                         r"'feature_extraction', 'fine_tuning', 'from_scratch'"):
        get_recipe("fine_tune")


def test_the_three_strategies_share_one_budget():
    # compare_strategies' promise (same updates for every arm) needs one batch size and one budget
    core = [get_recipe(n) for n in ("feature_extraction", "fine_tuning", "from_scratch")]
    assert len({r.batch_size for r in core}) == 1 and len({r.updates for r in core}) == 1


def test_recipes_are_immutable_and_replace_checks_fields():
    recipe = get_recipe("feature_extraction")
    with pytest.raises(AttributeError):
        recipe.learning_rate = 1.0
    with pytest.raises(TypeError):
        recipe.config["weight_decay"] = 1.0
    slower = recipe.replace(learning_rate=1e-3)
    assert slower.learning_rate == 1e-3 and recipe.learning_rate == 1e-2
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['lr'\]"):
        recipe.replace(lr=1e-3)
    with pytest.raises(ValueError, match="strategy must be one of"):
        Recipe("x", "svm", 1e-3, 32, 100)
    with pytest.raises(ValueError, match="updates"):
        recipe.replace(updates=0)
    with pytest.raises(ValueError, match=r"config must not set \['epochs'\]"):
        recipe.replace(config={"epochs": 3})


@pytest.mark.parametrize(("updates", "n", "batch", "epochs"), [
    (300, 100, 32, 75),    # 4 updates per epoch (4 x 25)
    (300, 25, 32, 300),    # 1 update per epoch
    (300, 1000, 32, 10),   # 32 updates per epoch: 320 >= 300
    (300, 20000, 32, 1),   # one epoch is already over budget
    (10, 64, 32, 5),
])
def test_epochs_for_updates(updates, n, batch, epochs):
    assert epochs_for_updates(updates, n, batch) == epochs


def test_make_config_turns_the_budget_into_epochs():
    config = make_config("feature_extraction", 100, seed=3)
    assert type(config) is TrainingConfig
    assert (config.epochs, config.batch_size, config.learning_rate, config.seed) == (75, 32, 1e-2, 3)
    ft = make_config("fine_tuning", 100, seed=0)
    assert isinstance(ft, FineTuningConfig) and ft.resolved_warmup_epochs == 8  # 10% of 75, rounded
    assert make_config("fine_tuning", 20000, seed=0).resolved_warmup_epochs == 0  # a one-epoch budget
    wd = make_config(get_recipe("from_scratch").replace(config={"weight_decay": 1e-4}), 10, seed=0)
    assert wd.weight_decay == 1e-4


def test_build_strategy_uses_a_copy_of_the_base():
    base = PretrainedModel("medium", 6)
    fe = build_strategy("feature_extraction", base, 3)
    ft = build_strategy("fine_tuning", base, 3, seed=1)
    fs = build_strategy("from_scratch", base, 3)
    assert isinstance(fe, FeatureExtractor) and isinstance(ft, FineTuner) and isinstance(fs, FromScratch)
    assert fe.base is not base and ft.base is not base
    assert ft.unfrozen_layers() == ["layer3", "layer4"]
    assert not any(base.is_frozen(n) for n in base.get_layer_names())  # the caller's base untouched
    assert fs.base.source["kind"] == "random initialisation" and fs.input_shape == (6,)
    with pytest.raises(TypeError, match="PretrainedModel"):
        build_strategy("from_scratch", "medium", 3)


@pytest.mark.parametrize("n", [1, 7, 50, 100])
def test_every_arm_runs_the_same_predictable_number_of_updates(blobs, n):
    X, y = blobs(n=max(n, 1))
    base = PretrainedModel("simple", 6)
    done = {}
    for name in ("feature_extraction", "fine_tuning", "from_scratch"):
        recipe = get_recipe(name).replace(updates=12, batch_size=8)
        _, history = fit(recipe, base, X, y, seed=0)
        done[name] = updates_done(history)
    per_epoch = -(-n // 8)  # ceil(n / 8) balanced batches
    expected = -(-12 // per_epoch) * per_epoch
    assert done == dict.fromkeys(done, expected)


def test_fit_seeds_and_classes(blobs):
    X, y = blobs(n=50)
    base = PretrainedModel("simple", 6)
    a, ha = fit("feature_extraction", base, X, y, seed=2)
    b, hb = fit("feature_extraction", base, X, y, seed=2)
    assert ha.loss == hb.loss and np.array_equal(a.predict_proba(X), b.predict_proba(X))
    zeros, _ = fit("feature_extraction", base, X[:5], np.zeros(5, dtype=int), seed=0)
    assert zeros.num_classes == 2
    with pytest.raises(TypeError, match="TrainingHistory"):
        updates_done({"loss": []})
