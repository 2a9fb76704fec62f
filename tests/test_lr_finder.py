"""The learning-rate range test: exponential sweep, divergence stop, suggestion, no side effects."""

from __future__ import annotations

import numpy as np
import pytest

from tlkit import PretrainedModel
from tlkit.lr_finder import lr_find
from tlkit.strategies import FeatureExtractor, FineTuner, FromScratch


def test_sweep_is_exponential_and_the_suggestion_sensible(blobs):
    X, y = blobs(n=64)
    result = lr_find(FeatureExtractor(PretrainedModel("simple", 6), 3), X, y, steps=60)
    lrs = result.lrs
    assert lrs[0] == pytest.approx(1e-6)
    ratios = lrs[1:] / lrs[:-1]
    assert np.allclose(ratios, ratios[0])
    assert len(result.losses) == len(result.raw_losses) == len(lrs)
    assert 1e-6 <= result.suggestion <= 1.0
    assert result.min_over_10 == pytest.approx(result.min_loss_lr / 10)
    # the loss at the suggestion is lower than at the start of the sweep
    index = int(np.argmin(np.abs(lrs - result.suggestion)))
    assert result.losses[index] <= result.losses[0]
    assert "suggestion" in repr(result)
    assert lr_find(FeatureExtractor(PretrainedModel("simple", 6), 3), X, y, steps=60,
                   method="min10").suggestion == pytest.approx(result.min_over_10)


def test_stops_on_divergence(blobs):
    X, _ = blobs(n=64)
    y = np.random.default_rng(0).integers(0, 3, len(X))
    result = lr_find(FromScratch("simple", 3, input_shape=6), X, y, start=1e-4, end=1e4, steps=100,
                     optimizer="sgd")
    assert result.diverged and len(result.lrs) < 100
    assert result.suggestion < result.lrs[-1]


@pytest.mark.parametrize("make", [
    lambda: FineTuner(PretrainedModel("medium", 6), 3, "all", bn_mode="train"),
    lambda: FeatureExtractor(PretrainedModel("medium", 6), 3),
    lambda: FromScratch("medium", 3, input_shape=6),
])
def test_weights_are_restored(blobs, make):
    X, y = blobs(n=64)
    strategy = make()
    before = strategy.network.state_dict()
    trainable = strategy.trainable_layers()
    lr_find(strategy, X, y, steps=20, end=10.0)
    after = strategy.network.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert strategy.trainable_layers() == trainable


def test_a_bare_model_is_left_untouched(blobs):
    X, y = blobs(n=64)
    model = PretrainedModel("simple", 6)
    before = model.state_dict()
    result = lr_find(model, X, y, steps=15)
    assert len(result.lrs) >= 5
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())
    assert not any(model.is_frozen(n) for n in model.get_layer_names())


def test_the_sweep_runs_on_the_trainer_and_reports_a_tied_range(blobs):
    X, y = blobs(n=40)
    result = lr_find(FeatureExtractor(PretrainedModel("simple", 6), 3), X, y, steps=30,
                     batch_size=16)  # 40 examples: 3 balanced batches (14, 13, 13) per epoch
    assert len(result.lrs) == 30  # 10 epochs of 3 steps, stopped after the 30th
    lo, hi = result.ties_within(0.25)
    assert lo <= result.steepest <= hi
    inside = (result.lrs >= lo) & (result.lrs <= hi)
    steepest_slope = np.nanmin(result.slopes)
    assert np.all(result.slopes[inside] <= 0.75 * steepest_slope + 1e-12)
    assert result.ties_within(0.0) == (result.steepest, result.steepest)
    wider = result.ties_within(0.9)
    assert wider[0] <= lo and wider[1] >= hi
    with pytest.raises(ValueError, match="band"):
        result.ties_within(1.5)


def test_bad_arguments(blobs):
    X, y = blobs(n=64)
    fe = FeatureExtractor(PretrainedModel("simple", 6), 3)
    with pytest.raises(ValueError, match="end"):
        lr_find(fe, X, y, start=1e-2, end=1e-3)
    with pytest.raises(ValueError, match="start"):
        lr_find(fe, X, y, start=0)
    with pytest.raises(ValueError, match="steps"):
        lr_find(fe, X, y, steps=2)
    with pytest.raises(ValueError, match="method"):
        lr_find(fe, X, y, method="best")
    with pytest.raises(ValueError, match="different lengths"):
        lr_find(fe, X, y[:-1])
    with pytest.raises(TypeError, match="model_or_strategy"):
        lr_find("medium", X, y)
