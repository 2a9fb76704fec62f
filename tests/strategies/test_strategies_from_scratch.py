"""FromScratch, and what every strategy shares: frozen means frozen, divergence stops."""

from __future__ import annotations

import numpy as np
import pytest

from tlkit import PretrainedModel
from tlkit.strategies import FeatureExtractor, FineTuner, FromScratch, random_base
from tlkit.training import TrainingDivergedError


def test_same_architecture_random_weights_everything_trains():
    pretrained = PretrainedModel("medium", 6)
    scratch = FromScratch("medium", 3, input_shape=6)
    assert scratch.get_layer_names() == pretrained.get_layer_names() + ["head"]
    assert scratch.base.source["kind"] == "random initialisation"
    assert scratch.trainable_layers() == scratch.get_layer_names()
    mine, theirs = scratch.base.state_dict(), pretrained.state_dict()
    assert mine.keys() == theirs.keys()
    assert not np.array_equal(mine["layer1.dense.W"], theirs["layer1.dense.W"])


def test_a_base_gives_its_architecture_and_shape_never_its_weights():
    pretrained = PretrainedModel("simple", (8, 8))
    before = pretrained.state_dict()
    scratch = FromScratch(pretrained, 4, seed=1)
    assert scratch.architecture == "simple" and scratch.input_shape == (8, 8)
    assert scratch.num_classes == 4
    assert not np.array_equal(scratch.base.state_dict()["layer1.conv.W"], before["layer1.conv.W"])
    assert scratch.base is not pretrained
    assert all(np.array_equal(v, pretrained.state_dict()[k]) for k, v in before.items())
    same = FromScratch("simple", 4, input_shape=(8, 8), seed=1).base.state_dict()
    assert all(np.array_equal(same[k], v) for k, v in scratch.base.state_dict().items())
    like = FromScratch.like(pretrained, 4, seed=1)
    assert like.input_shape == (8, 8) and like.architecture == "simple"
    with pytest.raises(ValueError, match="contradicts"):
        FromScratch(pretrained, 4, input_shape=6)


def test_only_the_model_and_the_number_of_classes_are_positional():
    with pytest.raises(TypeError, match="positional"):
        FromScratch("simple", 6, 3)  # input_shape must be named


def test_learns_with_the_same_api(blobs):
    X, y = blobs()
    scratch = FromScratch("simple", 3, input_shape=6)
    h = scratch.train(X, y, {"epochs": 10, "learning_rate": 0.01}, validation_data=(X, y))
    assert h.epochs == 10 and len(h.val_loss) == 10
    assert scratch.score(X, y) > 0.9
    assert isinstance(scratch.predict(X[0]), int) and scratch.predict(X).shape == (48,)
    assert np.allclose(scratch.predict_proba(X).sum(axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("architecture", ["simple", "medium", "deep"])
def test_fits_a_single_example(architecture):
    # A minibatch of one has no batch statistics: BatchNorm must not erase the example.
    x = [0.3, -1.2, 0.7]
    for label in (0, 1):
        scratch = FromScratch(architecture, 2, input_shape=3)
        scratch.train([x], [label], {"epochs": 30, "learning_rate": 0.01})
        assert scratch.predict(x) == label


def test_seeds(blobs):
    a, b, c = (random_base("simple", (8, 8), seed=s).state_dict() for s in (0, 0, 1))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["layer1.conv.W"], c["layer1.conv.W"])
    X, y = blobs()
    losses = [FromScratch("simple", 3, input_shape=6, seed=2).train(X, y, {"epochs": 2}).loss
              for _ in range(2)]
    assert losses[0] == losses[1]



def test_a_random_base_is_not_pretrained_says_so_and_is_its_own():
    base = random_base("simple", (8, 8), seed=3)
    pretrained = PretrainedModel("simple", (8, 8), seed=3)
    assert base.source["kind"] == "random initialisation" and "no pretraining" in base.source["note"]
    assert base.source_head is None
    with pytest.raises(ValueError, match="no source classifier"):
        base.source_accuracy(np.zeros((2, 8, 8)), [0, 1])
    assert base.get_layer_names() == pretrained.get_layer_names() == ["layer1", "layer2"]
    assert base.frozen_layers() == [] and base.seed == 3
    assert not np.array_equal(base.state_dict()["layer1.conv.W"], pretrained.state_dict()["layer1.conv.W"])
    twin, again = base.copy(), random_base("simple", (8, 8), seed=3)
    assert twin.source == base.source
    for model in (twin, again):
        for _, array in model.network["layer1"].named_arrays():
            array[...] = 0
        model.source["kind"] = "edited"
    untouched = random_base("simple", (8, 8), seed=3).state_dict()
    assert all(np.array_equal(v, untouched[k]) for k, v in base.state_dict().items())
    assert base.source["kind"] == "random initialisation"
    assert random_base("simple", (8, 8), seed=3).source["kind"] == "random initialisation"
    with pytest.raises(ValueError, match="architecture.*got 'huge'"):
        random_base("huge", 6)
    with pytest.raises(ValueError, match="seed"):
        random_base("simple", 6, seed=-1)

def test_bad_arguments():
    with pytest.raises(ValueError, match="architecture.*'simple'.*got 'huge'"):
        FromScratch("huge", 3, input_shape=6)
    with pytest.raises(ValueError, match="num_classes"):
        FromScratch("simple", 1, input_shape=6)
    with pytest.raises(ValueError, match="input_shape"):
        FromScratch("simple", 3, input_shape=(2, 3, 4))
    with pytest.raises(TypeError, match="base_or_architecture"):
        FromScratch(42, 3)


def strategies():
    return {
        "feature_extraction": lambda: FeatureExtractor(PretrainedModel("medium", 6), 3),
        "fine_tuning": lambda: FineTuner(PretrainedModel("medium", 6), 3, ["layer3", "layer4"],
                                         bn_mode="train"),
        "from_scratch": lambda: FromScratch("medium", 3, input_shape=6),
    }


@pytest.mark.parametrize("name", list(strategies()))
def test_frozen_blocks_never_change_by_a_single_bit(blobs, name):
    X, y = blobs()
    strategy = strategies()[name]()
    strategy.base.freeze(["layer1", "layer2"])  # FromScratch: the "random features" experiment
    before = strategy.base.state_dict()
    strategy.train(X, y, {"epochs": 3, "learning_rate": 0.05, "batch_size": 7})
    after = strategy.base.state_dict()
    frozen = [k for k in before if k.startswith(("layer1.", "layer2."))]
    assert frozen and all(np.array_equal(before[k], after[k]) for k in frozen)
    assert any("running" in k for k in frozen)  # BatchNorm statistics included


@pytest.mark.parametrize("name", list(strategies()))
def test_a_diverging_run_stops_and_suggests_a_lower_rate(blobs, name):
    X, _ = blobs()
    y = np.random.default_rng(0).integers(0, 3, len(X))  # not separable: no lucky convergence
    with pytest.raises(TrainingDivergedError, match=r"lower learning rate, e\.g\. learning_rate=100000"):
        strategies()[name]().train(X, y, {"epochs": 5, "learning_rate": 1e6, "optimizer": "sgd"})
