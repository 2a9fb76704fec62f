"""The argument checks at the public boundary: every refusal names the argument,
what was given and what is valid; a failed call changes nothing; limits are stated."""

from __future__ import annotations

import math
import time
import warnings
from fractions import Fraction

import numpy as np
import pytest

from tlkit import FeatureExtractor, FineTuner, FineTuningConfig, PretrainedModel, TrainingConfig
from tlkit.argcheck import (
    FLOAT32_MAX,
    MAX_CLASSES,
    as_float_array,
    as_labels,
    infer_num_classes,
    resolve_layer_names,
    warn_if_single_class,
)
from tlkit.config import MAX_UPDATES, as_config
from tlkit.strategies import FromScratch
from tlkit.training import TrainingDivergedError


@pytest.fixture(scope="module")
def vector_base():
    return PretrainedModel("simple", 6)


@pytest.fixture
def base(vector_base):
    return vector_base.copy()


# -- arrays ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("x", "words"), [
    (np.ones((2, 6)) + 1j, "complex"),
    ([["a"] * 6], "numbers"),
    ([[1, 2, 3, 4, 5, 6], [1, 2]], "one shape"),
    (None, "None"),
    ("abc", "array-like"),
    (np.full((2, 6), 1e39), "float32"),
    (np.zeros((0, 6)), "empty"),
])
def test_bad_arrays_are_refused_naming_x_and_the_reason(base, x, words):
    with pytest.raises(ValueError, match="x") as info:
        base.extract_features(x)
    assert words in str(info.value)


def test_values_beyond_float32_are_named_with_their_size():
    with pytest.raises(ValueError, match=r"up to 1e\+300.*float32"):
        as_float_array(np.array([1.0, 1e300]), "X")
    # the largest float32 itself is still a float32
    assert as_float_array(np.array([FLOAT32_MAX]), "X")[0] == np.float32(FLOAT32_MAX)


def test_inputs_that_overflow_inside_the_network_are_refused_not_nan(base):
    x = np.full((2, 6), 3e38, np.float32)  # finite float32, but the first layer's sums overflow
    with pytest.raises(ValueError, match=r"x overflows float32 inside the network.*3e\+38"):
        base.extract_features(x)
    fe = FeatureExtractor(base, 3)
    with pytest.raises(ValueError, match="x overflows float32"):
        fe.predict_proba(x)
    with pytest.raises(ValueError, match="x overflows float32"):
        fe.predict(x)


@pytest.mark.parametrize("batch_size", [-1, -3, 0, 2.5, "8", None])
def test_batch_size_of_inference_is_checked(base, batch_size):
    X = np.random.default_rng(0).random((10, 6))
    with pytest.raises(ValueError, match="batch_size"):
        base.extract_features(X, batch_size=batch_size)
    with pytest.raises(ValueError, match="batch_size"):
        FeatureExtractor(base, 3).predict_logits(X, batch_size=batch_size)


def test_any_valid_batch_size_gives_the_same_features(base):
    X = np.random.default_rng(0).random((10, 6))
    whole = base.extract_features(X, batch_size=10**9)
    for batch_size in (1, 3, 10):
        np.testing.assert_allclose(base.extract_features(X, batch_size=batch_size), whole, rtol=1e-5, atol=1e-6)


# -- labels ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("y", "words"), [
    ([0, 1, 2.5], "integer class labels"),
    ([0, 1, float("nan")], "integer class labels"),
    ([0, 1, 1e20], "1e+20"),                 # the value as given, not -9223372036854775808
    ([0, 1, 10**9], "1000000000"),
    ([0, 1, -1], "-1"),
    (np.array([0, 1, 2]) + 1j, "complex"),
    (["cat", "dog", "cat"], "numbers"),
    (np.eye(3), "one-hot"),
    ([0, 1], "different lengths"),
    (None, "None"),
])
def test_bad_labels_are_refused_naming_y(y, words):
    with pytest.raises(ValueError, match="y") as info:
        as_labels(y, 3, None, "y")
    assert words in str(info.value)


def test_labels_accept_integral_floats_and_bools():
    assert as_labels([0.0, 2.0, 1.0], 3).tolist() == [0, 2, 1]
    assert as_labels([True, False], 2).tolist() == [1, 0]


