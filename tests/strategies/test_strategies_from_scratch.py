"""FromScratch, and what every strategy shares: frozen means frozen, divergence stops."""

from __future__ import annotations

import numpy as np
import pytest

from tlkit import PretrainedModel
from tlkit.strategies import FeatureExtractor, FineTuner, FromScratch, random_base
from tlkit.training import TrainingDivergedError


def blobs(n=48, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    centres = rng.normal(0, 3, (k, d)).astype(np.float32)
    return (centres[y] + rng.normal(0, 0.5, (n, d))).astype(np.float32), y


def test_same_architecture_random_weights_everything_trains():
    pretrained = PretrainedModel("medium", 6)
    scratch = FromScratch("medium", 6, 3)
    assert scratch.get_layer_names() == pretrained.get_layer_names() + ["head"]
    assert scratch.base.source["kind"] == "random initialisation"
    assert scratch.trainable_layers() == scratch.get_layer_names()
    mine, theirs = scratch.base.state_dict(), pretrained.state_dict()
    assert mine.keys() == theirs.keys()
    assert not np.array_equal(mine["layer1.dense.W"], theirs["layer1.dense.W"])
    like = FromScratch.like(pretrained, 3)
    assert like.architecture == "medium" and like.input_shape == (6,)


def test_learns_with_the_same_api():
    X, y = blobs()
    scratch = FromScratch("simple", 6, 3)
    h = scratch.train(X, y, {"epochs": 10, "learning_rate": 0.01}, validation_data=(X, y))
    assert h.epochs == 10 and h.train_time > 0 and len(h.val_loss) == 10
    assert scratch.score(X, y) > 0.9
    assert isinstance(scratch.predict(X[0]), int) and scratch.predict(X).shape == (48,)
    assert np.allclose(scratch.predict_proba(X).sum(axis=1), 1, atol=1e-5)


def test_seeds():
    a, b, c = (random_base("simple", (8, 8), seed=s).state_dict() for s in (0, 0, 1))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["layer1.conv.W"], c["layer1.conv.W"])
    X, y = blobs()
    losses = [FromScratch("simple", 6, 3, seed=2).train(X, y, {"epochs": 2}).loss for _ in range(2)]
    assert losses[0] == losses[1]


def test_bad_arguments():
    with pytest.raises(ValueError, match="architecture.*'simple'.*got 'huge'"):
        FromScratch("huge", 6, 3)
    with pytest.raises(ValueError, match="num_classes"):
        FromScratch("simple", 6, 1)
    with pytest.raises(ValueError, match="input_shape"):
        FromScratch("simple", (2, 3, 4), 3)


def strategies():
    return {
        "feature_extraction": lambda: FeatureExtractor(PretrainedModel("medium", 6), 3),
        "fine_tuning": lambda: FineTuner(PretrainedModel("medium", 6), 3, ["layer3", "layer4"],
                                         bn_mode="train"),
        "from_scratch": lambda: FromScratch("medium", 6, 3),
    }


@pytest.mark.parametrize("name", list(strategies()))
def test_frozen_blocks_never_change_by_a_single_bit(name):
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
def test_a_diverging_run_stops_and_suggests_a_lower_rate(name):
    X, _ = blobs()
    y = np.random.default_rng(0).integers(0, 3, len(X))  # not separable: no lucky convergence
    with pytest.raises(TrainingDivergedError, match=r"lower learning rate, e\.g\. learning_rate=100000"):
        strategies()[name]().train(X, y, {"epochs": 5, "learning_rate": 1e6, "optimizer": "sgd"})
