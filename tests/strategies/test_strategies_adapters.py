"""AdapterTuner: adapters, LoRA and an input stem train while the pretrained base stays bit-for-bit."""

from __future__ import annotations

import numpy as np
import pytest

from tlkit import PretrainedModel, TrainingConfig
from tlkit.datasets import make_transfer_task
from tlkit.nn import engine
from tlkit.protocol import RECIPES, Recipe, build_strategy, fit
from tlkit.strategies import AdapterTuner, FeatureExtractor

VARIANTS = {
    "adapters": {},
    "lora": {"adapters": None, "lora_rank": 2},
    "stem": {"adapters": None, "input_stem": True},
    "all three": {"adapters": ["layer2", "layer4"], "lora_rank": 1, "lora_blocks": ["layer3"], "input_stem": True},
}


@pytest.fixture(scope="module")
def xray():
    return make_transfer_task("medium", n_train=30, seed=0, domain="xray")


def everything(model) -> dict[str, np.ndarray]:
    """Every parameter and buffer of the base (BatchNorm statistics too) and of its source head."""
    arrays = model.state_dict()
    arrays.update({f"source_head.{k}": v.copy() for _, layer in model.source_head.layers
                   for k, v in layer.params.items()})
    return arrays


@pytest.mark.parametrize("eng", engine.ENGINES)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_training_leaves_the_pretrained_base_bit_for_bit_unchanged(xray, variant, eng):
    with engine.using(eng):
        base = PretrainedModel("medium")
        before = everything(base)
        tuner = AdapterTuner(base, xray.num_classes, seed=0, **VARIANTS[variant])
        assert type(tuner.network) is engine.layers(eng).Network                  # one engine throughout
        assert all(type(block) is engine.layers(eng).Block for block in tuner.network.blocks)
        new_before = {f"{b.name}.{k}": v.copy() for b in tuner.network.blocks if b.trainable
                      for k, v in b.named_arrays()}
        history = tuner.train(xray.X_train, xray.y_train, TrainingConfig(epochs=6, learning_rate=0.01, batch_size=8))
        after = everything(base)
    assert history.loss[-1] < history.loss[0]
    assert sorted(before) == sorted(after)
    changed = [k for k in before if not np.array_equal(before[k], after[k]) or before[k].dtype != after[k].dtype]
    assert changed == [], f"pretrained arrays changed: {changed}"
    new_after = {f"{b.name}.{k}": v for b in tuner.network.blocks if b.trainable for k, v in b.named_arrays()}
    moved = {k.split(".")[0] for k in new_before if not np.array_equal(new_before[k], new_after[k])}
    assert moved == set(tuner.trainable_layers())  # every trainable block learned something
    assert all(base.is_frozen(name) for name in base.get_layer_names())


def test_a_new_tuner_computes_what_the_frozen_base_and_its_head_compute(xray):
    """Adapters (W_up = 0), LoRA (B = 0) and the stem (identity kernel) start as the identity, and the
    head is initialised like every other strategy's with the same seed (paired comparisons)."""
    reference = FeatureExtractor(PretrainedModel("medium"), xray.num_classes, seed=3).predict_logits(xray.X_test[:20])
    for options in VARIANTS.values():
        tuner = AdapterTuner(PretrainedModel("medium"), xray.num_classes, seed=3, **options)
        np.testing.assert_allclose(tuner.predict_logits(xray.X_test[:20]), reference, rtol=1e-4, atol=1e-4)


def test_refreezes_a_base_block_unfrozen_after_construction(xray):
    base = PretrainedModel("medium")
    before = base.state_dict()
    tuner = AdapterTuner(base, xray.num_classes, adapters=["layer1"])
    base.unfreeze(["layer2"])
    tuner.train(xray.X_train, xray.y_train, TrainingConfig(epochs=2, learning_rate=0.01, batch_size=8))
    assert base.is_frozen("layer2")
    assert all(np.array_equal(before[k], v) for k, v in base.state_dict().items())


def test_parameter_counts_and_layout():
    base = PretrainedModel("medium")
    tuner = AdapterTuner(base, 10, adapters="all", lora_rank=2, lora_blocks=["layer3"], input_stem=True)
    layout = tuner.layout()
    assert [row["name"] for row in layout] == [
        "stem", "layer1", "adapter_layer1", "layer2", "adapter_layer2", "layer3+lora", "adapter_layer3",
        "layer4", "adapter_layer4", "head"]
    assert {row["name"]: row["kind"] for row in layout}["layer3+lora"] == "lora"
    assert sum(row["trainable"] for row in layout) == tuner.count_parameters(trainable_only=True)
    assert sum(row["frozen"] for row in layout) == base.count_parameters()
    stem, adapter1 = layout[0], layout[2]
    assert stem["trainable"] == 10 and adapter1["trainable"] == 2 * 16 * 4 + 4 + 16   # 16 channels, bottleneck 4
    lora3 = layout[5]
    assert lora3["trainable"] == 2 * (3 * 3 * 32 + 64)                                 # A (288, 2), B (2, 64)
    assert tuner.count_parameters(trainable_only=True) < base.count_parameters() // 3
    assert tuner.trainable_layers() == [row["name"] for row in layout if row["trainable"]]
    narrow = AdapterTuner(PretrainedModel("medium"), 10, adapters=["layer3"], bottleneck=1)
    assert narrow.layout()[3]["trainable"] == 2 * 64 + 1 + 64


def test_vector_inputs_take_adapters_and_lora(blobs):
    X, y = blobs()
    base = PretrainedModel("simple", X.shape[1])
    before = base.state_dict()
    tuner = AdapterTuner(base, 3, lora_rank=2, seed=1)
    tuner.train(X, y, {"epochs": 5, "learning_rate": 0.01})
    assert tuner.score(X, y) > 0.5
    assert all(np.array_equal(before[k], v) for k, v in base.state_dict().items())
    with pytest.raises(ValueError, match="input_stem needs image inputs"):
        AdapterTuner(PretrainedModel("simple", X.shape[1]), 3, input_stem=True)


def test_bad_arguments_are_named():
    base = PretrainedModel("medium")
    with pytest.raises(ValueError, match=r"adapters contains unknown block name\(s\) \['layer9'\]"):
        AdapterTuner(base, 10, adapters=["layer9"])
    with pytest.raises(ValueError, match="lora_blocks"):
        AdapterTuner(base, 10, lora_rank=2, lora_blocks=["head"])
    with pytest.raises(ValueError, match="lora_rank"):
        AdapterTuner(base, 10, lora_rank=0)
    with pytest.raises(ValueError, match="bottleneck"):
        AdapterTuner(base, 10, bottleneck=0)
    with pytest.raises(TypeError, match="input_stem"):
        AdapterTuner(base, 10, input_stem="yes")
    with pytest.raises(ValueError, match="something to train besides the head"):
        AdapterTuner(base, 10, adapters=None)


def test_the_protocol_builds_and_trains_an_adapter_recipe(xray):
    recipe = Recipe("adapters", "adapters", learning_rate=0.01, batch_size=32, updates=4,
                    strategy_kwargs={"adapters": ["layer1"]})
    base = PretrainedModel("medium")
    before = base.state_dict()
    strategy = build_strategy(recipe, base, xray.num_classes, seed=0)
    assert isinstance(strategy, AdapterTuner) and strategy.base is not base
    model, history = fit(recipe, base, xray.X_train, xray.y_train, seed=0)
    assert history.updates == 4
    assert all(np.array_equal(before[k], v) for k, v in model.base.state_dict().items())
    assert "adapters" not in RECIPES or RECIPES["adapters"].strategy == "adapters"