def test_the_class_limit_is_stated_and_enforced():
    with pytest.raises(ValueError, match=f"{MAX_CLASSES:,}"):
        as_labels([0, MAX_CLASSES], 2)
    assert as_labels([0, MAX_CLASSES - 1], 2).max() == MAX_CLASSES - 1
    with pytest.raises(ValueError, match="num_classes"):
        FeatureExtractor(PretrainedModel("simple", 6), 10**12)


def test_number_of_classes_from_the_argument_or_the_labels():
    assert infer_num_classes(np.array([0, 0, 0])) == 2          # all 0 still trains
    assert infer_num_classes(np.array([0, 4, 1])) == 5
    assert infer_num_classes(np.array([0, 1]), num_classes=7) == 7
    with pytest.raises(ValueError, match="num_classes=3"):
        infer_num_classes(np.array([0, 5]), num_classes=3)


def test_one_class_warns_that_every_strategy_scores_one():
    with pytest.warns(UserWarning, match="1.0"):
        assert warn_if_single_class(np.zeros(5, int))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not warn_if_single_class(np.array([0, 1, 0]))


# -- configs ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value"), [
    ("epochs", 0), ("epochs", -5), ("optimizer", "rmsprop"), ("batch_size", 0),
    ("learning_rate", -1.0), ("learning_rate", float("nan")), ("schedule", "wavy"),
    ("momentum", "0.9"), ("weight_decay", float("nan")), ("callbacks", [5]), ("verbose", "yes"),
])
def test_a_config_edited_after_construction_is_checked_when_used(base, blobs, field, value):
    X, y = blobs(n=12)
    config = TrainingConfig(epochs=2)
    setattr(config, field, value)  # construction was fine; the edit is not
    with pytest.raises(ValueError, match=field):
        FeatureExtractor(base, 3).train(X, y, config)


def test_a_fine_tuning_config_edited_after_construction_is_checked(base, blobs):
    X, y = blobs(n=12)
    config = FineTuningConfig(epochs=2)
    config.warmup_epochs = 100
    with pytest.raises(ValueError, match="warmup_epochs"):
        FineTuner(base, 3, ["layer2"]).train(X, y, config)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"momentum": "0.9"}, "momentum"), ({"lr_range": (1e-3,)}, "lr_range"), ({"lr_range": "fast"}, "lr_range"),
    ({"batch_size": 2.5}, "batch_size"), ({"weight_decay": "0"}, "weight_decay"), ({"epochs": True}, "epochs"),
    ({"epochs": MAX_UPDATES + 1}, "epochs"), ({"callbacks": [object()]}, "callbacks"),
])
def test_bad_config_fields_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        FineTuningConfig(**kwargs)


def test_config_values_are_normalised():
    config = TrainingConfig(learning_rate=Fraction(1, 100), callbacks=None)
    assert config.learning_rate == 0.01 and isinstance(config.learning_rate, float)
    assert config.callbacks == []


def test_plain_dict_keys_must_be_field_names():
    with pytest.raises(ValueError, match="keys"):
        as_config({1: 2})
    with pytest.raises(TypeError, match="config"):
        as_config("fast")


def test_an_absurd_number_of_updates_is_refused_before_training(base, blobs):
    X, y = blobs(n=12)
    fe = FeatureExtractor(base, 3)
    start = time.perf_counter()
    with pytest.raises(ValueError, match="epochs"):
        fe.train(X, y, {"epochs": 10**9})
    # 12 examples at batch 1: MAX_UPDATES // 12 + 1 epochs is just over the limit
    epochs = MAX_UPDATES // 12 + 1
    with pytest.raises(ValueError, match=f"{epochs * 12:,} minibatch updates"):
        fe.train(X, y, {"epochs": epochs, "batch_size": 1})
    assert time.perf_counter() - start < 5.0  # refused up front, not after running
    assert fe.history is None


def test_train_time_is_the_measured_wall_time(base, blobs):
    X, y = blobs(n=12)
    before = time.perf_counter()
    history = FeatureExtractor(base, 3).train(X, y, {"epochs": 2})
    elapsed = time.perf_counter() - before
    assert 0 < history.train_time <= elapsed


# -- layer names -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", [None, ["layer1"], 5, b"layer1"])
def test_is_frozen_of_a_non_string_is_a_type_error(base, name):
    with pytest.raises(TypeError, match="name"):
        base.is_frozen(name)


def test_is_frozen_of_an_unknown_name_is_false(base):
    base.freeze()
    assert base.is_frozen("layer9") is False


