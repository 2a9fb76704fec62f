"""AdaBN: BatchNorm statistics re-estimated on target data, nothing else touched."""

from __future__ import annotations

import numpy as np
import pytest

from tlkit import PretrainedModel
from tlkit.adabn import adapt_batchnorm
from tlkit.strategies import FeatureExtractor


def test_statistics_are_the_target_population_statistics():
    model = PretrainedModel("simple", (8, 8))
    rng = np.random.default_rng(0)
    X = (1 - rng.random((50, 8, 8))).astype(np.float32)  # an "inverted" target domain
    before = model.state_dict()
    frozen = [model.is_frozen(n) for n in model.get_layer_names()]
    assert adapt_batchnorm(model, X, batch_size=7) is model
    after = model.state_dict()
    # layer1's BatchNorm sees the conv output of the target images
    conv = model.network["layer1"].layers[0][1]
    h = conv.forward(X[..., None], training=False).reshape(-1, 16).astype(np.float64)
    assert np.allclose(after["layer1.bn.running_mean"], h.mean(axis=0), atol=1e-5)
    assert np.allclose(after["layer1.bn.running_var"], h.var(axis=0, ddof=1), rtol=1e-4)
    assert not np.allclose(before["layer2.bn.running_mean"], after["layer2.bn.running_mean"])
    # the weights and the frozen flags stay as they were
    for key in before:
        if "running" not in key:
            assert np.array_equal(before[key], after[key]), key
    assert frozen == [model.is_frozen(n) for n in model.get_layer_names()]


def test_batch_size_does_not_matter_and_strategies_work():
    X = np.random.default_rng(1).normal(2.0, 3.0, (40, 6)).astype(np.float32)
    a, b = PretrainedModel("medium", 6), PretrainedModel("medium", 6)
    adapt_batchnorm(a, X, batch_size=3)
    fe = FeatureExtractor(b, 2)
    adapt_batchnorm(fe, X, batch_size=1000)
    sa, sb = a.state_dict(), b.state_dict()
    assert all(np.allclose(sa[k], sb[k], rtol=1e-4, atol=1e-6) for k in sa)
    # after AdaBN, layer1's normalised target activations have mean beta, variance gamma^2
    dense, bn = (layer for _, layer in a.network["layer1"].layers[:2])
    out = bn.forward(dense.forward(X, training=False), training=False)
    assert np.allclose(out.mean(axis=0), bn.params["beta"], atol=1e-3)


def test_bad_input():
    with pytest.raises(TypeError, match="PretrainedModel"):
        adapt_batchnorm("medium", np.zeros((3, 6)))
    with pytest.raises(ValueError, match="X"):
        adapt_batchnorm(PretrainedModel("simple", 6), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="batch_size"):
        adapt_batchnorm(PretrainedModel("simple", 6), np.zeros((3, 6)), batch_size=0)
