"""Cheap guards of the course's measured lessons (the full study is `python -m studies.study`).

Margins are wide on purpose: these catch a broken checkpoint or strategy, not a
one-point drift. The numbers they guard are in studies/results/learning_curves.json.
"""

import numpy as np
import pytest

from tlkit import FeatureExtractor, FineTuner, FineTuningConfig, PretrainedModel, TrainingConfig
from tlkit.datasets import make_transfer_task
from tlkit.strategies import FromScratch

EPOCHS = 60


@pytest.fixture(scope="module")
def digits_100():
    return make_transfer_task("high", n_train=100, seed=0)


def test_feature_extraction_on_100_real_digits_reaches_the_low_nineties(digits_100):
    fe = FeatureExtractor(PretrainedModel("medium"), digits_100.num_classes)
    fe.train(digits_100.X_train, digits_100.y_train, TrainingConfig(epochs=EPOCHS, learning_rate=1e-2))
    assert fe.score(digits_100.X_test, digits_100.y_test) >= 0.92


def test_fine_tuning_on_100_real_digits_reaches_the_low_nineties(digits_100):
    ft = FineTuner(PretrainedModel("medium"), digits_100.num_classes)
    ft.train(digits_100.X_train, digits_100.y_train, FineTuningConfig(epochs=EPOCHS, learning_rate=3e-3))
    assert ft.score(digits_100.X_test, digits_100.y_test) >= 0.92


def test_in_the_wild_transfer_beats_from_scratch_by_far():
    task = make_transfer_task("medium", n_train=100, seed=0, domain="wild")
    config = TrainingConfig(epochs=EPOCHS, learning_rate=1e-2)
    fe = FeatureExtractor(PretrainedModel("medium", task.input_shape), task.num_classes)
    fe.train(task.X_train, task.y_train, config)
    scratch = FromScratch("medium", task.input_shape, task.num_classes)
    scratch.train(task.X_train, task.y_train, config)
    gap = fe.score(task.X_test, task.y_test) - scratch.score(task.X_test, task.y_test)
    assert gap >= 0.15


def test_pretrained_features_beat_random_features_on_the_digits(digits_100):
    accuracies = {}
    for name, base in {"pretrained": PretrainedModel("medium"),
                       "random": FromScratch("medium", (8, 8), 10).base}.items():
        fe = FeatureExtractor(base, digits_100.num_classes)
        fe.train(digits_100.X_train, digits_100.y_train, TrainingConfig(epochs=EPOCHS, learning_rate=1e-2))
        accuracies[name] = fe.score(digits_100.X_test, digits_100.y_test)
    assert accuracies["pretrained"] >= accuracies["random"] + 0.05


@pytest.mark.parametrize("strategy", ["feature_extraction", "fine_tuning"])
def test_frozen_blocks_do_not_change_by_a_single_bit(strategy, digits_100):
    base = PretrainedModel("medium")
    before = base.state_dict()
    if strategy == "feature_extraction":
        model, config = FeatureExtractor(base, 10), TrainingConfig(epochs=3, learning_rate=0.5)
    else:
        model = FineTuner(base, 10, layers_to_unfreeze=["layer4"])
        config = FineTuningConfig(epochs=3, learning_rate=0.05, warmup_epochs=1)
    model.train(digits_100.X_train, digits_100.y_train, config)
    after = base.state_dict()
    frozen = [n for n in base.get_layer_names() if strategy == "feature_extraction" or n != "layer4"]
    for key in before:
        if key.split(".")[0] in frozen:
            assert np.array_equal(before[key], after[key]), key
    if strategy == "fine_tuning":
        assert not np.array_equal(before["layer4.conv.W"], after["layer4.conv.W"])