@pytest.mark.parametrize("names", [123, ["layer1", 5], [None]])
def test_freeze_with_non_string_names_is_a_type_error_and_changes_nothing(base, names):
    base.unfreeze()
    with pytest.raises(TypeError, match="layer_names"):
        base.freeze(names)
    assert base.frozen_layers() == []


def test_unknown_names_warn_listing_the_valid_ones_and_change_nothing(base):
    base.unfreeze()
    with pytest.warns(UserWarning, match=r"\['layer9'\].*\['layer1', 'layer2'\]"):
        base.freeze(["layer1", "layer9"])
    assert base.frozen_layers() == []


def test_none_means_every_block_for_freeze_and_unfreeze(base):
    base.freeze(None)
    assert base.frozen_layers() == ["layer1", "layer2"]
    base.unfreeze(None)
    assert base.frozen_layers() == []
    assert resolve_layer_names(None, ["a", "b"], "freeze") == ["a", "b"]


def test_set_layer_learning_rate_checks_name_and_rate(base):
    ft = FineTuner(base, 3, ["layer2"])
    with pytest.raises(ValueError, match=r"name.*layer9"):
        ft.set_layer_learning_rate("layer9", 0.1)
    with pytest.raises(ValueError, match="lr"):
        ft.set_layer_learning_rate("layer1", float("nan"))
    ft.set_layer_learning_rate("layer1", 1e-3)  # a frozen block: allowed, applies once unfrozen


# -- state dicts -----------------------------------------------------------------------------

def _corrupt(state, how):
    key, var = "layer1.dense.W", "layer2.bn.running_var"
    if how == "shape":
        state[var] = np.ones(3, np.float32)
    elif how == "nan":
        state[key][0, 0] = np.nan
    elif how == "inf":
        state[var][0] = np.inf
    elif how == "none":
        state[var] = None
    elif how == "negative_var":
        state[var][0] = -1.0
    elif how == "missing":
        del state[var]
    elif how == "unexpected":
        state["layer9.dense.W"] = np.ones(2, np.float32)
    elif how == "complex":
        state[key] = state[key] + 1j
    elif how == "text":
        state[key] = state[key].astype(str)
    elif how == "overflow":
        state[key] = np.full(state[key].shape, 1e39)
    return state


@pytest.mark.parametrize("how", ["shape", "nan", "inf", "none", "negative_var", "missing",
                                 "unexpected", "complex", "text", "overflow"])
def test_a_bad_state_dict_is_refused_and_changes_nothing(base, how):
    before = base.state_dict()
    donor = PretrainedModel("simple", 6, seed=3).state_dict()  # different weights, same keys
    with pytest.raises(ValueError, match="layer"):
        base.load_state_dict(_corrupt(donor, how))
    after = base.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


def test_a_good_state_dict_loads_every_entry_even_as_float64_or_lists(base):
    donor = PretrainedModel("simple", 6, seed=3)
    state = {k: (v.astype(np.float64) if i % 2 else v.tolist()) for i, (k, v) in enumerate(donor.state_dict().items())}
    base.load_state_dict(state)
    for key, value in donor.state_dict().items():
        np.testing.assert_array_equal(base.state_dict()[key], value)


def test_strict_false_loads_the_matching_keys_only(base):
    donor = PretrainedModel("simple", 6, seed=3).state_dict()
    before = base.state_dict()
    base.load_state_dict({"layer1.dense.W": donor["layer1.dense.W"], "other": np.zeros(1)}, strict=False)
    after = base.state_dict()
    np.testing.assert_array_equal(after["layer1.dense.W"], donor["layer1.dense.W"])
    assert all(np.array_equal(before[k], after[k]) for k in before if k != "layer1.dense.W")


def test_a_state_dict_must_be_a_mapping(base):
    with pytest.raises(TypeError, match="state_dict"):
        base.load_state_dict([1, 2])


# -- a base shared by two strategies ------------------------------------------------------------

def test_training_a_base_another_strategy_trained_warns_naming_both(base, blobs):
    X, y = blobs(n=24)
    fe = FeatureExtractor(base, 3)
    fe.train(X, y, {"epochs": 2})
    with pytest.warns(UserWarning, match=r"FineTuner.*FeatureExtractor.*base\.copy\(\)"):
        FineTuner(base, 3, ["layer2"]).train(X, y, {"epochs": 2})


