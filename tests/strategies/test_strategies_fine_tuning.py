"""FineTuner: unfreezing, warm-up, discriminative and per-layer rates, gradual unfreezing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tlkit import FineTuningConfig, PretrainedModel, TrainingConfig
from tlkit.strategies import FineTuner
from tlkit.training import TrainingDivergedError


@pytest.fixture
def medium():
    return PretrainedModel("medium", 6)


def cfg(**kw):
    return FineTuningConfig(**{"epochs": 4, "warmup_epochs": 1, **kw})


@pytest.mark.parametrize("arch", ["simple", "medium", "deep"])
def test_default_freezes_every_base_layer(arch):
    # The course's contract: FineTuner(base, k) freezes all, then unfreezes the named ones (none).
    base = PretrainedModel(arch, 6)
    ft = FineTuner(base, 3)
    assert ft.unfrozen_layers() == []
    assert all(base.is_frozen(n) for n in base.get_layer_names())
    assert ft.trainable_layers() == ["head"]


@pytest.mark.parametrize(("arch", "expected"), [
    ("simple", ["layer2"]), ("medium", ["layer3", "layer4"]),
    ("deep", ["layer5", "layer6", "layer7", "layer8"]),
])
def test_top_half_is_an_explicit_choice(arch, expected):
    base = PretrainedModel(arch, 6)
    ft = FineTuner(base, 3, "top_half")
    assert ft.unfrozen_layers() == expected
    assert all(base.is_frozen(n) == (n not in expected) for n in base.get_layer_names())


def test_arguments_after_layers_to_unfreeze_are_keyword_only(medium):
    with pytest.raises(TypeError):
        FineTuner(medium, 3, "all", 8)  # hidden_units must be named
    assert FineTuner(medium, 3, "all", hidden_units=8).hidden_units == 8


def test_named_and_all_layers(medium):
    assert FineTuner(medium, 3, ["layer4", "layer2"]).unfrozen_layers() == ["layer2", "layer4"]
    assert FineTuner(medium, 3, "all").unfrozen_layers() == medium.get_layer_names()
    assert FineTuner(medium, 3, []).unfrozen_layers() == []


def test_unknown_layer_names_list_the_valid_ones(medium):
    with pytest.raises(ValueError, match=r"layers_to_unfreeze.*'layer9'.*layer1.*layer4"):
        FineTuner(medium, 3, ["layer9"])
    ft = FineTuner(medium, 3)
    with pytest.raises(ValueError, match=r"name.*'layer4', 'head'.*got 'conv1'"):
        ft.set_layer_learning_rate("conv1", 0.1)


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf")])
def test_set_layer_learning_rate_rejects_bad_rates(medium, lr):
    with pytest.raises(ValueError, match="lr"):
        FineTuner(medium, 3).set_layer_learning_rate("layer4", lr)


def test_warmup_trains_the_head_first_then_the_blocks_join(blobs, medium):
    X, y = blobs()
    ft = FineTuner(medium, 3, "top_half")
    h = ft.train(X, y, cfg(epochs=5, warmup_epochs=2, learning_rate=0.01))
    assert h.trainable_blocks[:2] == [["head"], ["head"]]
    assert h.trainable_blocks[2:] == [["layer3", "layer4", "head"]] * 3
    assert h.learning_rates["layer4"][:2] == [0.0, 0.0] and h.learning_rates["layer4"][2] > 0
    assert h.learning_rates["layer1"] == [0.0] * 5
    assert all(rate == pytest.approx(0.01) for rate in h.learning_rates["head"])
    assert ft.unfrozen_layers() == ["layer3", "layer4"]  # state restored after the warm-up


def test_default_warmup_is_ten_percent(blobs, medium):
    X, y = blobs(n=9)
    h = FineTuner(medium, 3, "top_half").train(X, y, {"epochs": 3})
    assert h.trainable_blocks[0] == ["head"] and "layer4" in h.trainable_blocks[1]
    with pytest.raises(ValueError, match=r"warmup_epochs.*<= epochs \(3\).*got 4"):
        FineTuner(medium, 3).train(X, y, {"epochs": 3, "warmup_epochs": 4})


def test_a_one_epoch_fine_tune_trains_the_base(blobs, medium):
    # The default warm-up never takes every epoch: a 1-epoch run has none, so the base learns.
    X, y = blobs(n=24)
    before = medium.state_dict()
    h = FineTuner(medium, 3, "all").train(X, y, FineTuningConfig(epochs=1))
    after = medium.state_dict()
    assert h.trainable_blocks == [["layer1", "layer2", "layer3", "layer4", "head"]]
    assert all(h.learning_rates[name][0] > 0 for name in medium.get_layer_names())
    changed = [key for key in before if key.endswith(".W") and not np.array_equal(before[key], after[key])]
    assert {key.split(".")[0] for key in changed} == set(medium.get_layer_names())


@pytest.mark.parametrize("epochs", [1, 2, 3, 9, 10, 15, 16, 25, 100])
def test_one_default_warm_up_for_config_protocol_and_manager(epochs):
    from tlkit import TransferLearningManager
    from tlkit.protocol import get_recipe, make_config

    from_config = FineTuningConfig(epochs=epochs).resolved_warmup_epochs
    recipe = get_recipe("fine_tuning")
    n_train = recipe.batch_size * math.ceil(recipe.updates / epochs)  # a budget of exactly `epochs` epochs
    protocol = make_config(recipe, n_train, seed=0)
    assert protocol.epochs == epochs
    rec = TransferLearningManager.recommend_strategy(500, "medium")
    assert rec.strategy == "fine_tuning"
    manager = rec.config(epochs=epochs)
    assert from_config == protocol.resolved_warmup_epochs == manager.resolved_warmup_epochs
    assert (from_config == 0) == (epochs == 1) and from_config < max(epochs, 2)


def test_decay_multipliers(medium):
    ft = FineTuner(medium, 3, "all")
    rates = ft.learning_rates(cfg(learning_rate=0.1))
    assert rates == pytest.approx({"layer1": 1e-3, "layer2": 1e-3, "layer3": 1e-2,
                                   "layer4": 0.1, "head": 0.1})
    deep = FineTuner(PretrainedModel("deep", 6), 3, "all").learning_rates(cfg(learning_rate=1.0))
    assert [deep[f"layer{i}"] for i in range(1, 9)] == pytest.approx(
        [0.01] * 3 + [0.1] * 4 + [1.0])
    # only the unfrozen blocks are spread; frozen ones train at 0
    assert FineTuner(medium, 3, "top_half").learning_rates(cfg(learning_rate=1.0)) == pytest.approx(
        {"layer1": 0, "layer2": 0, "layer3": 0.01, "layer4": 1.0, "head": 1.0})


def test_geometric_and_ulmfit_rates(medium):
    ft = FineTuner(medium, 3, "all")
    rates = ft.learning_rates(cfg(learning_rate=0.01, discriminative="geometric",
                                  lr_range=(1e-5, 1e-1)))
    values = [rates[n] for n in ["layer1", "layer2", "layer3", "layer4", "head"]]
    assert values == pytest.approx([1e-5, 1e-4, 1e-3, 1e-2, 1e-1])
    ulm = ft.learning_rates(cfg(learning_rate=1.0, discriminative="ulmfit"))
    assert ulm["head"] == 1.0 and ulm["layer4"] == pytest.approx(1 / 2.6)
    assert ulm["layer1"] == pytest.approx(2.6**-4)
    flat = ft.learning_rates(cfg(learning_rate=0.3, discriminative="none"))
    assert set(flat.values()) == {0.3}


def test_layer_learning_rate_override_applies_once_unfrozen(blobs, medium):
    X, y = blobs()
    ft = FineTuner(medium, 3, ["layer4"])
    ft.set_layer_learning_rate("layer2", 2e-4)  # frozen now: allowed
    ft.set_layer_learning_rate("head", 5e-3)
    h = ft.train(X, y, cfg(learning_rate=0.01))
    assert h.learning_rates["layer2"] == [0.0] * 4
    assert h.learning_rates["head"][-1] == pytest.approx(5e-3)
    ft.unfreeze(["layer2"])
    h = ft.train(X, y, cfg(learning_rate=0.01))
    assert h.learning_rates["layer2"][-1] == pytest.approx(2e-4)
    assert h.learning_rates["layer4"][-1] == pytest.approx(0.01)


def test_gradual_unfreezing_adds_one_block_from_the_top(blobs, medium):
    X, y = blobs()
    ft = FineTuner(medium, 3, "all")
    h = ft.train(X, y, cfg(epochs=6, warmup_epochs=1, gradual_unfreeze_every=1))
    assert h.trainable_blocks == [
        ["head"], ["layer4", "head"], ["layer3", "layer4", "head"],
        ["layer2", "layer3", "layer4", "head"], ["layer1", "layer2", "layer3", "layer4", "head"],
        ["layer1", "layer2", "layer3", "layer4", "head"],
    ]
    assert ft.unfrozen_layers() == medium.get_layer_names()


@pytest.mark.parametrize("bn_mode", ["frozen", "train"])
def test_frozen_blocks_never_change_by_a_bit(blobs, medium, bn_mode):
    X, y = blobs()
    before = medium.state_dict()
    ft = FineTuner(medium, 3, ["layer3", "layer4"], bn_mode=bn_mode)
    ft.train(X, y, cfg(learning_rate=0.05, optimizer="adam", warmup_epochs=0,
                       discriminative="none"))
    after = medium.state_dict()
    for key in before:
        if key.startswith(("layer1.", "layer2.")):
            assert np.array_equal(before[key], after[key]), key
    assert not np.array_equal(before["layer4.dense.W"], after["layer4.dense.W"])
    assert not np.array_equal(before["layer3.bn.gamma"], after["layer3.bn.gamma"])
    stats_changed = not np.array_equal(before["layer3.bn.running_mean"],
                                       after["layer3.bn.running_mean"])
    assert stats_changed == (bn_mode == "train")  # Keras semantics by default


def test_bn_mode_is_checked(medium):
    with pytest.raises(ValueError, match="bn_mode.*'frozen', 'train'"):
        FineTuner(medium, 3, bn_mode="eval")


def test_accepts_training_config_and_learns(blobs, medium):
    X, y = blobs()
    ft = FineTuner(medium, 3, "top_half")
    h = ft.train(X, y, TrainingConfig(epochs=10, learning_rate=0.01),
                 validation_data=(X[:12], y[:12]))
    assert len(h.val_accuracy) == 10
    assert ft.score(X, y) > 0.9
    assert isinstance(ft.predict(X[0]), int)
    assert np.allclose(ft.predict_proba(X).sum(axis=1), 1, atol=1e-5)


def test_one_example_and_images():
    ft = FineTuner(PretrainedModel("simple", (8, 8)), 5, "all")
    x = np.random.default_rng(0).random((8, 8))
    h = ft.train(x, 4, {"epochs": 2})
    assert h.epochs == 2 and ft.predict(x) in range(5)


def test_same_seed_same_numbers(blobs):
    X, y = blobs()
    results = []
    for _ in range(2):
        ft = FineTuner(PretrainedModel("medium", 6), 3, "all", bn_mode="train", hidden_units=8,
                       dropout=0.2)
        h = ft.train(X, y, cfg(seed=3))
        results.append((h.loss, ft.predict_proba(X)))
    assert results[0][0] == results[1][0] and np.array_equal(results[0][1], results[1][1])


def test_divergence_stops_with_advice_and_frozen_blocks_survive_it(blobs, medium):
    X, y = blobs()
    before = medium.state_dict()
    ft = FineTuner(medium, 3, ["layer4"])
    with pytest.raises(TrainingDivergedError, match="lower learning rate"):
        ft.train(X, y, {"epochs": 3, "learning_rate": 1e6, "optimizer": "sgd", "warmup_epochs": 0})
    after = medium.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before if not k.startswith("layer4"))
    assert ft.unfrozen_layers() == ["layer4"]
    assert math.isfinite(float(np.sum(after["layer3.dense.W"])))