def test_own_copies_and_retraining_do_not_warn(base, blobs):
    X, y = blobs(n=24)
    fe = FeatureExtractor(base, 3)
    fe.train(X, y, {"epochs": 2})
    before = fe.predict_proba(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fe.train(X, y, {"epochs": 2})          # the same strategy again
        FineTuner(base.copy(), 3, ["layer2"]).train(X, y, {"epochs": 2})
    after_retrain = fe.predict_proba(X)
    assert after_retrain.shape == before.shape  # the copy left fe's base alone:
    np.testing.assert_array_equal(fe.base.state_dict()["layer2.dense.W"], base.state_dict()["layer2.dense.W"])


# -- divergence names its cause -----------------------------------------------------------------

def test_divergence_names_the_block_whose_own_rate_is_too_high(base, blobs):
    X, _ = blobs(n=30)
    y = np.random.default_rng(0).integers(0, 3, len(X))  # not separable: no lucky convergence
    ft = FineTuner(base, 3, ["layer2"])
    ft.set_layer_learning_rate("head", 1e4)
    with pytest.raises(TrainingDivergedError, match=r"head's 1e\+04, above learning_rate=0.001"):
        ft.train(X, y, {"epochs": 3, "learning_rate": 1e-3, "optimizer": "sgd", "momentum": 0.0})


def test_divergence_lists_the_rates_actually_used(base, blobs):
    X, y = blobs(n=30)
    ft = FineTuner(base, 3, ["layer1", "layer2"])
    for name in ft.get_layer_names():
        ft.set_layer_learning_rate(name, 1e4)
    with pytest.raises(TrainingDivergedError) as info:
        ft.train(X, y, {"epochs": 3, "learning_rate": 0.003, "optimizer": "sgd", "warmup_epochs": 0})
    message = str(info.value)
    assert "layer1 1e+04" in message and "head 1e+04" in message and "0.0003" not in message


def test_divergence_on_the_first_batch_blames_the_input_scale(base, blobs):
    X, y = blobs(n=30)
    # A frozen base normalises with its running statistics, so the scale reaches the head.
    with pytest.raises(TrainingDivergedError, match=r"before any update.*features of X.*Rescale"):
        FeatureExtractor(base, 3).train(X * 1e30, y, {"epochs": 2})


def test_a_broken_augmenter_is_named(base, blobs):
    X, y = blobs(n=30)
    for augment, words in [(lambda xb, rng: xb * np.nan, "NaN"), (lambda xb, rng: xb[:, :3], "shape"),
                           (lambda xb, rng: None, "real numbers")]:
        with pytest.raises(ValueError, match=f"augment.*{words}"):
            FromScratch("simple", 3, input_shape=6).train(X, y, {"epochs": 1, "augment": augment})


def test_a_too_high_config_rate_still_suggests_a_tenth(blobs):
    X, _ = blobs(n=30)
    y = np.random.default_rng(0).integers(0, 3, len(X))
    with pytest.raises(TrainingDivergedError, match=r"learning_rate=100000"):
        FromScratch("simple", 3, input_shape=6).train(X, y, {"epochs": 5, "learning_rate": 1e6, "optimizer": "sgd"})
    assert math.isclose(1e6 / 10, 100000)


def test_fine_tuner_freeze_and_unfreeze_follow_the_same_policy(base):
    ft = FineTuner(base, 3, ["layer2"])
    with pytest.warns(UserWarning, match=r"\['layer9'\].*valid names"):
        ft.unfreeze("layer9")
    assert ft.unfrozen_layers() == ["layer2"]
    with pytest.raises(TypeError, match="layer_names"):
        ft.freeze(7)
    with pytest.raises(TypeError, match="name"):
        ft.set_layer_learning_rate(None, 0.1)
    ft.unfreeze(None)  # None: every block, as PretrainedModel.unfreeze(None)
    assert ft.unfrozen_layers() == ["layer1", "layer2"]
    ft.freeze(None)
    assert ft.unfrozen_layers() == []
    ft.unfreeze("top_half")
    assert ft.unfrozen_layers() == ["layer2"]


def test_compare_strategies_names_a_bad_base_and_absurd_labels(blobs):
    from tlkit import TransferLearningManager as M

    X, y = blobs(n=12)
    with pytest.raises(TypeError, match="base must be a tlkit.PretrainedModel"):
        M.compare_strategies((X, y), base="medium", epochs=1)
    with pytest.raises(ValueError, match=r"y contains label 1000000000"):
        M.compare_strategies((X, np.where(y == 0, 10**9, y)), architecture="simple", epochs=1)
